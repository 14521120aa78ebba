"""The schools' resource stocks at the start of the year: teacher posts (编制) approved and
distributed within each county's total, the equipment and multimedia classrooms each school
holds (from the year-end asset count, 资产清查), and the figures each school reports to the
balanced-development register (教育事业统计: qualified, key and PE/arts teachers, floor areas).

The common real pattern (reference/domain.md §3.1, the 7 indicators) is that rural schools
are short of PE and arts specialists, key teachers and networked multimedia classrooms, while
they often have more floor and ground space per pupil than crowded urban schools. Each
county-level unit draws how wide its urban–rural gap is: the central districts have almost
none (they pass), most counties a wide one (their rural schools fail, for visible reasons).
All figures are inference calibrated to the national values, not published data.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date

from scripts.generator.plan import Command
from scripts.generator.schools import COMPULSORY_LEVELS, SchoolPlan

ASSET_COUNT_DOCUMENT = "{year}年度资产清查入库"
POST_DOCUMENT = "{county}编办〔{year}〕{number}号"
MULTIMEDIA_ROOM_FEN = 3_200_000  # a networked multimedia classroom's equipment, ¥32,000
COMPUTER_FEN = 450_000  # ¥4,500
PUPILS_PER_COMPUTER = 8
STOCKED_LEVELS = (*COMPULSORY_LEVELS, "complete", "special")

# How a rural (town) school compares with an urban one of the same county, at the county's
# widest gap; the county's own gap (0…1) scales it. (rural, town) multipliers.
SHORTFALL_AT_FULL_GAP: dict[str, tuple[float, float]] = {
    "pe_arts": (0.15, 0.6),
    "key": (0.45, 0.8),
    "qualified": (0.8, 0.92),
    "multimedia": (0.3, 0.7),
    "equipment": (0.6, 0.85),
}
# Per-pupil levels of a well-provided urban school, as multiples of the national value.
URBAN_LEVEL = (1.15, 1.6)


def county_gaps(districts: list[str], rng: random.Random,
                central: frozenset[str]) -> dict[str, float]:
    """How wide each county-level unit's urban–rural gap is: central districts almost none."""
    return {d: (rng.uniform(0.0, 0.1) if d in central else rng.uniform(0.3, 1.0))
            for d in sorted(districts)}


def plan_stocks(schools: list[SchoolPlan], day: date, rng: random.Random,
                central: frozenset[str]) -> list[Command]:
    """The commands that set up every county's posts and every school's stocks on `day`."""
    commands: list[Command] = []
    by_county: dict[str, list[SchoolPlan]] = defaultdict(list)
    for school in schools:
        by_county[school.district].append(school)
    gaps = county_gaps(list(by_county), rng, central)
    for number, (county, members) in enumerate(sorted(by_county.items()), start=1):
        approved = {s.code: s.teachers + (rng.randint(0, 2) if s.locale != "urban" else 0)
                    for s in members}
        total = sum(approved.values()) + max(1, sum(approved.values()) // 50)
        commands.append(Command(day, "approve_post_total", {
            "district": county, "total": total,
            "document": POST_DOCUMENT.format(county=county, year=day.year, number=number),
            "effective_date": day}, school=""))
        for s in members:
            commands.append(Command(day, "distribute_posts", {
                "school": s.code, "posts": approved[s.code], "effective_date": day}, school=s.code))
            commands.append(Command(day, "record_hires", {
                "school": s.code, "count": s.teachers, "effective_date": day}, school=s.code))
            if s.level in STOCKED_LEVELS:
                commands += _school_stocks(s, day, gaps[county], rng)
    return commands


def _shortfall(kind: str, locale: str, gap: float) -> float:
    if locale == "urban":
        return 1.0
    rural, town = SHORTFALL_AT_FULL_GAP[kind]
    full = rural if locale == "rural" else town
    return 1.0 - (1.0 - full) * gap


def _school_stocks(s: SchoolPlan, day: date, gap: float, rng: random.Random) -> list[Command]:
    junior = s.level == "junior" or s.level == "complete"
    pupils = max(s.students, 1)

    def level(kind: str, national: float) -> float:
        """The school's value per pupil (or per 100 pupils) of one indicator."""
        return national * rng.uniform(*URBAN_LEVEL) * _shortfall(kind, s.locale, gap)

    rooms = max(1, round(pupils * level("multimedia", 2.4 if junior else 2.3) / 100))
    computers = max(2, pupils // PUPILS_PER_COMPUTER)
    equipment_fen = round(pupils * level("equipment", 2_500 if junior else 2_000) * 100)
    equipment_fen = max(equipment_fen - rooms * MULTIMEDIA_ROOM_FEN - computers * COMPUTER_FEN,
                        pupils * 30_000)
    document = ASSET_COUNT_DOCUMENT.format(year=day.year - 1)
    receipts = [
        Command(day, "receive_assets", {
            "school": s.code, "asset": "multimedia_classroom", "quantity": rooms,
            "value": rooms * MULTIMEDIA_ROOM_FEN, "document": document, "effective_date": day},
            school=s.code),
        Command(day, "receive_assets", {
            "school": s.code, "asset": "computer", "quantity": computers,
            "value": computers * COMPUTER_FEN, "document": document, "effective_date": day},
            school=s.code),
        Command(day, "receive_assets", {
            "school": s.code, "asset": "teaching_equipment", "quantity": max(1, pupils // 20),
            "value": equipment_fen, "document": document, "effective_date": day},
            school=s.code),
    ]
    # Teachers: the share above the required qualification, the county-level key teachers and
    # the PE and arts specialists, as counts the school reports (never more than it has).
    per_100 = 100 / pupils
    qualified = min(s.teachers, round(level("qualified", 5.3 if junior else 4.2) / per_100))
    key = min(qualified, round(level("key", 1.0) / per_100))
    pe_arts = min(s.teachers, max(0 if s.locale == "rural" else 1,
                                  round(level("pe_arts", 0.9) / per_100)))
    # Space: rural schools usually have more of it per pupil; crowded urban ones less.
    room_factor = {"urban": rng.uniform(0.95, 1.3), "town": rng.uniform(1.0, 1.5),
                   "rural": rng.uniform(1.1, 2.0)}[s.locale]
    teaching_area = round(pupils * (5.8 if junior else 4.5) * room_factor)
    sports_area = round(pupils * (10.2 if junior else 7.5) * room_factor * rng.uniform(0.95, 1.2))
    junior_pupils = (round(s.students * rng.uniform(0.3, 0.36)) if s.level == "nine_year"
                     else round(s.students * rng.uniform(0.45, 0.55)) if s.level == "complete"
                     else None)
    report = Command(day, "report_indicators", {
        "school": s.code, "figures": {
            "qualified_teachers": qualified, "key_teachers": key, "pe_arts_teachers": pe_arts,
            "teaching_area_m2": teaching_area, "sports_area_m2": sports_area},
        "junior_pupils": junior_pupils, "effective_date": day}, school=s.code)
    return [*receipts, report]
