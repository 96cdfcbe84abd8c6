"""Staggered-adoption difference-in-differences after Callaway & Sant'Anna (2021, J Econometrics 225:200-230).

Group-time effects ATT(g,t) from 2x2 comparisons of the cohort first treated in
period g with never-treated or not-yet-treated units, each by outcome regression,
IPW or doubly robust estimation (:mod:`._ifs`), and their simple, group,
dynamic (event-study) and calendar aggregations. Standard errors come from the
influence functions (analytic) or a multiplier bootstrap on them, the weights'
estimation accounted for as in the R package ``did``. A two-way fixed-effects
(TWFE) estimate is reported beside them because staff will meet it elsewhere:
under staggered timing with effects that change over time it compares later
with earlier-treated units and can be badly biased (Goodman-Bacon 2021).

Periods are handled by position 1..T (:mod:`._staggered_design`), so labels need not
be consecutive; anticipation and event time count periods. Panel data only
(balanced: units missing any period are dropped and counted). Parity with the
Python port of R ``did`` (``moderndid``) is checked on random designs in
``tests/test_effects_staggered_parity.py``, where the few documented differences
are listed.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._ifs import ESTIMATORS, logit_fit, overlap_fails, regression_singular
from ._results import ROUND, EffectResult, EffectWarning, check_columns, check_numeric, normal_ci
from ._staggered_design import Design, _fmt, note, prepare

ControlGroup = Literal["nevertreated", "notyettreated"]
EstMethod = Literal["dr", "ipw", "reg"]
AggType = Literal["simple", "group", "dynamic", "calendar"]

TRIM_LEVEL = 0.995  # DRDID / R did: comparison units with a propensity score >= 0.995 get weight 0
SE_FLOOR = np.sqrt(np.finfo(float).eps) * 10  # R did reports an SE at or below this as NA (a constant)


class StaggeredDiDWarning(EffectWarning):
    """A staggered DiD result needs a second look: units or cohorts dropped or recoded, a pre-trend test rejects."""


@dataclass
class Aggregate:
    """One aggregation: overall ATT with SE/CI and the per-group / event-time / period table."""

    kind: str
    estimate: float
    se: float
    ci: tuple[float, float]
    table: pd.DataFrame
    influence_: np.ndarray = field(repr=False)

    def summary(self) -> pd.DataFrame:
        return self.table.round(ROUND)


def _wif(G: np.ndarray, kgroups: np.ndarray, pg: np.ndarray) -> np.ndarray:
    """Influence of estimating the cohort-share weights pg/sum(pg) (n x K), R did's ``wif``."""
    ind = (G[:, None] == kgroups[None, :]).astype(float) - pg[None, :]
    s = pg.sum()
    return ind / s - ind.sum(axis=1, keepdims=True) * (pg / s**2)[None, :]


def _mboot(inf: np.ndarray, n_boot: int, rng: np.random.Generator, alpha: float) -> tuple[np.ndarray, float]:
    """Multiplier bootstrap (Mammen weights) on influence functions: SEs and the uniform-band critical value."""
    n = inf.shape[0]
    k1 = 0.5 * (1 - np.sqrt(5))
    p = (np.sqrt(5) + 1) / (2 * np.sqrt(5))
    draws = np.empty((n_boot, inf.shape[1]))
    for b0 in range(0, n_boot, 200):  # chunks keep memory small for large n
        b1 = min(n_boot, b0 + 200)
        xi = np.where(rng.random((b1 - b0, n)) < p, k1, 1 - k1)
        draws[b0:b1] = xi @ inf / n
    q = np.quantile(draws, [0.25, 0.75], axis=0)
    se = (q[1] - q[0]) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    ok = se > SE_FLOOR
    tmax = np.max(np.abs(draws[:, ok]) / se[ok], axis=1) if ok.any() else np.zeros(n_boot)
    crit = float(np.quantile(tmax, 1 - alpha))
    return np.where(ok, se, np.nan), crit


def _se(inf: np.ndarray) -> np.ndarray:
    """Analytic SE of each column, NaN where the influence function is (numerically) zero, as R did."""
    s = np.sqrt(np.mean(inf**2, axis=0) / inf.shape[0])
    return np.where(s > SE_FLOOR, s, np.nan)


