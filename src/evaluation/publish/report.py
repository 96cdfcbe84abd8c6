"""What a notebook hands back to its run: headline numbers, tables and figures.

Every evaluation notebook takes an ``output_dir`` parameter (the runner injects
the run's folder) and records through a :class:`Recorder`::

    rec = report.Recorder(output_dir, notebook="10_cohort_overview")
    rec.result("participants_enrolled", 1234, unit="persons", label="등록자 수")
    rec.table("enrolment_by_district", df)      # -> tables/enrolment_by_district.parquet
    rec.figure("steps_by_week", fig, data="steps_by_week")  # -> figures/steps_by_week.png, values checked

The runner merges ``results/<notebook>.json`` into the run's ``results.json``;
dashboards read the tables and results and never recompute. Tables meant for
staff must already be aggregated and small-cell suppressed: :meth:`Recorder.table`
refuses a frame that carries a ``participant_id`` column.

The Recorder is the one gate (issue 20). Everything it writes under ``results/``,
``tables/`` and ``figures/`` is what staff may see; what it was given stays in
``private/`` (mode 0700), never read by reports or dashboards:

* person counts are perturbed with record keys (:mod:`.perturbation`):
  ``rec.result(key, unit="persons", members=ids)`` and ``rec.counts(name, people, by=[...])``;
* statistics are published only for cells whose published count is at least
  :func:`perturbation.stat_min_n` and rounded to what n supports (``n=``/``kind=``);
* prose is written with :meth:`Recorder.say` from recorded (protected) values only;
* a figure declares the published tables/results it is drawn from (``data=``) and plots only their
  values (:mod:`.figure_gate`), or is a figure of seed, official or illustrative numbers;
* the run's HTML reports show only what the Recorder displayed (:meth:`say`,
  :meth:`show`, :meth:`figure`): other cell outputs (``print``, a bare DataFrame)
  stay in the private executed notebook (:func:`evaluation.publish.report_html.render`).
"""
from __future__ import annotations

import json
import math
import os
import string
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .provenance import Provenance

FORBIDDEN_COLUMNS = ("participant_id",)
# a column that says why a value is missing tells what the hidden value is (issue 20, attack 5)
FORBIDDEN_PUBLISHED_COLUMNS = ("reason",)
PERSON_UNITS = ("persons", "participants", "people", "person-days")  # counts of records, perturbed
GATE_METADATA = {"evaluation": {"gate": True}}  # outputs the HTML reports may show
PRIVATE = "private"


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


