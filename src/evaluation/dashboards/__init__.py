"""Voila dashboards for foundation staff: overview, districts, cost.

The notebooks in ``notebooks/dashboards/`` only call :func:`overview_app`,
:func:`districts_app` or :func:`cost_app`; everything they show comes from a
finished run's ``results.json`` and ``tables/*.parquet`` (aggregated and
suppressed), never from participant-level data. :func:`serve` starts Voila.
"""
from __future__ import annotations

from ._serve import serve, voila_command, voila_env
from .views import cost_app, districts_app, overview_app

__all__ = ["cost_app", "districts_app", "overview_app", "serve", "voila_command", "voila_env"]