@dataclass
class StaggeredResult:
    """Callaway-Sant'Anna fit.

    Attributes
    ----------
    attgt : DataFrame  group, time, event_time, base_period, att, se, ci_low, ci_high, crit, post, n
        (``group``/``time``/``base_period`` are period labels; ``event_time`` counts periods)
    simple, group, dynamic, calendar : :class:`Aggregate`
    pretest : dict  Wald test that all pre-treatment ATT(g,t) are zero (stat, df, pvalue; NaN when the
        covariance is singular, as R did)
    twfe : EffectResult  two-way fixed-effects estimate (unit-clustered CR1 SE as fixest/Stata), comparison only
    diagnostics : DataFrame  check, value, threshold, passed, message (Korean / English): pre-trend test,
        units dropped (missing cohort, already treated, incomplete panel), cohorts recoded or without a
        post-treatment period, periods dropped, cells that could not be estimated
    n_units : units used; n_dropped : units dropped for an unbalanced panel
    n_missing_group : units dropped for a missing ``group`` (e.g. joiners without an index date)
    n_early : units dropped because already treated in the first period (+ anticipation)
    dropped_periods : period labels dropped (no never-treated units, R did's rule)
    """

    attgt: pd.DataFrame
    simple: Aggregate
    group: Aggregate
    dynamic: Aggregate
    calendar: Aggregate
    pretest: dict
    twfe: EffectResult
    n_units: int
    n_dropped: int
    control_group: str
    est_method: str
    se_method: str
    influence_: np.ndarray = field(repr=False)
    diagnostics: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    n_missing_group: int = 0
    n_early: int = 0
    dropped_periods: list = field(default_factory=list)

    note: str = (
        "TWFE weights group-time effects by regression variance and uses already-treated units as controls; "
        "with staggered timing and effects that grow over time it is biased (Goodman-Bacon 2021). "
        "Read the Callaway-Sant'Anna aggregations."
    )

    def aggregate(self, kind: AggType) -> Aggregate:
        """The ``simple``, ``group``, ``dynamic`` or ``calendar`` aggregation."""
        if kind not in ("simple", "group", "dynamic", "calendar"):
            raise ValueError(f"aggregation must be simple/group/dynamic/calendar, got {kind!r}")
        return getattr(self, kind)

    @property
    def checks_failed(self) -> list[str]:
        """Names of the diagnostics that did not pass."""
        d = self.diagnostics
        if d.empty:
            return []
        return d.loc[d["passed"].eq(False), "check"].tolist()

    def summary(self) -> pd.DataFrame:
        """Overall ATT of every aggregation plus TWFE, one row each, with the pre-test p-value and the
        failed diagnostics (``checks_failed``; the full table is ``diagnostics``)."""
        rows = [{"estimator": f"CS {a.kind}", "estimate": a.estimate, "se": a.se,
                 "ci_low": a.ci[0], "ci_high": a.ci[1]} for a in (self.simple, self.group, self.dynamic, self.calendar)]
        rows.append({"estimator": "TWFE", "estimate": self.twfe.estimate, "se": self.twfe.se,
                     "ci_low": self.twfe.ci[0], "ci_high": self.twfe.ci[1]})
        out = pd.DataFrame(rows)
        out["control_group"] = self.control_group
        out["est_method"] = self.est_method
        out["pretest_p"] = self.pretest.get("pvalue", np.nan)
        out["checks_failed"] = ", ".join(self.checks_failed)
        return out.round(ROUND)

    def plot(self, ax=None, lang: str = "ko", twfe: bool | float | None = True, table: pd.DataFrame | None = None):
        """Event-study plot of the dynamic aggregation (pre periods grey), TWFE as a dashed line.

        ``table``: the published event-study rows of this outcome (ATT and CIs rounded by n) to draw what
        staff see; without it the unprotected dynamic table. ``twfe``: True (the unprotected TWFE estimate),
        a number (its published value) or False/None (no line)."""
        import matplotlib.pyplot as plt

        from ..publish import i18n
        from ._labels import register

        register()
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        t = self.dynamic.table if table is None else table
        t = t.assign(**{c: pd.to_numeric(t[c], errors="coerce").astype(float) for c in ("att", "ci_low", "ci_high")})
        pre = t["event_time"] < 0
        for mask, color, key in ((pre, "0.5", "eff_pre"), (~pre, "C3", "eff_post")):
            ax.errorbar(t.loc[mask, "event_time"], t.loc[mask, "att"],
                        yerr=[t.loc[mask, "att"] - t.loc[mask, "ci_low"], t.loc[mask, "ci_high"] - t.loc[mask, "att"]],
                        fmt="o", color=color, capsize=3, label=i18n.t(key, lang))
        ax.axhline(0, color="0.3", lw=1)
        # twfe may be the published (rounded) TWFE estimate to draw instead of the unprotected one
        level = self.twfe.estimate if twfe is True else (None if twfe is False or twfe is None else float(twfe))
        if level is not None and np.isfinite(level):
            ax.axhline(level, ls="--", color="C0", label=i18n.t("eff_twfe", lang))
        ax.set_xlabel(i18n.t("eff_event_time", lang))
        ax.set_ylabel(i18n.t("eff_att", lang))
        ax.legend()
        return ax


