"""The value and narrative rules of DOMAIN.md 'Validation', over plain values (grants.validation)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grants.measures import CATALOG, NARRATIVE_MAX_LENGTH, NARRATIVES, PROGRAMS, Cell, categories, specs_for_program
from grants.validation import (
    COUNT_MAX,
    check_narratives,
    check_values,
    clean_text,
    parse_value,
    submission_problems,
)

AWARD = Decimal("600000.00")
YCCR = specs_for_program("YCCR")
NARRATIVE_TEXT = {name: "We did what we planned." for name, _, _ in NARRATIVES}


def specs(*codes):
    return [CATALOG[c] for c in codes]


def balanced(code: str, total: int, dim: str, **parts: int) -> dict[str, str]:
    """The breakdown of one dimension, with 'unknown' (or the last category) balancing the total."""
    names = [c for c, _ in categories(dim)]
    rest = "unknown" if "unknown" in names else names[-1]
    raw = {Cell(code, dim, n).key: str(parts.get(n, 0)) for n in names}
    raw[Cell(code, dim, rest).key] = str(total - sum(v for k, v in parts.items() if k != rest))
    return raw


def valid_raw(spec_list, clients: int = 40) -> dict[str, str]:
    """Typed values that pass every rule, for any list of catalogue measures."""
    raw: dict[str, str] = {}
    for spec in spec_list:
        if spec.value_type == "percent":
            raw[spec.code] = "62.5"
        elif spec.value_type == "currency":
            raw[spec.code] = "12500.75"
        elif spec.per_category:
            for cell in spec.cells:
                raw[cell.key] = str(clients // 2)
        else:
            total = {"CLI-02": clients // 2, "CLI-03": clients // 4, "CCR-02": 90, "CCR-03": 12}.get(spec.code, clients)
            raw[spec.code] = str(total)
            for dim in spec.breakdowns:
                raw.update(balanced(spec.code, total, dim))
    return raw


def check(spec_list, raw, **kwargs):
    return check_values(spec_list, raw, kwargs.pop("award_amount", AWARD), **kwargs)


# --- one value at a time -------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "number"), [
    ("12", Decimal(12)), ("0", Decimal(0)), (" 7 ", Decimal(7)), ("1,250", Decimal(1250)),
    ("10000000", Decimal(COUNT_MAX)), ("10,000,000", Decimal(COUNT_MAX)), ("3.0", Decimal(3)),
])
def test_whole_numbers_up_to_ten_million_are_valid_counts(raw, number):
    assert parse_value(raw, "count") == (number, None)


@pytest.mark.parametrize(("raw", "message"), [
    ("abc", "whole number"), ("1.5", "whole number"), ("-1", "negative"), ("10000001", "at most 10,000,000"),
    ("12 clients", "whole number"), ("1e3", "whole number"), ("NaN", "whole number"), ("Infinity", "whole number"),
])
def test_counts_that_are_not_whole_numbers_in_range_are_errors(raw, message):
    number, error = parse_value(raw, "count")
    assert number is None
    assert message in error


@pytest.mark.parametrize("value_type", ["count", "percent", "currency"])
@pytest.mark.parametrize("raw", ["", "   ", None])
def test_blank_is_not_entered_rather_than_zero(value_type, raw):
    assert parse_value(raw, value_type) == (None, None)


@pytest.mark.parametrize(("raw", "number"), [
    ("0", Decimal(0)), ("100", Decimal(100)), ("45.5", Decimal("45.5")), ("45.5%", Decimal("45.5")),
    ("100.0", Decimal(100)), ("7 %", Decimal(7)),
])
def test_percents_from_0_to_100_with_one_decimal_are_valid(raw, number):
    assert parse_value(raw, "percent") == (number, None)


@pytest.mark.parametrize(("raw", "message"), [
    ("100.1", "at most 100"), ("101", "at most 100"), ("45.55", "one decimal"), ("-0.5", "negative"),
    ("half", "percent from 0 to 100"), ("%", "percent from 0 to 100"),
])
def test_percents_out_of_range_or_too_precise_are_errors(raw, message):
    number, error = parse_value(raw, "percent")
    assert number is None
    assert message in error


@pytest.mark.parametrize(("raw", "number"), [
    ("1250", Decimal(1250)), ("1250.00", Decimal("1250.00")), ("$1,250.50", Decimal("1250.50")),
    ("0.01", Decimal("0.01")), ("600000.00", AWARD),
])
def test_currency_up_to_the_award_amount_with_cents_is_valid(raw, number):
    assert parse_value(raw, "currency", AWARD) == (number, None)


@pytest.mark.parametrize(("raw", "message"), [
    ("1250.005", "two decimal places"), ("600000.01", "Cannot exceed the award amount of $600,000"),
    ("-5", "negative"), ("five dollars", "dollar amount"), ("$", "dollar amount"),
])
def test_currency_above_the_award_or_with_fractions_of_cents_is_an_error(raw, message):
    number, error = parse_value(raw, "currency", AWARD)
    assert number is None
    assert message in error


def test_currency_without_an_award_amount_has_no_ceiling():
    assert parse_value("9999999.99", "currency") == (Decimal("9999999.99"), None)


@settings(max_examples=300)
@given(raw=st.one_of(st.none(), st.text(max_size=60)), value_type=st.sampled_from(["count", "percent", "currency"]))
def test_any_typed_text_gives_a_value_or_a_message_and_never_raises(raw, value_type):
    number, error = parse_value(raw, value_type, AWARD)
    assert number is None or error is None
    if error is not None:
        assert isinstance(error, str) and error
    if number is not None:
        assert number >= 0


@given(st.integers(min_value=0, max_value=COUNT_MAX))
def test_every_whole_number_in_range_is_a_valid_count(n):
    assert parse_value(f"{n:,}", "count") == (Decimal(n), None)


# --- breakdowns ----------------------------------------------------------------------------------

CLI01 = specs("CLI-01")


def cli01(total, **dims):
    raw = {"CLI-01": str(total)}
    for dim in ("age", "trafficking_type", "citizenship"):
        raw.update(dims.get(dim, balanced("CLI-01", total, dim)))
    return raw


def test_breakdowns_that_sum_to_the_total_are_valid():
    result = check(CLI01, cli01(40, age=balanced("CLI-01", 40, "age", minor=25, adult=10)))
    assert result.ok, result.errors
    assert result.values["CLI-01.age.unknown"] == Decimal(5)


def test_breakdown_that_does_not_sum_to_the_total_is_an_error_asking_for_unknown():
    raw = cli01(40, age={"CLI-01.age.minor": "20", "CLI-01.age.adult": "10", "CLI-01.age.unknown": "0"})
    result = check(CLI01, raw)
    assert list(result.errors) == ["CLI-01.age"]
    message = result.errors["CLI-01.age"][0]
    assert "adds up to 30 but the total is 40" in message
    assert "Unknown" in message


def test_each_breakdown_of_a_measure_is_checked_on_its_own():
    raw = cli01(10, trafficking_type=balanced("CLI-01", 9, "trafficking_type"),
                citizenship=balanced("CLI-01", 11, "citizenship"))
    result = check(CLI01, raw)
    assert set(result.errors) == {"CLI-01.trafficking_type", "CLI-01.citizenship"}


def test_partly_entered_breakdown_below_the_total_is_allowed_in_a_draft():
    raw = {"CLI-01": "40", "CLI-01.age.minor": "12"}
    assert check(CLI01, raw).ok


def test_partly_entered_breakdown_above_the_total_is_an_error():
    raw = {"CLI-01": "10", "CLI-01.age.minor": "8", "CLI-01.age.adult": "5"}
    result = check(CLI01, raw)
    assert "already adds up to 13, more than the total of 10" in result.errors["CLI-01.age"][0]


def test_breakdown_without_a_total_asks_for_the_total():
    result = check(CLI01, {"CLI-01.age.minor": "3"})
    assert "Enter the total before the age breakdown" in result.errors["CLI-01.age"][0]


def test_invalid_breakdown_cell_shows_its_own_error_not_a_sum_error():
    raw = cli01(40, age={"CLI-01.age.minor": "abc", "CLI-01.age.adult": "10", "CLI-01.age.unknown": "30"})
    result = check(CLI01, raw)
    assert list(result.errors) == ["CLI-01.age.minor"]
    assert result.values["CLI-01.age.minor"] is None


@pytest.mark.parametrize(("code", "dim"), [("PRT-01", "partnership"), ("TRN-02", "sector"),
                                           ("CCR-03", "trafficking_type")])
def test_other_measures_breakdowns_must_sum_to_their_totals(code, dim):
    good = {code: "9", **balanced(code, 9, dim)}
    assert check(specs(code), good).ok
    bad = {code: "9", **balanced(code, 8, dim)}
    assert list(check(specs(code), bad).errors) == [f"{code}.{dim}"]


# --- ceilings between measures -------------------------------------------------------------------

@pytest.mark.parametrize("code", ["CLI-02", "CLI-03"])
def test_new_clients_and_closed_cases_cannot_exceed_clients_served(code):
    at_ceiling = {**cli01(20), code: "20"}
    assert check(specs("CLI-01", code), at_ceiling).ok
    above = {**cli01(20), code: "21"}
    result = check(specs("CLI-01", code), above)
    assert list(result.errors) == [code]
    assert "Cannot exceed CLI-01 (Clients served in the period), which is 20" in result.errors[code][0]


def test_each_service_cannot_exceed_clients_served_but_services_may_add_up_to_more():
    srv = CATALOG["SRV-01"]
    raw = {**cli01(20), **{c.key: "20" for c in srv.cells}}
    assert check(specs("CLI-01", "SRV-01"), raw).ok
    raw["SRV-01.service.housing"] = "21"
    result = check(specs("CLI-01", "SRV-01"), raw)
    assert list(result.errors) == ["SRV-01.service.housing"]


def test_youth_identified_cannot_exceed_youth_screened():
    raw = {"CCR-02": "30", "CCR-03": "31", **balanced("CCR-03", 31, "trafficking_type")}
    result = check(specs("CCR-02", "CCR-03"), raw)
    assert list(result.errors) == ["CCR-03"]
    raw.update({"CCR-03": "30", **balanced("CCR-03", 30, "trafficking_type")})
    assert check(specs("CCR-02", "CCR-03"), raw).ok


def test_ceiling_is_not_checked_while_the_ceiling_measure_is_blank():
    assert check(specs("CLI-01", "CLI-02"), {"CLI-02": "50"}).ok


# --- warnings ------------------------------------------------------------------------------------

def codes(result):
    return [w.code for w in result.warnings]


@pytest.mark.parametrize(("before", "now", "warns"), [
    (20, 31, True),     # +11 and +55%
    (20, 30, False),    # +50%, but only +10
    (100, 140, False),  # +40: more than 10, not more than 50%
    (100, 151, True),
    (100, 49, True),    # a fall counts too
    (0, 11, True),
    (0, 10, False),
    (5, 15, False),     # +200%, but only +10
])
def test_change_over_half_and_over_ten_from_the_previous_period_is_a_warning(before, now, warns):
    result = check(specs("SRV-02"), {"SRV-02": str(now)}, previous={"SRV-02": Decimal(before)})
    assert result.ok
    assert codes(result) == (["change:SRV-02"] if warns else [])
    if warns:
        assert result.warnings[0].field == "SRV-02"
        assert "last period" in result.warnings[0].message


def test_no_change_warning_without_a_previous_period():
    assert codes(check(specs("SRV-02"), {"SRV-02": "500"})) == []


def test_change_warning_is_on_totals_and_each_service_not_on_breakdown_cells():
    raw = {**cli01(100), **{c.key: "50" for c in CATALOG["SRV-01"].cells}}
    previous = {"CLI-01": Decimal(100), "CLI-01.age.unknown": Decimal(10), "SRV-01.service.legal": Decimal(10)}
    result = check(specs("CLI-01", "SRV-01"), raw, previous=previous)
    assert codes(result) == ["change:SRV-01.service.legal"]


def test_every_count_zero_is_a_warning():
    raw = {k: "0" for k in valid_raw(YCCR)}
    raw["FIN-01"] = "100.00"
    result = check(YCCR, raw)
    assert result.ok, result.errors
    assert "all_zero" in codes(result)


def test_one_count_above_zero_clears_the_all_zero_warning():
    raw = {k: "0" for k in valid_raw(YCCR)}
    raw["TRN-01"] = "1"
    assert "all_zero" not in codes(check(YCCR, raw))


def test_all_zero_warning_waits_until_every_count_is_entered():
    raw = {k: "0" for k in valid_raw(YCCR)}
    del raw["TRN-01"]
    assert "all_zero" not in codes(check(YCCR, raw))


def test_funds_expended_to_date_above_the_award_is_a_warning():
    result = check(specs("FIN-01"), {"FIN-01": "100000.00"}, prior_expended=Decimal("500000.01"))
    assert codes(result) == ["fin_cumulative"]
    assert "$600,000.01" in result.warnings[0].message
    at_award = check(specs("FIN-01"), {"FIN-01": "100000.00"}, prior_expended=Decimal("500000.00"))
    assert codes(at_award) == []


# --- submission ----------------------------------------------------------------------------------

@pytest.mark.parametrize("program", [p[0] for p in PROGRAMS])
def test_complete_valid_report_of_each_program_can_be_submitted(program):
    program_specs = specs_for_program(program)
    result = check(program_specs, valid_raw(program_specs))
    assert result.ok, result.errors
    assert result.warnings == []
    assert submission_problems(program_specs, result, NARRATIVE_TEXT, {}) == {}


def test_every_blank_value_must_be_entered_to_submit():
    raw = valid_raw(YCCR)
    del raw["SRV-02"], raw["CLI-01.age.adult"]
    result = check(YCCR, raw)
    problems = submission_problems(YCCR, result, NARRATIVE_TEXT, {})
    assert problems == {"SRV-02": ["Enter a value (0 if none)."], "CLI-01.age.adult": ["Enter a value (0 if none)."]}


def test_zero_counts_as_entered_for_submission():
    raw = valid_raw(YCCR)
    raw["SRV-02"] = "0"
    assert submission_problems(YCCR, check(YCCR, raw), NARRATIVE_TEXT, {}) == {}


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_accomplishments_narrative_is_required_to_submit(text):
    result = check(YCCR, valid_raw(YCCR))
    problems = submission_problems(YCCR, result, {**NARRATIVE_TEXT, "narrative_accomplishments": text}, {})
    assert list(problems) == ["narrative_accomplishments"]


def test_other_narratives_may_be_left_empty():
    result = check(YCCR, valid_raw(YCCR))
    assert submission_problems(YCCR, result, {"narrative_accomplishments": "Served 40 clients."}, {}) == {}


def test_errors_block_submission_under_their_field():
    raw = valid_raw(YCCR)
    raw["CLI-02"] = "abc"
    problems = submission_problems(YCCR, check(YCCR, raw), NARRATIVE_TEXT, {})
    assert list(problems) == ["CLI-02"]
    assert "whole number" in problems["CLI-02"][0]


def test_each_warning_needs_an_explanation_to_submit():
    raw = valid_raw(YCCR)
    result = check(YCCR, raw, previous={"SRV-02": Decimal(1)})
    assert codes(result) == ["change:SRV-02"]
    assert list(submission_problems(YCCR, result, NARRATIVE_TEXT, {})) == ["explain:change:SRV-02"]
    assert list(submission_problems(YCCR, result, NARRATIVE_TEXT, {"change:SRV-02": "  "})) == ["explain:change:SRV-02"]
    explained = {"change:SRV-02": "We opened a second office."}
    assert submission_problems(YCCR, result, NARRATIVE_TEXT, explained) == {}


def test_narrative_of_exactly_ten_thousand_characters_is_accepted_and_one_more_is_not():
    result = check(YCCR, valid_raw(YCCR))
    longest = {**NARRATIVE_TEXT, "narrative_developments": "x" * NARRATIVE_MAX_LENGTH}
    assert submission_problems(YCCR, result, longest, {}) == {}
    too_long = {**NARRATIVE_TEXT, "narrative_developments": "x" * (NARRATIVE_MAX_LENGTH + 1)}
    problems = submission_problems(YCCR, result, too_long, {})
    assert list(problems) == ["narrative_developments"]
    assert "at most 10,000 characters (this has 10,001)" in problems["narrative_developments"][0]


def test_line_breaks_sent_by_a_browser_count_as_one_character():
    # Browsers submit textarea line breaks as CRLF; a 10,000-character text must not grow past the limit.
    text = ("y" * 99 + "\n") * (NARRATIVE_MAX_LENGTH // 100)
    assert len(text) == NARRATIVE_MAX_LENGTH
    assert check_narratives({"narrative_next_period": text.replace("\n", "\r\n")}) == {}


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b", "\x7f"])
def test_narrative_with_nul_or_other_control_characters_is_refused(bad):
    result = check(YCCR, valid_raw(YCCR))
    narratives = {**NARRATIVE_TEXT, "narrative_accomplishments": f"Served clients{bad}."}
    problems = submission_problems(YCCR, result, narratives, {})
    assert list(problems) == ["narrative_accomplishments"]
    assert "control characters" in problems["narrative_accomplishments"][0]


def test_tabs_and_line_breaks_are_allowed_in_narratives():
    assert check_narratives({"narrative_accomplishments": "Goals:\n\t1. Served\r\n\t2. Trained"}) == {}


# --- free text -----------------------------------------------------------------------------------

def test_clean_text_trims_and_normalises_line_breaks():
    assert clean_text("  Please fix CLI-02.\r\nThanks  ", "a remark") == ("Please fix CLI-02.\nThanks", None)


def test_clean_text_requires_text_unless_optional():
    assert clean_text("   ", "a remark") == ("", "Enter a remark.")
    assert clean_text(None, "a remark", required=False) == ("", None)


def test_clean_text_bounds_length_and_refuses_control_characters():
    assert clean_text("x" * 201, "a title", max_length=200)[1] == "Use at most 200 characters."
    assert clean_text("x" * 200, "a title", max_length=200)[1] is None
    assert "control characters" in clean_text("a\x00b", "a remark")[1]


@given(st.text(max_size=300))
def test_clean_text_never_raises_and_never_passes_control_characters(text):
    value, error = clean_text(text, "a remark", max_length=200)
    if error is None:
        assert value and len(value) <= 200
        assert not any(ord(ch) < 32 and ch not in "\t\n\r" or ord(ch) == 127 for ch in value)


# --- properties over whole reports ---------------------------------------------------------------

@st.composite
def valid_reports(draw):
    """A program and typed values that satisfy every error rule (warnings may occur)."""
    program = draw(st.sampled_from([p[0] for p in PROGRAMS]))
    program_specs = specs_for_program(program)
    amount = st.integers(min_value=0, max_value=5000)
    raw: dict[str, str] = {}
    totals: dict[str, int] = {}
    for spec in program_specs:
        if spec.value_type == "percent":
            raw[spec.code] = str(draw(st.decimals(min_value=0, max_value=100, places=1)))
        elif spec.value_type == "currency":
            raw[spec.code] = f"{draw(st.decimals(min_value=0, max_value=AWARD, places=2)):.2f}"
        elif spec.per_category:
            for cell in spec.cells:
                raw[cell.key] = str(draw(st.integers(0, totals.get("CLI-01", 0))))
        else:
            ceiling = {"CLI-02": "CLI-01", "CLI-03": "CLI-01", "CCR-03": "CCR-02"}.get(spec.code)
            total = draw(st.integers(0, totals[ceiling])) if ceiling in totals else draw(amount)
            totals[spec.code] = total
            raw[spec.code] = f"{total:,}" if draw(st.booleans()) else str(total)
            for dim in spec.breakdowns:
                names = [c for c, _ in categories(dim)]
                cuts = sorted(draw(st.lists(st.integers(0, total), min_size=len(names) - 1, max_size=len(names) - 1)))
                parts = [b - a for a, b in zip([0, *cuts], [*cuts, total])]
                raw.update({Cell(spec.code, dim, n).key: str(p) for n, p in zip(names, parts)})
    return program_specs, raw


@settings(max_examples=200)
@given(valid_reports())
def test_random_valid_reports_pass_and_can_be_submitted_once_warnings_are_explained(report):
    program_specs, raw = report
    result = check(program_specs, raw)
    assert result.ok, result.errors
    explanations = {w.code: "Explained." for w in result.warnings}
    assert submission_problems(program_specs, result, NARRATIVE_TEXT, explanations) == {}


@settings(max_examples=200)
@given(
    program=st.sampled_from([p[0] for p in PROGRAMS]),
    typed=st.dictionaries(st.sampled_from([c.key for s in CATALOG.values() for c in s.cells]),
                          st.text(max_size=20), max_size=40),
    narrative=st.text(max_size=50),
)
def test_random_typed_text_never_raises_and_every_error_is_a_message(program, typed, narrative):
    program_specs = specs_for_program(program)
    result = check(program_specs, typed, previous={"CLI-01": Decimal(3)}, prior_expended=Decimal("1.00"))
    for messages in result.errors.values():
        assert messages and all(isinstance(m, str) and m for m in messages)
    problems = submission_problems(program_specs, result, {"narrative_accomplishments": narrative}, {})
    assert set(result.errors) <= set(problems)


# --- the measure catalogue the rules read --------------------------------------------------------

def test_cell_keys_round_trip():
    for spec in CATALOG.values():
        for cell in spec.cells:
            assert Cell.parse(cell.key) == cell
    assert Cell("CLI-01", "age", "minor").key == "CLI-01.age.minor"
    assert Cell("CLI-01").key == "CLI-01"


def test_measure_with_breakdowns_has_a_total_and_one_cell_per_category():
    cli01 = CATALOG["CLI-01"]
    assert cli01.has_total and cli01.cells[0] == Cell("CLI-01")
    assert len(cli01.cells) == 1 + 3 + 4 + 4


def test_count_per_service_has_no_total_and_one_cell_per_service():
    srv01 = CATALOG["SRV-01"]
    assert not srv01.has_total
    assert [c.category for c in srv01.cells] == [c for c, _ in categories("service")]


@pytest.mark.parametrize(("program", "measures"), [
    ("YCCR", "CLI-01 CLI-02 CLI-03 SRV-01 SRV-02 PRT-01 PRT-02 TRN-01 TRN-02 CCR-01 CCR-02 CCR-03 FIN-01"),
    ("DVHT", "CLI-01 CLI-02 CLI-03 CLI-04 SRV-01 SRV-02 PRT-01 TRN-01 TRN-02 OUT-01 OUT-02 FIN-01"),
    ("VHTNC", "CLI-01 CLI-02 CLI-03 CLI-04 SRV-01 SRV-02 PRT-01 TRN-01 TRN-02 OUT-01 OUT-02 CCR-01 FIN-01"),
    ("ASPIRE", "CLI-01 CLI-02 CLI-03 CLI-04 CLI-05 SRV-01 SRV-02 FIN-01"),
    ("HTYPE", "EDU-01 EDU-02 EDU-03 EDU-04 OUT-01 OUT-02 TRN-01 FIN-01"),
])
def test_each_program_collects_the_measures_of_the_domain_table(program, measures):
    assert sorted(s.code for s in specs_for_program(program)) == sorted(measures.split())


def test_unknown_program_has_no_measures():
    with pytest.raises(KeyError):
        specs_for_program("NOPE")
