"""Synthetic participant-day table consistent with :func:`participants`.

Daily steps follow each person's habitual level with weekday and seasonal
patterns, day-to-day log-normal noise, and the programme's true effect from
:meth:`Truth.steps_effect` after enrolment. Wear time is mostly a full waking
day, with a share of short-wear days (``valid_day`` False) and whole missing
days; joiners stop producing rows after dropping out. Steps on short-wear days
scale with the share of the day worn, as a band would record them.

Vectorised over participant x day blocks, so 230,000 x 730 rows are made in
chunks with bounded memory (see :func:`write_daily_parquet`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from .participants import TRUTH, Truth

WEEKDAY_FACTOR = np.array([1.04, 1.05, 1.05, 1.04, 1.06, 0.95, 0.81])  # Mon..Sun
FULL_WEAR_MINUTES = 900  # a typical waking day worn in full


def _season(doy: np.ndarray) -> np.ndarray:
    # fewer steps in mid-winter and in the July-August monsoon/heat
    return 1.0 + 0.06 * np.sin(2 * np.pi * (doy - 100) / 365.25) - 0.04 * np.exp(-(((doy - 205) / 20.0) ** 2))


def _block(p: pd.DataFrame, dates: pd.DatetimeIndex, rng: np.random.Generator, truth: Truth) -> pd.DataFrame:
    n, d = len(p), len(dates)
    day_idx = dates.dayofweek.to_numpy()
    doy = dates.dayofyear.to_numpy()
    base = p["habitual_steps"].to_numpy(float)[:, None] * WEEKDAY_FACTOR[day_idx][None, :] * _season(doy)[None, :]
    noise = rng.normal(-0.5 * 0.3**2, 0.3, size=(n, d))
    true_steps = base * np.exp(noise)
    idx = p["index_date"].to_numpy("datetime64[D]")
    weeks_since = (dates.to_numpy("datetime64[D]")[None, :] - idx[:, None]).astype(float) / 7.0
    wave = p["wave"].to_numpy()
    effect = truth.steps_effect(wave[:, None], weeks_since)
    true_steps = np.maximum(true_steps + effect, 0.0)

    # wear: 8% short-wear days, 5% missing days; joiners vanish after dropout
    u = rng.random((n, d))
    wear = np.clip(rng.normal(FULL_WEAR_MINUTES, 90, size=(n, d)), 600, 1440)
    short = u < 0.08
    wear = np.where(short, rng.uniform(30, 599, size=(n, d)), wear)
    missing = (u >= 0.08) & (u < 0.13)
    present = ~missing
    drop = p["dropout_week"].to_numpy(float)
    gone = np.isfinite(drop)[:, None] & (weeks_since > np.nan_to_num(drop, nan=np.inf)[:, None])
    present &= ~gone
    frac = np.minimum(wear / FULL_WEAR_MINUTES, 1.0)
    steps = np.round(true_steps * frac)
    cadence_share = np.clip(rng.normal(0.18, 0.05, size=(n, d)), 0.0, 0.6)
    moderate = np.round(steps * cadence_share / 110.0)
    vigorous = np.round(moderate * np.clip(rng.normal(0.15, 0.05, size=(n, d)), 0, 1))
    # resting HR: lower for the habitually active, stable within person
    rhr_person = 66.0 - 4.0 * np.log(p["habitual_steps"].to_numpy(float) / 7000.0)
    rhr = rhr_person[:, None] + rng.normal(0, 2.5, size=(n, d))
    rows, cols = np.nonzero(present)
    return pd.DataFrame(
        {
            "participant_id": p["participant_id"].to_numpy()[rows],
            "date": dates.to_numpy("datetime64[D]")[cols].astype("datetime64[ns]"),
            "steps": steps[rows, cols].astype(np.int32),
            "wear_minutes": np.round(wear[rows, cols]).astype(np.int16),
            "valid_day": wear[rows, cols] >= 600,
            "moderate_minutes": moderate[rows, cols].astype(np.int16),
            "vigorous_minutes": vigorous[rows, cols].astype(np.int16),
            "resting_hr": np.round(rhr[rows, cols], 1),
            "true_steps": np.round(true_steps[rows, cols]).astype(np.int32),
            "true_effect": np.round(effect[rows, cols], 1),
        }
    )


def iter_daily(
    participants: pd.DataFrame,
    start: str = "2023-01-02",
    end: str = "2023-12-31",
    *,
    seed: int = 2023,
    chunk_size: int = 20_000,
    truth: Truth | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield the daily table in blocks of ``chunk_size`` participants (same rows as :func:`daily`)."""
    truth = truth or TRUTH
    dates = pd.date_range(start, end, freq="D")
    for i, lo in enumerate(range(0, len(participants), chunk_size)):
        rng = np.random.default_rng([seed, i])
        yield _block(participants.iloc[lo : lo + chunk_size], dates, rng, truth)


def daily(
    participants: pd.DataFrame,
    start: str = "2023-01-02",
    end: str = "2023-12-31",
    *,
    seed: int = 2023,
    chunk_size: int = 20_000,
    truth: Truth | None = None,
) -> pd.DataFrame:
    """One row per participant-day with data between ``start`` and ``end`` (inclusive).

    Columns: ``participant_id``, ``date``, ``steps`` (recorded steps/day),
    ``wear_minutes``, ``valid_day`` (wear >= 600 min), ``moderate_minutes``,
    ``vigorous_minutes``, ``resting_hr`` (bpm), and the truth columns
    ``true_steps`` (steps/day had the band been worn all day) and
    ``true_effect`` (programme effect in steps/day contained in ``true_steps``).
    """
    parts = list(iter_daily(participants, start, end, seed=seed, chunk_size=chunk_size, truth=truth))
    return pd.concat(parts, ignore_index=True) if parts else _block(participants.iloc[:0], pd.DatetimeIndex([]), np.random.default_rng(seed), truth or TRUTH)


def write_daily_parquet(
    participants: pd.DataFrame,
    path: str | Path,
    start: str = "2023-01-02",
    end: str = "2023-12-31",
    *,
    seed: int = 2023,
    chunk_size: int = 20_000,
) -> Path:
    """Write the daily table as a Parquet dataset (one file per participant chunk); returns the folder."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for i, block in enumerate(iter_daily(participants, start, end, seed=seed, chunk_size=chunk_size)):
        pq.write_table(pa.Table.from_pandas(block, preserve_index=False), path / f"part-{i:05d}.parquet")
    return path
