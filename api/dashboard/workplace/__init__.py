"""The workplace in the dashboard (issue 20): officers' forms, the approvers' queue, drill-down
and search, each page server-rendered; `pages.router` registers them all."""