def _twfe(Y: np.ndarray, Dm: np.ndarray, alpha: float) -> EffectResult:
    """TWFE on a balanced panel by two-way demeaning; SE clustered by unit (CR1).

    Small-sample factor as fixest's default ``ssc(adj=TRUE, fixef.K="nested", cluster.adj=TRUE)`` and
    Stata's ``xtreg, fe vce(cluster id)``: (N-1)/(N-K) * G/(G-1) with K = 1 + T (the effect, the intercept
    and T-1 period effects); the unit effects are nested in the unit clusters and are not counted."""
    def demean(a: np.ndarray) -> np.ndarray:
        return a - a.mean(1, keepdims=True) - a.mean(0, keepdims=True) + a.mean()

    y, x = demean(Y), demean(Dm)
    sxx = np.sum(x * x)
    if sxx <= 1e-12:
        return EffectResult(np.nan, np.nan, (np.nan, np.nan), Y.shape[0], "TWFE (no treatment variation)", "TWFE")
    beta = float(np.sum(x * y) / sxx)
    u = y - beta * x
    n_units, n_t = Y.shape
    score = np.sum(x * u, axis=1)
    k = 1 + n_t
    adj = n_units / (n_units - 1) * (Y.size - 1) / (Y.size - k)
    se = float(np.sqrt(adj * np.sum(score**2)) / sxx)
    return EffectResult(beta, se, normal_ci(beta, se, alpha), n_units,
                        "TWFE y ~ D + unit FE + time FE, unit-clustered CR1 SE (fixest/Stata small-sample factor)",
                        "TWFE")


def _cells(dz: Design, control_group: str, est_method: str, base_period: str, anticipation: int):
    """All ATT(g,t) on positions, as R did's ``compute.att_gt``: rows, influence matrix (n x cells), skipped."""
    G, Y, n = dz.G, dz.Y, len(dz.G)
    never = ~np.isfinite(G)
    fn = ESTIMATORS[est_method]
    covs = list(dz.X)
    rows, infs, skipped = [], [], []
    for g in dz.cohorts:
        pret = int(g) - anticipation - 1  # the universal / post-treatment base period, >= 1 by construction
        treat = G == g
        for c in range(2 if base_period == "varying" else 1, dz.T + 1):
            post = g <= c
            b = pret if (base_period == "universal" or post) else c - 1
            row = {"group": dz.label(g), "time": dz.label(c), "event_time": int(c - g),
                   "base_period": dz.label(b), "post": bool(post), "g_pos": int(g), "t_pos": c}
            if b == c:  # universal base: the reference cell, normalised to 0 as R did
                rows.append({**row, "att": 0.0, "n": 0, "reference": True})
                infs.append(np.zeros(n))
                continue
            if control_group == "nevertreated":
                ctrl = never
            else:
                ctrl = never | ((G > max(c, b) + anticipation) & ~treat)
            sub = treat | ctrl
            if not ctrl.any():
                skipped.append((dz.label(g), dz.label(c), "no comparison units"))
                continue
            dy = Y[sub, c - 1] - Y[sub, b - 1]
            D = treat[sub].astype(float)
            X = np.column_stack([np.ones(sub.sum())] + [dz.X[v][sub, min(c, b) - 1] for v in covs])
            if est_method in ("dr", "ipw") and overlap_fails(X, D):
                skipped.append((dz.label(g), dz.label(c), "overlap violated (propensity score >= 0.999)"))
                continue
            if est_method in ("dr", "reg") and regression_singular(X, D):
                skipped.append((dz.label(g), dz.label(c), "singular covariates among comparison units"))
                continue
            if est_method in ("dr", "ipw"):
                # DRDID's trimming gives comparison units with a score >= TRIM_LEVEL weight 0: count them
                e = 1.0 / (1.0 + np.exp(-np.clip(X @ logit_fit(X, D), -35, 35)))
                dz.n_trimmed += int(((D == 0) & (e >= TRIM_LEVEL)).sum())
            try:
                with np.errstate(divide="ignore", invalid="ignore"):
                    att, inf_sub = fn(dy, D, X, trim_level=TRIM_LEVEL)
            except (ValueError, np.linalg.LinAlgError) as exc:  # R did: the cell is NA with a warning
                skipped.append((dz.label(g), dz.label(c), f"estimation failed ({exc})"))
                continue
            if not np.isfinite(att):
                skipped.append((dz.label(g), dz.label(c), "no effective comparison units after trimming"))
                continue
            inf = np.zeros(n)
            inf[sub] = inf_sub * n / sub.sum()
            rows.append({**row, "att": att, "n": int(sub.sum()), "reference": False})
            infs.append(inf)
    IF = np.column_stack(infs) if infs else np.zeros((n, 0))
    return pd.DataFrame(rows), IF, skipped


