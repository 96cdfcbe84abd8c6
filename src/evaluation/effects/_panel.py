"""Participant-week panels from daily steps: the input of the staggered DiD and of pre-enrolment covariates.

Daily data are large (hundreds of thousands of rows for a thousand people over a
year); every design here works on participant-weeks, so the daily table is
reduced once, here, to one row per participant and calendar week.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._results import check_columns


def _valid(daily: pd.DataFrame) -> pd.DataFrame:
    if "valid_day" in daily.columns:
        return daily.loc[daily["valid_day"].astype(bool), ["participant_id", "date", "steps"]]
    return daily[["participant_id", "date", "steps"]]


def weekly_panel(
    daily: pd.DataFrame,
    participants: pd.DataFrame,
    *,
    start: str | pd.Timestamp | None = None,
    treated: str = "treated",
    index_date: str = "index_date",
    min_days: int = 1,
) -> pd.DataFrame:
    """One row per participant and calendar week: mean steps/day over valid days.

    Columns: ``participant_id``, ``week`` (integer weeks since ``start``, default
    the Monday on or before the first date), ``steps`` (steps/day), ``log_steps``
    (log of that mean), ``n_days`` (valid days in the week) and ``first_week``:
    the calendar week of enrolment for joiners (``treated`` true), 0 for the
    comparison arm (never treated), the ``group`` column
    :func:`~evaluation.effects.staggered_did` expects. Weeks with fewer than
    ``min_days`` valid days are left out (the DiD then drops that participant).
    """
    check_columns(daily, ["participant_id", "date", "steps"], "weekly_panel(daily)")
    check_columns(participants, ["participant_id", treated, index_date], "weekly_panel(participants)")
    if not pd.api.types.is_datetime64_any_dtype(daily["date"]):
        raise TypeError(f"weekly_panel(daily): column 'date' must be a datetime, got dtype {daily['date'].dtype}")
    d = _valid(daily)
    if d.empty:
        raise ValueError("weekly_panel: no valid days in the daily table")
    t0 = pd.Timestamp(start) if start is not None else d["date"].min().normalize()
    t0 = t0 - pd.Timedelta(days=t0.weekday())  # weeks run Monday to Sunday
    week = ((d["date"] - t0).dt.days // 7).astype(int)
    w = (d.assign(week=week).groupby(["participant_id", "week"], as_index=False, observed=True)
         .agg(steps=("steps", "mean"), n_days=("steps", "size")))
    w = w[w["n_days"] >= min_days]
    if (w["steps"] <= 0).any():
        # log steps are only defined for positive weekly means; a zero week is a non-wear artefact
        w = w[w["steps"] > 0]
    w["log_steps"] = np.log(w["steps"])
    p = participants[["participant_id", treated, index_date]].drop_duplicates("participant_id")
    fw = ((p[index_date] - t0).dt.days // 7).where(p[treated].astype(bool), 0)
    g = pd.Series(fw.fillna(0).astype(int).to_numpy(), index=p["participant_id"])
    w = w[w["participant_id"].isin(g.index)]
    w["first_week"] = g.loc[w["participant_id"]].to_numpy()
    return w.reset_index(drop=True)


def pre_enrolment_steps(
    daily: pd.DataFrame,
    participants: pd.DataFrame,
    *,
    weeks: int = 8,
    index_date: str = "index_date",
) -> pd.Series:
    """Mean steps/day on valid days in the ``weeks`` weeks before each participant's index date
    (enrolment, or the screening date of the comparison arm); indexed by ``participant_id``.
    A pre-treatment covariate: the programme cannot have changed it."""
    check_columns(daily, ["participant_id", "date", "steps"], "pre_enrolment_steps(daily)")
    check_columns(participants, ["participant_id", index_date], "pre_enrolment_steps(participants)")
    d = _valid(daily).merge(participants[["participant_id", index_date]], on="participant_id")
    days = (d["date"] - d[index_date]).dt.days
    keep = (days < 0) & (days >= -7 * weeks)
    out = d.loc[keep].groupby("participant_id")["steps"].mean()
    out.name = "pre_steps"
    return out.reindex(participants["participant_id"].to_numpy())