def private_dir(output_dir: str | Path) -> Path:
    """``<output_dir>/private``: the unprotected numbers, owner-only (0700); never published."""
    folder = Path(output_dir) / PRIVATE
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def _display(obj: Any, **kwargs: Any) -> None:
    """Show ``obj`` in the notebook marked as gate-approved (nothing outside IPython)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    if get_ipython() is None:
        return
    display(obj, metadata=GATE_METADATA, **kwargs)


WITHHELD = "x"  # a withheld value in prose, as in tables


class _ProseFormatter(string.Formatter):
    """``str.format`` that prints a withheld value as "x" whatever its format spec."""

    def format_field(self, value: Any, format_spec: str) -> str:
        return WITHHELD if value is WITHHELD else super().format_field(value, format_spec)


class _Protected(dict):
    """Recorded values for :meth:`Recorder.say` templates; a missing or withheld value prints as "x"."""

    def __missing__(self, key: str) -> str:
        raise KeyError(f"say(): {{{key}}} is not a recorded result of this notebook; record it with rec.result first")


@dataclass
class Recorder:
    """Writes a notebook's results under ``output_dir`` (a scratch folder when empty).

    ``threshold`` is the small-count threshold; ``key`` the perturbation secret (default:
    :func:`perturbation.load_key`, the public demo key unless the run holds programme data).
    """

    output_dir: str | Path = ""
    notebook: str = "notebook"
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    threshold: int = 10
    key: bytes | None = None
    lang: str = "ko"
    private: dict[str, dict[str, Any]] = field(default_factory=dict)
    _published: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _figure_sources: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not str(self.output_dir):
            self.output_dir = tempfile.mkdtemp(prefix="evaluation-scratch-")
        self.output_dir = Path(self.output_dir)
        for sub in ("results", "tables", "figures"):
            (self.output_dir / sub).mkdir(parents=True, exist_ok=True)
        private_dir(self.output_dir)

    # ---------------------------------------------------------------- keys
    def _key(self) -> bytes:
        if self.key is None:
            from .perturbation import load_key
            from .provenance import read_context

            demo = read_context(self.output_dir).get("data_kind", "synthetic") != "programme"
            self.key = load_key(demo=demo)
        return self.key

    # ---------------------------------------------------------------- headline numbers
    def result(self, key: str, value: Any = None, *, unit: str = "", label: str = "",
               ci: tuple[float, float] | None = None, provenance: "Provenance | dict | str | None" = None,
               members: Any = None, n: Any = None, kind: str | None = None) -> Any:
        """Record a headline number (``value`` in ``unit``) with an optional 95% CI; returns the published value.

        * A person count (``unit`` "persons") is given as ``members`` (the pseudonymised ids counted) and
          published perturbed (:func:`perturbation.perturbed_total`); a bare number is refused.
        * A statistic of people (``kind`` "share", "mean", "smd" or "ratio") needs ``n``: the published
          count of its cell, or the ids (``members``) -- then it is published only when that count is at
          least :func:`perturbation.stat_min_n`, rounded to what n supports (CI ends alike).
        * Anything else (money, model outputs, row counts), and a count whose ``provenance`` is a seed
          document or official statistics (published there already), is published as given, rounded by unit.

        ``provenance`` says where the number comes from (:mod:`evaluation.publish.provenance`); without it the
        number is taken to be computed from the run's participant data (programme data, or synthetic in
        the demo, as the run context says). The value as given is kept in ``private/``.
        """
        from . import perturbation as pt

        raw: dict[str, Any] = {"value": _jsonable(value), "unit": unit}
        prov = self._provenance(provenance)
        # a count another body has already published (a seed document, official statistics) discloses nothing
        # of this run's records: it is shown as published there, with its source
        published_elsewhere = prov.kind in ("seed", "official")
        if unit.strip().lower() in PERSON_UNITS and not published_elsewhere:
            if members is None:
                raise ValueError(f"result {key!r}: a person count is published perturbed; pass members= (the ids counted), "
                                 "not a number")
            published: Any = pt.perturbed_total(members, key=self._key(), threshold=self.threshold)
            raw["value"] = int(pd.Series(list(members)).dropna().nunique())
            ci = None
        elif kind is not None:
            if members is not None and n is None:
                n = pt.perturbed_total(members, key=self._key(), threshold=self.threshold)
            if n is None:
                raise ValueError(f"result {key!r}: a {kind} of people needs n= (its cell's published count) or members=")
            published = pt.round_stat(value, n, kind, threshold=self.threshold)
            if ci is not None:
                ci = (pt.round_stat(ci[0], n, kind, threshold=self.threshold, scale=value),
                      pt.round_stat(ci[1], n, kind, threshold=self.threshold, scale=value))
                ci = None if published is None else ci
            raw["n"] = _jsonable(n)
        else:
            published = value
        entry: dict[str, Any] = {"value": _jsonable(published), "unit": unit, "label": label}
        if unit.strip().lower() in PERSON_UNITS and not published_elsewhere:
            entry["perturbed"] = True
        if ci is not None:
            entry["ci"] = [_jsonable(ci[0]), _jsonable(ci[1])]
        entry["provenance"] = prov.to_dict()
        self.results[key] = entry
        self.private[key] = raw
        path = self.output_dir / "results" / f"{self.notebook}.json"
        path.write_text(json.dumps(self.results, ensure_ascii=False, indent=2), encoding="utf-8")
        (private_dir(self.output_dir) / f"{self.notebook}.results.json").write_text(
            json.dumps(self.private, ensure_ascii=False, indent=2), encoding="utf-8")
        return published

    # ---------------------------------------------------------------- tables
    def table(self, name: str, df: pd.DataFrame, *, provenance: "Provenance | dict | str | None" = None,
              perturbed: bool = False) -> Path:
        """Store an aggregated table as Parquet under ``tables/``; refuses participant-level columns,
        a ``reason`` column, and person counts between 1 and ``threshold - 1``.

        The table's provenance (default: the run's participant data) is kept in the Parquet metadata;
        ``perturbed`` marks tables whose counts come from :meth:`perturb` (not exact facts for audits).
        """
        leaked = [c for c in FORBIDDEN_COLUMNS if c in df.columns]
        if leaked:
            raise ValueError(f"table {name!r} carries participant-level column(s) {leaked}; store aggregates only")
        telling = [c for c in FORBIDDEN_PUBLISHED_COLUMNS if c in df.columns]
        if telling:
            raise ValueError(f"table {name!r} has column(s) {telling}: saying why a value is withheld tells what it is; drop them")
        from .disclosure import PERSON_COUNTS

        for col in [c for c in PERSON_COUNTS if c in df.columns]:
            vals = pd.to_numeric(df[col], errors="coerce")
            small = ((vals >= 1) & (vals < self.threshold)).fillna(False).to_numpy()
            if small.any():
                raise ValueError(f"table {name!r}, column {col!r}, row {int(np.flatnonzero(small)[0])}: a person count "
                                 f"below {self.threshold} would be published; perturb counts with rec.counts")
        path = self.output_dir / "tables" / f"{name}.parquet"
        write_table(path, df, self._provenance(provenance), perturbed=perturbed)
        self._published[name] = df.copy()  # what a figure may be drawn from (Recorder.figure's data=)
        return SavedPath(path)

    def counts(self, name: str, data: pd.DataFrame, by: list[str], *, value: str = "participants",
               margins: bool = True, levels: dict[str, list] | None = None,
               provenance: "Provenance | dict | str | None" = None) -> pd.DataFrame:
        """Publish the frequency table of ``data`` (one row per person, with ``participant_id``) by ``by``,
        perturbed (:mod:`.perturbation`), over the full grid (structural zeros listed), with every margin
        when ``margins`` (margin rows have None keys and ``margin`` True). Returns the published table."""
        from . import perturbation as pt

        if margins:
            out = pt.perturbed_with_margins(data, by, key=self._key(), threshold=self.threshold, levels=levels)
        else:
            out = pt.perturbed_counts(data, by, key=self._key(), threshold=self.threshold, levels=levels)
        out = out.rename(columns={"count": value})
        self.table(name, out, provenance=provenance, perturbed=True)
        return out

    def stats_table(self, name: str, df: pd.DataFrame, stats: dict[str, str], *, n: str = "n",
                    members: list | None = None, scale: dict[str, str] | None = None, publish_n: bool = True,
                    weights: tuple[str, ...] = (), drop: tuple[str, ...] = (),
                    provenance: "Provenance | dict | str | None" = None) -> pd.DataFrame:
        """Publish a table of statistics per cell: ``stats`` maps a column to its kind ("share", "mean",
        "smd", "ratio"; or a Series of kinds, one per row); each value is kept only where the row's published ``n`` is at least
        :func:`perturbation.stat_min_n`, rounded to what that n supports (:func:`perturbation.round_stat`).

        ``members`` (one collection of ids per row) makes ``n`` the perturbed count of those people; without
        it ``n`` must already be a published count, or (``publish_n=False``) the true count, then left out of
        the table: a statistic is then withheld only when n < :func:`perturbation.stat_min_n`, which confines
        n to a window as wide as that. ``scale`` maps a column to the column whose digits it keeps (a CI end
        to its estimate). ``weights`` (e.g. person-days) are kept to 2 significant digits where the row's
        first statistic is shown, else blanked; ``drop`` columns are left out (e.g. exact event counts). A
        ``suppressed`` column is rewritten to say only whether the statistic is shown. Returns the published table.
        """
        from . import perturbation as pt

        out = df.reset_index(drop=True).copy()
        if members is not None:
            if len(members) != len(out):
                raise ValueError(f"stats_table {name!r}: {len(members)} member lists for {len(out)} rows")
            out[n] = pd.array([pt.perturbed_total(m, key=self._key(), threshold=self.threshold) for m in members],
                              dtype="Int64")
        counts = pd.to_numeric(out[n], errors="coerce")
        scale = scale or {}
        for col, kind in stats.items():
            ref = out[scale[col]] if col in scale else out[col]
            kinds = kind.reset_index(drop=True) if isinstance(kind, pd.Series) else pd.Series(kind, index=out.index)
            out[col] = [pt.round_stat(v, k, kd, threshold=self.threshold, scale=r)
                        for v, k, kd, r in zip(out[col], counts, kinds, ref)]
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
        shown = out[next(iter(stats))].notna()
        for col in weights:
            out[col] = [pt.round_stat(v, pt.stat_min_n(self.threshold), "ratio", threshold=self.threshold) if ok else None
                        for v, ok in zip(out[col], shown)]
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
        if "suppressed" in out:
            out["suppressed"] = ~shown.to_numpy()
        out = out.drop(columns=[c for c in drop if c in out])
        if not publish_n:
            out = out.drop(columns=[n])
        # n perturbed here from its people: marked, so audits read it as perturbed, not as an exact count
        self.table(name, out, provenance=provenance, perturbed=members is not None and publish_n)
        return out

    def share_of(self, numerator: Any, denominator: Any) -> tuple[float | None, int]:
        """A share of people computed from perturbed counts (published numerator / published denominator),
        rounded by the published denominator: ``(share or None, published denominator)``. Shares of small
        groups cannot be multiplied back into small counts this way."""
        from . import perturbation as pt

        den = pt.perturbed_total(denominator, key=self._key(), threshold=self.threshold)
        num = pt.perturbed_total(numerator, key=self._key(), threshold=self.threshold)
        return (pt.round_stat(min(num / den, 1.0) if den else None, den, "share", threshold=self.threshold), den)

    def perturb(self, data: pd.DataFrame, by: list[str], *, levels: dict[str, list] | None = None) -> pd.DataFrame:
        """Perturbed counts of ``data`` (one row per person and cell, with ``participant_id``) by ``by``
        (column ``count``), to be published with :meth:`table` and ``perturbed=True``."""
        from . import perturbation as pt

        return pt.perturbed_counts(data, by, key=self._key(), threshold=self.threshold, levels=levels)

    # ---------------------------------------------------------------- what the report shows
    def say(self, ko: str, en: str = "", **values: Any) -> str:
        """Prose for the report from protected values only: ``{key}`` fields are this notebook's recorded
        results (as published; a withheld one prints "x"), ``{key:,}`` formats work. Extra ``values`` must
        not be numbers (pass labels, not counts). Shown in the report; returns the text."""
        for k, v in values.items():
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                raise TypeError(f"say(): {k}={v!r} is a number; record it with rec.result and use {{{k}}} instead")
        fields = _Protected({k: (WITHHELD if e.get("value") is None else e["value"]) for k, e in self.results.items()})
        fields.update(values)
        text = _ProseFormatter().vformat(ko if self.lang == "ko" or not en else en, (), fields)
        from IPython.display import Markdown

        _display(Markdown(text))
        return text

    def say_published(self, ko: str, en: str = "", *, provenance: "Provenance | dict | str") -> str:
        """Prose built only from figures another body has published (a seed document, official statistics)
        or from an illustrative model: shown in the report as given, since it discloses nothing of the
        run's records. Any other provenance is refused: use :meth:`say` with recorded results."""
        self._require_published(provenance, "say_published")
        from IPython.display import Markdown

        text = ko if (self.lang == "ko" or not en) else en
        _display(Markdown(text))
        return text

    def show_published(self, html_table: str, *, provenance: "Provenance | dict | str") -> None:
        """A staff table (HTML from :func:`evaluation.publish.staff_table.to_html`) of figures published
        elsewhere or of an illustrative model, shown in the report; other provenance is refused."""
        self._require_published(provenance, "show_published")
        from IPython.display import HTML

        _display(HTML(html_table))

    def _require_published(self, provenance: "Provenance | dict | str", where: str) -> None:
        kind = self._provenance(provenance).kind
        if kind not in ("seed", "official", "illustrative"):
            raise ValueError(f"{where}: figures from {kind!r} data go through rec.result / rec.say / rec.show "
                             "(protected values only)")

    def show(self, name: str) -> pd.DataFrame:
        """Display a table as published (read back from ``tables/``) in the report; returns it."""
        df = load_table(self.output_dir, name)
        _display(df)
        return df

    def _provenance(self, value: "Provenance | dict | str | None") -> "Provenance":
        from .provenance import Provenance, default_for_run

        return default_for_run(self.output_dir) if value is None else Provenance.coerce(value)

    def figure(self, name: str, fig: Any, *, data: Any) -> Path:
        """Save a matplotlib figure as PNG under ``figures/`` and show that PNG in the report (the live
        figure is closed, so only the saved image is displayed).

        ``data`` says what the figure is drawn from, and the gate checks it (:mod:`.figure_gate`):

        * published tables -- a name written by :meth:`table` / :meth:`counts` / :meth:`stats_table` (this
          notebook's or an earlier notebook's of the run), or the frame they returned -- and recorded result
          keys of this notebook, alone or in a list: every value the figure plots must be one of theirs,
          else the figure is refused (:class:`.figure_gate.FigureRefused`) and nothing is saved;
        * or a provenance of kind ``seed``, ``official`` or ``illustrative`` (a ledger, official
          statistics, an illustrative model's output): figures of numbers published elsewhere or assumed,
          not of the run's participants, are saved as drawn.
        """
        from . import figure_gate

        declared, pool = self._figure_data(name, data)
        if pool is not None:
            try:
                figure_gate.check(name, fig, pool)
            except figure_gate.FigureRefused:
                try:
                    import matplotlib.pyplot as plt

                    plt.close(fig)  # a refused figure is not shown either
                except Exception:  # pragma: no cover - not a pyplot figure
                    pass
                raise
        path = self.output_dir / "figures" / f"{name}.png"
        fig.savefig(path)
        listed = private_dir(self.output_dir) / f"{self.notebook}.figures.json"
        names = set(json.loads(listed.read_text(encoding="utf-8"))) if listed.exists() else set()
        listed.write_text(json.dumps(sorted(names | {path.name})), encoding="utf-8")
        # what each figure was drawn from, for the run's audit (private: table names only, no values)
        self._figure_sources[path.name] = declared
        (private_dir(self.output_dir) / f"{self.notebook}.figure_data.json").write_text(
            json.dumps(self._figure_sources, ensure_ascii=False, indent=2), encoding="utf-8")
        try:
            import matplotlib.pyplot as plt

            plt.close(fig)
        except Exception:  # pragma: no cover - not a pyplot figure
            pass
        from IPython.display import Image

        _display(Image(filename=str(path)))
        return SavedPath(path)

    def _figure_data(self, name: str, data: Any) -> "tuple[list[str], Any]":
        """``data`` of :meth:`figure` resolved: (what was declared, the pool of values it may plot, or None
        for a figure of seed, official or illustrative numbers)."""
        from . import figure_gate
        from .provenance import Provenance

        items = list(data) if isinstance(data, (list, tuple)) else [data]
        if not items or any(i is None for i in items):
            raise ValueError(f"figure {name!r}: data= must name the published tables or results it is drawn from, "
                             "or a seed/official/illustrative provenance")
        declared: list[str] = []
        frames: list[pd.DataFrame] = []
        numbers: list[Any] = []
        kinds: list[str] = []
        for item in items:
            if isinstance(item, Provenance) or (isinstance(item, dict) and "kind" in item):
                prov = Provenance.coerce(item)
                kinds.append(prov.kind)
                declared.append(f"provenance:{prov.kind}")
            elif isinstance(item, pd.DataFrame):
                found = next((n for n, df in self._published.items()
                              if item.reset_index(drop=True).equals(df.reset_index(drop=True))), None)
                if found is None:
                    raise ValueError(f"figure {name!r}: a DataFrame given as data= is not a table this notebook published; "
                                     "pass the frame rec.counts/rec.stats_table returned, or the table's name")
                frames.append(self._published[found])
                declared.append(f"table:{found}")
            elif isinstance(item, str) and item in self._published:
                frames.append(self._published[item])
                declared.append(f"table:{item}")
            elif isinstance(item, str) and _gated_table(self.output_dir, item):
                frames.append(load_table(self.output_dir, item))  # an earlier notebook's table of this run
                declared.append(f"table:{item}")
            elif isinstance(item, str) and item in self.results:
                entry = self.results[item]
                numbers += [entry.get("value"), *(entry.get("ci") or [])]
                declared.append(f"result:{item}")
            elif isinstance(item, str) and item in figure_gate.PUBLISHED_ELSEWHERE:
                kinds.append(item)
                declared.append(f"provenance:{item}")
            else:
                raise ValueError(f"figure {name!r}: data item {item!r} is neither a published table nor a recorded result "
                                 "of this notebook, nor a seed/official/illustrative provenance")
        if kinds:
            wrong = [k for k in kinds if k not in figure_gate.PUBLISHED_ELSEWHERE]
            if wrong:
                raise ValueError(f"figure {name!r}: provenance {wrong[0]!r} is the run's own data; name the published "
                                 "tables or results the figure is drawn from")
            if frames or numbers:
                raise ValueError(f"figure {name!r}: give either published tables/results or a seed/official/illustrative "
                                 "provenance as data=, not both")
            return declared, None
        return declared, figure_gate.Pool.of(frames, numbers)


