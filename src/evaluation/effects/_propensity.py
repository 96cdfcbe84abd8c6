"""Propensity-score matching and weighting for the average effect on the treated (or ATE).

The propensity score is a logit of treatment on the covariates (categorical
columns one-hot encoded, numeric columns standardised for the fit).

* ``method="psm"``: greedy 1:k nearest-neighbour matching on the logit of the
  score with a caliper of ``caliper`` standard deviations of that logit (Austin
  2011 recommends 0.2), without (default) or with replacement. SE by a
  bootstrap that re-estimates the score and re-matches each replicate
  (Austin & Small 2014), or ``se="pairs"`` (matched-pair variance, score taken as known).
* ``method="ipw"``: normalised weights, odds weights e/(1-e) for the ATT or
  1/e, 1/(1-e) for the ATE. SE from the influence function, which accounts for
  the estimated score.

Balance before/after: standardised mean differences whose denominator is the
pooled SD ``sqrt((s1^2 + s0^2) / 2)`` of the unadjusted groups (the same
denominator before and after, so the two are comparable), variance ratios and
effective sample sizes ``(sum w)^2 / sum w^2``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ._ifs import ate_ipw, att_ipw, logit_fit
from ._results import ROUND, EffectResult, check_columns, check_numeric, normal_ci


@dataclass(repr=False)
class MatchResult(EffectResult):
    """Matched / weighted effect. Extra attributes: ``balance`` (tidy table), ``ps_`` (scores),
    ``weights_`` (analysis weights per input row, 0 = unused), ``n_treated``, ``n_unmatched``, ``ess``."""

    balance: pd.DataFrame = field(default_factory=pd.DataFrame)
    ps_: np.ndarray | None = None
    weights_: np.ndarray | None = None
    n_treated: int = 0
    n_unmatched: int = 0
    ess: dict = field(default_factory=dict)

    def plot(self, ax=None, lang: str = "ko", threshold: float = 0.1):
        """Love plot: absolute SMD of each covariate before and after adjustment."""
        import matplotlib.pyplot as plt

        from .. import i18n
        from ._labels import register

        register()
        b = self.balance.sort_values("smd_before", key=np.abs)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.35 * len(b) + 1.5))
        y = np.arange(len(b))
        ax.scatter(np.abs(b["smd_before"]), y, marker="o", facecolors="none", edgecolors="C3", label=i18n.t("eff_before", lang))
        ax.scatter(np.abs(b["smd_after"]), y, marker="o", color="C0", label=i18n.t("eff_after", lang))
        ax.axvline(threshold, ls="--", color="0.5")
        ax.set_yticks(y, b["covariate"])
        ax.set_xlabel("|" + i18n.t("eff_smd", lang) + "|")
        ax.legend(loc="lower right")
        return ax


def design_matrix(df: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    """Covariates as a numeric frame: bool -> 0/1, categoricals/strings one-hot (first level dropped)."""
    X = df[covariates].copy()
    for c in covariates:
        if pd.api.types.is_bool_dtype(X[c]):
            X[c] = X[c].astype(float)
    cat = [c for c in covariates if not pd.api.types.is_numeric_dtype(X[c])]
    if cat:
        X = pd.get_dummies(X, columns=cat, drop_first=True, dtype=float)
    return X.astype(float)


def _wmean_var(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    m = np.sum(w * x) / np.sum(w)
    return float(m), float(np.sum(w * (x - m) ** 2) / np.sum(w))


def balance_table(X: pd.DataFrame, t: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    """SMD (pooled unadjusted SD), variance ratio before and after weighting by ``w``."""
    rows = []
    one = np.ones(len(t))
    for c in X.columns:
        x = X[c].to_numpy(float)
        m1, v1 = _wmean_var(x[t == 1], one[t == 1])
        m0, v0 = _wmean_var(x[t == 0], one[t == 0])
        sd = np.sqrt((v1 + v0) / 2)
        a1, u1 = _wmean_var(x[(t == 1) & (w > 0)], w[(t == 1) & (w > 0)])
        a0, u0 = _wmean_var(x[(t == 0) & (w > 0)], w[(t == 0) & (w > 0)])
        rows.append({
            "covariate": c, "mean_treated": m1, "mean_control": m0,
            "smd_before": (m1 - m0) / sd if sd > 0 else 0.0,
            "vr_before": v1 / v0 if v0 > 0 else np.nan,
            "mean_treated_adj": a1, "mean_control_adj": a0,
            "smd_after": (a1 - a0) / sd if sd > 0 else 0.0,
            "vr_after": u1 / u0 if u0 > 0 else np.nan,
        })
    return pd.DataFrame(rows)


def _ess(w: np.ndarray) -> float:
    w = w[w > 0]
    return float(w.sum() ** 2 / np.sum(w**2)) if len(w) else 0.0


def _fit_ps(Xs: np.ndarray, t: np.ndarray) -> np.ndarray:
    beta = logit_fit(Xs, t)
    return 1.0 / (1.0 + np.exp(-np.clip(Xs @ beta, -35, 35)))


def match_weights(ps: np.ndarray, t: np.ndarray, *, ratio: int = 1, caliper: float | None = 0.2,
                  replace: bool = False) -> np.ndarray:
    """Greedy nearest-neighbour matching on logit(ps); returns ATT weights (treated 1 if matched,
    controls sum of 1/k over the treated they serve)."""
    lp = np.log(ps / (1 - ps))
    cal = np.inf if caliper is None else caliper * np.std(lp, ddof=1)
    ti = np.flatnonzero(t == 1)
    ci = np.flatnonzero(t == 0)
    w = np.zeros(len(t))
    if replace:
        order = np.argsort(lp[ci])
        sc = lp[ci][order]
        for i in ti:
            pos = np.searchsorted(sc, lp[i])
            lo, hi = max(0, pos - ratio), min(len(sc), pos + ratio)
            cand = np.arange(lo, hi)
            dist = np.abs(sc[cand] - lp[i])
            pick = cand[np.argsort(dist)[:ratio]]
            pick = pick[np.abs(sc[pick] - lp[i]) <= cal]
            if len(pick):
                w[i] = 1.0
                w[ci[order[pick]]] += 1.0 / len(pick)
        return w
    avail = np.ones(len(ci), bool)
    lc = lp[ci]
    # match the hardest-to-match (highest score) treated first, a common greedy order
    for i in ti[np.argsort(-lp[ti])]:
        dist = np.where(avail, np.abs(lc - lp[i]), np.inf)
        k = min(ratio, int(avail.sum()))
        if k == 0:
            break
        pick = np.argpartition(dist, k - 1)[:k]
        pick = pick[dist[pick] <= cal]
        if len(pick):
            w[i] = 1.0
            w[ci[pick]] += 1.0 / len(pick)
            avail[pick] = False
    return w


def _psm_att(y: np.ndarray, t: np.ndarray, w: np.ndarray) -> float:
    m1 = t == 1
    return float(np.sum(w[m1] * y[m1]) / np.sum(w[m1]) - np.sum(w[~m1] * y[~m1]) / np.sum(w[~m1]))


def matched_att(
    df: pd.DataFrame,
    treatment: str,
    outcome: str,
    covariates: list[str],
    method: Literal["psm", "ipw"] = "psm",
    *,
    estimand: Literal["ATT", "ATE"] = "ATT",
    caliper: float | None = 0.2,
    ratio: int = 1,
    replace: bool = False,
    se: Literal["bootstrap", "pairs", "influence", "robust"] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
) -> MatchResult:
    """Effect of ``treatment`` (0/1) on ``outcome`` adjusting for ``covariates`` by matching or weighting.

    Rows with a missing outcome, treatment or covariate are dropped (counted in
    ``details['n_dropped']``). ``se`` defaults to ``"bootstrap"`` for matching and
    ``"influence"`` for weighting (accounts for the estimated score); ``se="robust"``
    (weighting only) gives the sandwich SE that treats the weights as known, as GEE or
    ``svyglm`` report it. Matching estimates the ATT only.
    """
    check_columns(df, [treatment, outcome, *covariates], "matched_att")
    check_numeric(df, [treatment, outcome], "matched_att")
    if method not in ("psm", "ipw"):
        raise ValueError(f"matched_att: method must be 'psm' or 'ipw', got {method!r}")
    if estimand not in ("ATT", "ATE"):
        raise ValueError(f"matched_att: estimand must be 'ATT' or 'ATE', got {estimand!r}")
    if method == "psm" and estimand != "ATT":
        raise ValueError("matched_att: matching estimates the ATT; use method='ipw' for the ATE")
    if not covariates:
        raise ValueError("matched_att: give at least one covariate")
    d = df[[treatment, outcome, *covariates]].dropna()
    n_dropped = len(df) - len(d)
    t = d[treatment].astype(float).to_numpy()
    if set(np.unique(t)) != {0.0, 1.0}:
        raise ValueError(f"matched_att: {treatment!r} must take values 0 and 1, got {sorted(set(np.unique(t)))}")
    if min((t == 1).sum(), (t == 0).sum()) < 2:
        raise ValueError("matched_att: need at least 2 treated and 2 comparison units")
    y = d[outcome].astype(float).to_numpy()
    X = design_matrix(d, covariates)
    sd = X.std(ddof=0).replace(0, 1.0)
    Xs = np.column_stack([np.ones(len(X)), ((X - X.mean()) / sd).to_numpy()])
    ps = _fit_ps(Xs, t)
    se = se or ("bootstrap" if method == "psm" else "influence")
    details: dict = {"n_dropped": n_dropped}
    n_unmatched = 0
    if method == "ipw":
        fn = att_ipw if estimand == "ATT" else ate_ipw
        est, infl = fn(y, t, Xs)
        if estimand == "ATT":
            w = np.where(t == 1, 1.0, ps / (1 - ps))
        else:
            w = np.where(t == 1, 1 / ps, 1 / (1 - ps))
        if se == "influence":
            s = float(np.sqrt(np.mean(infl**2) / len(y)))
        elif se == "bootstrap":
            rng = np.random.default_rng(seed)
            reps = []
            for _ in range(n_boot):
                i = rng.integers(0, len(y), len(y))
                if 0 < t[i].sum() < len(i):
                    reps.append(fn(y[i], t[i], Xs[i])[0])
            s = float(np.std(reps, ddof=1))
        elif se == "robust":
            # the weighted regression y ~ treatment with the weights taken as known and a sandwich (HC0)
            # variance: what GEE with an independence working correlation reports; conservative for
            # the ATE (Hernan & Robins, What If, section 12.2)
            import statsmodels.api as sm

            fit = sm.WLS(y, sm.add_constant(t), weights=w).fit(cov_type="HC0")
            s = float(fit.bse[1])
        else:
            raise ValueError(f"matched_att: se for weighting must be 'influence', 'bootstrap' or 'robust', got {se!r}")
        how = f"IPW ({'odds' if estimand == 'ATT' else 'inverse-probability'} weights, normalised), {se} SE"
    else:
        w = match_weights(ps, t, ratio=ratio, caliper=caliper, replace=replace)
        n_unmatched = int(((t == 1) & (w == 0)).sum())
        if (w[t == 1] > 0).sum() < 2:
            raise ValueError("matched_att: fewer than 2 treated units matched; widen the caliper")
        est = _psm_att(y, t, w)
        if se == "pairs":
            if replace or ratio != 1:
                raise ValueError("matched_att: se='pairs' needs 1:1 matching without replacement")
            # pair differences: treated in descending-score order paired with its control
            mt = np.flatnonzero((t == 1) & (w > 0))
            s = float(np.sqrt((np.var(y[mt], ddof=1) + np.var(y[(t == 0) & (w > 0)], ddof=1)
                               - 2 * _pair_cov(y, t, w, ps)) / len(mt)))
        elif se == "bootstrap":
            rng = np.random.default_rng(seed)
            reps = []
            for _ in range(n_boot):
                i = rng.integers(0, len(y), len(y))
                ti_ = t[i]
                if ti_.sum() < 2 or (1 - ti_).sum() < 2:
                    continue
                ps_b = _fit_ps(Xs[i], ti_)
                wb = match_weights(ps_b, ti_, ratio=ratio, caliper=caliper, replace=replace)
                if (wb[ti_ == 1] > 0).sum() >= 2:
                    reps.append(_psm_att(y[i], ti_, wb))
            s = float(np.std(reps, ddof=1))
        else:
            raise ValueError(f"matched_att: se for matching must be 'bootstrap' or 'pairs', got {se!r}")
        how = (f"PSM 1:{ratio} nearest neighbour on logit(ps), caliper {caliper} SD, "
               f"{'with' if replace else 'without'} replacement, {se} SE")
    ess = {"treated": _ess(w[t == 1]), "control": _ess(w[t == 0])}
    details.update({"ess_treated": ess["treated"], "ess_control": ess["control"], "n_unmatched": n_unmatched,
                    "estimand": estimand})
    return MatchResult(
        estimate=est, se=s, ci=normal_ci(est, s, alpha), n=len(y), method=how,
        label=f"{estimand} {outcome}", alpha=alpha, details=details,
        balance=balance_table(X, t, w).round(ROUND), ps_=ps, weights_=w,
        n_treated=int(t.sum()), n_unmatched=n_unmatched, ess=ess,
    )


def _pair_cov(y: np.ndarray, t: np.ndarray, w: np.ndarray, ps: np.ndarray) -> float:
    """Covariance of outcomes within matched pairs (1:1, no replacement): re-pair by the same greedy rule."""
    lp = np.log(ps / (1 - ps))
    mt = np.flatnonzero((t == 1) & (w > 0))
    mc = np.flatnonzero((t == 0) & (w > 0))
    # the greedy matcher pairs in score order; pairing sorted lists reproduces nearest pairs closely
    a = y[mt[np.argsort(lp[mt])]]
    b = y[mc[np.argsort(lp[mc])]]
    return float(np.cov(a, b, ddof=1)[0, 1])
