"""Build the small committed samples under ``data_samples/`` (``evaluation synth-samples``)."""
from __future__ import annotations

from pathlib import Path

from .daily import daily
from .participants import participants

SAMPLE_N = 1200
SAMPLE_SEED = 2023


def write_samples(folder: str | Path = "data_samples") -> dict[str, Path]:
    """Write ``participants.parquet`` and ``daily.parquet`` (2023, 1,200 people); return their paths. (The
    mobile-healthcare programme's records are written by ``evaluation records build params/mobile_healthcare.yaml``.)"""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    p = participants(SAMPLE_N, seed=SAMPLE_SEED)
    d = daily(p, "2023-01-02", "2023-12-31", seed=SAMPLE_SEED)
    out = {"participants": folder / "participants.parquet", "daily": folder / "daily.parquet"}
    p.to_parquet(out["participants"], index=False)
    d.to_parquet(out["daily"], index=False, compression="zstd")
    return out