def _gated_table(run_dir: Path, name: str) -> bool:
    """``tables/<name>.parquet`` exists and was written by the Recorder (it carries the provenance key)."""
    import pyarrow.parquet as pq

    from .provenance import PARQUET_KEY

    path = Path(run_dir) / "tables" / f"{name}.parquet"
    try:
        return path.is_file() and PARQUET_KEY in (pq.read_schema(path).metadata or {})
    except Exception:
        return False


PERTURBED_KEY = b"evaluation.perturbed"


def is_perturbed(path: str | Path) -> bool:
    """True when a stored table's counts were perturbed by :meth:`Recorder.counts` (Parquet metadata)."""
    import pyarrow.parquet as pq

    return (pq.read_schema(path).metadata or {}).get(PERTURBED_KEY) == b"true"


def write_table(path: str | Path, df: pd.DataFrame, provenance: "Provenance", *, perturbed: bool = False) -> Path:
    """Write ``df`` to Parquet with its provenance in the file's metadata (see :func:`provenance.of_table`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .provenance import PARQUET_KEY

    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[PARQUET_KEY] = json.dumps(provenance.to_dict(), ensure_ascii=False).encode("utf-8")
    if perturbed:
        meta[PERTURBED_KEY] = b"true"
    pq.write_table(table.replace_schema_metadata(meta), path)
    return Path(path)


def ungated(run_dir: str | Path) -> list[str]:
    """Files under ``tables/`` and ``figures/`` the Recorder did not write (a notebook wrote around the gate).

    Tables written by :func:`write_table` carry the provenance key in their Parquet metadata; figures are
    listed in ``private/figures.json`` by :meth:`Recorder.figure`.
    """
    import pyarrow.parquet as pq

    from .provenance import PARQUET_KEY

    run_dir = Path(run_dir)
    bad = []
    for p in sorted((run_dir / "tables").glob("*")) if (run_dir / "tables").is_dir() else []:
        try:
            ok = p.suffix == ".parquet" and PARQUET_KEY in (pq.read_schema(p).metadata or {})
        except Exception:
            ok = False
        if not ok:
            bad.append(f"tables/{p.name}")
    listed = set()
    for f in (run_dir / PRIVATE).glob("*.figures.json") if (run_dir / PRIVATE).is_dir() else []:
        listed |= set(json.loads(f.read_text(encoding="utf-8")))
    for p in sorted((run_dir / "figures").glob("*")) if (run_dir / "figures").is_dir() else []:
        if p.name not in listed:
            bad.append(f"figures/{p.name}")
    return bad


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