def _pretest(attgt: pd.DataFrame, IF: np.ndarray, se: np.ndarray) -> tuple[dict, str]:
    """R did's Wald pre-test that every pre-treatment ATT(g,t) is zero; (result, reason if not computed)."""
    pre = (attgt["g_pos"] > attgt["t_pos"]).to_numpy() & ~attgt["reference"].to_numpy() & np.isfinite(se)
    out = {"stat": np.nan, "df": 0, "pvalue": np.nan}
    if not pre.any():
        return out, "no pre-treatment ATT(g,t)"
    n = IF.shape[0]
    a = attgt.loc[pre, "att"].to_numpy()
    V = IF[:, pre].T @ IF[:, pre] / n
    if np.linalg.matrix_rank(V) < len(a):
        return out, "singular covariance of the pre-treatment ATT(g,t)"
    stat = float(n * a @ np.linalg.solve(V, a))
    return {"stat": stat, "df": len(a), "pvalue": float(stats.chi2.sf(stat, len(a)))}, ""


def staggered_did(
    df: pd.DataFrame,
    unit: str,
    time: str,
    group: str,
    outcome: str,
    *,
    covariates: list[str] | None = None,
    control_group: ControlGroup = "nevertreated",
    est_method: EstMethod = "dr",
    base_period: Literal["varying", "universal"] = "varying",
    anticipation: int = 0,
    se: Literal["analytic", "bootstrap"] = "analytic",
    n_boot: int = 999,
    seed: int = 0,
    alpha: float = 0.05,
) -> StaggeredResult:
    """Callaway & Sant'Anna group-time ATTs and aggregations on a long panel.

    Parameters
    ----------
    unit, time : unit id and numeric period columns. Periods are used by position (1..T), so they need not
        be consecutive or equally spaced (e.g. YYYYMM).
    group : first period treated (a period label). Never treated: ``inf``, or ``0`` when 0 is not a period
        (as R ``did``; if 0 is a period, 0 is refused as ambiguous). NaN: unknown -> the unit is dropped and
        counted, never used as a control. Cohorts after the last period are recoded as never treated;
        cohorts already treated in the first period (+ anticipation) are dropped (both counted).
    outcome : numeric outcome.
    covariates : pre-treatment covariates (values from the earlier period of each 2x2 comparison, as R did).
    control_group : ``"nevertreated"`` or ``"notyettreated"``. Without never-treated units (not-yet-treated
        only), periods from the last cohort's start on are dropped and that cohort is a control only (R did).
    est_method : ``"dr"`` (doubly robust), ``"ipw"`` or ``"reg"`` (outcome regression), as DRDID.
    base_period : ``"varying"`` (pre-periods compare t with t-1, R ``did``'s default) or ``"universal"``
        (every cell against g-1-anticipation; the reference cell is reported with ATT 0).
    anticipation : number of periods before ``group`` in which units may already react.
    se : ``"analytic"`` (influence functions) or ``"bootstrap"`` (multiplier bootstrap, Mammen weights,
        also giving the uniform-band critical value ``crit`` in the tables).

    Drops, recodes and a rejected pre-trend test are listed in ``result.diagnostics`` and raised as
    :class:`StaggeredDiDWarning`.
    """
    covariates = list(covariates or [])
    cols = [unit, time, group, outcome] + covariates
    check_columns(df, cols, "staggered_did")
    check_numeric(df, [time, outcome] + covariates, "staggered_did")
    if control_group not in ("nevertreated", "notyettreated"):
        raise ValueError(f"control_group must be 'nevertreated' or 'notyettreated', got {control_group!r}")
    if est_method not in ESTIMATORS:
        raise ValueError(f"est_method must be one of {sorted(ESTIMATORS)}, got {est_method!r}")
    if base_period not in ("varying", "universal"):
        raise ValueError(f"base_period must be 'varying' or 'universal', got {base_period!r}")
    if int(anticipation) != anticipation or anticipation < 0:
        raise ValueError(f"anticipation must be a whole number of periods >= 0, got {anticipation!r}")
    anticipation = int(anticipation)

    dz = prepare(df, unit, time, group, outcome, covariates, control_group=control_group, anticipation=anticipation)
    attgt, IF, skipped = _cells(dz, control_group, est_method, base_period, anticipation)
    if attgt.empty:
        raise ValueError("staggered_did: no group-time cell could be estimated: "
                         + "; ".join(f"({g}, {t}) {why}" for g, t, why in skipped[:5]))
    n, G = len(dz.G), dz.G
    rng = np.random.default_rng(seed)
    z = stats.norm.ppf(1 - alpha / 2)

    def finish(table: pd.DataFrame, inf: np.ndarray) -> pd.DataFrame:
        if se == "bootstrap":
            s, crit = _mboot(inf, n_boot, rng, alpha)
        else:
            s, crit = _se(inf), z
        table = table.copy()
        table["se"] = s
        table["ci_low"] = table["att"] - crit * s
        table["ci_high"] = table["att"] + crit * s
        table["crit"] = crit
        return table

    def overall(est: float, inf: np.ndarray, kind: str, table: pd.DataFrame) -> Aggregate:
        if se == "bootstrap":
            s = float(_mboot(inf[:, None], n_boot, rng, alpha)[0][0])
        else:
            s = float(_se(inf[:, None])[0])
        return Aggregate(kind, est, s, normal_ci(est, s, alpha), table, inf)

    attgt = finish(attgt, IF)
    pretest, why_no_pretest = _pretest(attgt, IF, _se(IF))

    # aggregations (R did's compute.aggte): weights are the cohort shares among all units
    pg_of = {g: float(np.mean(G == g)) for g in dz.cohorts}
    ag = attgt["g_pos"].to_numpy(float)
    at = attgt["t_pos"].to_numpy(float)
    att = attgt["att"].to_numpy()
    pgg = np.array([pg_of[g] for g in ag])

    def weighted(keep: np.ndarray) -> tuple[float, np.ndarray]:
        k = np.flatnonzero(keep)
        w = pgg[k] / pgg[k].sum()
        return float(w @ att[k]), IF[:, k] @ w + _wif(G, ag[k], pgg[k]) @ att[k]

    postmask = ag <= at
    if not postmask.any():
        lost = [(g, t, why) for g, t, why in skipped if t >= g]
        if lost:  # R did drops these cells too (with a warning) and aggte then stops
            raise ValueError("staggered_did: no post-treatment group-time cell could be estimated: "
                             + "; ".join(f"({g}, {t}) {why}" for g, t, why in lost[:5]))
        raise ValueError("staggered_did: no post-treatment group-time cell; every cohort starts after the data")
    e_simple, i_simple = weighted(postmask)
    simple = overall(e_simple, i_simple, "simple", pd.DataFrame({"att": [e_simple]}))

    ev = (at - ag).astype(int)
    erows, einf = [], []
    for e in np.unique(ev):
        est, inf = weighted(ev == e)
        erows.append({"event_time": int(e), "att": est})
        einf.append(inf)
    etab = finish(pd.DataFrame(erows), np.column_stack(einf))
    epost = etab["event_time"].to_numpy() >= 0
    dynamic = overall(float(etab.loc[epost, "att"].mean()), np.column_stack(einf)[:, epost].mean(axis=1),
                      "dynamic", etab)

    with_post = [g for g in dz.cohorts if ((ag == g) & postmask).any()]
    no_post = [g for g in dz.cohorts if g not in with_post]
    grows, ginf = [], []
    for g in with_post:
        k = np.flatnonzero((ag == g) & postmask)
        grows.append({"group": dz.label(g), "att": float(att[k].mean())})
        ginf.append(IF[:, k].mean(axis=1))
    gtab = finish(pd.DataFrame(grows), np.column_stack(ginf))
    gpos = np.array(with_post, float)
    pgv = np.array([pg_of[g] for g in with_post])
    wg = pgv / pgv.sum()
    gatt = gtab["att"].to_numpy()
    g_inf = np.column_stack(ginf) @ wg + _wif(G, gpos, pgv) @ gatt
    group_agg = overall(float(wg @ gatt), g_inf, "group", gtab)

    crows, cinf = [], []
    for t in np.unique(at[postmask]):
        est, inf = weighted(postmask & (at == t))
        crows.append({"time": dz.label(t), "att": est})
        cinf.append(inf)
    ctab = finish(pd.DataFrame(crows), np.column_stack(cinf))
    calendar = overall(float(ctab["att"].mean()), np.column_stack(cinf).mean(axis=1), "calendar", ctab)

    t_pos = np.arange(1, dz.T + 1)
    Dm = (np.isfinite(G)[:, None] & (t_pos[None, :] >= G[:, None])).astype(float)
    diagnostics, messages = _diagnostics(dz, skipped, no_post, pretest, why_no_pretest, alpha)
    for m in messages:
        warnings.warn(f"staggered_did: {m}", StaggeredDiDWarning, stacklevel=2)
    return StaggeredResult(
        attgt=attgt.drop(columns=["g_pos", "t_pos", "reference"]), simple=simple, group=group_agg,
        dynamic=dynamic, calendar=calendar, pretest=pretest, twfe=_twfe(dz.Y, Dm, alpha), n_units=n,
        n_dropped=dz.n_incomplete, control_group=control_group, est_method=est_method,
        se_method="multiplier bootstrap" if se == "bootstrap" else "analytic influence function",
        influence_=IF, diagnostics=diagnostics, n_missing_group=dz.n_missing_group, n_early=dz.n_early,
        dropped_periods=dz.dropped_periods,
    )


