"""Programme minus comparison group on a KPI share: difference, 95% CI and test by one method.

The comparison group (screened non-participants or a waiting list) was measured the same way, so its
"improvement" is what regression to the mean and secular change produce without the programme. The
difference of the two shares gets Newcombe's hybrid score interval (Wilson intervals of each share combined;
recommended by Fagerland, Lydersen & Laake 2015) and the Miettinen-Nurminen score test of no difference
(statsmodels ``confint_proportions_2indep(method="newcomb")`` / ``test_proportions_2indep(method="score")``).
The score *interval* of statsmodels is not used: its restricted MLE for a non-zero difference has a wrong
coefficient (statsmodels issue #10269) and its root-finding fails on ordinary data (13/610 vs 588/728);
the test at zero difference uses the pooled estimate and is not affected. Interval and test are different
methods, so they can disagree when p is near 0.05; the row says so (``ci_test_agree``). Without
randomisation the difference is still an association: groups can differ in who chose to join.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from ._kpi import KPIResult
from ._results import ROUND


def share_difference(k1: int, n1: int, k0: int, n0: int) -> dict[str, float]:
    """``k1/n1 - k0/n0`` with Newcombe's 95% CI and the two-sided score-test p of no difference (proportion points)."""
    for name, (k, n) in {"programme": (k1, n1), "comparison": (k0, n0)}.items():
        if n <= 0 or not 0 <= k <= n:
            raise ValueError(f"share_difference: {name} needs 0 <= k <= n and n > 0, got k={k}, n={n}")
    with np.errstate(divide="ignore", invalid="ignore"):  # statsmodels also computes an odds ratio, infinite at k = 0
        lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff", alpha=0.05)
        test = test_proportions_2indep(k1, n1, k0, n0, method="score", compare="diff", value=0)
    p = float(test.pvalue)
    return {"difference": k1 / n1 - k0 / n0, "ci_low": float(lo), "ci_high": float(hi),
            "z": float(test.statistic), "pvalue": p, "ci_test_agree": (p < 0.05) == (not lo <= 0 <= hi)}


def kpi_contrast(programme: KPIResult, comparison: KPIResult, *, week: int = 24,
                 indicators: tuple[str, ...] = ("risk_reduction", "behaviour_improvement")) -> pd.DataFrame:
    """One row per indicator: both shares and counts, their difference, 95% CI and p (suppressed cells stay empty)."""
    rows = []
    for ind in indicators:
        a = programme.table.set_index(["indicator", "week"]).loc[(ind, week)]
        b = comparison.table.set_index(["indicator", "week"]).loc[(ind, week)]
        row = {"indicator": ind, "week": week, "n_programme": int(a["n"]), "share_programme": a["share"],
               "n_comparison": int(b["n"]), "share_comparison": b["share"], "difference": np.nan,
               "ci_low": np.nan, "ci_high": np.nan, "z": np.nan, "pvalue": np.nan, "ci_test_agree": None,
               "suppressed": bool(a["suppressed"] or b["suppressed"])}
        if not row["suppressed"]:
            row.update(share_difference(int(a["count"]), int(a["n"]), int(b["count"]), int(b["n"])))
        rows.append(row)
    return pd.DataFrame(rows).round(ROUND)
