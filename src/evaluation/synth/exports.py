"""Synthetic raw exports on disk, as a band platform and own devices would deliver them, with the truth apart.

:func:`write_exports` generates minutes with :func:`evaluation.synth.minutes.minutes`
(non-wear, artefacts, clock offsets and the programme effect of ``TRUTH``) and writes:

* ``<folder>/band/<YYYY-MM-DD>/part-<k>.csv`` -- the band platform's daily dump for
  a block of participants: ``participant_id,ts,steps,heart_rate`` with naive local
  times (clock-offset participants carry UTC wall-clock times, as in the truth),
  empty heart rate = no reading; rows in export order, duplicates included;
* own-device participants in the vendor formats of
  :func:`evaluation.ingest.vendors.write_synthetic` when that module is installed
  (``<folder>/<format>/<participant>.<ext>``, one full-period file each), else band CSV;
* ``<truth>/minutes_truth.parquet`` -- every column of the generator (truth included)
  for the first ``truth_participants`` participants, to score cleaning against;
* ``<truth>/daily_truth.parquet`` -- per participant-day ``true_steps``,
  ``true_wear_minutes`` and ``true_effect`` (steps/day the programme added).

Truth never goes into the exports folder. Written once: a marker file records the
settings, and a second call with the same settings writes nothing (files keep
their modification times, so an incremental build sees no change).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from .minutes import RATES, MinuteRates, minutes as make_minutes, truth_daily
from .participants import TRUTH

VENDOR_EXT = {"apple_health_xml": ".xml", "samsung_health_csv": ".csv", "fitbit_json": ".json"}
MARKER = ".synthetic.json"
CONTRACT = ["participant_id", "ts", "steps", "heart_rate"]


def sample(participants: pd.DataFrame, per_wave: int = 0, comparison: int = 0, seed: int = 2023,
           waves: Iterable[int] | None = None) -> pd.DataFrame:
    """A demo cohort: ``per_wave`` joiners from each enrolment wave in ``waves`` (default all) and
    ``comparison`` non-joiners (0 = all of them) whose screening (index) dates fall in the same weeks,
    drawn at random with ``seed``; original order kept."""
    rng = np.random.default_rng(seed)
    waves = None if waves is None else set(waves)
    joiners = participants[(participants["wave"] > 0) & (True if waves is None else participants["wave"].isin(waves))]
    comp = participants[participants["wave"] == 0]
    if waves is not None and len(joiners):
        comp = comp[comp["index_date"].between(joiners["index_date"].min(), joiners["index_date"].max())]
    keep = []
    for _, g in joiners.groupby("wave", sort=True):
        idx = g.index.to_numpy()
        keep.append(idx if per_wave == 0 or per_wave >= len(idx) else rng.choice(idx, size=per_wave, replace=False))
    idx = comp.index.to_numpy()
    keep.append(idx if comparison == 0 or comparison >= len(idx) else rng.choice(idx, size=comparison, replace=False))
    return participants.loc[np.sort(np.concatenate(keep))]


def band_csv(minutes: pd.DataFrame, path: str | Path) -> Path:
    """Write minutes (contract columns) as a band CSV with naive local times; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    local = minutes["ts"].dt.tz_convert("Asia/Seoul").dt.tz_localize(None)
    table = pa.table({
        "participant_id": pa.array(minutes["participant_id"].astype(str).to_numpy()),
        "ts": pa.array(local.to_numpy().astype("datetime64[s]")),
        "steps": pa.array(minutes["steps"].to_numpy()),
        "heart_rate": pa.array(minutes["heart_rate"].to_numpy(), from_pandas=True),  # NaN -> empty cell
    })
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    return path


def _vendors():
    try:  # vendor writers arrive with evaluation.ingest.vendors; band CSV stands in until then
        from ..ingest import vendors
    except ImportError:
        return None
    return vendors if hasattr(vendors, "write_synthetic") else None


