"""Read-only access to finished runs for the dashboards (no recomputation, aggregates only)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..publish.report import FORBIDDEN_COLUMNS, load_results, repo_root


def output_root() -> Path:
    """Folder holding ``<programme>/<run-id>/``: $EVALUATION_OUTPUT_ROOT or ``outputs/`` of the checkout."""
    env = os.environ.get("EVALUATION_OUTPUT_ROOT")
    return Path(env) if env else repo_root() / "outputs"


def programmes(root: Path | None = None) -> list[str]:
    """Programmes that have at least one successful run (a ``latest`` pointer)."""
    root = root or output_root()
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir() if d.is_dir() and (d / "latest").exists())


def successful_runs(programme: str, root: Path | None = None) -> list[str]:
    """Run ids of a programme whose manifest says ok, newest first."""
    from ..runs import list_runs

    return [r["run_id"] for r in list_runs(programme, root or output_root()) if r["status"] == "ok"]


def programme_title(programme: str, root: Path | None = None, lang: str = "ko") -> str:
    """The programme's title in ``lang`` from its latest run's manifest.

    A title written ``'한국어 / English'`` or a ``title_en`` gives the English title; otherwise English
    readers get the programme's glossary name (``smartband_9988`` -> "Smart band 9988"), never the
    Korean title, and the folder key only when nothing else is known.
    """
    from ..publish import glossary

    root = root or output_root()
    try:
        manifest = json.loads((root / programme / "latest" / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    title = str(manifest.get("title") or "")
    ko, _, en = (part.strip() for part in title.partition(" / "))
    key = str(manifest.get("programme") or programme)
    if lang == "en":
        return str(manifest.get("title_en") or "") or en or glossary.value_name(key, "en") or key
    return ko or glossary.value_name(key, "ko") or key


@dataclass
class RunData:
    """One finished run: its results, manifest and stored tables (loaded lazily, cached)."""

    path: Path
    results: dict[str, Any] = field(init=False)
    manifest: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.results = load_results(self.path)
        self.manifest = json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))

    @property
    def run_id(self) -> str:
        return self.manifest.get("run_id", self.path.name)

    @property
    def data_kind(self) -> str:
        """'programme' or 'synthetic' (the run's participant data); runs without a context count as synthetic."""
        from ..publish.provenance import read_context

        return read_context(self.path).get("data_kind", "synthetic")

    @property
    def title(self) -> str:
        return self.manifest.get("title") or self.manifest.get("programme", "")

    def value(self, notebook: str, key: str) -> dict[str, Any] | None:
        """A headline entry {'value', 'unit', 'label', 'ci'?} or None when the run lacks it."""
        return self.results.get(notebook, {}).get(key)

    def find(self, key: str) -> dict[str, Any] | None:
        """A headline entry by key from whichever notebook recorded it."""
        for entries in self.results.values():
            if key in entries:
                return entries[key]
        return None

    def has_table(self, name: str) -> bool:
        return (self.path / "tables" / f"{name}.parquet").exists()

    def table_provenance(self, name: str) -> dict[str, str] | None:
        """The provenance stored with a table ({'kind', 'detail'}), or None."""
        from ..publish.provenance import of_table

        if not self.has_table(name):
            return None
        prov = of_table(self.path / "tables" / f"{name}.parquet")
        return prov.to_dict() if prov else None

    def table(self, name: str) -> pd.DataFrame | None:
        """A stored aggregate table, or None if this run did not produce it."""
        if not self.has_table(name):
            return None
        return _read_table(str(self.path / "tables" / f"{name}.parquet"))


@lru_cache(maxsize=64)
def _read_table(path: str) -> pd.DataFrame:
    df = pd.read_parquet(path)
    leaked = [c for c in FORBIDDEN_COLUMNS if c in df.columns]
    if leaked:  # defence in depth: Recorder.table already refuses these
        raise ValueError(f"{path} carries participant-level columns {leaked}; dashboards show aggregates only")
    return df


def load_run(programme: str, run_id: str | None = None, root: Path | None = None) -> RunData | None:
    """The chosen run (default: ``latest``) or None when the programme has no successful run."""
    root = root or output_root()
    path = root / programme / (run_id or "latest")
    if not (path / "results.json").exists():
        return None
    return RunData(path.resolve())
