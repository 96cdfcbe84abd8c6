"""Slope and relative index of inequality (SII, RII) on ridit midpoints, as HEAT fits them.

HEAT (``HEAT-Measures::calc_sii`` / ``calc_rii`` and ``healthequal::sii`` / ``rii``)
ranks the population from the most disadvantaged (rank 0) to the most advantaged
(rank 1), gives each group the midpoint of its cumulative population share, and
fits a **binomial GLM with logit link** to the group proportions
(R: ``glm(cbind(y, pop - y) ~ rank, weights = pop, family = binomial)``, so each
group's likelihood weight is pop x pop). SII = p(1) - p(0) and RII = p(1) / p(0)
from the fitted curve; their SEs come from the delta method with the HC1
sandwich covariance (``marginaleffects::avg_comparisons(vcov = "HC1")``), the
interval for RII on the log scale. ``model="linear"`` is healthequal's
``linear = TRUE`` alternative (population-weighted least squares) for indicators
that are not proportions, e.g. daily steps.

We fit the GLM with statsmodels and compute the 2x2 sandwich and the gradient
by hand, because statsmodels' GLM HC1 uses a different small-sample factor.
"""
from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import expit
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from ._result import InequalityResult
from ._validate import groups, ridit, z_value

Model = Literal["logit", "linear"]


def _hc1(X: np.ndarray, w_fit: np.ndarray, score: np.ndarray) -> np.ndarray:
    """HC1 sandwich (X'WX)^-1 (sum s_i s_i') (X'WX)^-1 n/(n-k)."""
    bread = np.linalg.inv(X.T @ (X * w_fit[:, None]))
    meat = (X * score[:, None]).T @ (X * score[:, None])
    n, k = X.shape
    return bread @ meat @ bread * n / (n - k)


def _fit(
    data: pd.DataFrame,
    value: str,
    population: str,
    order: str,
    group: str | None,
    model: Model,
    scale: float | None,
    round_counts: bool,
) -> dict:
    g = groups(data, value, population, group=group, order=order, need_order=True, min_groups=3)
    rank = ridit(g.pop)
    X = np.column_stack([np.ones_like(rank), rank])
    if model == "logit":
        if scale is None:
            raise ValueError(
                "model='logit' (HEAT's default) needs the indicator's scale, e.g. scale=100 for a percentage; "
                "for a value that is not a proportion (e.g. steps/day) use model='linear'"
            )
        bad = (g.y < 0) | (g.y > scale)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"column {value!r}, group {g.label[i]!r}: {g.y[i]} lies outside [0, scale={scale}]")
        pop = np.ceil(g.pop) if round_counts else g.pop
        cases = np.round(g.y / scale * pop) if round_counts else g.y / scale * pop
        prop = cases / pop
        # R's binomial glm with a two-column response multiplies the prior weight (pop) by the
        # number of trials (pop); rescaling all weights by a constant changes neither the fit nor HC1.
        w = pop * pop
        w = w / w.max()
        with warnings.catch_warnings():
            # equal proportions fit exactly; statsmodels mistakes that for separation
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            res = sm.GLM(prop, X, family=sm.families.Binomial(), var_weights=w).fit(tol=1e-12, maxiter=200)
        b = np.asarray(res.params)
        mu = expit(X @ b)
        V = _hc1(X, w * mu * (1 - mu), w * (prop - mu))
        p0, p1 = expit(b[0]), expit(b[0] + b[1])
        grad_d = np.array([p1 * (1 - p1) - p0 * (1 - p0), p1 * (1 - p1)])
        grad_lr = np.array([(1 - p1) - (1 - p0), 1 - p1])
        return dict(g=g, b=b, V=V, p0=p0, p1=p1, unit=scale, grad_d=grad_d, grad_lr=grad_lr)
    if model == "linear":
        w = g.pop / g.pop.max()
        sw = np.sqrt(w)
        b, *_ = np.linalg.lstsq(X * sw[:, None], g.y * sw, rcond=None)
        resid = g.y - X @ b
        V = _hc1(X, w, w * resid)
        p0, p1 = b[0], b[0] + b[1]
        grad_d = np.array([0.0, 1.0])
        grad_lr = np.array([1 / p1 - 1 / p0, 1 / p1]) if p0 > 0 and p1 > 0 else np.array([np.nan, np.nan])
        return dict(g=g, b=b, V=V, p0=p0, p1=p1, unit=1.0, grad_d=grad_d, grad_lr=grad_lr)
    raise ValueError(f"model must be 'logit' or 'linear', got {model!r}")


