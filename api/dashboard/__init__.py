"""The auditor's dashboard: server-rendered pages over the same views and auth as the API."""
