"""One error per rule of the books, each with a stable `code` that clients can rely on.

The HTTP layer maps these codes to statuses in one table; the domain knows nothing of HTTP.
The refusals below carry a title each. A module's own refusal, titled by its parent, names its
code in its header, `class StandardPending(RuleViolation, code="standard_pending"):`, and says
in its docstring which rule refuses.
"""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """Root of every refusal the ledger can give. `code` never changes once published."""

    code = "ledger_error"
    title = "The ledger refused the command"

    def __init_subclass__(cls, *, code: str | None = None, title: str | None = None,
                          **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if title is not None:
            cls.title = title

    def __init__(self, detail: str, detail_zh: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        # The same refusal for a Chinese reader, where the raising rule wrote one (CSV import
        # row errors are shown in the user's language); else the code's Chinese title serves.
        self.detail_zh = detail_zh

    def detail_in(self, language: str) -> str:
        """The detail a reader of `language` sees beside the code's title: in Chinese the
        rule's Chinese sentence, or nothing where none was written (the Chinese title then
        says it; an English sentence beside it is what issue 19 forbids)."""
        if language.startswith("zh"):
            return self.detail_zh or ""
        return self.detail


# Input that can never be right, whatever the state of the books.
class InvalidInput(LedgerError):
    code = "invalid_input"
    title = "Invalid input"


class AmountOutOfRange(InvalidInput):
    code = "amount_out_of_range"
    title = "Amount out of range"


class UnknownUnit(InvalidInput):
    code = "unknown_unit"
    title = "Unknown unit"


class UnitMismatch(LedgerError):
    code = "unit_mismatch"
    title = "Unit does not match the fund's unit"


class DateOutsideFiscalYear(LedgerError):
    code = "date_outside_fiscal_year"
    title = "Date outside the fund's fiscal year"


class DateInFuture(LedgerError):
    code = "date_in_future"
    title = "Date in the future"


# Access.
class RoleNotAllowed(LedgerError):
    code = "role_not_allowed"
    title = "Role not allowed"


class SupervisorReadOnly(LedgerError):
    """A city or province bureau reads its bureaus' books and never writes them (issue 15)."""

    code = "supervisor_read_only"
    title = "A supervising bureau reads its bureaus' books and never writes them"


class MakerCheckerViolation(LedgerError):
    code = "maker_checker"
    title = "The approver must not be the proposer"


class UnknownToken(LedgerError):
    code = "unknown_token"
    title = "Unknown or revoked token"


# Things that do not exist, or already do.
class NotFound(LedgerError):
    code = "not_found"
    title = "Not found"


class SchoolNotFound(NotFound):
    code = "school_not_found"
    title = "School not found"


class FundNotFound(NotFound):
    code = "fund_not_found"
    title = "Fund not found"


class AllocationNotFound(NotFound):
    code = "allocation_not_found"
    title = "Allocation not found"


class ExpenditureNotFound(NotFound):
    code = "expenditure_not_found"
    title = "Expenditure not found"


class ChangeNotFound(NotFound):
    code = "change_not_found"
    title = "Change not found"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "User not found"


class BureauNotFound(NotFound):
    code = "bureau_not_found"
    title = "Bureau not found"


class AlreadyExists(LedgerError):
    code = "already_exists"
    title = "Already exists"


class SchoolAlreadyRegistered(AlreadyExists):
    code = "school_already_registered"
    title = "A school with this code is already registered"


class FundAlreadyOpened(AlreadyExists):
    code = "fund_already_opened"
    title = "A fund with this code is already open"


class DuplicateVoucher(AlreadyExists):
    code = "duplicate_voucher"
    title = "Voucher number already used by this school in this fiscal year"


# Rules of the books (conflicts with the current state).
class RuleViolation(LedgerError):
    code = "rule_violation"
    title = "Rule of the books violated"


class Overspend(RuleViolation):
    code = "overspend"
    title = "Expenditure exceeds the allocation's remainder"


class OverAllocation(RuleViolation):
    code = "over_allocation"
    title = "Allocations would exceed the fund's appropriation"


class BelowSpent(RuleViolation):
    code = "below_spent"
    title = "Adjustment would take the allocation below what is already spent"


class AppropriationBelowAllocated(RuleViolation):
    code = "appropriation_below_allocated"
    title = "Appropriation would fall below what is already allocated"


class NotApproved(RuleViolation):
    code = "not_approved"
    title = "Allocation is not approved"


class NotProposed(RuleViolation):
    code = "not_proposed"
    title = "Allocation is not awaiting approval"


class Closed(RuleViolation):
    code = "closed"
    title = "Closed"


class SchoolClosed(Closed):
    code = "school_closed"
    title = "School is closed"


class FundClosed(Closed):
    code = "fund_closed"
    title = "Fund is closed"


class AllocationClosed(Closed):
    code = "allocation_closed"
    title = "Allocation is cancelled, rejected or closed"


class EarmarkViolation(RuleViolation):
    code = "earmark_violation"
    title = "Rural-support funds only go to town, rural or poverty-area schools"


class LevelNotEligible(RuleViolation):
    code = "level_not_eligible"
    title = "The fund is restricted to other school levels"


class ExpenditureClassNotAllowed(RuleViolation):
    code = "expenditure_class_not_allowed"
    title = "The fund may not pay for this economic class"


class SpentBeforeApproval(RuleViolation):
    code = "spent_before_approval"
    title = "Expenditure dated before the allocation was approved"


class AlreadyReversed(RuleViolation):
    code = "already_reversed"
    title = "Expenditure already reversed"


class TransferNotAllowed(RuleViolation):
    code = "transfer_not_allowed"
    title = "Transfer not allowed"


class CarryOverTargetInvalid(RuleViolation):
    code = "carry_over_target_invalid"
    title = "Carry-over target must be an open fund of the next fiscal year in the same unit"


class PeriodClosed(Closed):
    code = "period_closed"
    title = "The month of the effective date is closed"


class PeriodAlreadyClosed(RuleViolation):
    code = "period_already_closed"
    title = "The month is already closed"


class PeriodNotEnded(RuleViolation):
    code = "period_not_ended"
    title = "A month is closed only once it has ended"


class PendingChangesInPeriod(RuleViolation):
    """Pending two-person changes dated in the month: each is approved or rejected first.
    `extensions` names them for the problem document."""

    code = "period_has_pending_changes"
    title = "Pending changes are dated in the month"

    def __init__(self, detail: str, pending: list[dict[str, str]]) -> None:
        super().__init__(detail)
        self.extensions = {"pending_changes": pending}


class ChangeNotPending(RuleViolation):
    code = "change_not_pending"
    title = "The change was already approved or rejected"


class PurposeChanged(RuleViolation):
    """结转 money keeps its original purpose (财预〔2010〕7号: 按原用途继续使用)."""

    code = "purpose_changed"
    title = "Carried-over money must keep its category, earmark and expenditure classes"


class BasicExpenditureSurplus(RuleViolation):
    """Basic expenditure (personnel, public operating) produces only 结转, never 结余."""

    code = "basic_expenditure_surplus"
    title = "Basic expenditure is carried over, never recovered as surplus"


class CarryOverTargetMissing(RuleViolation):
    code = "carry_over_target_missing"
    title = "The next fiscal year has no open fund of the same purpose to carry over into"


class ProjectContinuationUnexplained(RuleViolation):
    code = "project_continuation_unexplained"
    title = "A project's remainder is carried over only when the project continues, with a reason"


class ResourceUnitsNotClosed(RuleViolation):
    """Teacher posts, devices and other resource units are stocks, not money: no 结余."""

    code = "resource_units_not_closed"
    title = "Funds in resource units are not closed at year end"


class OperatingFundsConstruction(InvalidInput):
    """公用经费 may never pay for capital construction, salaries or debt (财教〔2006〕5号)."""

    code = "operating_funds_purpose"
    title = "Public operating funds may not pay for construction, salaries or debt"


class FieldError(InvalidInput):
    """Input refused by one named field of the request (the problem names it in `field`)."""

    def __init__(self, detail: str, field: str, detail_zh: str | None = None) -> None:
        super().__init__(detail, detail_zh)
        self.field = field
        self.extensions = {"field": field}


class UnknownClassificationCode(FieldError):
    """A 政府收支分类 code not in the table shipped with the project (domain/budget_codes)."""

    code = "unknown_classification_code"
    title = "Classification code not in the government classification table"


class SharesMismatch(FieldError):
    """A fund's source shares (central/provincial/municipal/county) must be distinct sources,
    each a positive amount, summing to the appropriation."""

    code = "shares_mismatch"
    title = "The sources' shares do not make up the appropriation"


class BureauParentConflict(LedgerError):
    """A bureau has one parent, one level above it, for good: no second parent, no cycle."""

    code = "bureau_parent_conflict"
    title = "A bureau has one parent, one level above it, and is never its own ancestor"


class SchoolMoveRefused(LedgerError):
    """A school's books stay in the bureau that registered it (docs/architecture.md, bureaus)."""

    code = "school_move_refused"
    title = "A school is not moved between bureaus"


# Idempotency and concurrency.
class IdempotencyKeyReused(LedgerError):
    code = "idempotency_key_reused"
    title = "Idempotency key already used for a different request"


class BatchRejected(InvalidInput):
    """An all-or-nothing batch with refused items: nothing was written; `errors` names each
    refused item by its index (0-based), as the CSV import names its bad rows by line."""

    code = "batch_rejected"
    title = "The batch was refused; nothing was written"

    def __init__(self, errors: list[tuple[int, str, str]], items: int) -> None:
        index, code, detail = errors[0]
        super().__init__(f"{len(errors)} of {items} items are refused; first at item {index}: "
                         f"{code}: {detail}")
        self.errors = errors
        self.items = items


class ConcurrencyConflict(LedgerError):
    code = "concurrency_conflict"
    title = "Concurrent update; retry the request"


class WriteNotStarted(LedgerError):
    """The write waited its whole bound in the group-commit queue and was withdrawn before it
    began: nothing was written, so the client may simply retry."""

    code = "write_not_started"
    title = "The write could not be started in time; nothing was written; retry"


class VersionMismatch(LedgerError):
    code = "version_mismatch"
    title = "The aggregate's version does not match If-Match"
