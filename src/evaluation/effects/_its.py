"""Interrupted time series: segmented regression for counts (quasi-Poisson) and continuous series (OLS + Newey-West).

Follows Lopez Bernal, Cummins & Gasparrini (2017, Int J Epidemiol 46:348-355):
``y ~ time + intervention (+ time_since_intervention) + Fourier seasonality``,
log link with an offset for rates, the quasi-Poisson scale estimated from the
Pearson chi-square (statsmodels ``scale="X2"``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from ._guard import require_finite, require_unique, require_varies, row_list
from ._results import ROUND, check_columns, check_numeric, complete_cases, diagnostic, diagnostics_frame, warn_failed

Family = Literal["quasipoisson", "poisson", "ols"]


def fourier_terms(t: np.ndarray, pairs: int, period: float) -> pd.DataFrame:
    """``pairs`` sine/cosine pairs of period ``period`` (same units as ``t``)."""
    cols = {}
    for k in range(1, pairs + 1):
        cols[f"sin{k}"] = np.sin(2 * np.pi * k * t / period)
        cols[f"cos{k}"] = np.cos(2 * np.pi * k * t / period)
    return pd.DataFrame(cols)


@dataclass
class ITSResult:
    """Segmented-regression fit.

    Attributes
    ----------
    level_change, level_ci : the step at the intervention (log scale for counts, outcome units for OLS)
    rate_ratio, rate_ratio_ci : ``exp(level_change)`` for count families (NaN for OLS)
    slope_change, slope_ci : change in trend per time unit (None if ``impact="level"``)
    model_ : the fitted statsmodels results
    data_ : the design frame with ``fitted`` and ``counterfactual`` columns
    diagnostics : time points dropped for missing values, residual autocorrelation (Ljung-Box at lag
        ``maxlags``, or 12 / the series length / 5), quasi-Poisson overdispersion
    """

    family: str
    level_change: float
    level_se: float
    level_ci: tuple[float, float]
    slope_change: float | None
    slope_se: float | None
    slope_ci: tuple[float, float] | None
    rate_ratio: float
    rate_ratio_ci: tuple[float, float]
    n: int
    model_: object = field(repr=False)
    data_: pd.DataFrame = field(repr=False)
    outcome: str = "y"
    time: str = "time"
    diagnostics: pd.DataFrame = field(default_factory=lambda: diagnostics_frame([]), repr=False)

    def summary(self) -> pd.DataFrame:
        """Tidy table: one row per impact parameter."""
        rows = [{"term": "level_change", "estimate": self.level_change, "se": self.level_se,
                 "ci_low": self.level_ci[0], "ci_high": self.level_ci[1]}]
        if self.slope_change is not None:
            rows.append({"term": "slope_change", "estimate": self.slope_change, "se": self.slope_se,
                         "ci_low": self.slope_ci[0], "ci_high": self.slope_ci[1]})
        if self.family != "ols":
            rows.append({"term": "rate_ratio", "estimate": self.rate_ratio, "se": np.nan,
                         "ci_low": self.rate_ratio_ci[0], "ci_high": self.rate_ratio_ci[1]})
        out = pd.DataFrame(rows)
        out["family"] = self.family
        out["n"] = self.n
        return out.round(ROUND)

    def plot(self, ax=None, lang: str = "ko"):
        """Observed series, fitted line and the counterfactual (no intervention) trend."""
        import matplotlib.pyplot as plt

        from ..publish import i18n
        from ._labels import register

        register()
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4))
        d = self.data_
        ax.scatter(d[self.time], d["observed"], s=12, color="0.4", label=i18n.t("eff_observed", lang))
        ax.plot(d[self.time], d["fitted"], color="C0", label=i18n.t("eff_fitted", lang))
        post = d["intervention"] > 0
        ax.plot(d.loc[post, self.time], d.loc[post, "counterfactual"], "--", color="C3",
                label=i18n.t("eff_counterfactual", lang))
        ax.axvline(d.loc[post, self.time].min() - 0.5, color="0.6", lw=1)
        ax.set_xlabel(self.time)
        ax.set_ylabel(self.outcome)
        ax.legend()
        return ax


def its(
    df: pd.DataFrame,
    outcome: str,
    time: str,
    intervention: str,
    *,
    offset: str | None = None,
    seasonality: int = 0,
    period: float = 12.0,
    family: Family = "quasipoisson",
    impact: Literal["level", "level+slope"] = "level+slope",
    maxlags: int | None = None,
    alpha: float = 0.05,
) -> ITSResult:
    """Fit a segmented regression and return level / slope change and, for counts, the rate ratio.

    Parameters
    ----------
    outcome : count (events) for Poisson families; any numeric for ``"ols"``.
    time : equally spaced time index (e.g. month number 1..T).
    intervention : 0/1 column, 1 from the first post-intervention period.
    offset : column of the population at risk; ``log(offset)`` enters the linear predictor.
    seasonality : number of Fourier (sine, cosine) pairs of period ``period`` in ``time`` units.
    family : ``"quasipoisson"`` (Poisson with Pearson-estimated scale), ``"poisson"`` or
        ``"ols"`` (Newey-West HAC SEs with ``maxlags``; default ``floor(4 (T/100)^(2/9))``).
    impact : ``"level"`` (step only, as in Lopez Bernal et al.) or ``"level+slope"``.

    Refused, naming the column and rows: infinite outcomes or offsets, offsets <= 0, two rows for one time
    point, a constant outcome. Time points with a missing value are dropped and counted in ``diagnostics``.
    """
    cols = [outcome, time, intervention] + ([offset] if offset else [])
    check_columns(df, cols, "its")
    check_numeric(df, cols, "its")
    require_finite(df, [outcome], "its", "outcome")
    if offset:
        require_finite(df, [offset], "its", "offset")
        nonpos = (pd.to_numeric(df[offset], errors="coerce") <= 0).to_numpy()
        if nonpos.any():
            raise ValueError(f"its: offset column {offset!r} must be positive (its log enters the model); "
                             f"{row_list(nonpos)} are not")
    d, miss_row = complete_cases(df[cols], cols, "its")
    require_unique(d, [time], "its")
    d = d.sort_values(time).reset_index(drop=True)
    if len(d) < 8:
        raise ValueError(f"its: need at least 8 time points, got {len(d)}")
    iv = d[intervention].to_numpy(float)
    if not set(np.unique(iv)) <= {0.0, 1.0} or iv.min() == iv.max():
        raise ValueError(f"its: {intervention!r} must be 0 before and 1 after the intervention")
    t = d[time].to_numpy(float)
    t0 = t[iv > 0].min()
    X = pd.DataFrame({"const": 1.0, "time": t, "level": iv})
    if impact == "level+slope":
        X["slope"] = np.where(iv > 0, t - t0 + 1, 0.0)
    if seasonality:
        X = pd.concat([X, fourier_terms(t, seasonality, period)], axis=1)
    y = d[outcome].to_numpy(float)
    z = stats.norm.ppf(1 - alpha / 2)
    if family in ("quasipoisson", "poisson") and (y < 0).any():
        raise ValueError(f"its: {outcome!r} has negative counts")
    require_varies(y, outcome, "its")
    if family in ("quasipoisson", "poisson"):
        off = np.log(d[offset].to_numpy(float)) if offset else None
        model = sm.GLM(y, X, family=sm.families.Poisson(), offset=off)
        res = model.fit(scale="X2" if family == "quasipoisson" else None)
    elif family == "ols":
        lags = maxlags if maxlags is not None else int(np.floor(4 * (len(y) / 100) ** (2 / 9)))
        res = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
        off = None
    else:
        raise ValueError(f"its: family must be 'quasipoisson', 'poisson' or 'ols', got {family!r}")
    b, se = res.params, res.bse
    lvl, lvl_se = float(b["level"]), float(se["level"])
    lvl_ci = (lvl - z * lvl_se, lvl + z * lvl_se)
    slope = slope_se = slope_ci = None
    if "slope" in b:
        slope, slope_se = float(b["slope"]), float(se["slope"])
        slope_ci = (slope - z * slope_se, slope + z * slope_se)
    Xcf = X.copy()
    Xcf["level"] = 0.0
    if "slope" in Xcf:
        Xcf["slope"] = 0.0
    if family == "ols":
        fitted, cf = res.predict(X), res.predict(Xcf)
        rr, rr_ci = float("nan"), (float("nan"), float("nan"))
    else:
        fitted = res.predict(X, offset=off)
        cf = res.predict(Xcf, offset=off)
        rr, rr_ci = float(np.exp(lvl)), (float(np.exp(lvl_ci[0])), float(np.exp(lvl_ci[1])))
    data = d.assign(observed=y, fitted=np.asarray(fitted), counterfactual=np.asarray(cf), intervention=iv)
    diag = [miss_row]
    from statsmodels.stats.diagnostic import acorr_ljungbox

    resid = np.asarray(res.resid_pearson if family != "ols" else res.resid, dtype=float)
    lag = max(1, min(maxlags or 12, len(y) // 5))
    lb_p = float(acorr_ljungbox(resid, lags=[lag], return_df=True)["lb_pvalue"].iloc[0])
    ok = lb_p >= 0.05
    diag.append(diagnostic(
        "residual_autocorrelation", lb_p, ">= 0.05 (Ljung-Box p)", ok,
        f"잔차 자기상관 검정(Ljung-Box, 시차 {lag}) p = {lb_p:.3f}." + ("" if ok else
        " 자기상관이 남아 있어 표준오차가 과소추정될 수 있습니다(계절성 항 추가 또는 family='ols'의 Newey-West 고려)."),
        f"Ljung-Box test of the residuals at lag {lag}: p = {lb_p:.3f}" + ("." if ok else
        "; residual autocorrelation may make the SEs too small (add seasonality, or use family='ols' "
        "with Newey-West SEs)."),
    ))
    if family != "ols":
        disp = float(res.pearson_chi2 / res.df_resid) if res.df_resid > 0 else float("nan")
        ok = family == "quasipoisson" or disp <= 1.5
        diag.append(diagnostic(
            "overdispersion", disp, "<= 1.5 for family='poisson'", ok,
            f"과산포 지표(피어슨 카이제곱/자유도) = {disp:.2f}." + ("" if ok else
            " 포아송 분산 가정이 맞지 않습니다: family='quasipoisson'을 쓰세요."),
            f"dispersion (Pearson chi2 / df) = {disp:.2f}" + ("." if ok else
            "; the Poisson variance is too small for these data: use family='quasipoisson'."),
        ))
    diagnostics = diagnostics_frame(diag)
    warn_failed(diagnostics, "its")
    return ITSResult(
        family=family, level_change=lvl, level_se=lvl_se, level_ci=lvl_ci,
        slope_change=slope, slope_se=slope_se, slope_ci=slope_ci,
        rate_ratio=rr, rate_ratio_ci=rr_ci, n=len(d), model_=res, data_=data,
        outcome=outcome, time=time, diagnostics=diagnostics,
    )
