"""Sustained change in daily steps: per-person means before the index date and after a ramp-up period.

The cost notebook needs one simple figure, "additional steps per day sustained after week 12", when the
staggered DiD of the effectiveness notebook has not run. Each person's mean steps on valid days before
the index date and from ``ramp_days`` after it on; the change of the treated minus the change of the
comparison group, people with both periods only. A descriptive difference of changes, not a causal
estimate: :func:`evaluation.effects.staggered_did` is that.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PrePostResult:
    """Difference of mean changes [steps/day] and the per-group changes and sizes [persons]."""

    estimate: float
    change_treated: float
    change_comparison: float
    n_treated: int
    n_comparison: int
    ramp_days: int

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"measure": ["change_treated", "change_comparison", "difference"],
                             "steps_per_day": [self.change_treated, self.change_comparison, self.estimate],
                             "n": [self.n_treated, self.n_comparison, self.n_treated + self.n_comparison]})


def prepost_steps(daily: pd.DataFrame, participants: pd.DataFrame, *, ramp_days: int = 84,
                  treated: str = "treated", index_date: str = "index_date") -> PrePostResult:
    """Treated minus comparison change in mean daily steps, pre-index against ``ramp_days`` [days] after.

    ``daily`` has ``participant_id``, ``date``, ``steps`` and ``valid_day``; ``participants`` has
    ``participant_id``, ``treated`` and ``index_date``. Invalid days and the ramp period are left out.
    """
    d = daily.loc[daily["valid_day"].astype(bool), ["participant_id", "date", "steps"]]
    d = d.merge(participants[["participant_id", treated, index_date]], on="participant_id")
    days = (pd.to_datetime(d["date"]) - pd.to_datetime(d[index_date])).dt.days
    d = d.assign(period=np.select([days < 0, days >= ramp_days], ["pre", "post"], "ramp"))
    means = d[d["period"] != "ramp"].groupby(["participant_id", treated, "period"])["steps"].mean().unstack()
    means = means.reindex(columns=["pre", "post"]).dropna()
    change = means["post"] - means["pre"]
    by = change.groupby(level=treated)
    mean, n = by.mean(), by.size()
    ct, cc = float(mean.get(True, np.nan)), float(mean.get(False, np.nan))
    return PrePostResult(estimate=ct - cc, change_treated=ct, change_comparison=cc,
                         n_treated=int(n.get(True, 0)), n_comparison=int(n.get(False, 0)), ramp_days=ramp_days)
