"""District health profiles: each district against the Seoul average, flagged and ranked.

Seoul average = population-weighted mean of the district values (districts with a
suppressed or missing value are left out).

Two kinds of flag, and they mean different things (``flag_method``):

* ``"se"`` -- a significance test against the Seoul average, used whenever every district has a
  standard error: a ``se`` column, or one derived from a published 95% CI (``ci_low``/``ci_high``:
  SE = (high - low) / (2 x 1.96)). z = (y_j - mu) / SE(y_j - mu) with
  Var(y_j - mu) = se_j^2 (1 - 2 p_j) + sum_k p_k^2 se_k^2, because district j is part of the
  average it is compared with (independent districts). |z| > z_(1 - alpha/2) flags ``"better"`` or
  ``"worse"`` according to the indicator's direction, otherwise ``"similar"`` (not significantly
  different). Official rates get their SE from their population
  (:func:`evaluation.reference.official_stats.poisson_se`).
* ``"zscore"`` -- the fallback without an SE: z = (y_j - mean) / SD across districts. That is an
  outlier rule (is a district far from the others?), not a test, so its flags are named apart:
  ``"far_better"`` / ``"far_worse"`` / ``"not_far"``, and :func:`flag_label` says "far from the other
  districts", never "(not) significantly different".

Rank 1 = best.
"""
from __future__ import annotations

from typing import Literal, Mapping

import numpy as np
import pandas as pd

from ..reference import districts
from ._validate import z_value

Direction = Literal["higher", "lower"]

FLAGS: dict[str, tuple[str, str, str]] = {"se": ("better", "worse", "similar"),
                                          "zscore": ("far_better", "far_worse", "not_far")}
"""flag_method -> the (better, worse, neither) flag names."""

FLAG_LABELS: dict[str, tuple[str, str]] = {
    "better": ("서울 평균보다 유의하게 좋음", "Significantly better than Seoul"),
    "worse": ("서울 평균보다 유의하게 나쁨", "Significantly worse than Seoul"),
    "similar": ("서울 평균과 유의한 차이 없음", "Not significantly different from Seoul"),
    "far_better": ("다른 자치구와 차이가 큼 (좋은 쪽)", "Far from the other districts (better)"),
    "far_worse": ("다른 자치구와 차이가 큼 (나쁜 쪽)", "Far from the other districts (worse)"),
    "not_far": ("다른 자치구와 차이가 크지 않음", "Not far from the other districts"),
    "suppressed": ("비공개", "Withheld"),
}
"""Staff wording of each flag: a test result says "significantly", the SE-less fallback says "far"."""


def flag_label(flag: str, lang: str = "ko") -> str:
    """Staff label of a profile flag (Korean or English)."""
    ko, en = FLAG_LABELS[flag]
    return en if lang == "en" else ko


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
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
) -> pd.DataFrame:
    """Profile table: one row per indicator x year x district.

    Parameters
    ----------
    data : tidy table with ``district`` (5-digit code), ``indicator``, ``value``,
        ``population`` and optionally ``domain``, ``year``, ``se``, ``suppressed``.
    indicators, year : keep only these (default: all; all years).
    direction : "higher" or "lower" is better, one for all or a mapping per indicator.
    n, min_n : optional count column; rows with n < min_n are suppressed.
    ci_low, ci_high : a published 95% CI, used for the SE where ``se`` is missing.

    Returns columns: indicator, domain, year, district, name_ko, name_en, value, se,
    seoul_average, difference (value - average), z, flag ("better" / "worse" /
    "similar" with an SE; "far_better" / "far_worse" / "not_far" without; "suppressed"),
    flag_method ("se" / "zscore"), rank (1 = best), n_ranked.
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
        if {ci_low, ci_high} <= set(sub.columns):  # a published CI stands in for a missing SE
            s = s.fillna((sub[ci_high].astype(float) - sub[ci_low].astype(float)) / (2 * z_value(0.95)))
        have_se = bool(ok.any() and s[ok].notna().all() and (s[ok] > 0).all())
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
        names_ = FLAGS[method]
        flag = np.where(signed > z, names_[0], np.where(signed < -z, names_[1], names_[2]))
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