def write_exports(
    participants: pd.DataFrame,
    folder: str | Path,
    *,
    start: str = "2023-03-06",
    days: int = 7,
    truth: str | Path,
    formats: Iterable[str] = ("band_csv",),
    truth_participants: int = 20,
    seed: int = 2023,
    rates: MinuteRates = RATES,
    block: int = 50,
) -> dict[str, Any]:
    """Write synthetic exports for ``participants`` over ``days`` local days from ``start``; see the module doc.

    Returns ``{"files": [...], "rows": n, "formats": {format: files}, "written": bool}``.
    """
    folder, truth = Path(folder), Path(truth)
    formats = list(formats)
    vendors = _vendors()
    vendor_formats = [f for f in formats if f in VENDOR_EXT] if vendors else []
    settings = {"ids": hashlib.sha1("\x1f".join(participants["participant_id"].astype(str)).encode()).hexdigest(),
                "start": str(start), "days": int(days), "formats": formats, "vendor_formats": vendor_formats,
                "truth_participants": int(truth_participants), "seed": int(seed), "rates": repr(rates)}
    marker = folder / MARKER
    if marker.exists() and json.loads(marker.read_text(encoding="utf-8")).get("settings") == settings:
        return {**json.loads(marker.read_text(encoding="utf-8"))["result"], "written": False}
    folder.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    per_format: dict[str, int] = {}
    n_rows = 0
    truth_min, truth_day = [], []
    own = participants["arm"].astype(str).eq("own_device").to_numpy() if "arm" in participants.columns else np.zeros(len(participants), bool)
    for k, lo in enumerate(range(0, len(participants), block)):
        p = participants.iloc[lo:lo + block]
        df = make_minutes(p, start, days, seed=seed * 1000 + k, rates=rates)
        n_rows += len(df)
        td = truth_daily(df)
        q = p.set_index("participant_id").loc[td["participant_id"].astype(str)]
        weeks = (td["date"].to_numpy("datetime64[D]") - q["index_date"].to_numpy("datetime64[D]")).astype(float) / 7.0
        td["true_effect"] = np.round(TRUTH.steps_effect(q["wave"].to_numpy(), weeks), 1)
        truth_day.append(td)
        taken = sum(len(t["participant_id"].unique()) for t in truth_min)
        if taken < truth_participants:
            ids = p["participant_id"].astype(str).iloc[: truth_participants - taken]
            truth_min.append(df[df["participant_id"].astype(str).isin(ids)])
        pid = df["participant_id"].astype(str).to_numpy()
        vendor_ids = set(p["participant_id"].astype(str)[own[lo:lo + block]]) if vendor_formats else set()
        if vendor_ids:
            for j, who in enumerate(sorted(vendor_ids)):
                fmt = vendor_formats[(lo + j) % len(vendor_formats)]
                rows = df.loc[pid == who, CONTRACT].reset_index(drop=True)
                path = folder / fmt / f"{who}{VENDOR_EXT[fmt]}"
                path.parent.mkdir(parents=True, exist_ok=True)
                vendors.write_synthetic(fmt, rows, path, participant_id=who)
                files.append(str(path))
                per_format[fmt] = per_format.get(fmt, 0) + 1
        band = df.loc[~np.isin(pid, list(vendor_ids)), CONTRACT] if vendor_ids else df[CONTRACT]
        # labelled local date (Asia/Seoul is UTC+9 without daylight saving), as integers: no per-row strftime
        day = (band["ts"].array.asi8 // 60_000_000_000 + 540) // 1440
        order = np.argsort(day, kind="stable")
        cuts = np.flatnonzero(np.diff(day[order])) + 1
        for sel in np.split(order, cuts) if len(order) else []:
            d = str(np.datetime64(int(day[sel[0]]), "D"))
            path = band_csv(band.iloc[sel], folder / "band" / d / f"part-{k:03d}.csv")
            files.append(str(path))
            per_format["band_csv"] = per_format.get("band_csv", 0) + 1
    pd.concat(truth_min, ignore_index=True).to_parquet(truth / "minutes_truth.parquet", index=False) if truth_min else None
    pd.concat(truth_day, ignore_index=True).to_parquet(truth / "daily_truth.parquet", index=False)
    result = {"files": len(files), "rows": int(n_rows), "formats": per_format}
    marker.write_text(json.dumps({"settings": settings, "result": result}, indent=2), encoding="utf-8")
    return {**result, "written": True}


def write_from_params(syn: Any, folder: str | Path, base: str | Path = ".") -> dict[str, Any]:
    """:func:`write_exports` for a params file's ``build.synthetic`` section (paths relative to ``base``)."""
    base = Path(base)
    people = pd.read_parquet(base / syn.participants)
    cohort = sample(people, syn.per_wave, syn.comparison, seed=syn.seed, waves=syn.waves)
    return write_exports(cohort, folder, start=syn.start, days=syn.days, truth=base / syn.truth, formats=syn.formats,
                         truth_participants=syn.truth_participants, seed=syn.seed)
