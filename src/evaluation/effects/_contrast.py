"""Programme minus comparison group on a KPI share: difference, 95% CI and test by one method.

The comparison group (screened non-participants or a waiting list) was measured the same way, so its
"improvement" is what regression to the mean and secular change produce without the programme. The
difference of the two shares uses the Miettinen-Nurminen score interval and the score test it inverts
(statsmodels ``confint_proportions_2indep`` / ``test_proportions_2indep``, ``method="score"``), so the
p-value and the interval never disagree. Without randomisation it is still an association: groups can
differ in who chose to join.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from ._kpi import KPIResult
from ._results import ROUND


def share_difference(k1: int, n1: int, k0: int, n0: int) -> dict[str, float]:
    """``k1/n1 - k0/n0`` with its Miettinen-Nurminen 95% CI and two-sided score-test p (proportion points)."""
    for name, (k, n) in {"programme": (k1, n1), "comparison": (k0, n0)}.items():
        if n <= 0 or not 0 <= k <= n:
            raise ValueError(f"share_difference: {name} needs 0 <= k <= n and n > 0, got k={k}, n={n}")
    lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="score", compare="diff", alpha=0.05)
    test = test_proportions_2indep(k1, n1, k0, n0, method="score", compare="diff")
    return {"difference": k1 / n1 - k0 / n0, "ci_low": float(lo), "ci_high": float(hi),
            "z": float(test.statistic), "pvalue": float(test.pvalue)}


def kpi_contrast(programme: KPIResult, comparison: KPIResult, *, week: int = 24,
                 indicators: tuple[str, ...] = ("risk_reduction", "behaviour_improvement")) -> pd.DataFrame:
    """One row per indicator: both shares and counts, their difference, 95% CI and p (suppressed cells stay empty)."""
    rows = []
    for ind in indicators:
        a = programme.table.set_index(["indicator", "week"]).loc[(ind, week)]
        b = comparison.table.set_index(["indicator", "week"]).loc[(ind, week)]
        row = {"indicator": ind, "week": week, "n_programme": int(a["n"]), "share_programme": a["share"],
               "n_comparison": int(b["n"]), "share_comparison": b["share"], "difference": np.nan,
               "ci_low": np.nan, "ci_high": np.nan, "z": np.nan, "pvalue": np.nan,
               "suppressed": bool(a["suppressed"] or b["suppressed"])}
        if not row["suppressed"]:
            row.update(share_difference(int(a["count"]), int(a["n"]), int(b["count"]), int(b["n"])))
        rows.append(row)
    return pd.DataFrame(rows).round(ROUND)
