"""Simple and complex summary measures of inequality as in WHO's HEAT.

Formulas and confidence intervals follow the WHO Health Equity Assessment
Toolkit (HEAT / HEAT Plus technical notes) as implemented in WHO's own R code
(``HEAT-Measures`` ``calc_*.R`` and ``healthequal`` 1.0.x): analytic standard
errors for D, R, BGV, ACI, RCI, TI, MLD, PAF and PAR; a parametric simulation
for BGSD. No Python library implements these grouped-data measures with
HEAT's intervals, which is why they are written here; regression fits use
numpy least squares (statsmodels would add nothing for a 2-parameter OLS).

Inputs are tidy: one row per group, column names for value, population, order
and standard error. ``order`` ranks groups from the most disadvantaged (lowest)
to the most advantaged (highest).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ._result import InequalityResult
from ._validate import Groups, groups, ridit, z_value

_NAN = float("nan")


def _normal_ci(est: float, se: float, z: float) -> tuple[float, float]:
    if not np.isfinite(se):
        return (_NAN, _NAN)
    return (est - z * se, est + z * se)


def _pair(g: Groups, high: str | None, low: str | None) -> tuple[int, int, str]:
    """Indices of the two groups a pairwise measure compares, and how they were chosen."""
    if (high is None) != (low is None):
        raise ValueError("pass both high= and low= group labels, or neither")
    if high is not None:
        labels = list(g.label)
        for lab in (high, low):
            if str(lab) not in labels:
                raise ValueError(f"group {lab!r} not found; groups are {labels}")
        return labels.index(str(high)), labels.index(str(low)), "given groups"
    if g.order is not None:
        # groups are sorted by order: last = most advantaged, first = most disadvantaged
        return len(g.y) - 1, 0, "most advantaged vs most disadvantaged"
    return int(np.argmax(g.y)), int(np.argmin(g.y)), "highest vs lowest estimate"


def difference(
    data: pd.DataFrame,
    value: str,
    *,
    group: str | None = None,
    se: str | None = None,
    order: str | None = None,
    high: str | None = None,
    low: str | None = None,
    conf_level: float = 0.95,
) -> InequalityResult:
    """Difference D = y_high - y_low (simple, absolute, unweighted), in the indicator's unit.

    Groups need not be ordered. Which two groups: ``high``/``low`` labels when given;
    else, with ``order``, the most advantaged minus the most disadvantaged group;
    else the highest minus the lowest estimate (HEAT's rule for non-ordered
    dimensions). No favourable direction enters the formula: D = 0 means equality,
    and its sign reads against the indicator's direction.
    CI (analytic, HEAT): SE = sqrt(se_high^2 + se_low^2), normal interval; NaN without ``se``.
    """
    g = groups(data, value, None, group=group, order=order, se=se, need_population=False)
    h, lo, how = _pair(g, high, low)
    est = float(g.y[h] - g.y[lo])
    s = float(np.sqrt(g.se[h] ** 2 + g.se[lo] ** 2)) if g.se is not None else _NAN
    ci = _normal_ci(est, s, z_value(conf_level))
    return InequalityResult(
        "difference", est, s, *ci, "analytic: sqrt(se_high^2 + se_low^2)", len(g.y), conf_level,
        details={"high": g.label[h], "low": g.label[lo], "pair": how},
    )


def ratio(
    data: pd.DataFrame,
    value: str,
    *,
    group: str | None = None,
    se: str | None = None,
    order: str | None = None,
    high: str | None = None,
    low: str | None = None,
    conf_level: float = 0.95,
) -> InequalityResult:
    """Ratio R = y_high / y_low (simple, relative, unweighted); 1 means equality.

    Groups need not be ordered; the pair is chosen as in :func:`difference`.
    CI (analytic, HEAT ``calc_r``): SE(R) = sqrt((se_high^2 + R^2 se_low^2)) / y_low,
    interval exp(log R -/+ z SE(R)/R). ``se`` is reported on the log scale (SE(R)/R).
    """
    g = groups(data, value, None, group=group, order=order, se=se, need_population=False)
    h, lo, how = _pair(g, high, low)
    if g.y[lo] == 0:
        raise ValueError(f"ratio undefined: group {g.label[lo]!r} has value 0")
    est = float(g.y[h] / g.y[lo])
    if g.se is not None and est > 0:
        se_r = float(np.sqrt((g.se[h] ** 2 + est**2 * g.se[lo] ** 2) / g.y[lo] ** 2))
        se_log = se_r / est
        lo_log, hi_log = _normal_ci(np.log(est), se_log, z_value(conf_level))
        ci = (float(np.exp(lo_log)), float(np.exp(hi_log)))
    else:
        se_log, ci = _NAN, (_NAN, _NAN)
    return InequalityResult(
        "ratio", est, se_log, *ci, "analytic: delta method on log R", len(g.y), conf_level,
        se_scale="log", details={"high": g.label[h], "low": g.label[lo], "pair": how},
    )


def bgv(
    data: pd.DataFrame,
    value: str,
    population: str,
    *,
    group: str | None = None,
    se: str | None = None,
    conf_level: float = 0.95,
) -> InequalityResult:
    """Between-group variance BGV = sum_j p_j (y_j - mu)^2 (complex, absolute, weighted).

    Unit: the indicator's unit squared. Groups need not be ordered; no favourable
    direction (0 = no inequality, larger = more). ``mu`` is the population-weighted
    setting average. CI (analytic, HEAT / Ahn et al. 2018):
    SE^2 = 4 sum p^2 se^2 (y-mu)^2 + 2[(sum p^2 se^2)^2 - sum p^4 se^4 + sum p^2 (1-p)^2 se^4];
    NaN without ``se``.
    """
    g = groups(data, value, population, group=group, se=se)
    p, mu = g.share, g.mean
    est = float(np.sum(p * (g.y - mu) ** 2))
    s = _NAN
    if g.se is not None:
        s2 = g.se**2
        var = 4 * np.sum(p**2 * s2 * (g.y - mu) ** 2) + 2 * (
            np.sum(p**2 * s2) ** 2 - np.sum(p**4 * s2**2) + np.sum(p**2 * (1 - p) ** 2 * s2**2)
        )
        s = float(np.sqrt(var))
    ci = _normal_ci(est, s, z_value(conf_level))
    return InequalityResult("bgv", est, s, *ci, "analytic: Ahn et al. (2018) variance", len(g.y), conf_level,
                            details={"setting_average": mu})


def _truncated_normal(rng: np.random.Generator, mean: np.ndarray, sd: np.ndarray, n: int,
                      low: float, high: float, max_rounds: int = 1000) -> np.ndarray:
    """``n`` draws per group from Normal(mean, sd), each redrawn until it falls in [low, high].

    healthequal redraws one value at a time in an R ``repeat`` loop; this is the same
    rejection rule, vectorised (redraw only the values still outside the bounds).
    """
    draws = rng.normal(mean, sd, size=(n, len(mean)))
    for _ in range(max_rounds):
        bad = (draws < low) | (draws > high)
        if not bad.any():
            return draws
        fresh = rng.normal(mean, sd, size=draws.shape)
        draws = np.where(bad, fresh, draws)
    raise ValueError(f"bgsd simulation: estimates too far outside [{low}, {high}] for their SEs to be redrawn inside")


def bgsd(
    data: pd.DataFrame,
    value: str,
    population: str,
    *,
    group: str | None = None,
    se: str | None = None,
    scale: float | None = None,
    n_sim: int = 10_000,
    seed: int = 2023,
    conf_level: float = 0.95,
) -> InequalityResult:
    """Between-group standard deviation BGSD = sqrt(BGV), in the indicator's unit.

    Groups need not be ordered; no favourable direction (0 = no inequality).
    CI (simulation, as healthequal ``bgsd``; Ahn et al. 2019): ``n_sim`` parametric draws
    y_j* ~ Normal(y_j, se_j), each redrawn while outside the indicator's range -- [0, 100]
    for a percentage (``scale=100``), otherwise [0, inf) as healthequal (no lower bound when
    some estimate is negative) -- with the setting average mu* = sum p_j y_j* recomputed
    in every draw; percentile interval. ``se`` is NaN (healthequal reports none). healthequal
    uses 100 draws by default; we use 10,000 so the interval does not move with the seed.
    """
    g = groups(data, value, population, group=group, se=se)
    p, mu = g.share, g.mean
    est = float(np.sqrt(np.sum(p * (g.y - mu) ** 2)))
    ci = (_NAN, _NAN)
    if g.se is not None:
        rng = np.random.default_rng(seed)
        low = 0.0 if (g.y >= 0).all() else -np.inf
        high = 100.0 if scale == 100 else np.inf
        sims = _truncated_normal(rng, g.y, g.se, n_sim, low, high)
        mu_sim = sims @ p  # the setting average of each simulated data set
        draws = np.sqrt(np.sum(p * (sims - mu_sim[:, None]) ** 2, axis=1))
        a = (1 - conf_level) / 2
        ci = (float(np.quantile(draws, a)), float(np.quantile(draws, 1 - a)))
    bounds = f"[0, {'100' if scale == 100 else 'inf'})"
    return InequalityResult("bgsd", est, _NAN, *ci,
                            f"simulation: {n_sim} normal draws redrawn outside {bounds}, mean per draw, "
                            f"percentile, seed {seed}", len(g.y), conf_level, details={"setting_average": mu})


def _positive(y: np.ndarray, col: str) -> np.ndarray:
    if (y < 0).any():
        raise ValueError(f"column {col!r}: Theil index and MLD need non-negative values")
    # HEAT replaces zero estimates by 1e-6 so that the logarithm exists
    return np.where(y == 0, 1e-6, y)


def theil(
    data: pd.DataFrame,
    value: str,
    population: str,
    *,
    group: str | None = None,
    se: str | None = None,
    multiplier: float = 1000.0,
    conf_level: float = 0.95,
) -> InequalityResult:
    """Theil index TI = sum_j p_j r_j ln r_j, r_j = y_j / mu (complex, relative, weighted).

    Reported times ``multiplier`` (HEAT shows x1000). Groups need not be ordered;
    no favourable direction (0 = no inequality). CI (analytic, HEAT / Ahn et al. 2018):
    SE^2 = sum (1 + ln r_j - sum_k p_k r_k (1 + ln r_k))^2 p_j^2 se_j^2 / mu^2, scaled by
    ``multiplier`` like the estimate; NaN without ``se``.
    """
    g = groups(data, value, population, group=group, se=se)
    y = _positive(g.y, value)
    p = g.share
    mu = float(np.sum(p * y))
    r = y / mu
    est = float(np.sum(p * r * np.log(r))) * multiplier
    s = _NAN
    if g.se is not None:
        centre = np.sum(r * (1 + np.log(r)) * p)
        s = float(np.sqrt(np.sum((1 + np.log(r) - centre) ** 2 * p**2 * g.se**2 / mu**2))) * multiplier
    ci = _normal_ci(est, s, z_value(conf_level))
    return InequalityResult("theil", est, s, *ci, "analytic: Ahn et al. (2018) variance", len(g.y), conf_level,
                            details={"setting_average": mu, "multiplier": multiplier})


def mld(
    data: pd.DataFrame,
    value: str,
    population: str,
    *,
    group: str | None = None,
    se: str | None = None,
    multiplier: float = 1000.0,
    conf_level: float = 0.95,
) -> InequalityResult:
    """Mean log deviation MLD = sum_j p_j (-ln(y_j / mu)) (complex, relative, weighted).

    Reported times ``multiplier`` (HEAT shows x1000). Groups need not be ordered;
    no favourable direction (0 = no inequality). CI (analytic, HEAT / Ahn et al. 2018):
    SE^2 = sum p_j^2 se_j^2 / mu^2 (1 - 1/r_j)^2, scaled like the estimate; NaN without ``se``.
    """
    g = groups(data, value, population, group=group, se=se)
    y = _positive(g.y, value)
    p = g.share
    mu = float(np.sum(p * y))
    r = y / mu
    est = float(np.sum(p * -np.log(r))) * multiplier
    s = _NAN
    if g.se is not None:
        s = float(np.sqrt(np.sum(g.se**2 * p**2 / mu**2 * (1 - 1 / r) ** 2))) * multiplier
    ci = _normal_ci(est, s, z_value(conf_level))
    return InequalityResult("mld", est, s, *ci, "analytic: Ahn et al. (2018) variance", len(g.y), conf_level,
                            details={"setting_average": mu, "multiplier": multiplier})


def concentration_index(
    data: pd.DataFrame,
    value: str,
    population: str,
    order: str,
    *,
    kind: Literal["absolute", "relative"] = "absolute",
    group: str | None = None,
    conf_level: float = 0.95,
) -> InequalityResult:
    """Concentration index of ordered groups (complex, weighted).

    ``kind="absolute"``: ACI = sum_j p_j (2 X_j - 1) y_j in the indicator's unit;
    ``kind="relative"``: RCI = ACI / mu, a fraction between -1 and 1 (HEAT shows x100).
    X_j is the ridit (cumulative population share midpoint) with groups ordered from
    the most disadvantaged (``order`` lowest) to the most advantaged. Groups MUST be
    ordered. 0 = no inequality; for a favourable indicator a positive value means
    concentration among the advantaged, for an adverse one among the disadvantaged.
    CI (analytic, HEAT): the "convenient regression" of O'Donnell et al. (2008) on
    grouped data, 2 sigma_X^2 (y_j/mu) sqrt(n_j) = a sqrt(n_j) + b X_j sqrt(n_j) (times mu
    for ACI), OLS standard error of b with n - 2 degrees of freedom, normal interval.
    """
    if kind not in ("absolute", "relative"):
        raise ValueError(f"kind must be 'absolute' or 'relative', got {kind!r}")
    g = groups(data, value, population, group=group, order=order, need_order=True, min_groups=3)
    rank = ridit(g.pop)
    p, mu = g.share, g.mean
    if mu == 0:
        raise ValueError(f"column {value!r}: concentration index undefined when the setting average is 0")
    sigma2 = float(np.sum(p * (rank - 0.5) ** 2))
    root = np.sqrt(g.pop)
    lhs = 2 * sigma2 * (g.y / mu) * root
    if kind == "absolute":
        lhs = lhs * mu
    X = np.column_stack([rank * root, root])
    coef, *_ = np.linalg.lstsq(X, lhs, rcond=None)
    resid = lhs - X @ coef
    n, k = X.shape
    if n > k:
        sigma_e = float(resid @ resid) / (n - k)
        s = float(np.sqrt(sigma_e * np.linalg.inv(X.T @ X)[0, 0]))
    else:
        s = _NAN
    est = float(coef[0])
    ci = _normal_ci(est, s, z_value(conf_level))
    name = "aci" if kind == "absolute" else "rci"
    return InequalityResult(name, est, s, *ci, "analytic: convenient-regression OLS SE", len(g.y), conf_level,
                            details={"setting_average": mu})


def _reference(g: Groups, favourable: bool, reference: str | None) -> int:
    if reference is not None:
        labels = list(g.label)
        if str(reference) not in labels:
            raise ValueError(f"reference group {reference!r} not found; groups are {labels}")
        return labels.index(str(reference))
    if g.order is not None:
        return len(g.y) - 1  # most advantaged
    return int(np.argmax(g.y)) if favourable else int(np.argmin(g.y))


def _attributable(
    data: pd.DataFrame,
    value: str,
    population: str,
    group: str | None,
    order: str | None,
    se: str | None,
    favourable: bool,
    reference: str | None,
    scale: float | None,
    conf_level: float,
) -> tuple[float, float, float, float, Groups, int, str]:
    """Shared core of PAR and PAF: (par, paf %, se_par, se_paf %, groups, ref index, method)."""
    g = groups(data, value, population, group=group, order=order, se=se)
    ref = _reference(g, favourable, reference)
    mu = g.mean
    if mu == 0:
        raise ValueError(f"column {value!r}: attributable measures undefined when the setting average is 0")
    gap = float(g.y[ref] - mu)
    # HEAT: the potential improvement is never negative; a reference worse than average gives 0
    if (favourable and gap < 0) or (not favourable and gap > 0):
        gap = 0.0
    par = gap
    paf = 100 * gap / mu
    se_paf_frac = _NAN
    method = "none: pass scale= for a proportion or se= for the delta method"
    if g.se is not None:
        # delta method, independent groups. PAR = y_ref - mu: gradient e_ref - p. PAF = y_ref / mu - 1:
        # gradient (e_ref - p y_ref / mu) / mu, so the variance of mu enters (treating mu as fixed, as
        # SE(PAR) / mu would, understates the SE of the fraction)
        p = g.share
        w = -p.copy()
        w[ref] += 1.0
        se_par = float(np.sqrt(np.sum(w**2 * g.se**2)))
        w_frac = -p * g.y[ref] / mu
        w_frac[ref] += 1.0
        se_paf_frac = float(np.sqrt(np.sum((w_frac / mu) ** 2 * g.se**2)))
        method = "analytic: delta method on subgroup SEs (variance of mu included)"
        return par, paf, se_par, 100 * se_paf_frac, g, ref, method
    elif scale is not None:
        # Walter (1978) as in HEAT: a 2x2 table of 'cases' from rates on `scale` and populations
        n_ref = g.pop[ref]
        c = g.y[ref] / scale * n_ref
        d = n_ref - c
        a = mu / scale * g.pop.sum() - c
        b = g.pop.sum() - a - n_ref
        n = a + b + c + d
        var = c * n * (a * d * (n - c) + b * c**2) / ((a + c) ** 3 * (c + d) ** 3)
        se_paf_frac = float(np.sqrt(var)) if var >= 0 else _NAN
        method = "analytic: Walter (1978) counts, as HEAT"
    se_par = se_paf_frac * abs(mu)
    return par, paf, se_par, 100 * se_paf_frac, g, ref, method


def par(
    data: pd.DataFrame,
    value: str,
    population: str,
    *,
    group: str | None = None,
    order: str | None = None,
    se: str | None = None,
    favourable: bool = True,
    reference: str | None = None,
    scale: float | None = None,
    conf_level: float = 0.95,
) -> InequalityResult:
    """Population attributable risk PAR = y_ref - mu (complex, absolute, weighted), indicator unit.

    Groups may be ordered or not. Reference group (HEAT): ``reference`` when given;
    else with ``order`` the most advantaged group; else the best-performing group
    (highest value if ``favourable`` else lowest). PAR is 0 when the reference is not
    better than the average (HEAT truncation), so it is >= 0 for favourable and <= 0
    for adverse indicators. CI (analytic): with ``se`` the delta method on the subgroup
    SEs (survey estimates); else with ``scale`` (e.g. 100 for percentages) Walter's (1978)
    SE of PAF times mu, as HEAT, which treats ``population`` as the number observed.
    """
    est, _, s, _, g, ref, method = _attributable(data, value, population, group, order, se, favourable,
                                                 reference, scale, conf_level)
    ci = _normal_ci(est, s, z_value(conf_level))
    return InequalityResult("par", est, s, *ci, method, len(g.y), conf_level,
                            details={"reference": g.label[ref], "setting_average": g.mean})


def paf(
    data: pd.DataFrame,
    value: str,
    population: str,
    *,
    group: str | None = None,
    order: str | None = None,
    se: str | None = None,
    favourable: bool = True,
    reference: str | None = None,
    scale: float | None = None,
    conf_level: float = 0.95,
) -> InequalityResult:
    """Population attributable fraction PAF = 100 (y_ref - mu) / mu, in percent (relative, weighted).

    Reference group and truncation as in :func:`par`. CI (analytic): with ``se`` the
    delta method on PAF = y_ref / mu - 1, whose gradient (e_ref - p y_ref / mu) / mu
    carries the sampling variance of the setting average mu (Walter's formula, which
    healthequal uses, accounts for it through the 2x2 table); else Walter's (1978) SE
    with ``scale`` as HEAT. Note: ``healthequal`` adds the fraction-scale SE to the
    percent-scale estimate; we report the SE in percent.
    """
    _, est, _, s, g, ref, method = _attributable(data, value, population, group, order, se, favourable,
                                                 reference, scale, conf_level)
    ci = _normal_ci(est, s, z_value(conf_level))
    return InequalityResult("paf", est, s, *ci, method, len(g.y), conf_level,
                            details={"reference": g.label[ref], "setting_average": g.mean})
