"""Which vendor format a file is, from its content (magic bytes and first lines), gz/zip aware."""
from __future__ import annotations

import re
from pathlib import Path

from ._common import head_bytes

_FITBIT_NAME = re.compile(r"^(steps|heart_rate)-\d{4}-\d{2}-\d{2}\.json(\.gz)?$", re.I)


def _fit_header(raw: bytes) -> bool:
    # FIT header: size byte 12 or 14, then protocol, profile, data size, then ".FIT" at bytes 8-11
    return len(raw) >= 12 and raw[0] in (12, 14) and raw[8:12] == b".FIT"


def detect_format(path: str | Path) -> str | None:
    """The vendor format of ``path`` (one of ``FORMATS``) or ``None`` (then it is a band CSV / Parquet).

    A folder is detected by the files in it when they all share one vendor format.
    """
    path = Path(path)
    if path.is_dir():
        found = {detect_format(p) for p in sorted(path.iterdir()) if p.is_file()}
        found.discard(None)
        return found.pop() if len(found) == 1 else None
    raw = head_bytes(path, 8192)
    if not raw:
        return None
    if _fit_header(raw):
        return "garmin_fit"
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text.startswith("<"):
        return "apple_health_xml" if ("<HealthData" in text or "HealthKit Export" in text) else None
    if text.startswith("["):
        body = re.sub(r"\s+", "", text[:400])
        if body.startswith('[{"dateTime"') or (body.startswith("[]") and _FITBIT_NAME.match(path.name)):
            return "fitbit_json"
        return None
    first = text.splitlines()[0] if text else ""
    if first.startswith("com.samsung."):
        return "samsung_health_csv"
    header = [c.strip().strip('"') for c in first.split(",")]
    if header[:1] == ["Id"] and ("ActivityMinute" in header or header[:3] == ["Id", "Time", "Value"]):
        return "fitabase_csv"
    return None
