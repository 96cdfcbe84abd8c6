"""Unit costs: programme cost per participant and per outcome (KRW).

All functions take the cohort figures as arguments, so a notebook passes the
numbers of its own run (enrolled, active, completing, effect sizes) and the
cost side comes from the ledger. Denominators below ``min_n`` (default 10) are
suppressed (value NaN, ``suppressed=True``) because staff see these tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MIN_N = 10


@dataclass
class UnitCostResult:
    """Cost per unit of output/outcome. ``table_`` has one row per measure."""

    total_cost_krw: float
    table_: pd.DataFrame
    values: dict[str, float] = field(default_factory=dict)

    def __getattr__(self, name: str) -> float:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    def summary(self) -> pd.DataFrame:
        """Tidy table: measure, denominator, unit of the denominator, KRW per unit, suppressed."""
        return self.table_.copy()


def attributable_count(n: float, p_treated: float, p_comparison: float) -> float:
    """Participants with the outcome *because of* the programme: n x (p_treated - p_comparison)."""
    for name, p in (("p_treated", p_treated), ("p_comparison", p_comparison)):
        if not 0 <= p <= 1:
            raise ValueError(f"{name} must be a proportion in [0, 1], got {p}")
    return float(n) * (p_treated - p_comparison)


def unit_costs(
    total_cost_krw: float,
    *,
    enrolled: float,
    active: float | None = None,
    completed: float | None = None,
    risk_reduced: float | None = None,
    steps_gain_per_day: float | None = None,
    steps_participants: float | None = None,
    qalys_gained: float | None = None,
    min_n: int = MIN_N,
) -> UnitCostResult:
    """Programme cost per enrolled / active / completing participant and per outcome.

    Parameters
    ----------
    total_cost_krw : programme cost (KRW) attributed to this cohort.
    enrolled, active, completed : head counts (persons).
    risk_reduced : participants with a risk factor reduced *attributable* to the
        programme (see :func:`attributable_count`).
    steps_gain_per_day : additional daily steps sustained per participant
        (programme effect, steps/day); with ``steps_participants`` persons
        (default ``completed`` or ``enrolled``) gives the cost per additional
        1,000 daily steps sustained per participant.
    qalys_gained : QALYs gained in the cohort (from a model), giving KRW per QALY.
    """
    if total_cost_krw < 0:
        raise ValueError(f"total_cost_krw must be >= 0, got {total_cost_krw}")
    if enrolled is None or enrolled <= 0:
        raise ValueError(f"enrolled must be a positive head count, got {enrolled}")
    for name, v in (("active", active), ("completed", completed)):
        if v is not None and v > enrolled:
            raise ValueError(f"{name} ({v}) cannot exceed enrolled ({enrolled})")
    rows: list[dict] = []

    def add(key: str, denom: float | None, unit: str, head_count: bool) -> None:
        if denom is None:
            return
        suppressed = bool(head_count and denom < min_n)
        value = np.nan if suppressed or denom <= 0 else total_cost_krw / denom
        rows.append({"measure": key, "denominator": float(denom), "denominator_unit": unit,
                     "krw_per_unit": value, "suppressed": suppressed})

    add("cost_per_enrolled", enrolled, "persons", True)
    add("cost_per_active", active, "persons", True)
    add("cost_per_completer", completed, "persons", True)
    add("cost_per_risk_reduced", risk_reduced, "persons with a risk factor reduced (attributable)", True)
    if steps_gain_per_day is not None:
        n = steps_participants if steps_participants is not None else (completed if completed is not None else enrolled)
        if n < min_n:
            add("cost_per_1000_steps_sustained", n, "persons", True)
        else:
            add("cost_per_1000_steps_sustained", n * steps_gain_per_day / 1000.0,
                "person x 1,000 additional daily steps sustained", False)
    add("cost_per_qaly", qalys_gained, "QALYs gained", False)
    table = pd.DataFrame(rows)
    return UnitCostResult(float(total_cost_krw), table, dict(zip(table["measure"], table["krw_per_unit"])))
