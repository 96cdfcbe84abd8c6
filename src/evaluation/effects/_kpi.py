"""Programme KPIs of the national public-health-centre mobile-healthcare programme.

Eligibility: at least one of the five metabolic-syndrome criteria at baseline
(:mod:`evaluation.reference.mets_criteria`: BP >= 130/85 mmHg, fasting glucose >= 100 mg/dL,
waist >= 90 cm men / 85 cm women, triglycerides >= 150 mg/dL, HDL < 40 men / < 50 women mg/dL).

* risk-factor reduction: share of participants at risk at baseline (and measured
  at follow-up) with at least one criterion moved from the risk range to normal;
* behaviour improvement: share of participants measured at follow-up with at
  least one behaviour improved (more walking days, more breakfast days, stopped
  high-salt eating, quit smoking, stopped heavy drinking);
* completion and dropout among joiners.

Missing measures (three-valued logic, as SQL / pandas' nullable booleans): a
criterion is at risk / normal when its own measures decide it (BP is at risk when
either the observed SBP or the observed DBP is high, even if the other is missing;
normal only when both are observed and normal), unknown otherwise. A person is
*at risk* when any criterion is at risk, *not at risk* only when all five are
observed and normal, and *undetermined* otherwise; undetermined people are left
out of the eligibility share (and counted in its ``n_undetermined`` column) rather
than counted as not eligible. The same rule decides "at least one criterion moved
to normal" and "at least one behaviour improved": yes as soon as one observed item
says so; no only when every relevant item is observed and says no.

Sex is read from documented codes (:data:`SEX_CODES`: M/F, male/female, 남/여, KNHANES 1/2); any other
code or a missing sex is an error naming the rows. ``dropout_week`` is weeks after enrolment, ``inf``
for people who never dropped out; a missing value is unknown, so the person is undetermined for
completion and dropout (counted in ``n_undetermined``), neither completed nor dropped out.

Shares carry a 95% CI and a one-sample test against a published benchmark share
computed by the SAME method, so the two never disagree: ``ci="wilson"``
(default) pairs the Wilson interval with the score test (z uses the benchmark's
variance p0 (1 - p0) / n; the Wilson interval is exactly the set of p0 this test
does not reject), ``ci="exact"`` pairs Clopper-Pearson with the central exact
binomial test (twice the smaller one-sided p) that it inverts (statsmodels
``proportion_confint`` / ``proportions_ztest(prop_var=p0)`` and scipy ``binomtest``).
Before this, the p-value was a Wald test: n=20, k=16 against 0.585 gave p=0.016
while the Wilson CI [0.584, 0.919] contained 0.585; the score test gives p=0.051. These are before/after shares among people selected for
being at risk: regression to the mean alone produces "improvement", so they are
not programme effects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from ..reference.mets_criteria import SEX_CODES, risk_flags, sex_codes  # noqa: F401  (SEX_CODES: documented here too)
from ..reference.mets_criteria import kleene_any as _any
from ._guard import require_finite
from ._results import ROUND, check_columns, diagnostic, diagnostics_frame

RTM_CAUTION = {
    "ko": ("주의: 위험요인 보유자만 등록한 사업의 전후 개선율은 평균으로의 회귀(측정값이 높게 나온 사람은 "
           "다음 측정에서 낮게 나오는 경향)만으로도 높게 나옵니다. 비교군이 없는 개선율은 사업 효과가 아닙니다."),
    "en": ("Caution: before/after improvement shares among people enrolled because they measured at risk are "
           "inflated by regression to the mean (people measured high tend to measure lower next time). "
           "Without a comparison group these shares are not programme effects."),
}


MEASURES = ("sbp", "dbp", "glucose", "waist", "tg", "hdl", "walk_days", "breakfast_days", "salt_high", "smoker",
            "heavy_drinker")


def at_risk(flags: pd.DataFrame) -> pd.Series:
    """At risk (any criterion), not at risk (all five observed and normal) or NA (undetermined)."""
    return _any(flags)


def behaviour_improved(df: pd.DataFrame, week: int) -> pd.Series:
    """At least one behaviour improved between week 0 and ``week``: True as soon as one observed
    behaviour improved, False only when all five are observed and none improved, else NA."""
    s = f"_w{week}"
    items = {
        "walk": df[f"walk_days{s}"] - df["walk_days_w0"],
        "breakfast": df[f"breakfast_days{s}"] - df["breakfast_days_w0"],
    }
    parts = {k: (v > 0).astype("boolean").mask(v.isna()) for k, v in items.items()}
    for m in ("salt_high", "smoker", "heavy_drinker"):
        before, after = df[f"{m}_w0"], df[f"{m}{s}"]
        parts[m] = ((before == 1) & (after == 0)).astype("boolean").mask(before.isna() | after.isna())
    return _any(pd.DataFrame(parts))


@dataclass
class KPIResult:
    """KPI table (one row per indicator and week) plus the regression-to-the-mean caution."""

    table: pd.DataFrame
    caution: dict = field(default_factory=lambda: dict(RTM_CAUTION))
    members: list[list[str]] | None = None
    """The ``participant_id`` of the people in each row's denominator (rows in table order; None without ids):
    the privacy gate perturbs each published n from its own people (``Recorder.stats_table(members=...)``)."""

    def summary(self) -> pd.DataFrame:
        return self.table.round(ROUND)

    @property
    def diagnostics(self) -> pd.DataFrame:
        """Undetermined people per indicator, suppressed cells and the regression-to-the-mean caution."""
        rows = []
        for _, r in self.table.iterrows():
            name = f"{r['indicator']}_w{int(r['week'])}"
            und = int(r["n_undetermined"])
            rows.append(diagnostic(
                f"undetermined:{name}", float(und), "0", und == 0,
                f"{name}: 결측으로 판정할 수 없는 {und}명을 분모에서 제외했습니다.",
                f"{name}: {und} people left out of the denominator because missing measures cannot decide them."))
            if bool(r["suppressed"]):
                rows.append(diagnostic(
                    f"suppressed:{name}", float(r["n"]), ">= min_n", False,
                    f"{name}: 인원이 적어(n={int(r['n'])}) 비율을 공개하지 않습니다.",
                    f"{name}: too few people (n={int(r['n'])}); the share is suppressed."))
        rows.append(diagnostic("regression_to_the_mean", float("nan"), "", None, self.caution["ko"], self.caution["en"]))
        return diagnostics_frame(rows)

    def share(self, indicator: str, week: int = 24) -> float:
        row = self.table[(self.table["indicator"] == indicator) & (self.table["week"] == week)]
        return float(row["share"].iloc[0])

    def plot(self, ax=None, lang: str = "ko", week: int = 24, table: pd.DataFrame | None = None):
        """Shares with Wilson CIs and the benchmark values.

        ``table``: the published KPI table (shares and CIs rounded by n, withheld ones empty) to draw what
        staff see; with a ``group`` column only the joiners' rows are drawn. Without it: the unprotected table."""
        import matplotlib.pyplot as plt

        from ..publish import i18n
        from ._labels import register

        register()
        src = self.table if table is None else table
        if "group" in src:
            src = src[src["group"] == "joiners"]
        t = src[(src["week"] == week) & src["indicator"].isin(["risk_reduction", "behaviour_improvement"])]
        t = t.assign(**{c: pd.to_numeric(t[c], errors="coerce").astype(float) for c in ("share", "ci_low", "ci_high", "benchmark")})
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


