"""What the claims table publishes for a declared claim: the numbers recomputed from the
figures it names, whether the claim holds (within its tolerance, 0 when none is given), and a
statement quoting the figures as printed."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.core.claims import evaluate_claim

FIGURES = {
    "total": {"value": 11.0, "value_as_printed": "11", "qualifier": "exact"},
    "birth": {"value": 8.0, "value_as_printed": "8", "qualifier": "exact"},
    "natural": {"value": 3.0, "value_as_printed": "three", "qualifier": "exact"},
    "fold": {"value": 7.0, "value_as_printed": "seven-fold", "qualifier": "approximately"},
    "big": {"value": 7000.0, "value_as_printed": "7,000", "qualifier": "exact"},
    "small": {"value": 1000.0, "value_as_printed": "1,000", "qualifier": "exact"},
    "over": {"value": 2000.0, "value_as_printed": "over 2,000", "qualifier": "at_least"},
    "under": {"value": 2000.0, "value_as_printed": "under 2,000", "qualifier": "at_most"},
    "about": {"value": 2000.0, "value_as_printed": "about 2,000", "qualifier": "approximately"},
    "mean": {"value": 2000.0, "value_as_printed": "2,000 a year", "qualifier": "average"},
    "exact": {"value": 2025.0, "value_as_printed": "2,025", "qualifier": "exact"},
}


def claim(**spec):
    return {"id": "c1", "source_id": "s", **spec}


def test_a_sum_claim_adds_its_parts_and_holds_when_they_equal_the_stated_figure():
    row = evaluate_claim(claim(kind="sum", stated="total", parts=["birth", "natural"]), FIGURES)
    assert row == {
        "claim_id": "c1", "source_id": "s", "claim_kind": "sum",
        "figure_ids": "total;birth;natural", "statement": '"8" + "three" = "11"',
        "stated_value": 11.0, "computed_value": 11.0, "tolerance": 0.0, "holds": True,
    }  # fmt: skip
    assert type(row["holds"]) is bool


def test_a_sum_that_misses_the_stated_figure_does_not_hold_without_a_tolerance():
    row = evaluate_claim(claim(kind="sum", stated="total", parts=["birth"]), FIGURES)
    assert (row["computed_value"], row["holds"]) == (8.0, False)


def test_a_sum_within_its_relative_tolerance_holds_and_beyond_it_does_not():
    spec = claim(kind="sum", stated="total", parts=["birth"], tolerance=3 / 11)
    assert evaluate_claim(spec, FIGURES)["holds"] is True
    spec = claim(kind="sum", stated="total", parts=["birth"], tolerance=0.27)
    row = evaluate_claim(spec, FIGURES)
    assert (row["holds"], row["tolerance"]) == (False, 0.27)


def test_a_ratio_claim_divides_numerator_by_denominator_and_quotes_both():
    spec = claim(kind="ratio", stated="fold", numerator="big", denominator="small")
    row = evaluate_claim(spec, FIGURES)
    assert row["statement"] == '"7,000" / "1,000" = 7, stated as "seven-fold" (7)'
    assert (row["figure_ids"], row["computed_value"], row["holds"]) == ("fold;big;small", 7.0, True)


def test_a_ratio_is_printed_with_four_significant_digits_and_judged_with_its_tolerance():
    spec = claim(kind="ratio", stated="fold", numerator="small", denominator="birth")
    row = evaluate_claim({**spec, "tolerance": 0.1}, FIGURES)
    assert row["statement"] == '"1,000" / "8" = 125, stated as "seven-fold" (7)'
    assert row["holds"] is False
    spec = claim(kind="ratio", stated="total", numerator="big", denominator="natural")
    assert '= 2333, stated as "11" (11)' in evaluate_claim(spec, FIGURES)["statement"]
    near = claim(kind="ratio", stated="fold", numerator="exact", denominator="about")
    row = evaluate_claim({**near, "tolerance": 0.86}, FIGURES)
    assert row["statement"].startswith('"2,025" / "about 2,000" = 1.012,')
    assert row["holds"] is True  # |1.0125 - 7| <= 0.86 * 7


@pytest.mark.parametrize(
    ("stated", "other", "tolerance", "word", "holds"),
    [
        ("over", "exact", 0.0, "at least", True),
        ("over", "birth", 0.0, "at least", False),
        ("over", "small", 0.0, "at least", False),
        ("under", "small", 0.0, "at most", True),
        ("under", "exact", 0.0, "at most", False),
        ("about", "exact", 0.02, "approximately", True),
        ("about", "exact", 0.01, "approximately", False),
        ("mean", "exact", 0.0125, "average", True),
        ("mean", "exact", 0.01, "average", False),
        ("exact", "exact", 0.0, "exactly", True),
        ("exact", "about", 0.0, "exactly", False),
    ],
)
def test_a_bound_claim_tests_the_qualifier_of_the_stated_figure(
    stated, other, tolerance, word, holds
):
    row = evaluate_claim(
        claim(kind="bound", stated=stated, computed=other, tolerance=tolerance), FIGURES
    )
    printed = FIGURES[other]["value_as_printed"], FIGURES[stated]["value_as_printed"]
    assert row["statement"] == f'"{printed[0]}" is {word} "{printed[1]}"'
    assert (row["figure_ids"], row["holds"]) == (f"{stated};{other}", holds)
    assert (row["stated_value"], row["computed_value"]) == (
        FIGURES[stated]["value"], FIGURES[other]["value"],
    )  # fmt: skip


def test_at_least_and_at_most_include_the_bound_itself():
    assert evaluate_claim(claim(kind="bound", stated="over", computed="about"), FIGURES)["holds"]
    assert evaluate_claim(claim(kind="bound", stated="under", computed="about"), FIGURES)["holds"]


def test_the_figures_table_gives_the_same_row_indexed_by_figure_id_or_not():
    spec = claim(kind="sum", stated="total", parts=["birth", "natural"])
    table = pd.DataFrame([{"figure_id": k, **v} for k, v in FIGURES.items()])
    expected = evaluate_claim(spec, FIGURES)
    assert evaluate_claim(spec, table) == expected
    assert evaluate_claim(spec, table.set_index("figure_id")) == expected


def test_a_tolerance_is_relative_to_the_size_of_a_negative_stated_figure_too():
    figures = {
        "change": {"value": -10.0, "value_as_printed": "-10", "qualifier": "approximately"},
        "a": {"value": -8.0, "value_as_printed": "-8", "qualifier": "exact"},
        "b": {"value": -3.0, "value_as_printed": "-3", "qualifier": "exact"},
        "c": {"value": -10.5, "value_as_printed": "-10.5", "qualifier": "exact"},
        "d": {"value": -11.0, "value_as_printed": "-11", "qualifier": "exact"},
        "one": {"value": 1.0, "value_as_printed": "1", "qualifier": "exact"},
        "exact": {"value": -10.0, "value_as_printed": "-10", "qualifier": "exact"},
        "mean": {"value": -10.0, "value_as_printed": "-10", "qualifier": "average"},
    }
    spec = claim(kind="sum", stated="change", parts=["a", "b"], tolerance=0.1)
    assert evaluate_claim(spec, figures)["holds"] is True  # |-11 - -10| <= 0.1 * 10
    spec = claim(kind="ratio", stated="change", numerator="d", denominator="one", tolerance=0.1)
    assert evaluate_claim(spec, figures)["holds"] is True  # |-11 - -10| <= 0.1 * 10
    for stated in ("change", "exact", "mean"):
        spec = claim(kind="bound", stated=stated, computed="c", tolerance=0.05)
        assert evaluate_claim(spec, figures)["holds"] is True, stated  # 0.5 <= 0.05 * 10


def test_approximately_holds_at_its_tolerance_exactly():
    spec = claim(kind="bound", stated="about", computed="exact", tolerance=0.0125)
    assert evaluate_claim(spec, FIGURES)["holds"] is True
