"""District health profiles: each district against the Seoul average, flagged and ranked.

Seoul average = population-weighted mean of the district values (districts with a
suppressed or missing value are left out). Significance, when the table has a
standard error per district: z = (y_j - mu) / SE(y_j - mu) with
Var(y_j - mu) = se_j^2 (1 - 2 p_j) + sum_k p_k^2 se_k^2, because district j is part
of the average it is compared with (independent districts). Without an SE the
flag uses a documented fallback, z = (y_j - mean) / SD across districts
(``flag_method = "zscore"``): it marks districts far from the rest, not
sampling-error significance. |z| > z_(1 - alpha/2) flags "better" or "worse"
according to the indicator's direction. Rank 1 = best.
"""
from __future__ import annotations

from typing import Literal, Mapping

import numpy as np
import pandas as pd

from ..reference import districts
from ._validate import z_value

Direction = Literal["higher", "lower"]


def _direction(direction: Direction | Mapping[str, Direction], indicator: str) -> Direction:
    d = direction.get(indicator, "higher") if isinstance(direction, Mapping) else direction
    if d not in ("higher", "lower"):
        raise ValueError(f"direction for {indicator!r} must be 'higher' or 'lower' (which is better), got {d!r}")
    return d


def district_profile(
    data: pd.DataFrame,
    *,
    indicators: list[str] | None = None,
    year: int | None = None,
    direction: Direction | Mapping[str, Direction] = "higher",
    district: str = "district",
    indicator: str = "indicator",
    value: str = "value",
    population: str = "population",
    se: str | None = "se",
    year_col: str = "year",
    n: str | None = None,
    min_n: int = 10,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Profile table: one row per indicator x year x district.

    Parameters
    ----------
    data : tidy table with ``district`` (5-digit code), ``indicator``, ``value``,
        ``population`` and optionally ``domain``, ``year``, ``se``, ``suppressed``.
    indicators, year : keep only these (default: all; all years).
    direction : "higher" or "lower" is better, one for all or a mapping per indicator.
    n, min_n : optional count column; rows with n < min_n are suppressed.

    Returns columns: indicator, domain, year, district, name_ko, name_en, value, se,
    seoul_average, difference (value - average), z, flag ("better" / "worse" /
    "similar" / "suppressed"), flag_method ("se" / "zscore"), rank (1 = best),
    n_ranked.
    """
    for col in (district, indicator, value, population):
        if col not in data.columns:
            raise ValueError(f"column {col!r} not found; available columns: {list(data.columns)}")
    df = data.copy()
    df[district] = df[district].astype(str)
    districts.validate(df[district], source="district_profile data")
    if indicators is not None:
        missing = sorted(set(indicators) - set(df[indicator]))
        if missing:
            raise ValueError(f"indicators not in the table: {missing}")
        df = df[df[indicator].isin(indicators)]
    if year_col not in df.columns:
        df[year_col] = 0
    if year is not None:
        df = df[df[year_col] == year]
        if df.empty:
            raise ValueError(f"no rows for year {year}")
    if "domain" not in df.columns:
        df["domain"] = ""
    sup = df["suppressed"].fillna(False).astype(bool) if "suppressed" in df.columns else pd.Series(False, index=df.index)
    if n is not None:
        sup = sup | (pd.to_numeric(df[n], errors="coerce") < min_n)
    df["suppressed"] = sup | df[value].isna()
    dup = df.duplicated([indicator, year_col, district])
    if dup.any():
        r = df[dup].iloc[0]
        raise ValueError(f"district {r[district]!r} appears twice for indicator {r[indicator]!r}, year {r[year_col]}")
    z = z_value(conf_level)
    names = districts.table().set_index("district")
    out = []
    for (ind, yr), sub in df.groupby([indicator, year_col], sort=True):
        better_high = _direction(direction, ind) == "higher"
        ok = ~sub["suppressed"]
        y = sub[value].astype(float)
        pop = sub[population].astype(float)
        p = pop.where(ok, 0.0) / pop[ok].sum()
        mu = float((p * y.where(ok, 0.0)).sum())
        s = sub[se].astype(float) if se and se in sub.columns else pd.Series(np.nan, index=sub.index)
        have_se = bool(ok.any() and s[ok].notna().all())
        if have_se:
            var_mu = float((p**2 * s.where(ok, 0.0) ** 2).sum())
            var_diff = s**2 * (1 - 2 * p) + var_mu
            zz = (y - mu) / np.sqrt(var_diff)
            method = "se"
        else:
            sd = float(y[ok].std(ddof=1)) if ok.sum() > 1 else np.nan
            zz = (y - float(y[ok].mean())) / sd
            method = "zscore"
        signed = zz if better_high else -zz
        flag = np.where(signed > z, "better", np.where(signed < -z, "worse", "similar"))
        flag = np.where(ok, flag, "suppressed")
        rank = y.where(ok).rank(ascending=not better_high, method="min")
        part = pd.DataFrame({
            "indicator": ind,
            "domain": sub["domain"].to_numpy(),
            "year": yr,
            "district": sub[district].to_numpy(),
            "value": y.where(ok).to_numpy(),
            "se": s.where(ok).to_numpy(),
            "seoul_average": mu,
            "difference": (y - mu).where(ok).to_numpy(),
            "z": zz.where(ok).to_numpy(),
            "flag": flag,
            "flag_method": method,
            "rank": rank.astype("Int64").to_numpy(),
            "n_ranked": int(ok.sum()),
            "direction": "higher" if better_high else "lower",
        })
        out.append(part)
    if not out:
        raise ValueError("no rows left to profile")
    res = pd.concat(out, ignore_index=True)
    res.insert(4, "name_ko", res["district"].map(names["name_ko"]))
    res.insert(5, "name_en", res["district"].map(names["name_en"]))
    return res.sort_values(["indicator", "year", "district"]).reset_index(drop=True)
