"""District maps: a GeoJSON choropleth and the package's tile-grid map.

The choropleth reads polygons straight from a GeoJSON file (Polygon and
MultiPolygon, WGS84 lon/lat) and draws them as matplotlib ``Polygon`` patches:
25 polygons need no GIS stack. Suppressed cells (small n) are drawn grey and
hatched with their own legend entry; districts without data are plain light grey.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib.patches import Patch, Polygon, Rectangle

from ..reference import districts
from ..publish import i18n
from . import _labels  # noqa: F401  (registers labels)
from ._tilegrid import tilegrid

SUPPRESSED_COLOR = "#bdbdbd"
NO_DATA_COLOR = "#f0f0f0"


def _ring_area_centroid(ring: np.ndarray) -> tuple[float, float, float]:
    x, y = ring[:, 0], ring[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    a = cross.sum() / 2
    if a == 0:
        return 0.0, float(x.mean()), float(y.mean())
    cx = ((x + np.roll(x, -1)) * cross).sum() / (6 * a)
    cy = ((y + np.roll(y, -1)) * cross).sum() / (6 * a)
    return abs(a), float(cx), float(cy)


@lru_cache(maxsize=4)
def _read_geojson(path: str, code_property: str) -> tuple[dict[str, list[np.ndarray]], dict[str, tuple[float, float]]]:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"GeoJSON not found: {path}")
    gj = json.loads(p.read_text(encoding="utf-8"))
    if gj.get("type") != "FeatureCollection":
        raise ValueError(f"{path}: expected a GeoJSON FeatureCollection, found type {gj.get('type')!r}")
    rings: dict[str, list[np.ndarray]] = {}
    centres: dict[str, tuple[float, float]] = {}
    for i, feat in enumerate(gj["features"]):
        props = feat.get("properties") or {}
        if code_property not in props:
            raise ValueError(f"{path}: feature {i} lacks property {code_property!r}; has {sorted(props)}")
        code = str(props[code_property])
        geom = feat["geometry"]
        if geom["type"] == "Polygon":
            polys = [geom["coordinates"]]
        elif geom["type"] == "MultiPolygon":
            polys = geom["coordinates"]
        else:
            raise ValueError(f"{path}: feature {i} ({code}) has unsupported geometry {geom['type']!r}")
        outer = [np.asarray(poly[0], dtype=float)[:, :2] for poly in polys]
        rings.setdefault(code, []).extend(outer)
        best = max((_ring_area_centroid(r) for r in outer), key=lambda t: t[0])
        centres[code] = (best[1], best[2])
    return rings, centres


def geojson_centroids(path: str | Path, code_property: str = "SIG_CD") -> pd.DataFrame:
    """``district``, ``lon``, ``lat``: centroid of each district's largest polygon."""
    _, centres = _read_geojson(str(path), code_property)
    return pd.DataFrame([(k, v[0], v[1]) for k, v in centres.items()], columns=["district", "lon", "lat"])


def _prepare(data: pd.DataFrame, value: str, district: str, suppressed: str | None) -> pd.DataFrame:
    for col in (district, value):
        if col not in data.columns:
            raise ValueError(f"column {col!r} not found; available columns: {list(data.columns)}")
    df = data.copy()
    df[district] = df[district].astype(str)
    districts.validate(df[district], source="map data")
    if df[district].duplicated().any():
        dup = df.loc[df[district].duplicated(), district].iloc[0]
        raise ValueError(f"map data: district {dup!r} appears more than once; pass one row per district")
    sup = df[suppressed].fillna(False).astype(bool) if suppressed and suppressed in df.columns else False
    df["_suppressed"] = sup
    df["_value"] = pd.to_numeric(df[value], errors="coerce")
    df.loc[df["_suppressed"], "_value"] = np.nan
    return df.set_index(district)


def _style(df: pd.DataFrame, code: str, norm: Any, cmap: Any) -> dict[str, Any]:
    if code in df.index and bool(df.at[code, "_suppressed"]):
        return {"facecolor": SUPPRESSED_COLOR, "hatch": "///", "edgecolor": "white"}
    if code in df.index and np.isfinite(df.at[code, "_value"]):
        return {"facecolor": cmap(norm(df.at[code, "_value"])), "edgecolor": "white"}
    return {"facecolor": NO_DATA_COLOR, "edgecolor": "white"}


def _finish(ax: Any, fig: Any, df: pd.DataFrame, norm: Any, cmap: Any, lang: str, title: str | None,
            legend_label: str | None) -> None:
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    sm.set_array([])
    fig.colorbar(sm, ax=ax, shrink=0.7, label=legend_label or "")
    handles = []
    if df["_suppressed"].any():
        handles.append(Patch(facecolor=SUPPRESSED_COLOR, hatch="///", edgecolor="white", label=i18n.t("suppressed", lang)))
    if (~df["_suppressed"] & df["_value"].isna()).any() or len(df) < 25:
        handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor="grey", label=i18n.t("no_data", lang)))
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize="small", frameon=False)
    ax.set_axis_off()
    if title:
        ax.set_title(title)


