"""A straightforward pandas implementation of the default rules (``nonwear="hr_steps"``, and ``"steps"``).

Not used by the pipeline: it is the cross-check for the numba kernels in the
tests (same flags, same daily table) and the "plain pandas" baseline of
``benchmarks/bench_signals.py``. Written the way an analyst would, with
sort / groupby / shift / cumsum, and no attempt at speed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._clean import local_minutes
from ._config import CADENCE_BANDS, DEFAULT, CleaningConfig
from ._daily import BAND_COLUMNS


def _runs(key: pd.Series, pid: pd.Series) -> pd.Series:
    change = (key != key.shift()) | (pid != pid.shift())
    return change.cumsum()


def clean_minutes_pandas(minutes: pd.DataFrame, config: CleaningConfig = DEFAULT) -> pd.DataFrame:
    """Same added columns as :func:`clean_minutes` for ``nonwear='hr_steps'`` and the plain ``'steps'`` rule."""
    if not (config.nonwear == "hr_steps" or (config.nonwear == "steps" and config.steps_spike_minutes == 0)):
        raise ValueError("the pandas reference implements the 'hr_steps' rule and the plain 'steps' rule only")
    df = pd.DataFrame(
        {
            "pid": minutes["participant_id"].astype(str).to_numpy(),
            "t": local_minutes(minutes["ts"], config.tz),
            "steps": minutes["steps"].fillna(0).astype("int64").to_numpy(),
            "hr": minutes["heart_rate"].astype("float64").to_numpy(),
            "row": np.arange(len(minutes)),
        }
    )
    df["hr_present"] = df["hr"].notna()
    df["hr_rank"] = df["hr"].fillna(-np.inf)
    df = df.sort_values(["pid", "t", "steps", "hr_present", "hr_rank", "row"], ascending=[True, True, False, False, False, True])
    df["flag_duplicate"] = df.duplicated(["pid", "t"], keep="first")
    grp = df.groupby(["pid", "t"], sort=False)
    n_steps = grp["steps"].transform("nunique")
    n_hr = df.assign(h=df["hr"].fillna(-1.0)).groupby(["pid", "t"], sort=False)["h"].transform("nunique")
    df["flag_conflict"] = (grp["steps"].transform("size") > 1) & ((n_steps > 1) | (n_hr > 1))

    k = df[~df["flag_duplicate"]].sort_values(["pid", "t"]).copy()
    k["gap_minutes"] = (k.groupby("pid")["t"].diff() - 1).fillna(0).astype("int64")
    k["flag_steps_implausible"] = (k["steps"] < 0) | (k["steps"] > config.steps_max)
    k["steps_clean"] = k["steps"].where(~k["flag_steps_implausible"], 0)
    k["flag_hr_implausible"] = k["hr"].notna() & ((k["hr"] < config.hr_min) | (k["hr"] > config.hr_max))
    run = (k["hr"] != k["hr"].shift()) | (k["pid"] != k["pid"].shift()) | k["hr"].isna()
    run_len = k.groupby(run.cumsum())["hr"].transform("size")
    k["flag_hr_stuck"] = k["hr"].notna() & (run_len >= config.stuck_hr_minutes)
    k["heart_rate_clean"] = k["hr"].where(~(k["flag_hr_implausible"] | k["flag_hr_stuck"]))
    hr_ok = k["hr"].notna() & ~k["flag_hr_implausible"]
    if config.nonwear == "steps":  # step-only devices: consecutive zero-step minutes
        step_only = pd.Series(True, index=k.index)
    else:  # participants without any heart-rate value (duplicate copies included) fall back to the steps rule
        any_hr = df.groupby("pid")["hr"].agg(lambda h: h.notna().any())
        step_only = ~k["pid"].map(any_hr).astype(bool) & config.hr_absent_fallback
    quiet = (k["steps"] == 0) & (step_only | ~hr_ok)
    frame = np.where(step_only, config.steps_frame, config.nonwear_min_minutes)
    qrun = _runs(quiet, k["pid"])
    k["flag_nonwear"] = quiet & (k.groupby(qrun)["t"].transform("size") >= frame)

    pos = k["steps_clean"] > 0
    ang = 2 * np.pi * (k["t"] % 1440) / 1440.0
    circ = pd.DataFrame({"pid": k["pid"], "x": np.where(pos, k["steps_clean"] * np.cos(ang), 0.0),
                         "y": np.where(pos, k["steps_clean"] * np.sin(ang), 0.0),
                         "s": np.where(pos, k["steps_clean"], 0)}).groupby("pid").sum()
    phase = np.arctan2(circ["y"], circ["x"]) / (2 * np.pi) * 1440.0
    d = (phase - config.expected_activity_phase_h * 60.0).abs() % 1440.0
    d = np.minimum(d, 1440.0 - d)
    off = (circ["s"] >= config.clock_offset_min_steps) & (d > config.clock_offset_threshold_h * 60.0)
    if not config.detect_clock_offset:
        off[:] = False

    df = df.join(k[["gap_minutes", "flag_steps_implausible", "steps_clean", "flag_hr_implausible",
                    "flag_hr_stuck", "heart_rate_clean", "flag_nonwear"]])
    df["flag_clock_offset"] = df["pid"].map(off).astype(bool)
    for c in ("flag_steps_implausible", "flag_hr_implausible", "flag_hr_stuck", "flag_nonwear"):
        df[c] = df[c].eq(True)
    df["gap_minutes"] = df["gap_minutes"].fillna(0).astype("int64")
    df["steps_clean"] = df["steps_clean"].fillna(0).astype("int64")
    df["flag_gap"] = df["gap_minutes"] > 0
    df["wear"] = ~(df["flag_nonwear"] | df["flag_duplicate"])
    df = df.sort_values("row")
    out = minutes.copy()
    for c in ("flag_duplicate", "flag_conflict", "flag_hr_implausible", "flag_hr_stuck", "flag_steps_implausible",
              "flag_nonwear", "flag_gap", "flag_clock_offset", "gap_minutes", "steps_clean", "heart_rate_clean", "wear"):
        out[c] = df[c].to_numpy()
    return out


def daily_summary_pandas(cleaned: pd.DataFrame, config: CleaningConfig = DEFAULT) -> pd.DataFrame:
    """Same table as :func:`daily_summary`, with groupby."""
    t = local_minutes(cleaned["ts"], config.tz) + np.where(cleaned["flag_clock_offset"], config.clock_offset_minutes, 0)
    df = cleaned.assign(participant_id=cleaned["participant_id"].astype(str), t=t)
    df["date"] = (df["t"] // 1440 * 86400).astype("datetime64[s]").astype("datetime64[ns]")
    df = df.sort_values(["participant_id", "t"], kind="stable")
    kept = df[~df["flag_duplicate"]].copy()
    zero = kept["steps_clean"] == 0
    zrun = _runs(zero, kept["participant_id"])
    kept["zpos"] = np.where(zero, kept.groupby(zrun).cumcount() + 1, 0)
    kept["rest_hr"] = kept["heart_rate_clean"].where(kept["wear"] & (kept["zpos"] >= config.rest_window_minutes))
    w = kept[kept["wear"]]
    keys = ["participant_id", "date"]
    out = df.groupby(keys).size().rename("_rows").to_frame()
    out["steps"] = w.groupby(keys)["steps_clean"].sum()
    out["wear_minutes"] = w.groupby(keys).size()
    out["recorded_minutes"] = kept.groupby(keys).size()
    out["gap_minutes"] = kept.groupby(keys)["gap_minutes"].sum()
    band = pd.cut(w["steps_clean"], list(CADENCE_BANDS) + [np.inf], right=False, labels=list(BAND_COLUMNS))
    out = out.join(w.groupby(keys + [band], observed=False).size().unstack(fill_value=0))
    out["moderate_minutes"] = (w["steps_clean"] >= config.moderate_cadence).groupby([w[k] for k in keys]).sum()
    out["vigorous_minutes"] = (w["steps_clean"] >= config.vigorous_cadence).groupby([w[k] for k in keys]).sum()
    out["peak_1min_cadence"] = w.groupby(keys)["steps_clean"].max()
    out["peak_30min_cadence"] = w.groupby(keys)["steps_clean"].apply(lambda s: s.nlargest(30).sum() / 30.0)
    rest = kept.groupby(keys)["rest_hr"].agg(["mean", "count"])
    out["resting_hr"] = rest["mean"].where(rest["count"] >= config.rest_min_minutes)
    for flag in ("duplicate", "conflict", "hr_implausible", "hr_stuck", "steps_implausible", "nonwear", "gap", "clock_offset"):
        src = df if flag in ("duplicate", "conflict") else kept
        out[f"n_{flag}"] = src.groupby(keys)[f"flag_{flag}"].sum()
    out = out.drop(columns="_rows").fillna({c: 0 for c in out.columns if c != "resting_hr"})
    out["valid_day"] = out["wear_minutes"] >= config.valid_day_minutes
    return out.reset_index()
