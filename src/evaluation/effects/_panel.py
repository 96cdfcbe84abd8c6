"""Participant-week panels from daily steps: the input of the staggered DiD and of pre-enrolment covariates.

Daily data are large (hundreds of thousands of rows for a thousand people over a
year); every design here works on participant-weeks, so the daily table is
reduced once, here, to one row per participant and calendar week.
"""
from __future__ import annotations

import warnings

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

    Columns: ``participant_id``, ``week`` (calendar weeks Monday to Sunday, numbered from 1: week 1 is
    the week of ``start``, default the first date), ``steps`` (steps/day), ``log_steps`` (log of that
    mean), ``n_days`` (valid days in the week) and ``first_week``, the ``group`` column
    :func:`~evaluation.effects.staggered_did` expects (float):

    * joiners (``treated`` true): the week of their index date; a joiner enrolled in week 1 is treated
      from the first week (staggered_did drops such people, counted: they have no pre-enrolment week),
      one enrolled before week 1 gets 1 as well;
    * comparison arm: 0, never treated (weeks start at 1, so 0 is never a week);
    * joiners without an index date, or with ``treated`` missing: NaN, unknown; staggered_did drops and
      counts them, so they never become controls. A warning gives the count.

    Weeks with fewer than ``min_days`` valid days are left out (the DiD then drops that participant).
    Days before ``start`` and people missing from ``participants`` are dropped with a warning.
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
    before = d["date"] < t0
    if before.any():
        warnings.warn(f"weekly_panel: {int(before.sum())} valid days before start {t0.date()} dropped", stacklevel=2)
        d = d[~before]
    week = ((d["date"] - t0).dt.days // 7).astype(int) + 1
    w = (d.assign(week=week).groupby(["participant_id", "week"], as_index=False, observed=True)
         .agg(steps=("steps", "mean"), n_days=("steps", "size")))
    w = w[w["n_days"] >= min_days]
    if (w["steps"] <= 0).any():
        # log steps are only defined for positive weekly means; a zero week is a non-wear artefact
        w = w[w["steps"] > 0]
    w["log_steps"] = np.log(w["steps"])
    p = participants[["participant_id", treated, index_date]].drop_duplicates("participant_id")
    is_treated = p[treated].astype("boolean")
    enrol = ((pd.to_datetime(p[index_date]) - t0).dt.days // 7 + 1).clip(lower=1).astype(float)
    first = np.where(is_treated.fillna(False), enrol, 0.0)
    first[is_treated.isna().to_numpy()] = np.nan  # unknown arm: neither a joiner nor a control
    g = pd.Series(first, index=p["participant_id"].to_numpy(), dtype=float)
    unknown = int(g.isna().sum())
    if unknown:
        warnings.warn(f"weekly_panel: {unknown} participant(s) are joiners without an index date (or have "
                      f"{treated!r} missing): first_week is NaN and staggered_did drops them; they are never "
                      "used as controls", stacklevel=2)
    absent = ~w["participant_id"].isin(g.index)
    if absent.any():
        warnings.warn(f"weekly_panel: {w.loc[absent, 'participant_id'].nunique()} participant(s) in the daily table "
                      "are not in the participants table; their weeks are dropped", stacklevel=2)
        w = w[~absent]
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
