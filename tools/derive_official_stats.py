"""Regenerate ``data_samples/district_official.csv`` from the official tables in ``../shared/reference``.

Usage: ``python tools/derive_official_stats.py [REFERENCE_DIR]`` (default: ``../shared/reference/seoul_districts``).
"""
from __future__ import annotations

import sys
from pathlib import Path

from evaluation.reference import official_stats

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    ref = Path(argv[0]) if argv else ROOT.parent / "shared" / "reference" / "seoul_districts"
    out = ROOT / "data_samples" / "district_official.csv"
    official_stats.derive(ref).to_csv(out, index=False)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