def sii(
    data: pd.DataFrame,
    value: str,
    population: str,
    order: str,
    *,
    group: str | None = None,
    model: Model = "logit",
    scale: float | None = None,
    round_counts: bool = False,
    conf_level: float = 0.95,
) -> InequalityResult:
    """Slope index of inequality: predicted value at rank 1 minus rank 0, in the indicator's unit.

    Groups MUST be ordered: ``order`` ranks them from the most disadvantaged (lowest)
    to the most advantaged (highest); reversing the order flips the sign. 0 = no
    inequality. For a favourable indicator a positive SII means the advantaged fare
    better; for an adverse indicator a positive SII means the advantaged carry more
    of it (the favourable direction does not enter the formula, only its reading).

    ``model="logit"`` (HEAT default; needs ``scale``, e.g. 100 for percentages) or
    ``"linear"`` (population-weighted least squares; for unbounded indicators).
    ``round_counts=True`` rounds cases to whole people as HEAT does (to reproduce
    HEAT to the last digit); the default keeps exact proportions so equal groups
    give exactly 0. CI (analytic): delta method with the HC1 sandwich; ``se`` in
    the indicator's unit.
    """
    f = _fit(data, value, population, order, group, model, scale, round_counts)
    est = float((f["p1"] - f["p0"]) * f["unit"])
    se = float(np.sqrt(f["grad_d"] @ f["V"] @ f["grad_d"])) * f["unit"]
    z = z_value(conf_level)
    return InequalityResult(
        "sii", est, se, est - z * se, est + z * se,
        f"analytic: delta method, HC1 sandwich, {model} model", len(f["g"].y), conf_level,
        details={"model": model, "intercept": float(f["b"][0]), "slope": float(f["b"][1]),
                 "at_rank0": float(f["p0"] * f["unit"]), "at_rank1": float(f["p1"] * f["unit"])},
    )


def rii(
    data: pd.DataFrame,
    value: str,
    population: str,
    order: str,
    *,
    group: str | None = None,
    model: Model = "logit",
    scale: float | None = None,
    round_counts: bool = False,
    conf_level: float = 0.95,
) -> InequalityResult:
    """Relative index of inequality: predicted value at rank 1 divided by rank 0 (unitless).

    Groups MUST be ordered (most disadvantaged lowest ``order``). 1 = no inequality;
    > 1 means the indicator is higher among the advantaged (good for a favourable,
    bad for an adverse indicator). Model options as :func:`sii`. CI (analytic):
    delta method on log RII with the HC1 sandwich, exponentiated; ``se`` is on the
    log scale (as HEAT reports it).
    """
    f = _fit(data, value, population, order, group, model, scale, round_counts)
    if f["p0"] <= 0 or f["p1"] <= 0:
        raise ValueError("RII undefined: the fitted value at rank 0 or rank 1 is not positive")
    log_est = float(np.log(f["p1"] / f["p0"]))
    se = float(np.sqrt(f["grad_lr"] @ f["V"] @ f["grad_lr"]))
    z = z_value(conf_level)
    return InequalityResult(
        "rii", float(np.exp(log_est)), se, float(np.exp(log_est - z * se)), float(np.exp(log_est + z * se)),
        f"analytic: delta method on log RII, HC1 sandwich, {model} model", len(f["g"].y), conf_level,
        se_scale="log",
        details={"model": model, "at_rank0": float(f["p0"] * f["unit"]), "at_rank1": float(f["p1"] * f["unit"])},
    )