def _diagnostics(dz: Design, skipped: list, no_post: list, pretest: dict, why_no_pretest: str,
                 alpha: float) -> tuple[pd.DataFrame, list[str]]:
    """The diagnostics table and the warnings to raise."""
    rows = list(dz.notes)
    messages = list(dz.warn)
    p = pretest["pvalue"]
    if np.isfinite(p):
        ok = p >= alpha
        rows.insert(0, note("pre_trend", p, alpha, bool(ok),
                            f"처치 전 추세 검정(Wald, 자유도 {pretest['df']}): p = {p:.3f}"
                            + ("" if ok else " — 평행추세 가정이 기각됨. 효과 추정치를 그대로 믿기 어려움"),
                            f"pre-trend Wald test (df {pretest['df']}): p = {p:.3f}"
                            + ("" if ok else " — parallel trends rejected; read the event study before the ATT")))
        if not ok:
            messages.append(f"the pre-trend test rejects parallel trends (p = {p:.4f} < {alpha}); "
                            "read the event study before the ATT")
    else:
        rows.insert(0, note("pre_trend", np.nan, alpha, None, f"처치 전 추세 검정 불가: {why_no_pretest}",
                            f"pre-trend test not available: {why_no_pretest}"))
    k = dz.n_trimmed
    rows.append(note("trimmed_comparison_units", k, 0, k == 0,
                     f"성향점수 >= {TRIM_LEVEL}인 비교 단위 {k}개(집단-시점 칸별 합계)의 가중치를 0으로 둠(DRDID 트리밍)",
                     f"{k} comparison unit-cells with a propensity score >= {TRIM_LEVEL} given weight 0 "
                     "(DRDID trimming; summed over group-time cells)"))
    if k:
        messages.append(f"{k} comparison unit-cells with a propensity score >= {TRIM_LEVEL} were trimmed "
                        "(weight 0; summed over group-time cells)")
    labs = _fmt([dz.label(g) for g in no_post])
    rows.append(note("cohorts_without_post_period", len(no_post), 0, not no_post,
                     f"처치 후 기간이 없는 코호트 {len(no_post)}개({labs or '없음'})는 집단별 집계에서 제외",
                     f"{len(no_post)} cohorts without a post-treatment period ({labs or 'none'}) "
                     "left out of the group aggregation"))
    if no_post:
        messages.append(f"cohorts {labs} have no post-treatment period and are left out of the group aggregation")
    cells = "; ".join(f"({g}, {t}): {why}" for g, t, why in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
    rows.append(note("cells_not_estimated", len(skipped), 0, not skipped,
                     f"추정하지 못한 집단-시점 칸 {len(skipped)}개 {cells}".strip(),
                     f"{len(skipped)} group-time cells not estimated {cells}".strip()))
    if skipped:
        messages.append(f"{len(skipped)} group-time cells could not be estimated ({cells})")
    out = pd.DataFrame(rows, columns=["check", "value", "threshold", "passed", "message"])
    out["passed"] = out["passed"].astype(object)
    return out, messages
