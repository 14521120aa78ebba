"""The balanced-development evaluation's arithmetic (教督〔2017〕6号; domain.md §3.1)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from domain.balanced_development import (
    CV_THRESHOLD,
    Indicator,
    SchoolPart,
    SchoolStocks,
    Stage,
    coefficient_of_variation,
    cv_squared,
    evaluate_county,
    evaluate_school,
    parts_of,
    weighted_mean,
    within_threshold,
)

# The official calculation guide's example: five primary schools, 302 pupils, 1,913 books.
WORKED_EXAMPLE = [(45, 279), (37, 137), (89, 935), (76, 160), (55, 402)]

members = st.lists(st.tuples(st.integers(1, 5_000), st.integers(0, 10**9)), min_size=1, max_size=30)


def test_the_official_worked_example_is_reproduced() -> None:
    mean = weighted_mean(WORKED_EXAMPLE)
    assert sum(p for p, _ in WORKED_EXAMPLE) == 302
    assert round(float(mean), 2) == 6.33
    squared_s = cv_squared(WORKED_EXAMPLE) * mean * mean  # Σ (Pᵢ/P)(Xᵢ − X̄)²
    assert round(float(squared_s), 2) == 10.65
    cv = coefficient_of_variation(WORKED_EXAMPLE)
    assert cv.quantize(Decimal("0.01")) == Decimal("0.52")
    assert within_threshold(WORKED_EXAMPLE, CV_THRESHOLD[Stage.PRIMARY]) is False
    assert within_threshold(WORKED_EXAMPLE, Fraction(52, 100)) is True


@given(st.lists(st.integers(1, 5_000), min_size=1, max_size=30), st.integers(1, 10**6))
def test_the_cv_is_zero_when_every_school_has_the_same_per_pupil_value(pupils: list[int],
                                                                       rate: int) -> None:
    assert cv_squared([(p, p * rate) for p in pupils]) == 0
    assert within_threshold([(p, p * rate) for p in pupils], CV_THRESHOLD[Stage.JUNIOR])


@given(members, st.integers(1, 10_000))
def test_the_cv_does_not_depend_on_the_unit_of_the_stock(rows: list[tuple[int, int]],
                                                         factor: int) -> None:
    scaled = [(p, a * factor) for p, a in rows]
    assert cv_squared(rows) == cv_squared(scaled)


@given(members, st.integers(1, 50))
def test_the_cv_depends_on_shares_of_pupils_not_their_number(rows: list[tuple[int, int]],
                                                             factor: int) -> None:
    """Every school twice as large with twice the stock: the same per-pupil values and weights."""
    assert cv_squared(rows) == cv_squared([(p * factor, a * factor) for p, a in rows])


@given(members)
def test_a_school_counted_twice_as_two_halves_changes_nothing(rows: list[tuple[int, int]]) -> None:
    """Weights are pupils: splitting a school into two parts with its own per-pupil value
    (as a nine-year school is split) leaves the mean and the CV as they were."""
    p, a = rows[0]
    split = [(p, Fraction(a, 2)), (p, Fraction(a, 2)), *rows[1:]]
    whole = [(2 * p, a), *rows[1:]]
    assert cv_squared(split) == cv_squared(whole)
    assert weighted_mean(split) == weighted_mean(whole)


# Pupil counts of zero (left out) and stocks in halves (a nine-year school's parts), negative
# ones too (a correction), so the shortcut formula meets every kind of member.
any_members = st.lists(st.tuples(st.integers(0, 5_000), st.one_of(
    st.integers(-10**6, 10**9), st.builds(Fraction, st.integers(-10**6, 10**9), st.just(2)))),
    max_size=30)


@given(any_members)
def test_the_cv_squared_is_its_definition(rows: list[tuple[int, int | Fraction]]) -> None:
    """cv_squared computes P·Σ aᵢ²/Pᵢ / A² − 1; it must equal (S / X̄)² as defined, with
    S² = Σ (Pᵢ/P)(Xᵢ − X̄)², over the schools with pupils (None without a nonzero mean)."""
    counted = [(p, a) for p, a in rows if p > 0]
    mean = weighted_mean(counted) if counted else None
    if mean is None or mean == 0:
        assert cv_squared(rows) is None
        return
    pupils = sum(p for p, _ in counted)
    variance = sum((Fraction(p, pupils) * (Fraction(a) / p - mean) ** 2 for p, a in counted),
                   Fraction(0))
    assert cv_squared(rows) == variance / (mean * mean)


@given(members)
def test_the_cv_is_never_negative_and_agrees_with_its_exact_square(rows: list[tuple[int, int]]) -> None:
    squared = cv_squared(rows)
    cv = coefficient_of_variation(rows)
    if squared is None:
        assert cv is None
        return
    assert cv >= 0
    assert abs(float(cv) ** 2 - float(squared)) < 1e-3 * max(1.0, float(squared))


def _school(code: str, level: str, pupils: int, junior: int | None = None,
            **stocks: int) -> SchoolStocks:
    defaults = {Indicator.QUALIFIED_TEACHERS: pupils * 6 // 100,
                Indicator.KEY_TEACHERS: pupils * 2 // 100,
                Indicator.PE_ARTS_TEACHERS: pupils * 2 // 100,
                Indicator.TEACHING_AREA: pupils * 7, Indicator.SPORTS_AREA: pupils * 11,
                Indicator.EQUIPMENT_VALUE: pupils * 3_000_00,
                Indicator.MULTIMEDIA_CLASSROOMS: pupils * 3 // 100}
    defaults.update({Indicator(k): v for k, v in stocks.items()})
    return SchoolStocks(code, code, "Pei", level, "rural", pupils, defaults, junior)


def test_a_school_passes_with_six_of_seven_met_and_the_seventh_above_85_percent() -> None:
    # 400 pupils: 0.9 PE/arts teachers per 100 pupils is 3.6; 3 is 0.75 (83 % of it).
    (part,) = parts_of(_school("A", "primary", 400, pe_arts_teachers=4))
    assert evaluate_school(part).passes is True
    (part,) = parts_of(_school("A", "primary", 400, pe_arts_teachers=3))
    result = evaluate_school(part)
    assert result.passes is False
    assert result.reasons == ["pe_arts_teachers below 85% of the national value"]
    # Two short, each above 85 %: fails the 6-of-7 rule.
    (part,) = parts_of(_school("A", "primary", 1000, pe_arts_teachers=8, multimedia_classrooms=22))
    result = evaluate_school(part)
    assert result.passes is False
    assert "2 of 7 indicators below the national value" in result.reasons[0]


def test_a_nine_year_school_is_split_by_enrolment_and_excluded_schools_are_named() -> None:
    parts = parts_of(_school("N", "nine_year", 900, junior=300))
    assert [(p.stage, p.pupils) for p in parts] == [(Stage.PRIMARY, 600), (Stage.JUNIOR, 300)]
    estimated = parts_of(_school("N", "nine_year", 900))
    assert [(p.stage, p.pupils, p.estimated_split) for p in estimated] == [
        (Stage.PRIMARY, 600, True), (Stage.JUNIOR, 300, True)]
    (junior,) = parts_of(_school("C", "complete", 1200, junior=500))
    assert (junior.stage, junior.pupils) == (Stage.JUNIOR, 500)
    evaluation = evaluate_county("Pei", [
        _school("A", "primary", 400), _school("B", "junior", 600), _school("N", "nine_year", 900, 300),
        _school("S", "special", 80), _school("T", "primary", 40), _school("K", "kindergarten", 200)])
    assert {e.code: e.reason for e in evaluation.excluded} == {
        "S": "special_education", "T": "teaching_point"}
    stages = {s.stage: s for s in evaluation.stages}
    assert [r.part.school.code for r in stages[Stage.PRIMARY].schools] == ["A", "N"]
    assert [r.part.school.code for r in stages[Stage.JUNIOR].schools] == ["B", "N"]
    assert stages[Stage.PRIMARY].spreads[0].pupils == 1000


def test_a_split_school_weighs_its_part_and_keeps_its_per_pupil_value() -> None:
    school = _school("N", "nine_year", 900, junior=300, teaching_area=4500)
    primary, junior = parts_of(school)
    assert primary.value(Indicator.TEACHING_AREA) == junior.value(Indicator.TEACHING_AREA) == 5
    assert evaluate_school(junior).indicators[3].met is False  # junior needs 5.8 m²
    assert evaluate_school(primary).indicators[3].met is True  # primary needs 4.5 m²


def test_a_missing_indicator_leaves_the_school_unknown_not_passed() -> None:
    school = SchoolStocks("A", "A", "Pei", "primary", "rural", 400,
                          {Indicator.EQUIPMENT_VALUE: 400 * 2_000_00})
    result = evaluate_school(SchoolPart(school, Stage.PRIMARY, 400))
    assert result.passes is None
    assert "not recorded" in result.reasons[0]
