"""Minute-level synthetic band data (steps + heart rate) with a known truth mask.

:func:`minutes` returns one DataFrame: the band columns of the minutes contract
(``participant_id``, ``ts`` Asia/Seoul-aware, ``steps``, ``heart_rate`` float
bpm with NaN = no reading) **plus truth columns** that a cleaning pipeline must
never read but tests compare against:

``true_nonwear`` (bool)
    the band was off the wrist this minute (0 steps, no heart rate).
``artefact`` (category)
    the artefact injected into this row: ``none``, ``duplicate_identical`` and
    ``duplicate_conflict`` (an extra copy of a minute; a conflicting copy is a
    partial re-sync with *fewer* steps, or no heart rate when steps are 0),
    ``implausible_hr`` (a value outside 30-220 bpm), ``stuck_hr`` (the same
    value repeated over a 12-45 minute run), ``step_spike`` (261-2,000 steps in
    a minute).
``true_steps`` (int)
    the steps the band really counted in this minute (differs from ``steps``
    only on spikes).
``true_gap_before`` (int, minutes)
    number of minutes lost in a sync gap just before this row (0 = none).
``true_clock_offset`` (bool)
    the participant's whole export was written in UTC but labelled as local
    time, so ``ts`` is 9 hours early.

The stream itself: a circadian step profile (morning, lunch and evening peaks,
bursty 15-minute blocks) scaled so the expected daily total equals
``habitual_steps`` x the weekday and season factors of :mod:`.daily` (x
day-to-day log-normal noise, plus the programme effect when the participant
table carries ``index_date``/``wave``); sleep ~23:30-07:00 with heart rate
present and zero steps; non-wear as daytime off-wrist episodes (20-150 min),
nights slept without the band, short-wear days and whole days off; short
heart-rate dropouts while worn (truth: worn). Everything is vectorised over
participant x minute blocks (no per-minute Python loop).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .daily import WEEKDAY_FACTOR, _season
from .participants import TRUTH

TZ = "Asia/Seoul"
KST_OFFSET_MIN = 540  # Asia/Seoul is UTC+9 with no daylight saving since 1988
ARTEFACTS = ("none", "duplicate_identical", "duplicate_conflict", "implausible_hr", "stuck_hr", "step_spike")
_A = {name: i for i, name in enumerate(ARTEFACTS)}
M = 1440


@dataclass(frozen=True)
class MinuteRates:
    """Rates of non-wear and artefacts used by :func:`minutes` (per minute unless stated)."""

    daytime_off_per_day: float = 0.8  # expected off-wrist episodes per day (Poisson), 20-150 min each
    night_off_share: float = 0.15  # nights slept without the band
    day_off_share: float = 0.04  # whole days not worn
    short_wear_share: float = 0.06  # days worn only 1-8 h
    hr_dropout: float = 0.002  # starts of 1-4 min heart-rate dropouts while worn
    dup_identical: float = 0.001
    dup_conflict: float = 0.0005
    implausible_hr: float = 0.0003
    stuck_per_day: float = 0.25  # stuck heart-rate runs per day, 12-45 min
    spike: float = 0.0003
    gaps_per_day: float = 0.3  # sync gaps per day, 2-90 min
    clock_offset_share: float = 0.05  # participants exported in UTC labelled as local


RATES = MinuteRates()


def _activity_profile() -> np.ndarray:
    tod = np.arange(M) / 60.0
    peaks = 0.9 * np.exp(-((tod - 8.2) / 0.7) ** 2) + 0.6 * np.exp(-((tod - 12.6) / 0.6) ** 2) + 0.8 * np.exp(-((tod - 18.7) / 1.0) ** 2)
    return 0.25 + peaks


def _episodes(mask: np.ndarray, starts: np.ndarray, lengths: np.ndarray, row_len: int) -> None:
    """Set ``mask[r, s:s+l]`` for flattened ``starts`` (row*row_len + s) using a difference array."""
    if len(starts) == 0:
        return
    n = mask.size
    row = starts // row_len
    end = np.minimum(starts + lengths, (row + 1) * row_len)
    diff = np.zeros(n + 1, np.int32)
    np.add.at(diff, starts, 1)
    np.add.at(diff, end, -1)
    mask.reshape(-1)[:] |= np.cumsum(diff[:-1]) > 0


def _chunk(p: pd.DataFrame, start: pd.Timestamp, days: int, rng: np.random.Generator, rates: MinuteRates) -> pd.DataFrame:
    n, D = len(p), days
    T = D * M
    dates = pd.date_range(start.tz_localize(None).normalize(), periods=D, freq="D")
    dow = dates.dayofweek.to_numpy()
    # expected daily total consistent with synth.daily
    target = p["habitual_steps"].to_numpy(float)[:, None] * WEEKDAY_FACTOR[dow][None, :] * _season(dates.dayofyear.to_numpy())[None, :]
    target = target * np.exp(rng.normal(-0.5 * 0.3**2, 0.3, size=(n, D)))
    if {"index_date", "wave"} <= set(p.columns):
        weeks = (dates.to_numpy("datetime64[D]")[None, :] - p["index_date"].to_numpy("datetime64[D]")[:, None]).astype(float) / 7.0
        target = np.maximum(target + TRUTH.steps_effect(p["wave"].to_numpy()[:, None], weeks), 0.0)

    tod = np.tile(np.arange(M), D)  # (T,)
    day = np.repeat(np.arange(D), M)
    # sleep: onset ~23:30 +- 40 min, 7.5 h +- 45 min; index 0 is the night before day 0
    onset = np.rint(rng.normal(23.5 * 60, 40, size=(n, D + 1))).astype(np.int64)
    wake = onset + np.rint(rng.normal(450, 45, size=(n, D + 1))).astype(np.int64) - M
    on_d, on_prev, wk_prev = onset[:, 1:][:, day], onset[:, :-1][:, day], wake[:, :-1][:, day]
    asleep = (tod[None, :] >= on_d) | ((tod[None, :] >= on_prev - M) & (tod[None, :] < wk_prev))
    awake = ~asleep

    prof = _activity_profile()
    mean_cad = 0.7 * 40 * np.exp(0.5 * 0.35**2) + 0.3 * 110
    exp_raw = (awake.reshape(n, D, M) @ prof) * mean_cad  # expected steps/day at multiplier 1, (n, D)
    mult = 1.06 * target / np.maximum(exp_raw, 1.0)  # 1.06: offsets the 0.9 cap on busy blocks
    block = rng.gamma(1.0, 1.0, size=(n, T // 15))
    pact = np.minimum(prof[tod][None, :] * np.repeat(mult, M, axis=1) * np.repeat(block, 15, axis=1), 0.9)
    active = awake & (rng.random((n, T), dtype=np.float32) < pact)
    brisk = rng.random((n, T), dtype=np.float32) < 0.3
    z = rng.standard_normal((n, T), dtype=np.float32)
    cad = np.where(brisk, 110.0 * np.exp(0.08 * z), 40.0 * np.exp(0.35 * z))
    steps = np.where(active, np.clip(np.rint(cad), 1, 200), 0).astype(np.int16)

    rhr = 66.0 - 4.0 * np.log(p["habitual_steps"].to_numpy(float) / 7000.0)
    hr = rhr[:, None] + np.where(asleep, -4.0, 6.0) + 0.35 * steps + np.repeat(rng.normal(0, 3, size=(n, T // 15)), 15, axis=1)
    hr = np.rint(hr + 2.5 * rng.standard_normal((n, T), dtype=np.float32)).astype(np.float32)

    # --- non-wear truth
    nonwear = np.zeros((n, T), bool)
    k = rng.poisson(rates.daytime_off_per_day, size=(n, D))
    r, d = np.nonzero(k)
    r, d = np.repeat(r, k[r, d]), np.repeat(d, k[r, d])
    s = d * M + rng.integers(8 * 60, 21 * 60, size=len(r))
    _episodes(nonwear, r * T + s, rng.integers(20, 151, size=len(r)), T)
    # nights without the band: from 30 min before bed to 20 min after waking
    r, d = np.nonzero(rng.random((n, D + 1)) < rates.night_off_share)
    s = (d - 1) * M + onset[r, d] - 30
    e = d * M + wake[r, d] + 20
    s, e = np.clip(s, 0, T), np.clip(e, 0, T)
    ok = e > s
    _episodes(nonwear, (r * T + s)[ok], (e - s)[ok], T)
    u = rng.random((n, D))
    r, d = np.nonzero(u < rates.day_off_share)
    _episodes(nonwear, r * T + d * M, np.full(len(r), M), T)
    r, d = np.nonzero((u >= rates.day_off_share) & (u < rates.day_off_share + rates.short_wear_share))
    on_at = rng.integers(7 * 60, 12 * 60, size=len(r))
    worn_for = rng.integers(60, 480, size=len(r))
    _episodes(nonwear, r * T + d * M, on_at, T)
    _episodes(nonwear, r * T + d * M + on_at + worn_for, M - on_at - worn_for, T)
    steps[nonwear] = 0
    hr[nonwear] = np.nan
    # short heart-rate dropouts while worn (still worn)
    drop = np.zeros((n, T), bool)
    st = np.flatnonzero(rng.random(n * T, dtype=np.float32) < rates.hr_dropout)
    _episodes(drop, st, rng.integers(1, 5, size=len(st)), T)
    hr[drop] = np.nan

    worn = ~nonwear
    art = np.zeros((n, T), np.int8)
    true_steps = steps.copy()
    flat_hr, flat_steps, flat_art = hr.reshape(-1), steps.reshape(-1), art.reshape(-1)
    # stuck heart rate: a run of one repeated value on worn minutes that all had a reading
    okm = (worn & ~np.isnan(hr)).reshape(-1)
    cs = np.concatenate([[0], np.cumsum(okm)])
    kk = rng.poisson(rates.stuck_per_day * D, size=n)
    rr = np.repeat(np.arange(n), kk)
    L = rng.integers(12, 46, size=len(rr))
    s0 = rr * T + rng.integers(1, T - 50, size=len(rr))
    good = cs[s0 + L] - cs[s0] == L
    taken = np.zeros(n * T + 1, np.int32)
    for s_, l_ in zip(s0[good], L[good]):  # a few hundred runs at most per chunk
        if taken[s_ - 1 : s_ + l_ + 1].any():
            continue
        taken[s_ : s_ + l_] = 1
        flat_hr[s_ : s_ + l_] = flat_hr[s_]
        flat_art[s_ : s_ + l_] = _A["stuck_hr"]
    free = flat_art == 0
    w = worn.reshape(-1)
    u = rng.random(n * T, dtype=np.float32)
    imp = free & w & ~np.isnan(flat_hr) & (u < rates.implausible_hr)
    bad_hr = np.concatenate([np.arange(0, 26), np.arange(225, 256)]).astype(np.float32)
    flat_hr[imp] = rng.choice(bad_hr, size=int(imp.sum()))
    flat_art[imp] = _A["implausible_hr"]
    spk = free & w & ~imp & (u > 1 - rates.spike)
    flat_steps[spk] = rng.integers(261, 2001, size=int(spk.sum()))
    flat_art[spk] = _A["step_spike"]

    # sync gaps: interior minutes removed
    keep = np.ones(n * T, bool)
    kk = rng.poisson(rates.gaps_per_day * D, size=n)
    rr = np.repeat(np.arange(n), kk)
    gs = rr * T + rng.integers(1, T - 100, size=len(rr))
    gap = np.zeros((n, T), bool)
    _episodes(gap, gs, rng.integers(2, 91, size=len(rr)), T)
    keep &= ~gap.reshape(-1)

    pid_idx = np.repeat(np.arange(n), T)
    base = (start.tz_convert("UTC").tz_localize(None).value // 60_000_000_000)
    tmin = base + np.tile(np.arange(T, dtype=np.int64), n)
    idx = np.flatnonzero(keep)
    # duplicates (copies appended, then a stable sort places them after the original)
    u2 = rng.random(len(idx), dtype=np.float32)
    dup_i = idx[u2 < rates.dup_identical]
    cand = (flat_steps[idx] > 0) | ~np.isnan(flat_hr[idx])
    dup_c = idx[(u2 >= rates.dup_identical) & (u2 < rates.dup_identical + rates.dup_conflict) & cand & (flat_art[idx] == 0)]
    c_steps = flat_steps[dup_c].copy()
    c_hr = flat_hr[dup_c].copy()
    pos = c_steps > 0
    c_steps[pos] = np.floor(c_steps[pos] * rng.uniform(0, 0.8, size=int(pos.sum()))).astype(np.int16)
    delta = rng.choice(np.array([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5], np.float32), size=len(dup_c))
    c_hr = np.where(pos, c_hr + delta, np.nan).astype(np.float32)

    rows = np.concatenate([idx, dup_i, dup_c])
    out_steps = np.concatenate([flat_steps[idx], flat_steps[dup_i], c_steps])
    out_hr = np.concatenate([flat_hr[idx], flat_hr[dup_i], c_hr])
    out_art = np.concatenate([flat_art[idx], np.full(len(dup_i), _A["duplicate_identical"], np.int8), np.full(len(dup_c), _A["duplicate_conflict"], np.int8)])
    order = np.argsort(rows, kind="stable")
    rows, out_steps, out_hr, out_art = rows[order], out_steps[order], out_hr[order], out_art[order]
    is_copy = out_art >= _A["duplicate_identical"]
    is_copy &= out_art <= _A["duplicate_conflict"]
    # truth of the gap before each kept original (copies carry 0)
    t_orig = tmin[rows]
    p_orig = pid_idx[rows]
    gap_before = np.zeros(len(rows), np.int32)
    orig_pos = np.flatnonzero(~is_copy)
    dt = np.diff(t_orig[orig_pos]) - 1
    same = p_orig[orig_pos][1:] == p_orig[orig_pos][:-1]
    gap_before[orig_pos[1:]] = np.where(same, dt, 0)

    offset = rng.random(n) < rates.clock_offset_share
    ts_min = t_orig - np.where(offset[p_orig], KST_OFFSET_MIN, 0)
    ids = p["participant_id"].astype(str).to_numpy()
    return pd.DataFrame(
        {
            "participant_id": pd.Categorical.from_codes(np.zeros(0, np.int8), categories=[]) if n == 0 else ids[p_orig],
            "ts": pd.DatetimeIndex((ts_min * 60_000_000_000).astype("datetime64[ns]"), tz="UTC").tz_convert(TZ),
            "steps": out_steps.astype(np.int16),
            "heart_rate": out_hr.astype(np.float32),
            "true_nonwear": nonwear.reshape(-1)[rows],
            "artefact": pd.Categorical.from_codes(out_art.astype(np.int8), categories=list(ARTEFACTS)),
            "true_steps": true_steps.reshape(-1)[rows],
            "true_gap_before": gap_before,
            "true_clock_offset": offset[p_orig],
        }
    )


def minutes(
    participants: pd.DataFrame,
    start: str | pd.Timestamp = "2023-03-06",
    days: int = 7,
    *,
    seed: int = 2023,
    rates: MinuteRates = RATES,
    chunk_size: int = 100,
) -> pd.DataFrame:
    """Minute rows for every participant over ``days`` local days from ``start`` (Asia/Seoul midnight).

    ``participants`` needs ``participant_id`` and ``habitual_steps`` (steps/day);
    ``index_date`` and ``wave`` add the programme effect of :data:`TRUTH`.
    Returns the band columns plus the truth columns described in the module
    docstring, sorted by participant then time as exported (clock-offset
    participants therefore carry UTC-labelled times). ``participant_id`` is
    categorical to keep 40M-row frames small.
    """
    start = pd.Timestamp(start)
    start = start.tz_localize(TZ) if start.tz is None else start.tz_convert(TZ)
    ids = participants["participant_id"].astype(str)
    parts = []
    for i, lo in enumerate(range(0, max(len(participants), 1), chunk_size)):
        block = participants.iloc[lo : lo + chunk_size]
        if len(block) == 0:
            continue
        parts.append(_chunk(block, start, days, np.random.default_rng([seed, i]), rates))
    if not parts:
        raise ValueError("participants is empty: nothing to generate")
    df = pd.concat(parts, ignore_index=True)
    df["participant_id"] = pd.Categorical(df["participant_id"], categories=pd.unique(ids))
    return df


def truth_daily(df: pd.DataFrame) -> pd.DataFrame:
    """True participant-day figures from :func:`minutes` output (local date of the *true* time).

    ``true_steps``: steps the band counted on worn minutes present in the export
    (minutes lost in sync gaps are not recoverable and not counted; duplicate
    copies counted once); ``true_wear_minutes``: worn minutes present.
    """
    orig = ~df["artefact"].isin(["duplicate_identical", "duplicate_conflict"]).to_numpy()
    t = df["ts"].array.asi8 // 60_000_000_000 + np.where(df["true_clock_offset"].to_numpy(), KST_OFFSET_MIN, 0)
    local_day = (t + KST_OFFSET_MIN) // M
    worn = ~df["true_nonwear"].to_numpy()
    sub = pd.DataFrame(
        {
            "participant_id": df["participant_id"].to_numpy()[orig],
            "date": (local_day[orig] * 86400).astype("datetime64[s]").astype("datetime64[ns]"),
            "true_steps": np.where(worn, df["true_steps"].to_numpy(np.int64), 0)[orig],
            "true_wear_minutes": worn[orig].astype(np.int64),
        }
    )
    return sub.groupby(["participant_id", "date"], observed=True, as_index=False).sum()


def write_minutes_sample(folder: str | Path = "data_samples", n: int = 20, days: int = 7, seed: int = 2023) -> Path:
    """Write ``minutes_sample.parquet`` for the first ``n`` ids of ``participants.parquet`` in ``folder``."""
    folder = Path(folder)
    p = pd.read_parquet(folder / "participants.parquet").iloc[:n]
    df = minutes(p, "2023-03-06", days, seed=seed, rates=MinuteRates(clock_offset_share=0.1))
    path = folder / "minutes_sample.parquet"
    df.to_parquet(path, index=False, compression="zstd")
    return path


# the scoring moved to signals (validation, not generation); kept here for one release
from ..signals._truth import accuracy_vs_truth as score  # noqa: E402,F401
