"""The figure check of the publishing gate (issue 20): a chart shows only values already published.

A figure can leak what the tables withhold: a bar of an exact count, the mean of a group of three, a
histogram of person-level values. The attack suite reads tables, results and text, not images, so the
gate checks figures before they are saved (:meth:`evaluation.publish.report.Recorder.figure`):

* the notebook declares the figure's data: published tables (names, or the frames
  :meth:`Recorder.counts` / :meth:`Recorder.stats_table` returned) and recorded result keys, or a
  provenance of ``seed``, ``official`` or ``illustrative`` (ledgers, official statistics, model outputs);
* :func:`check` walks the figure's data artists -- lines, bars, error bars and bands, scatter offsets,
  images, patch collections and numbers written inside the axes -- and requires every plotted value to be
  one of the declared values (to a relative ``1e-6``; a percentage of a published share, and a value's
  negative or absolute value, count too);
* a value not found refuses the figure, naming the figure and the artist (never the value: it may be
  a small count).

What is not checked, and why: positions along a categorical axis (tick labels are text), the extent of a
bar along its position axis (its width), reference lines spanning the axes (``axhline``/``axvline``: one
parameter such as a threshold, an axes decoration), legends, titles, tick labels and colour bars.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

PUBLISHED_ELSEWHERE = ("seed", "official", "illustrative")
RTOL = 1e-6
ATOL = 1e-9
GEOMETRY = "figure_gate:geometry"  # gid of a collection whose vertices are map geometry (its array is still checked)


class FigureRefused(ValueError):
    """A figure plots a value that is not among its declared published data."""


@dataclass
class Pool:
    """The values a figure may plot: sorted finite floats (with dates as matplotlib date numbers)."""

    values: np.ndarray

    @classmethod
    def of(cls, frames: Iterable[pd.DataFrame], numbers: Iterable[Any] = ()) -> "Pool":
        """Every numeric, boolean and date cell of ``frames`` plus ``numbers``; shares also as percentages."""
        import matplotlib.dates as mdates

        vals: list[np.ndarray] = [np.array([0.0])]  # bar baselines and zero lines
        for df in frames:
            for col in df.columns:
                s = df[col]
                if pd.api.types.is_datetime64_any_dtype(s):
                    d = pd.to_datetime(s).dropna()
                    if len(d):
                        vals.append(np.asarray(mdates.date2num(d.dt.tz_localize(None) if d.dt.tz else d), float))
                    continue
                if pd.api.types.is_bool_dtype(s):
                    continue
                if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("date", "datetime", "datetime64"):
                    d = pd.to_datetime(s, errors="coerce").dropna()
                    if len(d):
                        vals.append(np.asarray(mdates.date2num(d), float))
                    continue
                num = pd.to_numeric(s, errors="coerce") if not pd.api.types.is_numeric_dtype(s) else s
                arr = np.asarray(pd.Series(num, dtype="Float64").dropna().to_numpy(dtype=float))
                if len(arr):
                    vals.append(arr)
                    if np.nanmax(np.abs(arr)) <= 1.0:  # shares, drawn as percentages
                        vals.append(arr * 100)
        extra = np.asarray([float(v) for v in numbers if _finite(v)], float)
        if len(extra):
            vals.append(extra)
            vals.append(extra * 100)
        allv = np.concatenate(vals)
        allv = np.concatenate([allv, -allv])  # |SMD| and the like: the sign of a published value publishes nothing new
        return cls(np.unique(allv[np.isfinite(allv)]))

    def contains(self, x: np.ndarray) -> np.ndarray:
        """For each value of ``x`` (finite), whether a declared value lies within tolerance of it."""
        x = np.asarray(x, float)
        if not len(self.values):
            return np.zeros(len(x), bool)
        i = np.clip(np.searchsorted(self.values, x), 1, len(self.values) - 1) if len(self.values) > 1 else np.zeros(len(x), int)
        near = np.minimum(np.abs(self.values[i] - x), np.abs(self.values[np.maximum(i - 1, 0)] - x))
        return near <= ATOL + RTOL * np.abs(x)


def _finite(v: Any) -> bool:
    try:
        return v is not None and not isinstance(v, (str, bool)) and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _is_categorical(axis: Any) -> bool:
    """An axis whose ticks are text given by the figure (bars by district, a point plot by covariate): its
    coordinates are positions, not values. Only labels the figure set count (a category formatter, or
    ``set_xticks(x, labels)`` / ``set_xticklabels``, which matplotlib keeps as a dict of position -> label)
    and only when some label is not a number: a guess from rendered tick text would take a log axis
    (labels like ``10^3``) for categories and check nothing on it."""
    import functools

    from matplotlib.category import StrCategoryFormatter
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    fmt = axis.get_major_formatter()
    if isinstance(fmt, StrCategoryFormatter):
        return True
    if isinstance(fmt, FixedFormatter):
        labels = list(fmt.seq)
    elif isinstance(fmt, FuncFormatter) and isinstance(fmt.func, functools.partial) and \
            getattr(fmt.func.func, "__name__", "") == "_format_with_dict" and fmt.func.args:
        labels = list(fmt.func.args[0].values())
    else:
        return False
    return any(not _is_number(str(lbl)) for lbl in labels if str(lbl).strip())


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "").replace("−", "-").strip().rstrip("%"))
        return True
    except ValueError:
        return False


def _dims(transform: Any, ax: Any) -> tuple[bool, bool]:
    """Whether a transform's x and y inputs are data coordinates (a blended one has one in axes coordinates)."""
    try:
        return tuple(transform.contains_branch_seperately(ax.transData))  # type: ignore[return-value]
    except Exception:  # pragma: no cover - an unusual transform: check both
        return (True, True)


