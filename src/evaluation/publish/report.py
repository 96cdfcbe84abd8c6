"""What a notebook hands back to its run: headline numbers, tables and figures.

Every evaluation notebook takes an ``output_dir`` parameter (the runner injects
the run's folder) and records through a :class:`Recorder`::

    rec = report.Recorder(output_dir, notebook="10_cohort_overview")
    rec.result("participants_enrolled", 1234, unit="persons", label="등록자 수")
    rec.table("enrolment_by_district", df)      # -> tables/enrolment_by_district.parquet
    rec.figure("steps_by_week", fig)            # -> figures/steps_by_week.png

The runner merges ``results/<notebook>.json`` into the run's ``results.json``;
dashboards read the tables and results and never recompute. Tables meant for
staff must already be aggregated and small-cell suppressed: :meth:`Recorder.table`
refuses a frame that carries a ``participant_id`` column.
"""
from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .provenance import Provenance

FORBIDDEN_COLUMNS = ("participant_id",)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    return value


class SavedPath(type(Path())):
    """The path of a saved table or figure; shows nothing when it ends a notebook cell (reports must
    not print ``PosixPath('.../.staging-.../figures/x.png')``)."""

    def _ipython_display_(self) -> None:
        return None


@dataclass
class Recorder:
    """Writes a notebook's results under ``output_dir`` (a scratch folder when empty)."""

    output_dir: str | Path = ""
    notebook: str = "notebook"
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not str(self.output_dir):
            self.output_dir = tempfile.mkdtemp(prefix="evaluation-scratch-")
        self.output_dir = Path(self.output_dir)
        for sub in ("results", "tables", "figures"):
            (self.output_dir / sub).mkdir(parents=True, exist_ok=True)

    def result(self, key: str, value: Any, *, unit: str = "", label: str = "", ci: tuple[float, float] | None = None,
               provenance: "Provenance | dict | str | None" = None) -> Any:
        """Record a headline number (``value`` in ``unit``) with an optional 95% CI; returns ``value``.

        ``provenance`` says where the number comes from (:mod:`evaluation.publish.provenance`); without it the
        number is taken to be computed from the run's participant data (programme data, or synthetic in
        the demo, as the run context says).
        """
        entry: dict[str, Any] = {"value": _jsonable(value), "unit": unit, "label": label}
        if ci is not None:
            entry["ci"] = [_jsonable(ci[0]), _jsonable(ci[1])]
        entry["provenance"] = self._provenance(provenance).to_dict()
        self.results[key] = entry
        path = self.output_dir / "results" / f"{self.notebook}.json"
        path.write_text(json.dumps(self.results, ensure_ascii=False, indent=2), encoding="utf-8")
        return value

    def table(self, name: str, df: pd.DataFrame, *, provenance: "Provenance | dict | str | None" = None) -> Path:
        """Store an aggregated table as Parquet under ``tables/``; refuses participant-level columns.

        The table's provenance (default: the run's participant data) is kept in the Parquet metadata.
        """
        leaked = [c for c in FORBIDDEN_COLUMNS if c in df.columns]
        if leaked:
            raise ValueError(f"table {name!r} carries participant-level column(s) {leaked}; store aggregates only")
        path = self.output_dir / "tables" / f"{name}.parquet"
        write_table(path, df, self._provenance(provenance))
        return SavedPath(path)

    def _provenance(self, value: "Provenance | dict | str | None") -> "Provenance":
        from .provenance import Provenance, default_for_run

        return default_for_run(self.output_dir) if value is None else Provenance.coerce(value)

    def figure(self, name: str, fig: Any) -> Path:
        """Save a matplotlib figure as PNG under ``figures/``."""
        path = self.output_dir / "figures" / f"{name}.png"
        fig.savefig(path)
        return SavedPath(path)


def write_table(path: str | Path, df: pd.DataFrame, provenance: "Provenance") -> Path:
    """Write ``df`` to Parquet with its provenance in the file's metadata (see :func:`provenance.of_table`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .provenance import PARQUET_KEY

    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[PARQUET_KEY] = json.dumps(provenance.to_dict(), ensure_ascii=False).encode("utf-8")
    pq.write_table(table.replace_schema_metadata(meta), path)
    return Path(path)


def publish_results(results: dict[str, dict[str, Any]], lang: str = "ko") -> dict[str, dict[str, Any]]:
    """Merged notebook results as published in ``results.json``: Korean and English labels, values rounded by unit.

    See :mod:`evaluation.publish.result_labels`; the unrounded numbers stay in ``results/<notebook>.json``.
    """
    from .result_labels import publish_results as _publish

    return _publish(results, lang)


def load_results(run_dir: str | Path) -> dict[str, Any]:
    """The merged ``results.json`` of a finished run."""
    return json.loads((Path(run_dir) / "results.json").read_text(encoding="utf-8"))


def load_table(run_dir: str | Path, name: str) -> pd.DataFrame:
    """A stored table of a finished run."""
    return pd.read_parquet(Path(run_dir) / "tables" / f"{name}.parquet")


def repo_root() -> Path:
    """The workbench checkout (the folder holding ``pyproject.toml``) or the current folder."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "notebooks").is_dir():
            return parent
    return Path.cwd()


def resolve_path(path: str | Path) -> Path:
    """Resolve a notebook parameter path: absolute as given, else relative to cwd, else to the repo root."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p
    candidate = repo_root() / p
    return candidate if candidate.exists() else p


def load_notebook_results(output_dir: str | Path, notebook: str) -> dict[str, Any]:
    """Headline numbers an earlier notebook of the same run recorded ({} when it has not run)."""
    path = Path(output_dir) / "results" / f"{notebook}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
