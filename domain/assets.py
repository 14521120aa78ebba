"""A school's devices and rooms as stocks: what it holds until it disposes of them.

Deliveries — bought with an allocation's spending, or received directly — add a quantity and
a value in fen; disposals (报废) and transfers to another school take them away. A transfer is
one pair of events (out of one school, into the other) saved together. Each school's history
is kept in date order, so that no past day shows less than nothing.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from eventsourcing.domain import event

from domain.actors import Stamp
from domain.school import SchoolBook
from domain.stock_errors import NotEnoughHeld, StockDateOrder


class AssetKind(StrEnum):
    """What a school holds. All of it is teaching equipment (教学仪器设备) for the value per
    pupil; networked multimedia classrooms are also counted by number."""

    TEACHING_EQUIPMENT = "teaching_equipment"  # 教学仪器设备
    COMPUTER = "computer"  # 计算机
    MULTIMEDIA_CLASSROOM = "multimedia_classroom"  # 网络多媒体教室 (its equipment)


class ReceiptSource(StrEnum):
    DIRECT = "direct"  # 直接接收: donated, delivered by the province, found in a stock-take
    EXPENDITURE = "expenditure"  # bought with a recorded expenditure


class SchoolAssets(SchoolBook):
    book = "assets"

    def _open_empty(self) -> None:
        self.quantity: dict[str, int] = {}
        self.value: dict[str, int] = {}
        self.last_day: date | None = None

    def held(self, kind: str) -> tuple[int, int]:
        return self.quantity.get(kind, 0), self.value.get(kind, 0)

    # ------------------------------------------------------------- commands

    def receive(self, kind: str, quantity: int, value: int, source: str,
                expenditure_id: str | None, document: str, stamp: Stamp) -> None:
        self._check_order(stamp.effective_date)
        self._receive(kind=kind, quantity=quantity, value=value, source=source,
                      expenditure_id=expenditure_id, document=document, stamp=stamp)

    def dispose(self, kind: str, quantity: int, value: int | None, stamp: Stamp) -> None:
        """Writes off devices (报废); their value goes with them, in proportion to the
        quantity unless the written-off value is given."""
        self._check_order(stamp.effective_date)
        value = self._check_held(kind, quantity, value)
        self._dispose(kind=kind, quantity=quantity, value=value, stamp=stamp)

    def transfer_out(self, transfer_id: str, kind: str, quantity: int, value: int | None,
                     to_school: str, stamp: Stamp) -> int:
        self._check_order(stamp.effective_date)
        value = self._check_held(kind, quantity, value)
        self._transfer_out(transfer_id=transfer_id, kind=kind, quantity=quantity, value=value,
                           to_school=to_school, stamp=stamp)
        return value

    def transfer_in(self, transfer_id: str, kind: str, quantity: int, value: int,
                    from_school: str, stamp: Stamp) -> None:
        self._check_order(stamp.effective_date)
        self._transfer_in(transfer_id=transfer_id, kind=kind, quantity=quantity, value=value,
                          from_school=from_school, stamp=stamp)

    def _check_order(self, day: date) -> None:
        if self.last_day is not None and day < self.last_day:
            msg = (f"school {self.school}: its assets' history is kept in date order; a change "
                   f"cannot take effect on {day}, before the last recorded change ({self.last_day})")
            raise StockDateOrder(msg)

    def _check_held(self, kind: str, quantity: int, value: int | None) -> int:
        held_quantity, held_value = self.held(kind)
        if quantity > held_quantity:
            msg = f"school {self.school} holds {held_quantity} {kind}, fewer than {quantity}"
            raise NotEnoughHeld(msg)
        if value is None:
            # In proportion, rounded half up; the last one out takes what is left.
            return (held_value if quantity == held_quantity
                    else (2 * held_value * quantity + held_quantity) // (2 * held_quantity))
        if value > held_value:
            msg = (f"school {self.school} holds {kind} worth {held_value} fen, less than "
                   f"the {value} fen to take")
            raise NotEnoughHeld(msg)
        if quantity == held_quantity and value != held_value:
            msg = (f"taking all {quantity} {kind} takes all their value ({held_value} fen), "
                   f"not {value}")
            raise NotEnoughHeld(msg)
        return value

    def _add(self, kind: str, quantity: int, value: int, day: date) -> None:
        self.quantity[kind] = self.quantity.get(kind, 0) + quantity
        self.value[kind] = self.value.get(kind, 0) + value
        self.last_day = max(self.last_day or day, day)

    # --------------------------------------------------------------- events

    @event("Received")
    def _receive(self, kind: str, quantity: int, value: int, source: str,
                 expenditure_id: str | None, document: str, stamp: Stamp) -> None:
        self._add(kind, quantity, value, stamp.effective_date)

    @event("Disposed")
    def _dispose(self, kind: str, quantity: int, value: int, stamp: Stamp) -> None:
        self._add(kind, -quantity, -value, stamp.effective_date)

    @event("TransferredOut")
    def _transfer_out(self, transfer_id: str, kind: str, quantity: int, value: int,
                      to_school: str, stamp: Stamp) -> None:
        self._add(kind, -quantity, -value, stamp.effective_date)

    @event("TransferredIn")
    def _transfer_in(self, transfer_id: str, kind: str, quantity: int, value: int,
                     from_school: str, stamp: Stamp) -> None:
        self._add(kind, quantity, value, stamp.effective_date)
