"""A fund's classification and provenance over HTTP: what `POST /v1/funds` takes beside the
fund's terms, and what every fund answer shows (functional code with its name, each
expenditure class's 部门预算支出经济分类 code, 文号, issuing level, date received, shares)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt, StrictStr, model_validator

from domain.budget_codes import FUNCTIONAL, economic_code_of
from domain.classification import ExpenditureClass, Source
from domain.limits import AMOUNT_MINOR_MAX
from domain.provenance import DOC_NO_LENGTH_MAX


class ShareIn(BaseModel):
    source: Source
    amount: Annotated[StrictInt, Field(ge=1, le=AMOUNT_MINOR_MAX, description="Minor units")]


class SharePublic(BaseModel):
    source: str
    amount: int


# Membership in the shipped table is the domain's check (422 unknown_classification_code,
# naming the field); here only a bound on the text.
FunctionCode = Annotated[StrictStr, Field(max_length=16, examples=["2050202"],
                                          description="政府收支分类 functional code (项)")]
DocNo = Annotated[StrictStr, Field(max_length=DOC_NO_LENGTH_MAX, examples=["徐财教〔2025〕12号"],
                                   description="The issuing document's number (文号)")]
Shares = Annotated[list[ShareIn], Field(max_length=len(Source), description=(
    "Where several levels pay into the line: each level's share, summing to `amount`"))]


class FundProvenancePublic(BaseModel):
    """The classification and provenance part of a fund answer."""

    function_code: str | None = None
    function_name: str | None = Field(None, description="The code's name in the table (zh)")
    function_name_en: str | None = None
    economic_codes: dict[str, str] = Field(
        {}, description="Each expenditure class's 部门预算支出经济分类 code")
    doc_no: str = ""
    issuing_level: str | None = None
    received_on: date | None = None
    shares: list[SharePublic] = Field([], description="Each source level's share; empty: the "
                                                      "fund's `source` pays it all")

    @model_validator(mode="after")
    def _named(self) -> FundProvenancePublic:
        found = FUNCTIONAL.get(self.function_code or "")
        if found is not None:
            self.function_name, self.function_name_en = found.name_zh, found.name_en
        classes: list[str] = getattr(self, "expenditure_classes", [])
        self.economic_codes = {c: economic_code_of(c) for c in classes
                               if c in ExpenditureClass.__members__.values()}
        return self


def provenance_of(fund: Any) -> dict[str, Any]:
    """A fund aggregate's classification and provenance fields, for its answer."""
    return {"function_code": fund.function_code, "doc_no": fund.doc_no,
            "issuing_level": fund.issuing_level, "received_on": fund.received_on,
            "shares": list(fund.shares)}
