"""Reference data about Seoul that every step shares.

In: the package's own district tables (``data/``) and the official statistics in
``shared/reference/seoul_districts/``.
Out: district codes and names (:mod:`.districts`) and tidy official indicators with their source
(:mod:`.official_stats`).
"""
from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = {"districts", "official_stats"}
__all__ = sorted(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
