"""Participant outcomes the cost model is fed with: activity, completion, risk reduction and MetS status.

In: the participants table (one row per person, ``treated``, ``dropout_week``, ``completed``, ``sex`` and
the measures ``<m>_w0`` / ``<m>_w24``). Out: :class:`ProgrammeOutcomes`, shares [proportion of persons]
and a per-person frame for the bootstrap. The MetS criteria are those of
:mod:`evaluation.reference.mets_criteria`.

Missing follow-up: a person without a follow-up waist measure is assumed unchanged (MetS status carried
forward, risk not reduced). That is the conservative choice for cost per outcome (no credit for people
not measured); :attr:`ProgrammeOutcomes.n_missing_followup` says how many it concerned.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..reference import mets_criteria


@dataclass(frozen=True)
class ProgrammeOutcomes:
    """Shares among the treated [proportion] and MetS transitions, treated against comparison.

    Attributes
    ----------
    share_active: treated people still active after ``active_after_week`` (no dropout by then).
    share_completed: treated people who completed the programme.
    risk_reduced_treated / risk_reduced_comparison: people whose count of criteria met fell by follow-up.
    mets_baseline_treated: treated people with MetS at baseline.
    resolved_treated / resolved_comparison: among those with MetS at baseline, no MetS at follow-up.
    n_missing_followup: people with no follow-up measure (assumed unchanged).
    per_person: ``mets_w0``, ``mets_w24``, ``risk_reduced``, ``change`` (+1 resolved, -1 new MetS, 0 else).
    """

    share_active: float
    share_completed: float
    risk_reduced_treated: float
    risk_reduced_comparison: float
    mets_baseline_treated: float
    resolved_treated: float
    resolved_comparison: float
    n_treated: int
    n_comparison: int
    n_missing_followup: int
    per_person: pd.DataFrame

    @property
    def extra_resolved(self) -> float:
        """Resolution share, treated minus comparison [proportion]."""
        return self.resolved_treated - self.resolved_comparison

    def summary(self) -> pd.DataFrame:
        names = ["share_active", "share_completed", "risk_reduced_treated", "risk_reduced_comparison",
                 "mets_baseline_treated", "resolved_treated", "resolved_comparison", "extra_resolved"]
        return pd.DataFrame({"measure": names, "value": [float(getattr(self, n)) for n in names]})


def _share(x: pd.Series) -> float:
    return float(x.mean()) if len(x) else float("nan")


def programme_outcomes(participants: pd.DataFrame, *, followup_week: int = 24, active_after_week: int = 12,
                       treated: str = "treated") -> ProgrammeOutcomes:
    """Activity, completion, risk reduction and MetS resolution of ``participants`` (see the module docstring)."""
    p = participants
    is_t = p[treated].astype(bool).to_numpy()
    t = p[is_t]
    r0 = mets_criteria.risk_count(p, 0)
    r1 = mets_criteria.risk_count(p, followup_week)
    followed = p[f"waist_w{followup_week}"].notna().to_numpy()
    m0 = r0 >= mets_criteria.METS_MIN_CRITERIA
    m1 = np.where(followed, r1 >= mets_criteria.METS_MIN_CRITERIA, m0)  # missing follow-up: no change
    reduced = np.where(followed, r1 < r0, False)
    per = pd.DataFrame({"mets_w0": m0, "mets_w24": m1, "risk_reduced": reduced,
                        "change": m0.astype(int) - m1.astype(int)}, index=p.index)
    return ProgrammeOutcomes(
        share_active=_share(t["dropout_week"].fillna(np.inf) > active_after_week),
        share_completed=_share(t["completed"].astype(bool)),
        risk_reduced_treated=_share(per.loc[is_t, "risk_reduced"]),
        risk_reduced_comparison=_share(per.loc[~is_t, "risk_reduced"]),
        mets_baseline_treated=_share(per.loc[is_t, "mets_w0"]),
        resolved_treated=_share(~per.loc[is_t & m0, "mets_w24"]),
        resolved_comparison=_share(~per.loc[~is_t & m0, "mets_w24"]),
        n_treated=int(is_t.sum()), n_comparison=int((~is_t).sum()),
        n_missing_followup=int((~followed).sum()), per_person=per,
    )