def _data_dims(artist: Any, ax: Any) -> tuple[bool, bool]:
    """Whether the artist's x and y are in data coordinates."""
    return _dims(artist.get_transform(), ax)


def _numbers_in(text: str) -> list[tuple[float, float]]:
    """Numbers written in a text, each with half its last printed digit (``1,234`` -> (1234, 0.5);
    ``12.5%`` -> (0.125, 0.0005); ``−3`` -> (-3, 0.5))."""
    out = []
    for m in re.finditer(r"[-−]?\d[\d,]*(?:\.\d+)?%?", text):
        s = m.group().replace("−", "-").replace(",", "")
        pct = s.endswith("%")
        s = s.rstrip("%")
        decimals = len(s.split(".")[1]) if "." in s else 0
        half = 0.5 * 10.0 ** -decimals
        v = float(s)
        out.append((v / 100, half / 100) if pct else (v, half))
    return out


def _text_ok(value: float, half: float, pool: Pool) -> bool:
    """A printed number matches a declared value that reads the same when rounded as printed."""
    return bool(np.any(np.abs(pool.values - value) <= half * (1 + 1e-9) + ATOL))


def _artists(ax: Any) -> Iterable[tuple[str, Any]]:
    from matplotlib.collections import Collection
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    in_bars = set()
    for c in ax.containers:
        from matplotlib.container import BarContainer

        if isinstance(c, BarContainer):
            in_bars |= {id(p) for p in c.patches}
            yield "bars", c
    for line in ax.get_lines():
        if isinstance(line, Line2D):
            yield "line", line
    for coll in ax.collections:
        if isinstance(coll, Collection):
            yield "collection", coll
    for im in ax.images:
        if isinstance(im, AxesImage):
            yield "image", im
    for p in ax.patches:
        if id(p) not in in_bars and isinstance(p, Rectangle):
            yield "rectangle", p
    for t in ax.texts:
        yield "text", t


def _name(kind: str, artist: Any, ax_i: int, ax: Any) -> str:
    label = ""
    try:
        label = artist.get_label() or ""
    except Exception:  # pragma: no cover
        pass
    label = "" if label.startswith("_") else label
    title = ax.get_title() or ax.get_ylabel() or ""
    what = {"bars": "bar", "line": "line", "collection": type(artist).__name__, "image": "image", "rectangle": "patch",
            "text": "text"}[kind]
    return f"{what}{f' {label!r}' if label else ''} in axes {ax_i + 1}{f' ({title})' if title else ''}"


