"""Programme KPIs of the national public-health-centre mobile-healthcare programme.

Eligibility: at least one of the five metabolic-syndrome criteria at baseline
(BP >= 130/85 mmHg, fasting glucose >= 100 mg/dL, waist >= 90 cm men / 85 cm
women, triglycerides >= 150 mg/dL, HDL < 40 men / < 50 women mg/dL).

* risk-factor reduction: share of participants at risk at baseline (and measured
  at follow-up) with at least one criterion moved from the risk range to normal;
* behaviour improvement: share of participants measured at follow-up with at
  least one behaviour improved (more walking days, more breakfast days, stopped
  high-salt eating, quit smoking, stopped heavy drinking);
* completion and dropout among joiners.

Shares carry Wilson 95% CIs (statsmodels ``proportion_confint``) and a one-sample
test against a published benchmark share (``proportions_ztest`` with the
benchmark as the null value). These are before/after shares among people
selected for being at risk: regression to the mean alone produces
"improvement", so they are not programme effects.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from ._results import ROUND, check_columns

RTM_CAUTION = {
    "ko": ("주의: 위험요인 보유자만 등록한 사업의 전후 개선율은 평균으로의 회귀(측정값이 높게 나온 사람은 "
           "다음 측정에서 낮게 나오는 경향)만으로도 높게 나옵니다. 비교군이 없는 개선율은 사업 효과가 아닙니다."),
    "en": ("Caution: before/after improvement shares among people enrolled because they measured at risk are "
           "inflated by regression to the mean (people measured high tend to measure lower next time). "
           "Without a comparison group these shares are not programme effects."),
}


def risk_flags(df: pd.DataFrame, week: int) -> pd.DataFrame:
    """The five criteria at ``week`` as booleans (NaN where any input measure is missing)."""
    s = f"_w{week}"
    male = (df["sex"] == "M").to_numpy()
    out = pd.DataFrame(index=df.index)
    out["bp"] = (df[f"sbp{s}"] >= 130) | (df[f"dbp{s}"] >= 85)
    out["glucose"] = df[f"glucose{s}"] >= 100
    out["waist"] = df[f"waist{s}"] >= np.where(male, 90, 85)
    out["tg"] = df[f"tg{s}"] >= 150
    out["hdl"] = df[f"hdl{s}"] < np.where(male, 40, 50)
    miss = df[[f"{m}{s}" for m in ("sbp", "dbp", "glucose", "waist", "tg", "hdl")]].isna().any(axis=1)
    return out.astype(float).mask(miss)


def behaviour_improved(df: pd.DataFrame, week: int) -> pd.Series:
    """At least one behaviour improved between week 0 and ``week`` (NaN if not measured)."""
    s = f"_w{week}"
    up = (df[f"walk_days{s}"] > df["walk_days_w0"]) | (df[f"breakfast_days{s}"] > df["breakfast_days_w0"])
    stop = pd.Series(False, index=df.index)
    for m in ("salt_high", "smoker", "heavy_drinker"):
        stop |= (df["{}_w0".format(m)] == 1) & (df[f"{m}{s}"] == 0)
    cols = [f"{m}{s}" for m in ("walk_days", "breakfast_days", "salt_high", "smoker", "heavy_drinker")]
    return (up | stop).astype(float).mask(df[cols].isna().any(axis=1))


@dataclass
class KPIResult:
    """KPI table (one row per indicator and week) plus the regression-to-the-mean caution."""

    table: pd.DataFrame
    caution: dict = field(default_factory=lambda: dict(RTM_CAUTION))

    def summary(self) -> pd.DataFrame:
        return self.table.round(ROUND)

    def share(self, indicator: str, week: int = 24) -> float:
        row = self.table[(self.table["indicator"] == indicator) & (self.table["week"] == week)]
        return float(row["share"].iloc[0])

    def plot(self, ax=None, lang: str = "ko", week: int = 24):
        """Shares with Wilson CIs and the benchmark values."""
        import matplotlib.pyplot as plt

        from .. import i18n
        from ._labels import register

        register()
        t = self.table[(self.table["week"] == week) & self.table["indicator"].isin(["risk_reduction", "behaviour_improvement"])]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        x = np.arange(len(t))
        ax.bar(x, t["share"], color="C0", alpha=0.8, label=i18n.t("eff_share", lang))
        ax.errorbar(x, t["share"], yerr=[t["share"] - t["ci_low"], t["ci_high"] - t["share"]], fmt="none", color="k", capsize=4)
        ax.scatter(x, t["benchmark"], marker="D", color="C3", zorder=3, label=i18n.t("eff_benchmark", lang))
        keys = {"risk_reduction": "eff_kpi_risk", "behaviour_improvement": "eff_kpi_behaviour"}
        ax.set_xticks(x, [i18n.t(keys[i], lang) for i in t["indicator"]])
        ax.set_ylim(0, 1)
        ax.legend()
        return ax


def _row(indicator: str, week: int, flags: pd.Series, benchmark: float | None, min_n: int) -> dict:
    f = flags.dropna()
    n, k = len(f), int(f.sum())
    row = {"indicator": indicator, "week": week, "n": n, "count": k,
           "share": k / n if n else np.nan, "ci_low": np.nan, "ci_high": np.nan,
           "benchmark": benchmark if benchmark is not None else np.nan, "z": np.nan, "pvalue": np.nan,
           "suppressed": n < min_n}
    if n and not row["suppressed"]:
        row["ci_low"], row["ci_high"] = proportion_confint(k, n, alpha=0.05, method="wilson")
        if benchmark is not None and 0 < k < n:
            z, p = proportions_ztest(k, n, value=benchmark)
            row["z"], row["pvalue"] = float(z), float(p)
    if row["suppressed"]:
        row.update({"count": np.nan, "share": np.nan})
    return row


def kpis(
    participants: pd.DataFrame,
    *,
    weeks: tuple[int, ...] = (12, 24),
    benchmarks: dict[str, float] | None = None,
    joiners_only: bool = True,
    treated: str = "treated",
    min_n: int = 10,
    lang: str = "ko",
    verbose: bool = True,
) -> KPIResult:
    """Compute the programme KPIs from a wide participants table (``m_w0``, ``m_w12``, ``m_w24`` columns).

    ``benchmarks`` maps indicator -> published share to test against, e.g. the
    national averages ``{"behaviour_improvement": 0.552, "risk_reduction": 0.585}``.
    Cells with fewer than ``min_n`` people are suppressed. Prints the
    regression-to-the-mean caution unless ``verbose=False``.
    """
    need = ["sex", "sbp_w0", "dbp_w0", "glucose_w0", "waist_w0", "tg_w0", "hdl_w0"]
    check_columns(participants, need, "kpis")
    benchmarks = benchmarks or {}
    d = participants
    if joiners_only and treated in d.columns:
        d = d[d[treated].astype(bool)]
    base = risk_flags(d, 0)
    at_risk = base.sum(axis=1) >= 1
    rows = [_row("eligible_at_baseline", 0, at_risk.astype(float), benchmarks.get("eligible_at_baseline"), min_n)]
    for wk in weeks:
        fu = risk_flags(d, wk)
        moved = ((base == 1) & (fu == 0)).any(axis=1).astype(float).mask(fu.isna().all(axis=1))
        rows.append(_row("risk_reduction", wk, moved[at_risk], benchmarks.get("risk_reduction"), min_n))
        rows.append(_row("behaviour_improvement", wk, behaviour_improved(d, wk), benchmarks.get("behaviour_improvement"), min_n))
    if "dropout_week" in d.columns:
        dw = d["dropout_week"].astype(float)
        for wk in weeks:
            rows.append(_row("completion", wk, (dw > wk).astype(float), benchmarks.get("completion"), min_n))
            rows.append(_row("dropout", wk, (dw <= wk).astype(float), benchmarks.get("dropout"), min_n))
    res = KPIResult(pd.DataFrame(rows))
    if verbose:
        print(RTM_CAUTION[lang])
    return res
