"""Synthetic vendor exports written from a minutes table: for tests (known truth) and the demo.

Each writer lays the file(s) out the way the vendor does (Apple ``export.xml`` with its DTD head,
Samsung's metadata line and dotted headers with trailing commas, Fitbit's per-day JSON files), so a
round trip ``write_synthetic -> read_vendor`` returns the same minute steps and heart rate.
``duplicate_source=True`` adds a second, lower-priority source with wrong values over the same
minutes (an iPhone under the watch; an older ``update_time`` copy from a second Samsung device),
which the readers must discard.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

TZ = "Asia/Seoul"

_APPLE_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 11 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Record (MetadataEntry*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
]>
<HealthData locale="ko_KR">
 <ExportDate value="{export}"/>
"""
_WATCH = ("Apple Watch", "<<HKDevice: 0x283e2d0e0>, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
          "hardware:Watch6,1, software:9.0>")
_PHONE = ("홍길동의 iPhone", "<<HKDevice: 0x283e2d130>, name:iPhone, manufacturer:Apple Inc., model:iPhone, "
          "hardware:iPhone14,2, software:16.0>")


def _prep(minutes: pd.DataFrame, participant_id: str) -> pd.DataFrame:
    m = minutes
    if "participant_id" in m.columns and (m["participant_id"] == participant_id).any():
        m = m[m["participant_id"] == participant_id]
    ts = pd.to_datetime(m["ts"])
    ts = ts.dt.tz_localize(TZ) if ts.dt.tz is None else ts.dt.tz_convert(TZ)
    out = pd.DataFrame({"ts": ts.dt.floor("min"),
                        "steps": pd.to_numeric(m.get("steps", np.nan), errors="coerce").astype(float),
                        "heart_rate": pd.to_numeric(m.get("heart_rate", np.nan), errors="coerce").astype(float)})
    return out.sort_values("ts").reset_index(drop=True)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _apple(m: pd.DataFrame, path: Path, duplicate_source: bool) -> Path:
    fmt = "%Y-%m-%d %H:%M:%S %z"
    opener = gzip.open if path.name.endswith(".gz") else open
    start = m["ts"].dt.strftime(fmt).to_numpy()
    end = (m["ts"] + pd.Timedelta(minutes=1)).dt.strftime(fmt).to_numpy()
    mid = (m["ts"] + pd.Timedelta(seconds=30)).dt.strftime(fmt).to_numpy()
    created = (m["ts"] + pd.Timedelta(minutes=5)).dt.strftime(fmt).to_numpy()
    export = (m["ts"].max() + pd.Timedelta(days=1)).strftime(fmt) if len(m) else "2024-01-01 00:00:00 +0900"
    rec = ' <Record type="{t}" sourceName={n} sourceVersion="9.0" device={d} unit="{u}" creationDate="{c}" startDate="{s}" endDate="{e}" value="{v}"/>\n'
    watch = (quoteattr(_WATCH[0]), quoteattr(_WATCH[1]))
    phone = (quoteattr(_PHONE[0]), quoteattr(_PHONE[1]))
    steps, hr = m["steps"].to_numpy(), m["heart_rate"].to_numpy()
    with opener(path, "wt", encoding="utf-8") as fh:
        fh.write(_APPLE_HEAD.replace("{export}", export))
        buf = []
        for i in range(len(m)):
            if np.isfinite(steps[i]):
                buf.append(rec.format(t="HKQuantityTypeIdentifierStepCount", n=watch[0], d=watch[1], u="count",
                                      c=created[i], s=start[i], e=end[i], v=_num(steps[i])))
                if duplicate_source:
                    buf.append(rec.format(t="HKQuantityTypeIdentifierStepCount", n=phone[0], d=phone[1], u="count",
                                          c=created[i], s=start[i], e=end[i], v=_num(steps[i] + 7)))
            if np.isfinite(hr[i]):
                buf.append(rec.format(t="HKQuantityTypeIdentifierHeartRate", n=watch[0], d=watch[1], u="count/min",
                                      c=created[i], s=mid[i], e=mid[i], v=_num(hr[i])))
            if len(buf) > 10_000:
                fh.write("".join(buf))
                buf = []
        fh.write("".join(buf))
        fh.write("</HealthData>\n")
    return path


