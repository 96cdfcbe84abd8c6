"""Step-count trajectories around enrolment: a linear mixed model (statsmodels MixedLM).

Daily steps (valid days only) are averaged per participant and week since the
index date (enrolment, or the pseudo screening date of the comparison arm).
The model

    weekly_steps ~ group * post + weeks_since + covariates,   random intercept per participant

gives the average post-enrolment difference in the change from before to after
between each group and the comparison arm (``group:post``), i.e. a DiD with
participant random effects; ``random_slope=True`` adds a random slope on weeks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from ._guard import require_finite
from ._results import ROUND, EffectResult, check_columns, complete_cases, diagnostic, diagnostics_frame, normal_ci, warn_failed


@dataclass
class TrajectoryResult:
    """Mixed-model fit. ``effects``: one EffectResult per non-reference group (post x group term);
    ``fixed``: tidy fixed-effects table; ``weekly``: mean weekly steps by group and week (for the plot);
    ``model_``: statsmodels MixedLMResults; ``n_participants``; ``diagnostics`` (participants dropped
    for missing covariates, model convergence; failed checks are raised as ``EffectWarning``)."""

    effects: dict[str, EffectResult]
    fixed: pd.DataFrame
    weekly: pd.DataFrame
    n_participants: int
    model_: object = field(repr=False)
    group: str = "arm"
    diagnostics: pd.DataFrame = field(default_factory=lambda: diagnostics_frame([]), repr=False)

    def summary(self) -> pd.DataFrame:
        return pd.concat([e.summary() for e in self.effects.values()], ignore_index=True)

    def plot(self, ax=None, lang: str = "ko", table: pd.DataFrame | None = None):
        """Mean weekly steps by group and week since the index date; ``table`` is the published
        ``weekly`` table (means rounded by n) to draw what staff see, else the unprotected one."""
        import matplotlib.pyplot as plt

        from ..publish import i18n
        from ._labels import register

        register()
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        weekly = self.weekly if table is None else table
        for g, sub in weekly.groupby(self.group, observed=True):
            ax.plot(sub["week"], pd.to_numeric(sub["steps"], errors="coerce").astype(float), marker=".",
                    label=i18n.t(str(g), lang))
        ax.axvline(-0.5, color="0.5", lw=1)
        ax.set_xlabel(i18n.t("weeks_since_enrolment", lang))
        ax.set_ylabel(i18n.t("eff_weekly_steps", lang))
        ax.legend()
        return ax


def weekly_steps(daily: pd.DataFrame, participants: pd.DataFrame, *, window: tuple[int, int] = (-8, 24),
                 group: str = "arm", covariates: tuple[str, ...] = ("age", "sex")) -> pd.DataFrame:
    """Participant-week table: mean steps on valid days, week since index date within ``window``."""
    check_columns(daily, ["participant_id", "date", "steps"], "trajectory(daily)")
    check_columns(participants, ["participant_id", "index_date", group, *covariates], "trajectory(participants)")
    d = daily[["participant_id", "date", "steps"] + (["valid_day"] if "valid_day" in daily else [])]
    if "valid_day" in d:
        d = d[d["valid_day"]]
    p = participants[["participant_id", "index_date", group, *covariates]]
    d = d.merge(p, on="participant_id", how="inner")
    d["week"] = np.floor((d["date"] - d["index_date"]).dt.days / 7).astype(int)
    d = d[(d["week"] >= window[0]) & (d["week"] < window[1])]
    w = d.groupby(["participant_id", "week"], as_index=False).agg(steps=("steps", "mean"))
    return w.merge(p.drop(columns="index_date"), on="participant_id")


def trajectory(
    daily: pd.DataFrame,
    participants: pd.DataFrame,
    *,
    group: str = "arm",
    reference: str = "comparison",
    covariates: tuple[str, ...] = ("age", "sex"),
    window: tuple[int, int] = (-8, 24),
    random_slope: bool = False,
    alpha: float = 0.05,
) -> TrajectoryResult:
    """Fit the weekly-steps mixed model; see the module docstring. Units: steps/day. Participants with a
    missing index date, group or covariate are dropped with a warning and counted in ``diagnostics``."""
    check_columns(participants, ["participant_id", "index_date", group, *covariates], "trajectory(participants)")
    check_columns(daily, ["participant_id", "date", "steps"], "trajectory(daily)")
    require_finite(daily, ["steps"], "trajectory(daily)", "outcome")
    participants, miss_row = complete_cases(participants, ["index_date", group, *covariates], "trajectory")
    w = weekly_steps(daily, participants, window=window, group=group, covariates=covariates)
    if w.empty:
        raise ValueError("trajectory: no participant-weeks inside the window")
    w["post"] = (w["week"] >= 0).astype(int)
    w["grp"] = w[group].astype(str)
    levels = sorted(w["grp"].unique())
    if reference not in levels:
        raise ValueError(f"trajectory: reference {reference!r} not among {group!r} values {levels}")
    cov = " + ".join(["week"] + list(covariates))
    formula = f"steps ~ C(grp, Treatment({reference!r})) * post + {cov}"
    model = smf.mixedlm(formula, w, groups=w["participant_id"], re_formula="~week" if random_slope else "1")
    import warnings

    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        res = model.fit(reml=True, method=["lbfgs", "powell"])
    for wn in caught:
        if issubclass(wn.category, ConvergenceWarning):
            warnings.warn(wn.message, wn.category, stacklevel=2)
    ok = bool(getattr(res, "converged", True))
    diag = diagnostics_frame([miss_row, diagnostic(
        "model_converged", float(ok), "converged", ok,
        "혼합모형이 수렴했습니다." if ok else "혼합모형이 수렴하지 않았습니다: 추정치를 믿을 수 없습니다.",
        "the mixed model converged." if ok else "the mixed model did not converge: estimates are unreliable.")])
    warn_failed(diag, "trajectory")
    fe = pd.DataFrame({"term": res.fe_params.index, "estimate": res.fe_params.values,
                       "se": res.bse_fe.values}).round(ROUND)
    effects = {}
    for lv in levels:
        if lv == reference:
            continue
        term = f"C(grp, Treatment({reference!r}))[T.{lv}]:post"
        est, se = float(res.fe_params[term]), float(res.bse_fe[term])
        effects[lv] = EffectResult(est, se, normal_ci(est, se, alpha), int(w.loc[w["grp"] == lv, "participant_id"].nunique()),
                                   "MixedLM random intercept" + (" + slope" if random_slope else ""),
                                   f"post x {lv} (steps/day)", alpha)
    weekly = w.groupby([group, "week"], observed=True, as_index=False)["steps"].mean()
    return TrajectoryResult(effects, fe, weekly, int(w["participant_id"].nunique()), res, group, diag)
