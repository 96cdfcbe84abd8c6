"""Sensitivity analyses: E-values (VanderWeele & Ding 2017, Ann Intern Med 167:268-274) and placebo checks."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ._results import ROUND, diagnostic, diagnostics_frame


@dataclass
class EValueResult:
    """E-value of the point estimate and of the CI limit closest to the null (1 if the CI crosses it)."""

    rr: float
    e_value: float
    e_value_ci: float
    kind: str

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"kind": self.kind, "risk_ratio": self.rr, "e_value": self.e_value,
                              "e_value_ci": self.e_value_ci}]).round(ROUND)

    @property
    def diagnostics(self) -> pd.DataFrame:
        """Informational: whether the CI already includes the null (E-value for the CI = 1)."""
        crosses = self.e_value_ci == 1.0
        return diagnostics_frame([diagnostic(
            "ci_includes_null", float(crosses), "", None,
            "신뢰구간이 이미 귀무값(1)을 포함하므로 CI의 E-값은 1입니다." if crosses else
            f"측정되지 않은 교란요인이 처치·결과와 각각 위험비 {self.e_value_ci:.2f} 이상으로 연관되어야 신뢰구간이 1을 포함합니다.",
            "the CI already includes the null, so the E-value for the CI is 1." if crosses else
            f"an unmeasured confounder would need risk ratios of at least {self.e_value_ci:.2f} with both treatment "
            "and outcome to move the CI to include 1.")])


def _e(rr: float) -> float:
    rr = 1 / rr if rr < 1 else rr
    return float(rr + np.sqrt(rr * (rr - 1)))


def e_value(
    estimate: float,
    ci: tuple[float, float] | None = None,
    *,
    kind: Literal["rr", "smd"] = "rr",
    sd: float | None = None,
) -> EValueResult:
    """E-value: the minimum strength of association (risk-ratio scale) an unmeasured confounder would
    need with both treatment and outcome to explain the estimate away.

    ``kind="rr"``: ``estimate`` and ``ci`` are risk ratios. ``kind="smd"``: a
    difference in means divided by the outcome SD ``sd`` (or already a
    standardised difference if ``sd`` is None), converted with RR = exp(0.91 d).
    """
    if kind == "smd":
        scale = sd if sd else 1.0
        if scale <= 0:
            raise ValueError("e_value: sd must be positive")

        def conv(x: float) -> float:
            return float(np.exp(0.91 * x / scale))
    elif kind == "rr":
        def conv(x: float) -> float:
            if x <= 0:
                raise ValueError(f"e_value: a risk ratio must be positive, got {x}")
            return float(x)
    else:
        raise ValueError(f"e_value: kind must be 'rr' or 'smd', got {kind!r}")
    rr = conv(estimate)
    e_ci = float("nan")
    if ci is not None:
        lo, hi = conv(ci[0]), conv(ci[1])
        if lo <= 1 <= hi:
            e_ci = 1.0
        else:
            e_ci = _e(lo if rr > 1 else hi)
    return EValueResult(rr=rr, e_value=_e(rr), e_value_ci=e_ci, kind=kind)


def placebo_outcome(df: pd.DataFrame, treatment: str, outcome: str, covariates: list[str], **kw):
    """Run :func:`matched_att` on an outcome the programme cannot have changed (e.g. a measure taken
    before enrolment that is not among the covariates). A CI far from zero signals residual confounding."""
    from ._propensity import matched_att

    if outcome in covariates:
        raise ValueError(f"placebo_outcome: {outcome!r} is also a covariate; the check would be void")
    res = matched_att(df, treatment, outcome, covariates, **kw)
    res.label = f"placebo {res.label}"
    return res


def placebo_timing(df: pd.DataFrame, unit: str, time: str, group: str, outcome: str, *, shift: int = 1, **kw):
    """Placebo-in-time staggered DiD: only periods before the earliest real adoption are kept, and the
    earliest cohort is given a fake start ``shift`` periods earlier (later cohorts are untreated in that
    window and serve as controls). The placebo ATT should be near zero. Periods are counted by position,
    and units with an unknown cohort (NaN) stay unknown (dropped by staggered_did, never controls)."""
    from ._staggered import staggered_did

    g = pd.to_numeric(df[group], errors="coerce")
    cohort = g.notna() & np.isfinite(g) & (g != 0)
    if not cohort.any():
        raise ValueError("placebo_timing: no treated cohort")
    first = g[cohort].min()
    periods = np.sort(df[time].unique())
    before = periods[periods < first]
    if shift < 1 or len(before) - shift < 1:
        raise ValueError("placebo_timing: too few pre-adoption periods for this shift")
    d = df[df[time] < first].copy()
    gk = g.loc[d.index]
    # inf, not 0, for "untreated in this window": 0 may be a period label
    d[group] = np.where(gk.isna(), np.nan, np.where(gk == first, before[len(before) - shift], np.inf))
    return staggered_did(d, unit, time, group, outcome, **kw)