def _samsung(m: pd.DataFrame, folder: Path, duplicate_source: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fmt = "%Y-%m-%d %H:%M:%S.000"
    utc = m["ts"].dt.tz_convert("UTC")
    off = m["ts"].dt.strftime("%z").map(lambda z: f"UTC{z}")
    stamp = utc.max().strftime("%Y%m%d%H%M%S") if len(m) else "20240101000000"
    upd = (utc + pd.Timedelta(hours=1)).dt.strftime(fmt)
    old = (utc + pd.Timedelta(minutes=30)).dt.strftime(fmt)

    def write(name: str, cols: list[str], rows: list[list[str]]) -> None:
        dtype = f"com.samsung.shealth.tracker.{name}"
        with open(folder / f"{dtype}.{stamp}.csv", "w", encoding="utf-8", newline="") as fh:
            fh.write(f"{dtype},6315007,{len(cols)}\n")
            fh.write(",".join(cols) + ",\n")
            fh.writelines(",".join(r) + ",\n" for r in rows)

    p = "com.samsung.health.step_count."
    s = m[m["steps"].notna()]
    su = utc[s.index]
    st = su.dt.strftime(fmt).to_numpy()
    en = (su + pd.Timedelta(minutes=1)).dt.strftime(fmt).to_numpy()
    rows = []
    for i, (a, b, o, v, u, w) in enumerate(zip(st, en, off[s.index], s["steps"], upd[s.index], old[s.index])):
        rows.append([a, b, o, _num(v), u, u, "dev-watch-0001", f"uuid-s-{i}", "com.sec.android.app.shealth"])
        if duplicate_source:
            rows.append([a, b, o, _num(v + 5), w, w, "dev-phone-0002", f"uuid-s-{i}-p", "com.sec.android.app.shealth"])
    write("pedometer_step_count", [p + c for c in ("start_time", "end_time", "time_offset", "count", "update_time",
                                                   "create_time", "deviceuuid", "datauuid", "pkg_name")], rows)
    q = "com.samsung.health.heart_rate."
    h = m[m["heart_rate"].notna()]
    hu = utc[h.index]
    hs = (hu + pd.Timedelta(seconds=30)).dt.strftime(fmt).to_numpy()
    rows = [[a, a, o, _num(v), _num(v), _num(v), u, u, "dev-watch-0001", f"uuid-h-{i}", "com.sec.android.app.shealth"]
            for i, (a, o, v, u) in enumerate(zip(hs, off[h.index], h["heart_rate"], upd[h.index]))]
    write("heart_rate", [q + c for c in ("start_time", "end_time", "time_offset", "heart_rate", "min", "max",
                                         "update_time", "create_time", "deviceuuid", "datauuid", "pkg_name")], rows)
    return folder


def _fitbit(m: pd.DataFrame, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for day, d in m.groupby(m["ts"].dt.strftime("%Y-%m-%d")):
        s = d[d["steps"].notna()]
        steps = [{"dateTime": t.strftime("%m/%d/%y %H:%M:%S"), "value": _num(v)} for t, v in zip(s["ts"], s["steps"])]
        h = d[d["heart_rate"].notna()]
        hr = [{"dateTime": (t + pd.Timedelta(seconds=15)).strftime("%m/%d/%y %H:%M:%S"),
               "value": {"bpm": float(v) if not float(v).is_integer() else int(v), "confidence": 2}}
              for t, v in zip(h["ts"], h["heart_rate"])]
        (folder / f"steps-{day}.json").write_text(json.dumps(steps), encoding="utf-8")
        (folder / f"heart_rate-{day}.json").write_text(json.dumps(hr), encoding="utf-8")
    return folder


def write_synthetic(fmt: str, minutes: pd.DataFrame, path: str | Path, *, participant_id: str,
                    duplicate_source: bool = False) -> Path:
    """Write ``minutes`` (``ts`` [Asia/Seoul if naive], ``steps``, ``heart_rate``; rows of
    ``participant_id`` when a ``participant_id`` column is present) as a vendor export.

    ``apple_health_xml``: one ``export.xml`` at ``path`` (gzip when it ends in ``.gz``).
    ``samsung_health_csv`` and ``fitbit_json``: a folder at ``path`` holding the step and heart-rate files.
    Returns ``path``. The participant id is not written (these formats carry none).
    """
    path = Path(path)
    m = _prep(minutes, participant_id)
    if fmt == "apple_health_xml":
        return _apple(m, path, duplicate_source)
    if fmt == "samsung_health_csv":
        return _samsung(m, path, duplicate_source)
    if fmt == "fitbit_json":
        if duplicate_source:
            raise ValueError("fitbit_json exports have a single source; duplicate_source is not available")
        return _fitbit(m, path)
    raise ValueError(f"no synthetic writer for {fmt!r}; available: apple_health_xml, samsung_health_csv, fitbit_json")