CIMethod = Literal["wilson", "exact"]
TEST_NAMES = {"wilson": "score (Wilson)", "exact": "exact binomial (Clopper-Pearson)"}


def share_test(k: int, n: int, benchmark: float | None, ci: CIMethod = "wilson") -> dict[str, float]:
    """95% CI of the share ``k / n`` and its two-sided test against ``benchmark``, by one method.

    ``ci="wilson"``: Wilson interval and the score test it inverts (z from the benchmark's variance);
    ``ci="exact"``: Clopper-Pearson and twice the smaller one-sided exact binomial p. Returns
    ``ci_low``, ``ci_high`` (proportions), ``z`` (NaN for exact) and ``pvalue`` (NaN without a benchmark
    strictly between 0 and 1).
    """
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"share_test: need 0 <= k <= n and n > 0, got k={k}, n={n}")
    out = {"ci_low": np.nan, "ci_high": np.nan, "z": np.nan, "pvalue": np.nan}
    out["ci_low"], out["ci_high"] = proportion_confint(k, n, alpha=0.05, method="wilson" if ci == "wilson" else "beta")
    if benchmark is not None and 0 < benchmark < 1:
        if ci == "wilson":
            # score test: the variance under the null (p0), the test the Wilson interval inverts
            z, p = proportions_ztest(k, n, value=benchmark, prop_var=benchmark)
            out["z"], out["pvalue"] = float(z), float(p)
        else:
            # twice the smaller one-sided exact p-value: the test Clopper-Pearson inverts
            # (scipy's default two-sided "minlike" p can disagree with the interval at the edge)
            one = min(binomtest(k, n, benchmark, alternative="less").pvalue,
                      binomtest(k, n, benchmark, alternative="greater").pvalue)
            out["pvalue"] = float(min(1.0, 2 * one))
    return {key: float(v) for key, v in out.items()}