def _norm(df: pd.DataFrame, vmin: float | None, vmax: float | None) -> Any:
    vals = df["_value"].dropna()
    lo = vmin if vmin is not None else (float(vals.min()) if len(vals) else 0.0)
    hi = vmax if vmax is not None else (float(vals.max()) if len(vals) else 1.0)
    if hi == lo:
        hi = lo + 1.0
    return mcolors.Normalize(vmin=lo, vmax=hi)


def _text_color(style: dict[str, Any]) -> str:
    """White on dark fills, black on light ones (relative luminance)."""
    r, g, b = mcolors.to_rgb(style["facecolor"])
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45 else "black"


def _fmt(v: float, fmt: str) -> str:
    return fmt.format(v) if np.isfinite(v) else ""


def choropleth(
    data: pd.DataFrame,
    value: str = "value",
    *,
    geojson: str | Path,
    district: str = "district",
    suppressed: str | None = "suppressed",
    lang: str = "ko",
    code_property: str = "SIG_CD",
    cmap: str = "YlGnBu",
    title: str | None = None,
    legend_label: str | None = None,
    labels: bool = True,
    fmt: str = "{:,.1f}",
    vmin: float | None = None,
    vmax: float | None = None,
    ax: Any = None,
) -> Any:
    """Choropleth of ``value`` by district over the polygons of a GeoJSON file; returns the Figure.

    ``data`` has one row per district (5-digit code in ``district``); a boolean
    ``suppressed`` column marks small cells, drawn grey and hatched. District names
    label each polygon in ``lang`` ("ko" default, "en").
    """
    lang = i18n.check_lang(lang)
    df = _prepare(data, value, district, suppressed)
    rings, centres = _read_geojson(str(geojson), code_property)
    norm, cm = _norm(df, vmin, vmax), plt.get_cmap(cmap)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 6.5))
    else:
        fig = ax.figure
    names = districts.names(lang)
    for code, polys in rings.items():
        style = _style(df, code, norm, cm)
        for ring in polys:
            ax.add_patch(Polygon(ring, closed=True, linewidth=0.8, **style))
        if labels:
            cx, cy = centres[code]
            txt = names.get(code, code)
            if lang == "en":
                txt = txt.replace("-gu", "")
            if code in df.index and np.isfinite(df.at[code, "_value"]):
                txt += "\n" + _fmt(df.at[code, "_value"], fmt)
            ax.text(cx, cy, txt, ha="center", va="center", fontsize=7 if lang == "ko" else 6.5,
                    color=_text_color(style))
    allpts = np.vstack([r for polys in rings.values() for r in polys])
    ax.set_xlim(allpts[:, 0].min(), allpts[:, 0].max())
    ax.set_ylim(allpts[:, 1].min(), allpts[:, 1].max())
    # lon/lat at Seoul's latitude: stretch y so distances look right
    ax.set_aspect(1 / np.cos(np.deg2rad(allpts[:, 1].mean())))
    _finish(ax, fig, df, norm, cm, lang, title, legend_label)
    return fig


def tile_map(
    data: pd.DataFrame,
    value: str = "value",
    *,
    district: str = "district",
    suppressed: str | None = "suppressed",
    lang: str = "ko",
    cmap: str = "YlGnBu",
    title: str | None = None,
    legend_label: str | None = None,
    fmt: str = "{:,.1f}",
    vmin: float | None = None,
    vmax: float | None = None,
    ax: Any = None,
) -> Any:
    """Tile-grid map of ``value`` by district from the package's layout; returns the Figure.

    Same data contract as :func:`choropleth`; used when no geometry is given.
    """
    lang = i18n.check_lang(lang)
    df = _prepare(data, value, district, suppressed)
    grid = tilegrid()
    norm, cm = _norm(df, vmin, vmax), plt.get_cmap(cmap)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 6))
    else:
        fig = ax.figure
    name_col = "name_ko" if lang == "ko" else "name_en"
    for rec in grid.itertuples(index=False):
        style = _style(df, rec.district, norm, cm)
        x, y = rec.col, -rec.row
        ax.add_patch(Rectangle((x - 0.47, y - 0.47), 0.94, 0.94, linewidth=1.0, **style))
        txt = getattr(rec, name_col)
        if lang == "en":
            txt = txt.replace("-gu", "")
        if rec.district in df.index and np.isfinite(df.at[rec.district, "_value"]):
            txt += "\n" + _fmt(df.at[rec.district, "_value"], fmt)
        ax.text(x, y, txt, ha="center", va="center", fontsize=8 if lang == "ko" else 6.5,
                color=_text_color(style))
    ax.set_xlim(grid["col"].min() - 0.6, grid["col"].max() + 0.6)
    ax.set_ylim(-grid["row"].max() - 0.6, 0.6)
    ax.set_aspect("equal")
    _finish(ax, fig, df, norm, cm, lang, title, legend_label)
    return fig


def district_map(data: pd.DataFrame, value: str = "value", *, geojson: str | Path | None = None, **kwargs: Any) -> Any:
    """:func:`choropleth` when ``geojson`` is a non-empty path, else :func:`tile_map`."""
    if geojson:
        return choropleth(data, value, geojson=geojson, **kwargs)
    kwargs.pop("code_property", None)
    kwargs.pop("labels", None)
    return tile_map(data, value, **kwargs)
