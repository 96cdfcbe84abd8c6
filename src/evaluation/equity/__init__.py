"""Health equity across Seoul's districts: WHO HEAT summary measures, profiles, maps, programme gaps.

Summary measures (each returns an :class:`InequalityResult` with ``estimate``,
``se``, ``ci_low``, ``ci_high``, ``summary()`` and ``plot()``), computed and with
confidence intervals as the WHO Health Equity Assessment Toolkit documents::

    from evaluation import equity
    equity.bgv(df, value="value", population="population", group="district", se="se")
    equity.sii(df, value="pct", population="pop", order="quintile", scale=100)

Tidy inputs: one row per group and column names (``value=``, ``population=``,
``group=``, ``order=``, ``se=``); ``order`` ranks groups from the most
disadvantaged (lowest) to the most advantaged (highest).
"""
from __future__ import annotations

from . import _labels  # noqa: F401  (registers Korean/English labels)
from ._maps import choropleth, district_map, geojson_centroids, tile_map
from ._measures import bgsd, bgv, concentration_index, difference, mld, paf, par, ratio, theil
from ._profile import FLAG_LABELS, district_profile, flag_label
from ._programme import GapChangeResult, gap_change, participant_periods
from ._result import InequalityResult, combine
from ._sample import synthetic_indicators
from ._slope import rii, sii
from ._summary import district_order, indicator_inequality, inequality_measures
from ._text import staff_summary
from ._tilegrid import tilegrid

__all__ = [
    "InequalityResult", "GapChangeResult",
    "difference", "ratio", "bgv", "bgsd", "sii", "rii", "concentration_index", "theil", "mld", "paf", "par",
    "inequality_measures", "indicator_inequality", "district_order", "combine",
    "district_profile", "flag_label", "FLAG_LABELS",
    "gap_change", "participant_periods",
    "choropleth", "tile_map", "district_map", "tilegrid", "geojson_centroids",
    "synthetic_indicators", "staff_summary",
]
