"""Cohort tables: participant-day summaries grouped by person attributes and time.

``aggregate`` runs in embedded DuckDB over DataFrames or Parquet (never loading
Parquet into pandas); ``aggregate_dask`` computes the same table with
dask.dataframe for data spread over a cluster. Both return the tidy long table
described in :func:`aggregate`.
"""
from __future__ import annotations

from ._aggregate import aggregate, aggregate_dask
from ._keys import CALENDAR_KEYS, RELATIVE_KEYS, TIME_KEYS
from ._metrics import DEFAULT_METRICS, METRICS
from ._plot import breakdown, plot_heatmap, plot_lines
from ._sources import connect

__all__ = ["aggregate", "aggregate_dask", "connect", "CALENDAR_KEYS", "RELATIVE_KEYS", "TIME_KEYS",
           "DEFAULT_METRICS", "METRICS", "breakdown", "plot_heatmap", "plot_lines", "wide"]


def wide(table, metric: str | None = None, value: str = "estimate"):
    """Pivot the long output of :func:`aggregate` to one column per metric (``value`` column)."""

    keys = [c for c in table.columns if c not in ("metric", "n", "n_days", "estimate", "se", "ci_low", "ci_high", "unit", "suppressed")]
    t = table if metric is None else table[table["metric"] == metric]
    if not keys:
        return t.set_index("metric")[value].to_frame().T
    return t.pivot_table(index=keys, columns="metric", values=value, observed=True, dropna=False, aggfunc="first").reset_index()
