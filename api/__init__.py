"""Adapters of the ledger: the HTTP API, the command line, configuration."""
