"""The text's checkable internal claims, recomputed from the figures it states.

A claim is declared in annotations.yaml (`claims:`) by figure ids only; every number here
comes from the figures table, so a claim is as traceable as the figures it names.
- sum: the stated figure equals the sum of its parts ("11 ... (8 by birth and 3 by
  naturalization)");
- ratio: a stated multiple ("seven-fold") against numerator / denominator, within a
  relative tolerance declared with the claim;
- bound: an exact figure satisfies the qualifier of another ("2,025" vs "over 2,000").
"""

from __future__ import annotations

from typing import Any

import pandas as pd

BOUND_TESTS = {
    "at_least": lambda computed, stated, tol: computed >= stated,
    "at_most": lambda computed, stated, tol: computed <= stated,
    "exact": lambda computed, stated, tol: abs(computed - stated) <= tol * abs(stated),
    "approximately": lambda computed, stated, tol: abs(computed - stated) <= tol * abs(stated),
    "average": lambda computed, stated, tol: abs(computed - stated) <= tol * abs(stated),
}
QUALIFIER_WORDS = {"at_least": "at least", "at_most": "at most", "exact": "exactly"}


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def evaluate_claim(
    spec: dict[str, Any], figures: pd.DataFrame | dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """One row of the claims table for one declared claim. `figures` is the figures table
    (indexed by figure_id or not) or, as claims_table passes it, {figure_id: row}."""
    if isinstance(figures, dict):
        rows = figures

        def cell(fid: str, column: str) -> Any:
            return rows[fid][column]
    else:
        fig = figures if figures.index.name == "figure_id" else figures.set_index("figure_id")

        def cell(fid: str, column: str) -> Any:
            return fig.at[fid, column]

    def printed(fid: str) -> str:
        return f'"{cell(fid, "value_as_printed")}"'

    stated_id = spec["stated"]
    stated = float(cell(stated_id, "value"))
    tolerance = float(spec.get("tolerance", 0.0))
    kind = spec["kind"]
    if kind == "sum":
        parts = list(spec["parts"])
        computed = float(sum(cell(p, "value") for p in parts))
        ids = [stated_id, *parts]
        holds = abs(computed - stated) <= tolerance * abs(stated)
        statement = f"{' + '.join(printed(p) for p in parts)} = {printed(stated_id)}"
    elif kind == "ratio":
        num, den = spec["numerator"], spec["denominator"]
        computed = float(cell(num, "value")) / float(cell(den, "value"))
        ids = [stated_id, num, den]
        holds = abs(computed - stated) <= tolerance * abs(stated)
        statement = (
            f"{printed(num)} / {printed(den)} = {_fmt(computed)}, "
            f"stated as {printed(stated_id)} ({_fmt(stated)})"
        )
    else:  # bound
        other = spec["computed"]
        computed = float(cell(other, "value"))
        qualifier = str(cell(stated_id, "qualifier"))
        ids = [stated_id, other]
        holds = BOUND_TESTS[qualifier](computed, stated, tolerance)
        word = QUALIFIER_WORDS.get(qualifier, qualifier.replace("_", " "))
        statement = f"{printed(other)} is {word} {printed(stated_id)}"
    return {
        "claim_id": spec["id"],
        "source_id": spec["source_id"],
        "claim_kind": kind,
        "figure_ids": ";".join(ids),
        "statement": statement,
        "stated_value": stated,
        "computed_value": computed,
        "tolerance": tolerance,
        "holds": bool(holds),
    }
