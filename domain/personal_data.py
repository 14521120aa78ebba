"""Personal data in the books (issue 14): who is paid as a person, and how a name is masked
for those who may not read it (readers: a school's API consumers)."""

from __future__ import annotations

from domain.classification import ExpenditureClass

# Payments to a person: 303 对个人和家庭的补助 (student aid) and 301 工资福利支出 (personnel).
PERSONAL_PAYMENT_CLASSES = frozenset({ExpenditureClass.STUDENT_AID.value,
                                      ExpenditureClass.SALARIES.value})
MASK = "*"


def is_personal_payment(economic_class: str) -> bool:
    return economic_class in PERSONAL_PAYMENT_CLASSES


def mask_name(name: str) -> str:
    """The first character and one mark (张三 → 张*, 欧阳娜娜 → 欧*): the length is not told
    either. An empty name stays empty."""
    return name[:1] + MASK if name else name
