"""One-way deterministic sensitivity analysis and the tornado diagram.

Each parameter is set in turn to its low and high value with all others at
their base values; the outcome (incremental NMB at a threshold, ICER, or a
strategy's cost / effect) is recorded. Bars are ordered by the width of the
swing, widest on top.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping

import numpy as np
import pandas as pd

from ._uncertainty import DEFAULT_WTP_KRW

Outcome = Literal["inmb", "icer", "inc_cost", "inc_effect"]


@dataclass
class TornadoResult:
    """``table_``: parameter, low/high input, outcome at low/high, swing; ``base_value_`` the base outcome."""

    table_: pd.DataFrame
    base_value_: float
    outcome: str
    strategy: str
    reference: str
    wtp: float

    def summary(self) -> pd.DataFrame:
        return self.table_.copy()

    def plot(self, lang: str = "ko", ax=None, labels: Mapping[str, str] | None = None):
        from ._plots import plot_tornado

        return plot_tornado(self.table_, self.base_value_, outcome=self.outcome, lang=lang, ax=ax, labels=labels)


def _outcome(results: pd.DataFrame, effect: str, strategy: str, reference: str, outcome: Outcome, wtp: float) -> float:
    r = results.set_index("strategy")
    for s in (strategy, reference):
        if s not in r.index:
            raise ValueError(f"strategy {s!r} not in model results {list(r.index)}")
    dc = r.at[strategy, "cost"] - r.at[reference, "cost"]
    de = r.at[strategy, effect] - r.at[reference, effect]
    if outcome == "inmb":
        return float(de * wtp - dc)
    if outcome == "icer":
        return float(dc / de) if de != 0 else float("nan")
    if outcome == "inc_cost":
        return float(dc)
    if outcome == "inc_effect":
        return float(de)
    raise ValueError(f"outcome must be one of inmb, icer, inc_cost, inc_effect; got {outcome!r}")


def one_way(
    build: Callable[[dict], Any],
    base: Mapping[str, Any],
    ranges: Mapping[str, tuple[Any, Any]],
    *,
    strategy: str,
    reference: str,
    outcome: Outcome = "inmb",
    wtp: float = DEFAULT_WTP_KRW,
    effect: str | None = None,
) -> TornadoResult:
    """One-way sensitivity of ``outcome`` (strategy vs reference) to each parameter in ``ranges``."""
    unknown = set(ranges) - set(base)
    if unknown:
        raise ValueError(f"one_way: ranges for unknown parameter(s) {sorted(unknown)}; base has {sorted(base)}")

    def evaluate(params: dict) -> float:
        model = build(params)
        if not hasattr(model, "results_"):
            model = model.run()
        eff = effect or getattr(model, "effect", "qalys")
        return _outcome(model.results_, eff, strategy, reference, outcome, wtp)

    base_value = evaluate(dict(base))
    rows = []
    for name, (lo, hi) in ranges.items():
        v_lo = evaluate({**base, name: lo})
        v_hi = evaluate({**base, name: hi})
        rows.append({"parameter": name, "low_input": lo, "high_input": hi, "base_input": base[name],
                     "outcome_low": v_lo, "outcome_high": v_hi,
                     "swing": float(np.nanmax([v_lo, v_hi, base_value]) - np.nanmin([v_lo, v_hi, base_value]))})
    table = pd.DataFrame(rows).sort_values("swing", ascending=False, ignore_index=True)
    return TornadoResult(table, base_value, outcome, strategy, reference, wtp)


tornado = one_way