def _row(indicator: str, week: int, flags: pd.Series, benchmark: float | None, min_n: int,
         ci: CIMethod = "wilson") -> dict:
    f = flags.dropna().astype(float)
    n, k = len(f), int(f.sum())
    row = {"indicator": indicator, "week": week, "n": n, "count": k,
           "share": k / n if n else np.nan, "ci_low": np.nan, "ci_high": np.nan,
           "benchmark": benchmark if benchmark is not None else np.nan, "z": np.nan, "pvalue": np.nan,
           "n_undetermined": int(flags.isna().sum()),
           "test": TEST_NAMES[ci],
           "suppressed": n < min_n}
    if n and not row["suppressed"]:
        row.update(share_test(k, n, benchmark, ci))
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
    ci: CIMethod = "wilson",
    lang: str = "ko",
    verbose: bool = True,
) -> KPIResult:
    """Compute the programme KPIs from a wide participants table (``m_w0``, ``m_w12``, ``m_w24`` columns).

    ``benchmarks`` maps indicator -> published share to test against, e.g. the
    national averages ``{"behaviour_improvement": 0.552, "risk_reduction": 0.585}``.
    Cells with fewer than ``min_n`` people are suppressed. ``ci`` chooses the interval and the
    matching test (``"wilson"`` + score test, or ``"exact"`` Clopper-Pearson + exact binomial test).
    Missing measures follow the rule in the module docstring. Prints the
    regression-to-the-mean caution unless ``verbose=False``.
    """
    if ci not in ("wilson", "exact"):
        raise ValueError(f"kpis: ci must be 'wilson' or 'exact', got {ci!r}")
    need = ["sex", "sbp_w0", "dbp_w0", "glucose_w0", "waist_w0", "tg_w0", "hdl_w0"]
    check_columns(participants, need, "kpis")
    benchmarks = benchmarks or {}
    d = participants
    pos = np.arange(len(d))
    if joiners_only and treated in d.columns:
        keep = d[treated].astype(bool).to_numpy()
        d, pos = d[keep], pos[keep]
    require_finite(participants, [c for c in d.columns if c.rsplit("_w", 1)[0] in MEASURES], "kpis", "measure")
    # refuse unknown or missing codes up front, naming the rows of the table passed in
    d = d.assign(sex=sex_codes(d["sex"], "kpis", pos).to_numpy())
    d = d.reset_index(drop=True)  # the rows' flags are matched to their ids by position
    ids = d["participant_id"].astype(str) if "participant_id" in d.columns else None
    rows: list[dict] = []
    members: list[list[str]] = []

    def add(indicator: str, week: int, flags: pd.Series) -> None:
        rows.append(_row(indicator, week, flags, benchmarks.get(indicator), min_n, ci))
        if ids is not None:
            members.append(ids.loc[flags.dropna().index].tolist())

    base = risk_flags(d, 0)
    risk = at_risk(base)
    add("eligible_at_baseline", 0, risk)
    eligible = risk.fillna(False).to_numpy(bool)
    for wk in weeks:
        fu = risk_flags(d, wk)
        # a criterion at risk at baseline that is observed normal at follow-up; only baseline-risk criteria count
        moved = pd.DataFrame({c: fu[c].eq(False).where(base[c].fillna(False).astype(bool), False)
                              for c in base.columns}).astype("boolean")
        add("risk_reduction", wk, _any(moved)[eligible])
        add("behaviour_improvement", wk, behaviour_improved(d, wk))
    if "dropout_week" in d.columns:
        # inf = never dropped out; NaN = unknown -> undetermined for both indicators (three-valued rule).
        # Before, an unknown dropout week counted as "did not complete" AND "did not drop out".
        dw = pd.to_numeric(d["dropout_week"], errors="coerce").astype(float)
        known = dw.notna()
        for wk in weeks:
            add("completion", wk, (dw > wk).astype("boolean").where(known, pd.NA))
            add("dropout", wk, (dw <= wk).astype("boolean").where(known, pd.NA))
    res = KPIResult(pd.DataFrame(rows), members=members if ids is not None else None)
    if verbose:
        print(RTM_CAUTION[lang])
    return res
