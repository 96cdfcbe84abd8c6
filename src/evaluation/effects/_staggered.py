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

Panel data only (balanced: units missing any period are dropped and counted).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._ifs import ESTIMATORS
from ._results import ROUND, EffectResult, check_columns, check_numeric, normal_ci

ControlGroup = Literal["nevertreated", "notyettreated"]
EstMethod = Literal["dr", "ipw", "reg"]
AggType = Literal["simple", "group", "dynamic", "calendar"]


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
    """Influence of estimating the cohort-share weights pg/sum(pg) (n x K)."""
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
    ok = se > 1e-12
    tmax = np.max(np.abs(draws[:, ok]) / se[ok], axis=1) if ok.any() else np.zeros(n_boot)
    crit = float(np.quantile(tmax, 1 - alpha))
    return se, crit


@dataclass
class StaggeredResult:
    """Callaway-Sant'Anna fit.

    Attributes
    ----------
    attgt : DataFrame  group, time, event_time, base_period, att, se, ci_low, ci_high, post, n
    simple, group, dynamic, calendar : :class:`Aggregate`
    pretest : dict  Wald test that all pre-treatment ATT(g,t) are zero (stat, df, pvalue)
    twfe : EffectResult  two-way fixed-effects estimate (unit-clustered SE), for comparison only
    n_units, n_dropped : units used / dropped for an unbalanced panel
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

    def summary(self) -> pd.DataFrame:
        """Overall ATT of every aggregation plus TWFE, one row each."""
        rows = [{"estimator": f"CS {a.kind}", "estimate": a.estimate, "se": a.se,
                 "ci_low": a.ci[0], "ci_high": a.ci[1]} for a in (self.simple, self.group, self.dynamic, self.calendar)]
        rows.append({"estimator": "TWFE", "estimate": self.twfe.estimate, "se": self.twfe.se,
                     "ci_low": self.twfe.ci[0], "ci_high": self.twfe.ci[1]})
        out = pd.DataFrame(rows)
        out["control_group"] = self.control_group
        out["est_method"] = self.est_method
        out["pretest_p"] = self.pretest.get("pvalue", np.nan)
        return out.round(ROUND)

    def plot(self, ax=None, lang: str = "ko", twfe: bool = True):
        """Event-study plot of the dynamic aggregation (pre periods grey), TWFE as a dashed line."""
        import matplotlib.pyplot as plt

        from .. import i18n
        from ._labels import register

        register()
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        t = self.dynamic.table
        pre = t["event_time"] < 0
        for mask, color, key in ((pre, "0.5", "eff_pre"), (~pre, "C3", "eff_post")):
            ax.errorbar(t.loc[mask, "event_time"], t.loc[mask, "att"],
                        yerr=[t.loc[mask, "att"] - t.loc[mask, "ci_low"], t.loc[mask, "ci_high"] - t.loc[mask, "att"]],
                        fmt="o", color=color, capsize=3, label=i18n.t(key, lang))
        ax.axhline(0, color="0.3", lw=1)
        if twfe:
            ax.axhline(self.twfe.estimate, ls="--", color="C0", label=i18n.t("eff_twfe", lang))
        ax.set_xlabel(i18n.t("eff_event_time", lang))
        ax.set_ylabel(i18n.t("eff_att", lang))
        ax.legend()
        return ax


def _twfe(Y: np.ndarray, Dm: np.ndarray, alpha: float) -> EffectResult:
    """TWFE on a balanced panel by two-way demeaning; SE clustered by unit (CR1)."""
    def demean(a: np.ndarray) -> np.ndarray:
        return a - a.mean(1, keepdims=True) - a.mean(0, keepdims=True) + a.mean()

    y, x = demean(Y), demean(Dm)
    sxx = np.sum(x * x)
    if sxx <= 0:
        return EffectResult(np.nan, np.nan, (np.nan, np.nan), Y.shape[0], "TWFE (no treatment variation)", "TWFE")
    beta = float(np.sum(x * y) / sxx)
    u = y - beta * x
    n_units, n_t = Y.shape
    score = np.sum(x * u, axis=1)
    k = n_units + n_t - 1 + 1
    adj = n_units / (n_units - 1) * (Y.size - 1) / (Y.size - k)
    se = float(np.sqrt(adj * np.sum(score**2)) / sxx)
    return EffectResult(beta, se, normal_ci(beta, se, alpha), n_units,
                        "TWFE y ~ D + unit FE + time FE, unit-clustered SE", "TWFE")


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
    unit, time : unit id and integer period columns (equally spaced periods).
    group : first period treated; 0 (or NaN / inf) for never-treated units.
    outcome : numeric outcome.
    covariates : pre-treatment covariates (values from each comparison's base period).
    control_group : ``"nevertreated"`` or ``"notyettreated"``.
    est_method : ``"dr"`` (doubly robust), ``"ipw"`` or ``"reg"`` (outcome regression).
    base_period : ``"varying"`` (pre-periods compare t with t-1, as R ``did``'s default) or ``"universal"`` (g-1).
    se : ``"analytic"`` (influence functions) or ``"bootstrap"`` (multiplier bootstrap, Mammen weights,
        also giving the uniform-band critical value ``crit`` in the tables).
    """
    covariates = list(covariates or [])
    cols = [unit, time, group, outcome] + covariates
    check_columns(df, cols, "staggered_did")
    check_numeric(df, [time, outcome] + covariates, "staggered_did")
    if control_group not in ("nevertreated", "notyettreated"):
        raise ValueError(f"control_group must be 'nevertreated' or 'notyettreated', got {control_group!r}")
    if est_method not in ESTIMATORS:
        raise ValueError(f"est_method must be one of {sorted(ESTIMATORS)}, got {est_method!r}")
    d = df[cols].copy()
    gnum = pd.to_numeric(d[group], errors="coerce").replace([np.inf], 0).fillna(0)
    d[group] = gnum
    if (d.groupby(unit)[group].nunique() > 1).any():
        bad = d.groupby(unit)[group].nunique()
        raise ValueError(f"staggered_did: {group!r} varies within unit(s) {list(bad[bad > 1].index[:5])}")
    if d.duplicated([unit, time]).any():
        raise ValueError(f"staggered_did: more than one row per ({unit!r}, {time!r})")
    times = np.sort(d[time].unique())
    Yw = d.pivot(index=unit, columns=time, values=outcome)
    complete = Yw.notna().all(axis=1)
    n_dropped = int((~complete).sum())
    Yw = Yw[complete]
    units = Yw.index
    Y = Yw.to_numpy(float)
    G = d.drop_duplicates(unit).set_index(unit).loc[units, group].to_numpy(float)
    Xt = {}
    for c in covariates:
        Xt[c] = d.pivot(index=unit, columns=time, values=c).loc[units].to_numpy(float)
    n = len(units)
    tpos = {t: i for i, t in enumerate(times)}
    # cohorts treated in the first period have no pre-period and are dropped, as in R did
    glist = np.array(sorted(g for g in np.unique(G) if g > 0 and g > times[0] + anticipation))
    if len(glist) == 0:
        raise ValueError("staggered_did: no treated cohort with a pre-treatment period")
    if control_group == "nevertreated" and not (G == 0).any():
        raise ValueError("staggered_did: no never-treated units; use control_group='notyettreated'")

    rows, infs = [], []
    for g in glist:
        for t in times[1:]:
            post = t >= g
            if base_period == "universal" or post:
                b = g - 1 - anticipation
            else:
                b = times[tpos[t] - 1]
            if b not in tpos or b == t:
                continue
            if control_group == "nevertreated":
                ctrl = G == 0
            else:
                ctrl = ((G == 0) | (G > max(t, b) + anticipation)) & (G != g)
            treat = G == g
            sub = treat | ctrl
            if ctrl.sum() == 0 or treat.sum() == 0:
                continue
            dy = Y[sub, tpos[t]] - Y[sub, tpos[b]]
            D = treat[sub].astype(float)
            X = np.column_stack([np.ones(sub.sum())] + [Xt[c][sub, tpos[b]] for c in covariates])
            att, inf_sub = ESTIMATORS[est_method](dy, D, X)
            inf = np.zeros(n)
            inf[sub] = inf_sub * n / sub.sum()
            rows.append({"group": g, "time": t, "event_time": t - g, "base_period": b, "att": att,
                         "post": bool(post), "n": int(sub.sum())})
            infs.append(inf)
    IF = np.column_stack(infs)
    attgt = pd.DataFrame(rows)
    rng = np.random.default_rng(seed)

    def finish(table: pd.DataFrame, inf: np.ndarray) -> pd.DataFrame:
        if se == "bootstrap":
            s, crit = _mboot(inf, n_boot, rng, alpha)
        else:
            s, crit = np.sqrt(np.mean(inf**2, axis=0) / n), stats.norm.ppf(1 - alpha / 2)
        table = table.copy()
        table["se"] = s
        table["ci_low"] = table["att"] - crit * s
        table["ci_high"] = table["att"] + crit * s
        table["crit"] = crit
        return table

    attgt = finish(attgt, IF)
    V = IF.T @ IF / n
    pre = ~attgt["post"].to_numpy()
    pretest = {"stat": np.nan, "df": 0, "pvalue": np.nan}
    if pre.any():
        a = attgt.loc[pre, "att"].to_numpy()
        Vp = V[np.ix_(pre, pre)] / n
        stat = float(a @ np.linalg.pinv(Vp) @ a)
        k = int(np.linalg.matrix_rank(Vp))
        pretest = {"stat": stat, "df": k, "pvalue": float(stats.chi2.sf(stat, k))}

    pg_all = {g: float(np.mean(G == g)) for g in glist}
    ag = attgt["group"].to_numpy()
    at = attgt["time"].to_numpy()
    att = attgt["att"].to_numpy()
    pgg = np.array([pg_all[g] for g in ag])

    def weighted(keep: np.ndarray) -> tuple[float, np.ndarray]:
        k = np.flatnonzero(keep)
        w = pgg[k] / pgg[k].sum()
        est = float(w @ att[k])
        inf = IF[:, k] @ w + _wif(G, ag[k], pgg[k]) @ att[k]
        return est, inf

    def overall(est: float, inf: np.ndarray, kind: str, table: pd.DataFrame) -> Aggregate:
        if se == "bootstrap":
            s = float(_mboot(inf[:, None], n_boot, rng, alpha)[0][0])
        else:
            s = float(np.sqrt(np.mean(inf**2) / n))
        return Aggregate(kind, est, s, normal_ci(est, s, alpha), table, inf)

    postmask = ag <= at
    e_simple, i_simple = weighted(postmask)
    simple = overall(e_simple, i_simple, "simple", pd.DataFrame({"att": [e_simple]}))

    # event study
    ev = at - ag
    erows, einf = [], []
    for e in np.unique(ev):
        est, inf = weighted(ev == e)
        erows.append({"event_time": int(e), "att": est})
        einf.append(inf)
    etab = finish(pd.DataFrame(erows), np.column_stack(einf))
    epost = etab["event_time"].to_numpy() >= 0
    dyn_inf = np.column_stack(einf)[:, epost].mean(axis=1)
    dynamic = overall(float(etab.loc[epost, "att"].mean()), dyn_inf, "dynamic", etab)

    # group
    grows, ginf = [], []
    for g in glist:
        k = np.flatnonzero((ag == g) & postmask)
        grows.append({"group": g, "att": float(att[k].mean())})
        ginf.append(IF[:, k].mean(axis=1))
    gtab = finish(pd.DataFrame(grows), np.column_stack(ginf))
    pgv = np.array([pg_all[g] for g in glist])
    wg = pgv / pgv.sum()
    gatt = gtab["att"].to_numpy()
    g_inf = np.column_stack(ginf) @ wg + _wif(G, glist, pgv) @ gatt
    group_agg = overall(float(wg @ gatt), g_inf, "group", gtab)

    # calendar
    crows, cinf = [], []
    for t in times:
        keep = postmask & (at == t)
        if keep.any():
            est, inf = weighted(keep)
            crows.append({"time": t, "att": est})
            cinf.append(inf)
    ctab = finish(pd.DataFrame(crows), np.column_stack(cinf))
    calendar = overall(float(ctab["att"].mean()), np.column_stack(cinf).mean(axis=1), "calendar", ctab)

    Dm = ((G[:, None] > 0) & (times[None, :] >= G[:, None])).astype(float)
    return StaggeredResult(
        attgt=attgt, simple=simple, group=group_agg, dynamic=dynamic, calendar=calendar,
        pretest=pretest, twfe=_twfe(Y, Dm, alpha), n_units=n, n_dropped=n_dropped,
        control_group=control_group, est_method=est_method,
        se_method="multiplier bootstrap" if se == "bootstrap" else "analytic influence function",
        influence_=IF,
    )
