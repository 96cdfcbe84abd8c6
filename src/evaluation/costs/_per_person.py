"""Executed money per person (KRW/person) from one organisation's ledger, by funding source and period.

"Cost per participant" and "cost per person improved" divide the *executed* amount (집행액) of the
ledger lines that fund a programme by a head count. Each organisation's ledger stands on its own: a
ledger holding more than one ``programme`` key is refused (a district centre's money and the city
foundation's never pool into one ratio), and every funding source (national, provincial, city, other)
gets its own row next to the total, because each is a different payer's money.

A period is a set of ledger years (e.g. ``{"2023": [2023], "2022.7-2024": [2022, 2023, 2024]}``, the
seed's 2022 column being July-December). Lines without an executed amount are left out and counted
(``n_lines_without_execution``) rather than treated as zero. Head counts below ``min_n`` are
suppressed (staff see these tables).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ._ledger import FUNDING_SOURCES, validate_ledger
from ._unit_costs import MIN_N

TOTAL = "total"


@dataclass
class PerPersonCostResult:
    """``table_``: one row per period x funding source (plus ``total``) x denominator with
    ``executed_krw``, ``persons`` and ``krw_per_person``; ``programme`` is the ledger's one organisation key."""

    programme: str
    table_: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        return self.table_.copy()

    def value(self, period: str, denominator: str, funding_source: str = TOTAL) -> float:
        """KRW per person of one cell (NaN when suppressed)."""
        t = self.table_
        row = t[(t["period"] == period) & (t["denominator"] == denominator) & (t["funding_source"] == funding_source)]
        if len(row) != 1:
            raise KeyError(f"no cost cell for period={period!r}, denominator={denominator!r}, funding_source={funding_source!r}")
        return float(row["krw_per_person"].iloc[0])

    def executed(self, period: str, funding_source: str = TOTAL) -> int:
        t = self.table_
        row = t[(t["period"] == period) & (t["funding_source"] == funding_source)]
        if row.empty:
            raise KeyError(f"no executed amount for period={period!r}, funding_source={funding_source!r}")
        return int(row["executed_krw"].iloc[0])


def cost_per_person(ledger: pd.DataFrame, *, periods: Mapping[str, Sequence[int]], persons: Mapping[str, float],
                    items: Sequence[str] | None = None, min_n: int = MIN_N, name: str = "ledger") -> PerPersonCostResult:
    """Executed KRW per person for each period, funding source and head count.

    ``persons`` maps a denominator name (e.g. ``"participants"``, ``"behaviour_improved"``) to a head
    count (persons); ``items`` restricts the ledger to the lines funding the programme (column ``item``).
    """
    led = validate_ledger(ledger, name=name)
    if items is not None:
        unknown = sorted(set(items) - set(led["item"].astype(str)))
        if unknown:
            raise ValueError(f"{name}: item(s) {unknown} not in column 'item'")
        led = led[led["item"].isin(list(items))]
    programmes = sorted(set(led["programme"].astype(str)))
    if len(programmes) != 1:
        raise ValueError(f"{name}: column 'programme' holds {len(programmes)} organisations' ledgers; "
                         "compute each organisation's cost per person on its own ledger")
    if not periods:
        raise ValueError("cost_per_person: give at least one period")
    for key, n in persons.items():
        if not np.isfinite(n) or n <= 0:
            raise ValueError(f"cost_per_person: head count {key!r} must be positive, got {n!r}")
    rows = []
    for period, years in periods.items():
        sub = led[led["year"].isin(list(years))]
        missing = sorted(set(years) - set(int(y) for y in sub["year"].dropna()))
        if missing:
            raise ValueError(f"{name}: period {period!r} asks for year(s) {missing} the ledger does not hold")
        order = {s: i for i, s in enumerate(FUNDING_SOURCES)}
        groups = sorted(sub.groupby("funding_source", observed=True), key=lambda sg: order[sg[0]]) + [(TOTAL, sub)]
        for src, g in groups:
            executed = g["executed_krw"].sum(min_count=1)
            n_without = int(g["executed_krw"].isna().sum())
            for key, n in persons.items():
                suppressed = bool(n < min_n)
                value = np.nan if suppressed or pd.isna(executed) else float(executed) / float(n)
                rows.append({"period": period, "years": ",".join(str(y) for y in years), "funding_source": src,
                             "executed_krw": None if pd.isna(executed) else int(executed),
                             "n_lines_without_execution": n_without, "denominator": key, "persons": float(n),
                             "krw_per_person": value, "suppressed": suppressed})
    return PerPersonCostResult(programmes[0], pd.DataFrame(rows))
