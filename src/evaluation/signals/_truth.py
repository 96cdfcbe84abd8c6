"""Cleaning accuracy against known truth: the synthetic exports carry the true non-wear mask and artefacts.

In: raw minutes with truth columns (``true_nonwear``, ``artefact``, ``true_gap_before``, ``true_clock_offset``)
and their cleaned rows; or a daily store and the true participant-days. Out: tidy ``metric, value, rows``.
The truth columns come from :mod:`evaluation.synth`; real exports have none, and then there is nothing to score.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

TRUTH_COLUMNS = ("true_nonwear", "artefact", "true_gap_before", "true_clock_offset")

_FLAG_OF = {
    "duplicate_identical": ("flag_duplicate",),
    "duplicate_conflict": ("flag_duplicate", "flag_conflict"),
    "implausible_hr": ("flag_hr_implausible",),
    "stuck_hr": ("flag_hr_stuck",),
    "step_spike": ("flag_steps_implausible",),
}


def accuracy_vs_truth(df: pd.DataFrame, cleaned: pd.DataFrame) -> pd.DataFrame:
    """Cleaning accuracy against the truth columns: non-wear balanced accuracy, recall per artefact
    class, sync-gap and clock-offset recall. ``cleaned`` is ``signals.clean_minutes(df)`` (same rows)."""
    copies = df["artefact"].isin(["duplicate_identical", "duplicate_conflict"]).to_numpy()
    pred = cleaned["flag_nonwear"].to_numpy()[~copies]
    truth = df["true_nonwear"].to_numpy()[~copies]
    sens = (pred & truth).sum() / max(truth.sum(), 1)
    spec = (~pred & ~truth).sum() / max((~truth).sum(), 1)
    rows = [("nonwear_balanced_accuracy", 0.5 * (sens + spec), int(len(truth)))]
    art = df["artefact"].to_numpy()
    for name, flags in _FLAG_OF.items():
        mask = art == name
        hit = np.logical_and.reduce([cleaned[f].to_numpy()[mask] for f in flags]) if mask.any() else np.array([])
        rows.append((f"recall_{name}", float(hit.mean()) if mask.any() else np.nan, int(mask.sum())))
    gap = df["true_gap_before"].to_numpy() > 0
    rows.append(("recall_sync_gap", float(cleaned["flag_gap"].to_numpy()[gap].mean()) if gap.any() else np.nan, int(gap.sum())))
    off = df["true_clock_offset"].to_numpy()
    rows.append(("recall_clock_offset", float(cleaned["flag_clock_offset"].to_numpy()[off].mean()) if off.any() else np.nan, int(off.sum())))
    return pd.DataFrame(rows, columns=["metric", "value", "rows"])


def has_truth(df: pd.DataFrame) -> bool:
    """Whether ``df`` carries the synthetic truth columns (real exports never do)."""
    return set(TRUTH_COLUMNS) <= set(df.columns)


def daily_accuracy_vs_truth(daily: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Daily store against the true participant-days: mean absolute wear-time error [minutes/day] and the
    absolute step error as a share of true steps [proportion]."""
    both = daily.merge(truth, on=["participant_id", "date"])
    return pd.DataFrame({
        "metric": ["wear_minutes_mean_abs_error", "steps_mean_abs_error_share"],
        "value": [float((both["wear_minutes"] - both["true_wear_minutes"]).abs().mean()),
                  float((both["steps"] - both["true_steps"]).abs().sum() / max(both["true_steps"].sum(), 1))],
        "rows": len(both)})
