"""A school's request and response bodies: register, reclassify, report enrolment, close."""

from __future__ import annotations

from datetime import date

from pydantic import (
    BaseModel,
    Field,
    StrictBool,
)

from api.schemas import Code, Command, IsoDate, Name, OptionalReason, Reason, Reasoned, Students
from domain.classification import Level, Locale
from domain.school import EnrolmentReport, School


class RegisterSchool(Command):
    code: Code
    name: Name
    district: Name
    level: Level
    locale: Locale
    poverty_area: StrictBool = False
    students: Students
    effective_date: IsoDate | None = None


class ReclassifySchool(Command):
    locale: Locale
    reason: Reason
    effective_date: IsoDate | None = None


class ReportEnrolment(Command):
    students: Students
    boarders: Students | None = Field(None, description="Boarders among the pupils")
    special_needs: Students | None = Field(
        None, description="Mainstreamed special-needs pupils among the pupils")
    reason: OptionalReason = ""
    effective_date: IsoDate | None = None


class CloseSchool(Reasoned):
    pass


class SchoolPublic(BaseModel):
    code: str
    name: str
    district: str
    level: str
    locale: str
    poverty_area: bool
    students: int
    boarders: int | None = Field(None, description="From the latest enrolment report, if given")
    special_needs: int | None = Field(None, description="From the latest enrolment report, if given")
    parent: str | None = Field(None, description="The parent school of a teaching point (教学点)")
    closed_on: date | None
    version: int
    position: int | None = Field(None, description="Position of the write's last event")


def school_public(school: School, position: int | None = None) -> SchoolPublic:
    latest = EnrolmentReport(*school.enrolment_reports[-1])
    return SchoolPublic(code=school.code, name=school.name, district=school.district,
                        level=school.level, locale=school.locale,
                        poverty_area=school.poverty_area, students=school.students,
                        boarders=latest.boarders, special_needs=latest.special_needs,
                        parent=school.parent_code,
                        closed_on=school.closed_on, version=school.version, position=position)
