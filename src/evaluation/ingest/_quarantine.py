"""Where quarantined rows go.

Two places, on purpose:

* the **quarantine report** (``IngestResult.quarantine``, ``quarantine_dir/quarantine.parquet``):
  file, row, line, column, reason and the *pseudonymised* id -- no raw values, so it may sit in a
  run's ``outputs/`` folder;
* the **quarantine store** (``quarantine_store=``): the raw text of each quarantined row, for the
  data steward who fixes the export. It stays on the input side: a folder created 0700 with files
  0600, and a path inside an outputs tree is refused.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

STORE_ENV = "EVALUATION_QUARANTINE_STORE"


def under_outputs(path: str | Path) -> Path | None:
    """The outputs root ``path`` lies in (a folder named ``outputs``, a run's staging folder, or a
    folder holding a run ``manifest.json``), else None."""
    p = Path(path).expanduser().resolve()
    for q in [p, *p.parents]:
        if q.name == "outputs" or q.name.startswith(".staging-") or (q / "manifest.json").is_file():
            return q
    return None


class QuarantineStore:
    """A private folder for raw values of quarantined rows (0700; files 0600)."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        bad = under_outputs(self.root)
        if bad is not None:
            raise ValueError(
                f"quarantine_store {self.root} is inside the outputs tree {bad}; raw values must stay on the "
                "input side (원자료 격리 저장소는 outputs/ 밖에 두어야 합니다)")
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)
        self.files: list[Path] = []

    def write(self, table: pa.Table) -> Path | None:
        if table.num_rows == 0:
            return None
        path = self.root / f"quarantine-raw-{uuid.uuid4().hex[:12]}.parquet"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            pq.write_table(table, f)
        self.files.append(path)
        return path


def open_store(store: str | Path | None) -> QuarantineStore | None:
    store = store if store is not None else (os.environ.get(STORE_ENV) or None)
    return QuarantineStore(store) if store is not None else None
