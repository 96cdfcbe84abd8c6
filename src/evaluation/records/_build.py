"""``evaluation records check FILE...`` and ``evaluation records build params/X.yaml``.

The build reads the ``records:`` section's files, quarantines damaged rows (file, row,
reason; the pseudonymised id, no values) and writes the participants table only when
its content changed (so an incremental wearable build that names it as ``enrolled``
sees no change). A refused file (identifiers, no header, unreadable) stops the build:
the table would silently lack a whole file's people.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from ..runs.params import ParamsError
from ._pivot import to_participants
from ._read import Records, read_records


class RecordsRefusedError(ParamsError):
    """At least one records file was refused as a whole; the message lists every error (exit code 2, like bad parameters)."""


@dataclass
class RecordsBuild:
    """A records build: the :class:`Records` read, the participants table, where it went and whether it changed."""

    records: Records
    participants: pd.DataFrame
    output: Path
    written: bool
    synthetic: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self, lang: str = "ko") -> str:
        verb = ("새로 씀" if self.written else "변경 없음") if lang == "ko" else ("written" if self.written else "unchanged")
        head = f"참여자 표 {self.output} ({len(self.participants):,}명, {verb})" if lang == "ko" else \
            f"participants table {self.output} ({len(self.participants):,} people, {verb})"
        return f"{self.records.summary(lang)}\n{head}"

    def manifest(self) -> dict[str, Any]:
        """The record a run keeps: files, rows, errors by check and the table's hash (no values, no ids)."""
        r = self.records
        return {
            "files": r.files.drop(columns=["columns"]).to_dict(orient="records"),
            "files_refused": r.files_refused,
            "rows": {"rows_read": r.rows_read, "rows_kept": r.rows_kept, "rows_quarantined": r.rows_quarantined,
                     "enrolment_repeats_merged": r.rows_repeated,
                     "balanced": r.rows_read == r.rows_kept + r.rows_quarantined},
            "errors": int(len(r.errors)),
            "errors_by_check": r.errors["check"].value_counts().sort_index().to_dict(),
            "participants": int(len(self.participants)),
            "measurements": int(len(r.measurements)),
            "output": str(self.output),
            "sha256": hashlib.sha256(self.output.read_bytes()).hexdigest() if self.output.exists() else None,
            "synthetic": self.synthetic,
        }


def check(files: Iterable[str | Path], *, mapping: dict[str, str] | None = None, optional: Iterable[str] = ()) -> Records:
    """Read and validate ``files`` without writing anything (ids hashed with the public demo key in memory only);
    ``optional``: required fields these files do not carry (e.g. ``district`` outside Seoul)."""
    return read_records(files, mapping=mapping, demo=True, optional=optional)


def _write_if_changed(df: pd.DataFrame, path: Path) -> bool:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    data = buf.getvalue()
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def build(params_path: str | Path | Any, *, base_dir: str | Path | None = None) -> RecordsBuild:
    """Run a params file's ``records:`` section (path or loaded :class:`evaluation.params.RunParams`).

    Writes the synthetic records first when the section has ``synthetic:`` (demo). Raises
    :class:`RecordsRefusedError` when a file is refused as a whole; damaged rows are quarantined
    into ``<output stem>.quarantine.parquet`` and counted in ``<output stem>.records.json``.
    """
    from ..runs import params as params_mod

    cfg, base, r = params_mod.load_section(params_path, "records", base_dir)
    synthetic = None
    if r.synthetic is not None:
        from ..synth.records import write_from_params

        synthetic = write_from_params(r.synthetic, base)
    paths = [base / f for f in r.files]
    names = {str(base / f): f for f in r.files}
    for p in paths:  # show files inside a folder relative to the project, as staff name them
        if p.is_dir():
            names.update({str(q): str(q.relative_to(base)) if q.is_relative_to(base) else str(q) for q in p.rglob("*")})
    rec = read_records(paths, mapping=r.columns or None, demo=r.demo, pseudonymise_ids=r.pseudonymise_ids, names=names,
                       optional=r.optional)
    if rec.files_refused:
        lines = "\n".join(f"  - {line}" for line in rec.error_lines(cfg.lang))
        raise RecordsRefusedError(f"{len(rec.files_refused)} records file(s) refused; nothing written\n{lines}")
    people = to_participants(rec, programme=cfg.programme)
    output = base / r.output
    written = _write_if_changed(people, output)
    stem = output.with_suffix("")
    quarantine = rec.quarantine.assign(row=rec.quarantine["row"].astype("int64"))
    _write_if_changed(quarantine, quarantine_path(output))
    result = RecordsBuild(rec, people, output, written, synthetic)
    text = json.dumps(result.manifest(), ensure_ascii=False, indent=2, default=str)
    stem.with_name(stem.name + ".records.json").write_text(text, encoding="utf-8")
    return result


def quarantine_path(output: str | Path) -> Path:
    """``<output stem>.quarantine.parquet``: the rows a build set aside (file, sheet, row, pseudonymised id, reason)."""
    output = Path(output)
    stem = output.with_suffix("")
    return stem.with_name(stem.name + ".quarantine.parquet")


def quarantine_reasons(output: str | Path, lang: str = "ko") -> list[str]:
    """The distinct reasons rows of the build that wrote ``output`` were quarantined, as staff text (sorted by
    check code; no counts, rows or ids, so a report can say *why* without saying *who* or *how many*).
    Empty when nothing was quarantined or the build kept no quarantine file."""
    from ._validate import message

    path = quarantine_path(output)
    if not path.exists():
        return []
    reasons = pd.read_parquet(path, columns=["reason"])["reason"].dropna().astype(str)
    codes = sorted({c for r in reasons for c in r.split(",") if c})
    extra = {"enrolment_quarantined": ("등록 행이 격리된 참여자의 측정 행", "rounds of a person whose enrolment row was quarantined")}
    return [extra[c][0 if lang == "ko" else 1] if c in extra else message(c, lang) for c in codes]


def for_run(cfg: Any, base: Path, say: Callable[[str], None] = print) -> dict[str, Any]:
    """What ``evaluation run`` does with a ``records:`` section: build it first, keep its manifest."""
    result = build(cfg, base_dir=base)
    say(result.summary(cfg.lang))
    return result.manifest()
