"""Named bounds. Every limit carries its unit in its name (TigerBeetle style)."""

from __future__ import annotations

# Amounts are positive and below 10^15 minor units (DESIGN §2).
AMOUNT_MINOR_MAX = 10**15 - 1

CODE_LENGTH_MAX = 64
NAME_LENGTH_MAX = 200
REASON_LENGTH_MAX = 2_000
PAYEE_LENGTH_MAX = 200
VOUCHER_LENGTH_MAX = 64
DESCRIPTION_LENGTH_MAX = 2_000
IDEMPOTENCY_KEY_LENGTH_MAX = 200
# Expenditures in one batch request (POST /v1/expenditures/batch), saved in one write.
EXPENDITURE_BATCH_MAX = 1_000
STUDENTS_MAX = 100_000
FISCAL_YEAR_MIN = 2000
FISCAL_YEAR_MAX = 2100

# Optimistic-concurrency retries of one command before it is reported as a conflict.
COMMAND_ATTEMPTS_MAX = 8
COMMAND_RETRY_WAIT_SECONDS_MAX = 0.05

# Aggregates a process keeps as it last wrote them, so group commits need not read them again.
RECENT_AGGREGATES_MAX = 50_000
