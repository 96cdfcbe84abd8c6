"""Metric definitions and the cluster-robust finalisation shared by the DuckDB and Dask engines.

Both engines reduce the participant-day table to *cell sums*: for each cell
(one combination of the grouping keys) and each ratio metric ``y/d`` they
return ``m`` (participants with ``d > 0``), ``sum Y_i``, ``sum D_i``,
``sum Y_i^2``, ``sum Y_i D_i`` and ``sum D_i^2`` where ``Y_i`` and ``D_i`` are
participant *i*'s totals within the cell. :func:`finalise` turns those into
estimates and confidence intervals, so the statistics live in one place.

Confidence intervals: the mean over participant-days ``R = sum Y_i / sum D_i``
is a ratio estimator; its variance is the cluster-robust (participant =
cluster) linearisation (Taylor) variance

    var(R) = m / (m - 1) * sum_i (Y_i - R D_i)^2 / (sum_i D_i)^2

with a t quantile on ``m - 1`` degrees of freedom. This is exactly the
CR1 cluster-robust standard error of the intercept of an OLS regression of the
day-level values on a constant, clustered by participant (statsmodels
``cov_type="cluster"``, ``use_t=True``), which the tests check. Days of one
person are correlated, so a naive day-level CI would be far too narrow.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "count" | "ratio" | "median" | "sd"
    num: str = ""  # per-participant numerator (ratio) or count column
    den: str = ""  # per-participant denominator (ratio)
    n: str = "participants"  # cell column holding the contributing participants
    n_days: str = "participant_days"
    unit: str = ""


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("participants", "count", "participants", unit="persons"),
        Metric("participant_days", "count", "participant_days", unit="days"),
        Metric("valid_days", "count", "valid_days", n="m_valid", n_days="valid_days", unit="days"),
        Metric("valid_day_rate", "ratio", "nv", "nd", n="participants", n_days="participant_days", unit="share of participant-days"),
        Metric("mean_steps", "ratio", "sy", "nv", n="m_valid", n_days="valid_days", unit="steps/day"),
        Metric("median_steps", "median", "median_steps", n="m_valid", n_days="valid_days", unit="steps/day"),
        Metric("sd_steps", "sd", "sy", "nv", n="m_valid", n_days="valid_days", unit="steps/day"),
        Metric("goal_share", "ratio", "sg", "nv", n="m_valid", n_days="valid_days", unit="share of valid days"),
        Metric("moderate_minutes", "ratio", "sm", "nv", n="m_valid", n_days="valid_days", unit="min/day"),
        Metric("vigorous_minutes", "ratio", "svg", "nv", n="m_valid", n_days="valid_days", unit="min/day"),
        Metric("resting_hr", "ratio", "sr", "nr", n="m_hr", n_days="hr_days", unit="bpm"),
    )
}
DEFAULT_METRICS = ("participants", "participant_days", "valid_days", "mean_steps", "median_steps", "sd_steps", "goal_share")

# The per-participant sums each metric needs (engines compute only these).
# name -> (SQL expression over the joined day rows; valid-day filter already in place where needed)
PARTICIPANT_SUMS = {
    "nd": "count(*)",
    "nv": "count(*) FILTER (WHERE valid_day)",
    "sy": "sum(CAST(steps AS DOUBLE)) FILTER (WHERE valid_day)",
    "sy2": "sum(CAST(steps AS DOUBLE) * steps) FILTER (WHERE valid_day)",
    "sg": "count(*) FILTER (WHERE valid_day AND steps >= {goal})",
    "sm": "sum(CAST(moderate_minutes AS DOUBLE)) FILTER (WHERE valid_day)",
    "svg": "sum(CAST(vigorous_minutes AS DOUBLE)) FILTER (WHERE valid_day)",
    "sr": "sum(CAST(resting_hr AS DOUBLE)) FILTER (WHERE valid_day AND resting_hr IS NOT NULL)",
    "nr": "count(resting_hr) FILTER (WHERE valid_day)",
}
DAY_COLUMNS = {  # daily column each per-participant sum reads
    "nd": [], "nv": ["valid_day"], "sy": ["steps", "valid_day"], "sy2": ["steps", "valid_day"],
    "sg": ["steps", "valid_day"], "sm": ["moderate_minutes", "valid_day"], "svg": ["vigorous_minutes", "valid_day"],
    "sr": ["resting_hr", "valid_day"], "nr": ["resting_hr", "valid_day"],
}


def check_metrics(metrics: list[str] | tuple[str, ...]) -> list[str]:
    """Validated metric names (clear error listing the known ones)."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {list(METRICS)}")
    if not metrics:
        raise ValueError("metrics is empty")
    return metrics


def needed_sums(metrics: list[str]) -> list[str]:
    """Per-participant sums required by ``metrics`` (always ``nd`` and ``nv`` for the counts)."""
    need = {"nd", "nv"}
    for name in metrics:
        m = METRICS[name]
        if m.kind in ("ratio", "sd"):
            need |= {m.num, m.den}
        if m.kind == "sd":
            need.add("sy2")
        if m.n == "m_hr":
            need |= {"sr", "nr"}
    return [k for k in PARTICIPANT_SUMS if k in need]


