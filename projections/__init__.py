"""Views of the books built from the event log: balances, rural support, journal, as-of."""
