"""Two-group, two-period difference-in-differences with cluster-robust standard errors."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from ._guard import Drops, require_binary, require_constant_within, require_finite, require_ids, require_unique, require_varies
from ._results import EffectResult, check_columns, check_numeric, diagnostic, diagnostics_frame, normal_ci, warn_failed


@dataclass(repr=False)
class DiDResult(EffectResult):
    """2x2 DiD. Extra attributes: ``means`` (group x period cell means, all available rows),
    ``model_`` (statsmodels results)."""

    means: pd.DataFrame = field(default_factory=pd.DataFrame)
    model_: object = None

    def plot(self, ax=None, lang: str = "ko"):
        """Cell means by period for the treated and comparison groups, with the counterfactual."""
        import matplotlib.pyplot as plt

        from ..publish import i18n
        from ._labels import register

        register()
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4))
        m = self.means
        x = [0, 1]
        ax.plot(x, m.loc[0, ["pre", "post"]], "o-", color="C0", label=i18n.t("eff_comparison", lang))
        ax.plot(x, m.loc[1, ["pre", "post"]], "o-", color="C3", label=i18n.t("eff_treated", lang))
        cf = m.loc[1, "pre"] + (m.loc[0, "post"] - m.loc[0, "pre"])
        ax.plot(x, [m.loc[1, "pre"], cf], "--", color="C3", alpha=0.6, label=i18n.t("eff_counterfactual", lang))
        ax.set_xticks(x, [i18n.t("eff_pre", lang), i18n.t("eff_post", lang)])
        ax.legend()
        return ax


def did_2x2(
    df: pd.DataFrame,
    outcome: str,
    treated: str,
    post: str,
    *,
    unit: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
) -> DiDResult:
    """Difference-in-differences of ``outcome`` between ``treated`` (0/1) groups across ``post`` (0/1).

    Long data, one row per unit-period. With ``unit`` given (panel), the estimate
    uses units observed in both periods, as the first-difference regression
    ``dy ~ treated``; its SE is HC2, which for a binary regressor equals the
    unequal-variance (Welch) SE of the difference in mean changes, or
    cluster-robust (CR1) on ``cluster`` when a coarser cluster is given.
    Without ``unit`` (repeated cross-sections) it is OLS ``y ~ treated*post``
    with CR1 SEs on ``cluster`` (HC1 if none). ``means`` holds the four cell
    means over every available row.

    A constant outcome gives 0 with SE NaN, a warning and a ``constant_outcome`` row in ``diagnostics``.
    Refused, naming the column and rows: an infinite outcome, codes other than 0/1, missing
    unit or cluster ids, duplicated unit-period rows, a unit both treated and control. Rows with a missing
    outcome / treatment / period and panel units seen in one period only are dropped, counted by reason
    in ``diagnostics`` and warned once (:class:`EffectWarning`).
    """
    cols = [outcome, treated, post] + [c for c in (unit, cluster) if c]
    check_columns(df, cols, "did_2x2")
    check_numeric(df, [outcome, treated, post], "did_2x2")
    require_finite(df, [outcome], "did_2x2", "outcome")
    for c in (unit, cluster):
        if c:  # a row without its unit or cluster id cannot be paired or clustered
            require_ids(df, c, "did_2x2", "unit" if c == unit else "cluster")
    drops = Drops("did_2x2")
    d = df[cols].dropna(subset=[outcome, treated, post]).copy()
    drops.add("missing_values", len(df) - len(d), "결측 결과·처치·기간 행", "rows with a missing outcome, treatment or period")
    for c in (treated, post):
        require_binary(d, c, "did_2x2", "treatment" if c == treated else "period")
    try:
        require_varies(d[outcome].to_numpy(float), outcome, "did_2x2")
        constant = False
    except ValueError:
        # the DiD of a constant is exactly 0 (the four means agree), so the estimate stands, but its SE is
        # rounding noise: reported as NaN with a warning rather than a CI that excludes 0
        constant = True
    d[treated] = d[treated].astype(int)
    d[post] = d[post].astype(int)
    means = d.groupby([treated, post])[outcome].mean().unstack(post).rename(columns={0: "pre", 1: "post"})
    means.index.name = "treated"
    means.columns.name = None
    means["change"] = means["post"] - means["pre"]
    if unit:
        require_unique(d, [unit, post], "did_2x2")
        require_constant_within(d, unit, treated, "did_2x2")
        wide = d.pivot(index=unit, columns=post, values=outcome)
        w = wide.dropna()
        drops.add("one_period_only", len(wide) - len(w), "한 기간만 관측된 단위", "units observed in one period only")
        g = d.drop_duplicates(unit).set_index(unit).loc[w.index]
        dy = (w[1] - w[0]).to_numpy(float)
        X = sm.add_constant(g[treated].to_numpy(float))
        if cluster and cluster != unit:
            res = sm.OLS(dy, X).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(g[cluster])[0]})
            how = f"first differences, CR1 clustered on {cluster}"
        else:
            res = sm.OLS(dy, X).fit(cov_type="HC2")
            how = "first differences, HC2 (= Welch) SE"
        est, se, n = float(res.params[1]), float(res.bse[1]), len(dy)
    else:
        X = pd.DataFrame({"const": 1.0, "treated": d[treated], "post": d[post]})
        X["did"] = X["treated"] * X["post"]
        if cluster:
            res = sm.OLS(d[outcome].astype(float), X).fit(
                cov_type="cluster", cov_kwds={"groups": pd.factorize(d[cluster])[0]})
            how = f"OLS y ~ treated*post, CR1 clustered on {cluster}"
        else:
            res = sm.OLS(d[outcome].astype(float), X).fit(cov_type="HC1")
            how = "OLS y ~ treated*post, HC1 SE"
        est, se, n = float(res.params["did"]), float(res.bse["did"]), len(d)
    rows = drops.rows()
    if constant:
        se = float("nan")
        rows.append(diagnostic("constant_outcome", float(len(d)), "varies", False,
                               f"결과 {outcome!r}가 사용한 {len(d)}행 모두에서 같습니다: 이중차분은 0이고 표준오차·신뢰구간은 "
                               "의미가 없어 비워 둡니다.",
                               f"outcome {outcome!r} is constant in all {len(d)} rows used: the DiD is 0 by "
                               "construction; the SE and CI are not meaningful and are left empty."))
    drops.warn()
    if constant:
        warn_failed(diagnostics_frame(rows[-1:]), "did_2x2")
    return DiDResult(
        estimate=est, se=se, ci=normal_ci(est, se, alpha), n=n, method=f"2x2 DiD ({how})",
        label=f"DiD {outcome}", alpha=alpha, means=means, model_=res, diagnostics=diagnostics_frame(rows),
    )
