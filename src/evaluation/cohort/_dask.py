"""The dask.dataframe engine of :func:`evaluation.cohort.aggregate_dask`.

Mirrors the SQL of ``_duckdb`` step for step: day rows -> per participant and
cell sums -> per cell moments; the statistics are finished by the same
``_metrics.finalise``. The participants table is small and is broadcast to
every partition by a pandas-dask merge.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import _keys, _metrics


def _read_daily(daily, columns: list[str]):
    import dask.dataframe as dd

    if isinstance(daily, dd.DataFrame):
        missing = [c for c in columns if c not in daily.columns]
        if missing:
            raise ValueError(f"daily lacks column(s) {missing}")
        return daily[columns]
    if isinstance(daily, pd.DataFrame):
        return dd.from_pandas(daily[columns], npartitions=max(1, min(8, len(daily) // 100_000 + 1)))
    p = Path(daily)
    path = str(p / "*.parquet") if p.is_dir() else str(daily)
    return dd.read_parquet(path, columns=columns)


def _add_keys(df: pd.DataFrame, by: list[str], goal: float) -> pd.DataFrame:
    date = pd.to_datetime(df["date"]).dt.normalize()
    out = {}
    for key in by:
        if key == "date":
            out[key] = date
        elif key == "week":
            out[key] = date - pd.to_timedelta(date.dt.dayofweek, unit="D")
        elif key == "month":
            out[key] = date.dt.to_period("M").dt.start_time
        elif key == "quarter":
            out[key] = date.dt.to_period("Q").dt.start_time
        elif key == "year":
            out[key] = date.dt.year.astype("int32")
        elif key == "week_since_enrolment":
            anchor = pd.to_datetime(df["_anchor"]).dt.normalize()
            out[key] = np.floor((date - anchor).dt.days / 7.0).astype("Int32")
        else:
            out[key] = df[_keys.ALIASES.get(key, key)]
    valid = df["valid_day"].astype(bool).to_numpy()
    steps = df["steps"].to_numpy(float) if "steps" in df else np.zeros(len(df))
    cols = {
        "nd": np.ones(len(df), dtype=np.int64),
        "nv": valid.astype(np.int64),
        "sy": np.where(valid, steps, 0.0),
        "sy2": np.where(valid, steps * steps, 0.0),
        "sg": (valid & (steps >= goal)).astype(np.int64),
    }
    if "moderate_minutes" in df:
        cols["sm"] = np.where(valid, df["moderate_minutes"].to_numpy(float), 0.0)
    if "vigorous_minutes" in df:
        cols["svg"] = np.where(valid, df["vigorous_minutes"].to_numpy(float), 0.0)
    if "resting_hr" in df:
        hr = df["resting_hr"].to_numpy(float)
        ok = valid & ~np.isnan(hr)
        cols["sr"] = np.where(ok, hr, 0.0)
        cols["nr"] = ok.astype(np.int64)
    res = pd.DataFrame(out, index=df.index)
    res["_pid"] = df["participant_id"].to_numpy()
    for k, v in cols.items():
        res[k] = v
    res["_steps_valid"] = np.where(valid, steps, np.nan)
    return res


def cell_sums(daily, participants, by: list[str], metrics: list[str], *, step_goal: float,
              start=None, end=None, weeks_since=None, client=None) -> pd.DataFrame:
    sums = _metrics.needed_sums(metrics)
    day_cols = sorted({"participant_id", "date", "valid_day"} | {c for s in sums for c in _metrics.DAY_COLUMNS[s]}
                      | ({"steps"} if "median_steps" in metrics else set()))
    ddf = _read_daily(daily, day_cols)
    if start is not None:
        ddf = ddf[ddf["date"] >= pd.Timestamp(start)]
    if end is not None:
        ddf = ddf[ddf["date"] < pd.Timestamp(end) + pd.Timedelta(days=1)]
    pkeys = [_keys.ALIASES.get(k, k) for k in by if k not in _keys.TIME_KEYS]
    if participants is not None:
        p = pd.read_parquet(participants) if isinstance(participants, (str, Path)) else participants
        missing = [c for c in ["participant_id"] + pkeys if c not in p.columns]
        if missing:
            raise ValueError(f"participants lacks column(s) {missing}")
        keep = p[["participant_id"] + sorted(set(pkeys))].copy()
        if "week_since_enrolment" in by or weeks_since is not None:
            enrolled = p["enrolled_on"] if "enrolled_on" in p else pd.Series(pd.NaT, index=p.index)
            index = p["index_date"] if "index_date" in p else pd.Series(pd.NaT, index=p.index)
            keep["_anchor"] = pd.to_datetime(enrolled).fillna(pd.to_datetime(index))
        ddf = ddf.merge(keep, on="participant_id", how="inner")
    elif pkeys or "week_since_enrolment" in by:
        raise ValueError(f"grouping by {pkeys or ['week_since_enrolment']} needs the participants table")
    if weeks_since is not None:
        if participants is None:
            raise ValueError("weeks_since needs the participants table (enrolled_on / index_date)")
        lo, hi = (int(w) for w in weeks_since)
        rel = ((ddf["date"] - ddf["_anchor"]).dt.days // 7)
        ddf = ddf[(rel >= lo) & (rel <= hi)]
    rows = ddf.map_partitions(_add_keys, by, float(step_goal))
    present = [s for s in sums]
    pp = rows.groupby(by + ["_pid"], dropna=False, observed=True)[present].sum().reset_index()
    for y in present:
        pp[f"{y}__ss"] = pp[y].astype(float) * pp[y]
    for a, b in (("sy", "nv"), ("sg", "nv"), ("sm", "nv"), ("svg", "nv"), ("sr", "nr"), ("nv", "nd")):
        if a in present and b in present:
            pp[f"{a}__{b}"] = pp[a].astype(float) * pp[b]
    pp["participants"] = 1
    pp["m_valid"] = (pp["nv"] > 0).astype(np.int64)
    if "nr" in present:
        pp["m_hr"] = (pp["nr"] > 0).astype(np.int64)
    value_cols = [c for c in pp.columns if c not in by and c != "_pid"]
    renamed = {y: f"{y}__s" for y in present}
    if by:
        cell = pp.groupby(by, dropna=False, observed=True)[value_cols].sum()
    else:
        cell = pp[value_cols].sum()
    compute = client.compute if client is not None else None
    cells = compute(cell).result() if compute else cell.compute()
    cells = (cells if by else cells.to_frame().T).rename(columns=renamed)
    cells = cells.reset_index() if by else cells.reset_index(drop=True)
    cells["participant_days"] = cells["nd__s"]
    cells["valid_days"] = cells["nv__s"]
    if "nr__s" in cells:
        cells["hr_days"] = cells["nr__s"]
    if "median_steps" in metrics:
        v = rows[rows["nv"] > 0]
        if by:
            med = v.groupby(by, dropna=False, observed=True)["_steps_valid"].median(shuffle_method="tasks")
            med = (client.compute(med).result() if client is not None else med.compute()).rename("median_steps").reset_index()
            cells = cells.merge(med, on=by, how="left")
        else:
            s = v["_steps_valid"].compute() if client is None else client.compute(v["_steps_valid"]).result()
            cells["median_steps"] = float(s.median()) if len(s) else np.nan
    return cells
