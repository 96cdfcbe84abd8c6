"""All applicable summary measures for one or many tidy tables at once."""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from . import _measures as m
from . import _slope
from ._result import combine

UNORDERED = ("difference", "ratio", "bgv", "bgsd", "theil", "mld", "par", "paf")
ORDERED = ("difference", "ratio", "sii", "rii", "aci", "rci", "par", "paf")


def _one(sub: pd.DataFrame, value: str, population: str, group: str | None, order: str | None, se: str | None,
         favourable: bool, scale: float | None, measures: Sequence[str], seed: int) -> pd.DataFrame:
    res = []
    for name in measures:
        if name == "difference":
            res.append(m.difference(sub, value, group=group, se=se, order=order))
        elif name == "ratio":
            res.append(m.ratio(sub, value, group=group, se=se, order=order))
        elif name == "bgv":
            res.append(m.bgv(sub, value, population, group=group, se=se))
        elif name == "bgsd":
            res.append(m.bgsd(sub, value, population, group=group, se=se, scale=scale, seed=seed))
        elif name == "theil":
            res.append(m.theil(sub, value, population, group=group, se=se))
        elif name == "mld":
            res.append(m.mld(sub, value, population, group=group, se=se))
        elif name in ("par", "paf"):
            f = m.par if name == "par" else m.paf
            res.append(f(sub, value, population, group=group, order=order, se=se, favourable=favourable, scale=scale))
        elif name in ("sii", "rii"):
            f = _slope.sii if name == "sii" else _slope.rii
            model = "logit" if scale is not None else "linear"
            res.append(f(sub, value, population, order, group=group, model=model, scale=scale))
        elif name in ("aci", "rci"):
            res.append(m.concentration_index(sub, value, population, order, group=group,
                                             kind="absolute" if name == "aci" else "relative"))
        else:
            raise ValueError(f"unknown measure {name!r}; choose from {sorted(set(UNORDERED) | set(ORDERED))}")
    return combine(res)


def inequality_measures(
    data: pd.DataFrame,
    value: str,
    population: str,
    *,
    group: str | None = None,
    order: str | None = None,
    se: str | None = None,
    favourable: bool = True,
    scale: float | None = None,
    by: str | Sequence[str] | None = None,
    measures: Sequence[str] | None = None,
    seed: int = 2023,
) -> pd.DataFrame:
    """Tidy table of summary measures (one row per measure, per ``by`` combination).

    Default measures: for non-ordered groups D, R, BGV, BGSD, TI, MLD, PAR, PAF;
    with ``order`` D, R, SII, RII, ACI, RCI, PAR, PAF. SII/RII use HEAT's logit model
    when ``scale`` is given (proportion-type indicators), else the linear model.
    """
    if measures is None:
        measures = ORDERED if order is not None else UNORDERED
    if by is None:
        return _one(data, value, population, group, order, se, favourable, scale, measures, seed)
    keys = [by] if isinstance(by, str) else list(by)
    parts = []
    for k, sub in data.groupby(keys, sort=True):
        t = _one(sub, value, population, group, order, se, favourable, scale, measures, seed)
        kk = k if isinstance(k, tuple) else (k,)
        for name, v in zip(keys, kk):
            t.insert(0, name, v)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def district_order(
    data: pd.DataFrame,
    by: str,
    *,
    year: int | None = None,
    advantaged: str = "lower",
    district: str = "district",
    indicator: str = "indicator",
    value: str = "value",
    year_col: str = "year",
) -> pd.DataFrame:
    """Rank districts on a socioeconomic indicator: ``district``, ``order`` (1 = most disadvantaged).

    ``advantaged="lower"`` when a lower value means a more advantaged district (e.g. the
    share of basic-livelihood recipients); ``"higher"`` otherwise (e.g. mean income).
    Uses ``year`` (default: the latest year of that indicator).
    """
    if advantaged not in ("lower", "higher"):
        raise ValueError(f"advantaged must be 'lower' or 'higher', got {advantaged!r}")
    sub = data[data[indicator] == by]
    if sub.empty:
        raise ValueError(f"indicator {by!r} not in the table; have {sorted(data[indicator].unique())}")
    if year_col in sub.columns:
        yr = year if year is not None else sub[year_col].max()
        sub = sub[sub[year_col] == yr]
    # most disadvantaged first: highest value when lower is advantaged
    ranked = sub.sort_values(value, ascending=(advantaged == "higher"), kind="stable")
    return pd.DataFrame({district: ranked[district].astype(str).to_numpy(), "order": range(1, len(ranked) + 1)})


def indicator_inequality(
    data: pd.DataFrame,
    *,
    direction: str | dict[str, str] = "higher",
    order: pd.DataFrame | None = None,
    scale: float | None = 100.0,
    indicators: Sequence[str] | None = None,
    district: str = "district",
    indicator: str = "indicator",
    value: str = "value",
    population: str = "population",
    se: str | None = "se",
    year_col: str = "year",
    seed: int = 2023,
) -> pd.DataFrame:
    """Summary measures between districts for every indicator and year of a tidy indicator table.

    Non-ordered measures always (D, R, BGV, BGSD, TI, MLD, PAR, PAF, with the
    favourable direction from ``direction`` as in :func:`district_profile`); with
    ``order`` (from :func:`district_order`) also SII, RII, ACI, RCI over districts
    ranked from the most disadvantaged. Indicators without SEs get point estimates
    and, where HEAT's method needs no SE (SII, RII, ACI, RCI, PAR/PAF via ``scale``), CIs.
    Returns: indicator, year, dimension ("district" / "district_ordered"), measure, estimate, se, CI ...
    """
    parts = []
    df = data.copy()
    df[district] = df[district].astype(str)
    if indicators is not None:
        df = df[df[indicator].isin(list(indicators))]
    if order is not None:
        df = df.merge(order.rename(columns={"order": "_order"}), on=district, how="left")
    for (ind, yr), sub in df.groupby([indicator, year_col], sort=True):
        if "suppressed" in sub.columns:
            sub = sub[~sub["suppressed"].fillna(False).astype(bool)]
        sub = sub[sub[value].notna()]
        d = direction.get(ind, "higher") if isinstance(direction, dict) else direction
        fav = d == "higher"
        use_se = se if se and se in sub.columns and sub[se].notna().all() else None
        un = inequality_measures(sub, value, population, group=district, se=use_se, favourable=fav, scale=scale,
                                 measures=UNORDERED, seed=seed).assign(dimension="district")
        parts.append(un.assign(indicator=ind, year=yr))
        if order is not None and sub["_order"].notna().all():
            od = inequality_measures(sub, value, population, group=district, order="_order", se=use_se,
                                     favourable=fav, scale=scale, measures=("sii", "rii", "aci", "rci"),
                                     seed=seed).assign(dimension="district_ordered")
            parts.append(od.assign(indicator=ind, year=yr))
    if not parts:
        raise ValueError("no indicator rows to summarise")
    out = pd.concat(parts, ignore_index=True)
    front = ["indicator", "year", "dimension", "measure"]
    return out[front + [c for c in out.columns if c not in front]]