def unfound(fig: Any, pool: Pool) -> list[str]:
    """The artists of ``fig`` that plot a value not in ``pool`` (names only, never values)."""
    bad: list[str] = []
    for ax_i, ax in enumerate(fig.get_axes()):
        if hasattr(ax, "_colorbar") or ax.get_label() == "<colorbar>":
            continue  # the colour scale: a decoration of the image it belongs to
        cat_x, cat_y = _is_categorical(ax.xaxis), _is_categorical(ax.yaxis)

        def miss(arr: Any) -> bool:
            a = np.asarray(arr, dtype=float).ravel()
            a = a[np.isfinite(a)]
            return bool(len(a)) and not pool.contains(a).all()

        for kind, art in _artists(ax):
            wrong = False
            if kind == "bars":
                vertical = getattr(art, "orientation", "vertical") == "vertical"
                for p in art.patches:
                    value = p.get_height() if vertical else p.get_width()
                    centre = (p.get_x() + p.get_width() / 2) if vertical else (p.get_y() + p.get_height() / 2)
                    edge = p.get_x() if vertical else p.get_y()
                    on_cat = cat_x if vertical else cat_y
                    if miss([value]) or (not on_cat and miss([centre]) and miss([edge])):
                        wrong = True
                        break
            elif kind == "line":
                dx, dy = _data_dims(art, ax)
                x, y = (np.asarray(v, dtype=object) for v in art.get_data(orig=False))
                x = _as_float(x, ax.xaxis)
                y = _as_float(y, ax.yaxis)
                spans = (not dx and np.allclose(y, y[0]) if len(y) else False) or \
                        (not dy and np.allclose(x, x[0]) if len(x) else False)
                if spans and (not dx or not dy):
                    continue  # axhline / axvline: a reference line, an axes decoration
                wrong = (dx and not cat_x and miss(x)) or (dy and not cat_y and miss(y))
            elif kind == "collection":
                arr = art.get_array()
                if arr is not None and len(np.ravel(arr)):
                    wrong = miss(np.ma.filled(np.ma.asarray(arr, float), np.nan))  # colours encode values
                checks = []  # (points, x in data, y in data)
                offsets = art.get_offsets()
                if offsets is not None and len(offsets) and art.get_offset_transform() is not None:
                    ox, oy = _dims(art.get_offset_transform(), ax)
                    checks.append((np.asarray(offsets, float), ox, oy))
                dx, dy = _data_dims(art, ax)
                if (dx or dy) and art.get_gid() != GEOMETRY:  # vertices in data coordinates (bands, error bars)
                    checks += [(np.asarray(path.vertices, float), dx, dy) for path in art.get_paths()]
                for pts, ox, oy in checks:
                    pts = pts.reshape(-1, 2)
                    if (ox and not cat_x and miss(pts[:, 0])) or (oy and not cat_y and miss(pts[:, 1])):
                        wrong = True
            elif kind == "image":
                wrong = miss(np.ma.filled(np.ma.asarray(art.get_array(), float), np.nan))
            elif kind == "rectangle":
                continue  # a patch outside a bar container is geometry (a map tile, a span); its text is checked
            elif kind == "text":
                wrong = any(not _text_ok(v, half, pool) for v, half in _numbers_in(art.get_text()))
            if wrong:
                bad.append(_name(kind, art, ax_i, ax))
    return bad


def _as_float(a: np.ndarray, axis: Any) -> np.ndarray:
    """Line data as floats: dates to matplotlib date numbers, through the axis' converter."""
    try:
        return np.asarray(a, float)
    except (TypeError, ValueError):
        try:
            return np.asarray(axis.convert_units(a), float)
        except Exception:
            import matplotlib.dates as mdates

            return np.asarray(mdates.date2num(pd.to_datetime(pd.Series(a))), float)


def check(name: str, fig: Any, pool: Pool) -> None:
    """Refuse ``fig`` (raise :class:`FigureRefused`) when it plots a value not in ``pool``."""
    bad = unfound(fig, pool)
    if bad:
        raise FigureRefused(
            f"그림 {name!r}: 선언한 공개 표·결과에 없는 값을 그립니다 / figure {name!r} plots values that are not in its "
            f"declared published data (data=): {'; '.join(bad[:5])}. Draw it from the published table "
            "(rec.counts / rec.stats_table / rec.table) and pass that table as data=")
