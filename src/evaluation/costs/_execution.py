"""Budget execution monitoring: execution rates, unused amounts, chronic under-execution.

Execution rate = executed / available budget (``planned_krw`` holds the available
amount: the budget, or the secured amount (확보액) where the seed prints one).
Rows without a recorded execution are left out of the rate and reported as
``n_items_without_execution`` instead of silently counting as zero.

Chronic under-execution follows the Korean National Assembly Budget Office
(국회예산정책처) rule in its annual settlement review (결산 총괄 분석, e.g. the
2021 fiscal-year report, reported by 한국경제 2022-08-11): a programme whose
average execution rate over the last four fiscal years is below 70% *and* whose
current-year rate is below 70%.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from ._ledger import validate_ledger

NABO_THRESHOLD = 0.70
NABO_WINDOW_YEARS = 4


@dataclass
class ExecutionResult:
    """Execution by group. ``table_`` has planned/executed/unused KRW and ``execution_rate`` (0-1)."""

    table_: pd.DataFrame
    by: tuple[str, ...]
    total_planned_krw: int
    total_executed_krw: int
    execution_rate: float

    def summary(self) -> pd.DataFrame:
        """The tidy table (one row per group) plus a total row."""
        total = {c: "합계/total" for c in self.by}
        total.update(
            planned_krw=self.total_planned_krw, executed_krw=self.total_executed_krw,
            unused_krw=self.total_planned_krw - self.total_executed_krw, execution_rate=self.execution_rate,
            n_items=int(self.table_["n_items"].sum()),
            n_items_without_execution=int(self.table_["n_items_without_execution"].sum()),
            planned_without_execution_krw=int(self.table_["planned_without_execution_krw"].sum()),
        )
        tab = self.table_.copy()
        for c in self.by:
            tab[c] = tab[c].astype("object")
        return pd.concat([tab, pd.DataFrame([total])], ignore_index=True)

    def plot(self, lang: str = "ko", ax=None):
        """Planned vs executed bars per group, execution rate annotated."""
        from ._plots import plot_planned_vs_executed

        return plot_planned_vs_executed(self.table_, self.by, lang=lang, ax=ax)


def budget_execution(ledger: pd.DataFrame, by: str | Sequence[str] = ("year",)) -> ExecutionResult:
    """Execution rate, executed and unused amounts by ``by`` (e.g. year, category, funding_source).

    Only rows with a recorded ``executed_krw`` count toward the rate; planned
    amounts of rows without one are reported separately as ``planned_without_execution_krw``.
    """
    by = (by,) if isinstance(by, str) else tuple(by)
    led = validate_ledger(ledger)
    missing = [c for c in by if c not in led.columns]
    if missing:
        raise ValueError(f"budget_execution: ledger has no column(s) {missing}")
    has_exec = led["executed_krw"].notna()
    led = led.assign(
        _planned_exec=led["planned_krw"].where(has_exec, 0),
        _planned_noexec=led["planned_krw"].where(~has_exec, 0),
        _no_exec=(~has_exec).astype(int),
    )
    g = led.groupby(list(by), dropna=False, observed=True, sort=True)
    tab = pd.DataFrame({
        "planned_krw": g["_planned_exec"].sum().astype("int64"),
        "executed_krw": g["executed_krw"].sum(min_count=0).astype("int64"),
        "planned_without_execution_krw": g["_planned_noexec"].sum().astype("int64"),
        "n_items": g.size(),
        "n_items_without_execution": g["_no_exec"].sum(),
    }).reset_index()
    tab["unused_krw"] = tab["planned_krw"] - tab["executed_krw"]
    with np.errstate(invalid="ignore", divide="ignore"):
        tab["execution_rate"] = np.where(tab["planned_krw"] > 0, tab["executed_krw"] / tab["planned_krw"], np.nan)
    tab = tab[list(by) + ["planned_krw", "executed_krw", "unused_krw", "execution_rate", "n_items",
                          "n_items_without_execution", "planned_without_execution_krw"]]
    tp, te = int(tab["planned_krw"].sum()), int(tab["executed_krw"].sum())
    return ExecutionResult(tab, by, tp, te, te / tp if tp else float("nan"))


def chronic_underexecution(
    ledger: pd.DataFrame,
    unit: str | Sequence[str] = ("programme", "item"),
    *,
    current_year: int | None = None,
    threshold: float = NABO_THRESHOLD,
    window: int = NABO_WINDOW_YEARS,
    average: Literal["pooled", "mean"] = "pooled",
) -> pd.DataFrame:
    """Flag units (default: programme x item) with chronic under-execution (NABO rule).

    For each unit, the ``window`` fiscal years ending at ``current_year`` (default:
    the latest year in the ledger) are used. ``average="pooled"`` is total executed /
    total available over the window (how the NABO report states its averages);
    ``"mean"`` is the unweighted mean of annual rates. A unit is flagged when the
    average is below ``threshold`` and the current-year rate is below ``threshold``.
    Units with fewer than ``window`` years of execution data get ``complete_window=False``
    and are never flagged (the rule needs four years).
    """
    if average not in ("pooled", "mean"):
        raise ValueError(f"average must be 'pooled' or 'mean', got {average!r}")
    unit = (unit,) if isinstance(unit, str) else tuple(unit)
    led = validate_ledger(ledger)
    led = led[led["executed_krw"].notna() & led["year"].notna()]
    if led.empty:
        raise ValueError("chronic_underexecution: no rows with both year and executed_krw")
    cy = int(led["year"].max()) if current_year is None else int(current_year)
    years = list(range(cy - window + 1, cy + 1))
    yearly = budget_execution(led[led["year"].isin(years)], by=unit + ("year",)).table_
    rows = []
    for key, grp in yearly.groupby(list(unit), dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        grp = grp.set_index("year")
        cur = grp["execution_rate"].get(cy, np.nan)
        if average == "pooled":
            avg = grp["executed_krw"].sum() / grp["planned_krw"].sum() if grp["planned_krw"].sum() else np.nan
        else:
            avg = grp["execution_rate"].mean()
        complete = set(years).issubset(set(int(y) for y in grp.index))
        flag = bool(complete and avg < threshold and cur < threshold)
        rows.append(dict(zip(unit, key)) | {
            "current_year": cy, "n_years": len(grp), "complete_window": complete,
            "average_rate": float(avg), "current_rate": float(cur), "chronic_underexecution": flag,
        })
    return pd.DataFrame(rows)
