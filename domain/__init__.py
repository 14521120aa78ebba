"""The bureau's books: schools, funds, allocations and expenditures as event-sourced aggregates."""