def cell_moments(sums: list[str], metrics: list[str] | None = None) -> dict[str, str]:
    """Cell-level column -> aggregate over per-participant sums (SQL; mirrored by the Dask engine).

    Only the second moments the requested ratio metrics need are computed.
    """
    metrics = list(METRICS) if metrics is None else metrics
    out = {
        "participants": "count(*)",
        "participant_days": "sum(nd)",
        "valid_days": "sum(nv)",
        "m_valid": "count(*) FILTER (WHERE nv > 0)",
    }
    if "nr" in sums:
        out["m_hr"] = "count(*) FILTER (WHERE nr > 0)"
        out["hr_days"] = "sum(nr)"
    for y in sums:
        out[f"{y}__s"] = f"sum({y})"
    for name in metrics:
        m = METRICS[name]
        if m.kind != "ratio":
            continue
        out[f"{m.num}__ss"] = f"sum(CAST({m.num} AS DOUBLE) * {m.num})"
        out[f"{m.den}__ss"] = f"sum(CAST({m.den} AS DOUBLE) * {m.den})"
        out[f"{m.num}__{m.den}"] = f"sum(CAST({m.num} AS DOUBLE) * {m.den})"
    return out


def _ratio(cells: pd.DataFrame, num: str, den: str, m: np.ndarray, level: float) -> tuple[np.ndarray, ...]:
    sy = cells[f"{num}__s"].to_numpy(float)
    sd = cells[f"{den}__s"].to_numpy(float)
    syy = cells[f"{num}__ss"].to_numpy(float)
    sdd = cells[f"{den}__ss"].to_numpy(float)
    syd = cells[f"{num}__{den}"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(sd > 0, sy / sd, np.nan)
        resid = syy - 2 * r * syd + r * r * sdd  # sum_i (Y_i - R D_i)^2
        # the moment form cancels: what is left below ~1e-12 of its terms is rounding, not variance
        scale = syy + r * r * sdd
        resid = np.where(resid <= 1e-12 * scale, 0.0, resid)
        se = np.where(m > 1, np.sqrt(m / (m - 1) * resid) / sd, np.nan)
        q = stats.t.ppf(0.5 + level / 2, np.maximum(m - 1, 1))
    q = np.where(m > 1, q, np.nan)
    return r, se, r - q * se, r + q * se


def finalise(cells: pd.DataFrame, keys: list[str], metrics: list[str], *, level: float = 0.95) -> pd.DataFrame:
    """Long tidy table (one row per cell and metric) from the cell sums of either engine."""
    # an ungrouped query over no rows still returns one all-zero cell; empty cells are never shown
    cells = cells[cells["participants"].fillna(0) > 0].reset_index(drop=True)
    out = []
    for name in metrics:
        spec = METRICS[name]
        n = cells[spec.n].to_numpy(float) if spec.n in cells else np.zeros(len(cells))
        nan = np.full(len(cells), np.nan)
        if spec.kind == "count":
            est, se, lo, hi = cells[spec.num].to_numpy(float), nan, nan, nan
        elif spec.kind == "ratio":
            est, se, lo, hi = _ratio(cells, spec.num, spec.den, n, level)
        elif spec.kind == "median":
            est, se, lo, hi = cells["median_steps"].to_numpy(float), nan, nan, nan
        else:  # sd of daily steps over valid participant-days
            s1 = cells["sy__s"].to_numpy(float)
            s2 = cells["sy2__s"].to_numpy(float)
            nd = cells["nv__s"].to_numpy(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                var = np.where(nd > 1, (s2 - s1 * s1 / np.where(nd > 0, nd, 1)) / (nd - 1), np.nan)
            est, se, lo, hi = np.sqrt(np.maximum(var, 0)), nan, nan, nan
            est = np.where(nd > 1, est, np.nan)
        frame = cells[keys].copy()
        frame["metric"] = name
        frame["n"] = n
        frame["n_days"] = cells[spec.n_days].to_numpy(float) if spec.n_days in cells else nan
        frame["estimate"] = est
        frame["se"] = se
        frame["ci_low"] = lo
        frame["ci_high"] = hi
        frame["unit"] = spec.unit
        out.append(frame)
    res = pd.concat(out, ignore_index=True)
    for k in keys:  # one dtype per key whichever engine produced it
        col = res[k]
        if isinstance(col.dtype, pd.CategoricalDtype):
            res[k] = col.cat.as_ordered()  # DuckDB ENUMs come back ordered; keep the level order either way
            continue
        if pd.api.types.is_datetime64_any_dtype(col):
            res[k] = col.astype("datetime64[ns]")
        elif pd.api.types.is_integer_dtype(col):
            res[k] = col.astype("int64") if not col.isna().any() else col.astype("Int64")
        elif pd.api.types.is_bool_dtype(col):
            res[k] = col.astype(bool) if not col.isna().any() else col.astype("boolean")
        elif pd.api.types.is_string_dtype(col):
            res[k] = col.astype(object)
    res["metric"] = pd.Categorical(res["metric"], categories=metrics)
    res = res.sort_values(keys + ["metric"], kind="stable", na_position="last").reset_index(drop=True)
    res["metric"] = res["metric"].astype(str)
    res["n"] = res["n"].round().astype("Int64")
    res["n_days"] = res["n_days"].round().astype("Int64")
    return res
