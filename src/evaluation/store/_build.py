"""One incremental build: new or changed export files -> minutes store -> daily store, with a ledger.

Plan (every step derives "what is stale" from names on disk and stored
fingerprints, so a re-run with nothing new recomputes nothing):

1. scan the export folders; new or changed files (ledger: size + mtime, else
   content hash) are ingested in batches (one task and one reader per batch,
   one part per partition per million rows read) into minutes parts;
2. a minutes partition whose parts changed (names, or a part rewritten in
   place) gets its row counts and clock-offset phase sums: handed over by the
   ingest tasks when its parts are all new and each participant's rows come
   from one file, else read back (one task per partition);
3. a daily partition (bucket, date) is recomputed when the parts of its halo
   (date -1, 0, +1) or the clock-offset decision of a participant in that halo
   changed -- exactly the participant-days that late or re-synced data can move.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd

from ..signals._config import DEFAULT, CleaningConfig
from ..signals._dataset import offset_participants
from . import _ledger
from ._runner import Runner
from ._store import FORMAT, Layout, list_minutes, remove_file_rows, write_parquet, write_text
from ._tasks import daily_partition, ingest_files, phase_partition


FUSE_PHASE = True
"""Take the phase sums of partitions written by this build from the ingest tasks (False: read every
stale partition again; the same numbers, kept as a switch for tests)."""


class BuildLockedError(RuntimeError):
    """Another build holds the store's lock."""


@contextlib.contextmanager
def store_lock(root: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the store's build lock; wait up to ``wait`` seconds for another build to finish."""
    root.mkdir(parents=True, exist_ok=True)
    fh = open(root / ".lock", "a+")
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise BuildLockedError(f"another build of {root} is in progress") from None
                time.sleep(0.5)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


@dataclass
class BuildResult:
    """Outcome of one build; the numbers are attributes, ``manifest`` the full record.

    Attributes: ``files_new``, ``files_changed``, ``files_unchanged``, ``files_failed``
    (path -> error), ``phase_partitions`` and ``daily_partitions`` (recomputed this
    build), ``daily_removed``, ``rows_in``, ``rows_kept``, ``rows_quarantined`` (all
    files in the ledger), ``rows_superseded`` (stored rows replaced by a newer export),
    ``participant_days`` (rows of the daily store), ``seconds``.
    """

    store: Path
    manifest: dict[str, Any] = field(repr=False)
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_failed: dict[str, str] = field(default_factory=dict)
    phase_partitions: int = 0
    daily_partitions: int = 0
    daily_removed: int = 0
    rows_in: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    rows_superseded: int = 0
    participant_days: int = 0
    seconds: float = 0.0

    @property
    def daily_path(self) -> Path:
        return self.store / "daily"

    @property
    def changed_anything(self) -> bool:
        return bool(self.files_new or self.files_changed or self.phase_partitions or self.daily_partitions or self.daily_removed)

    def summary(self) -> pd.DataFrame:
        """Tidy (metric, value) table."""
        keys = ("files_new", "files_changed", "files_unchanged", "phase_partitions", "daily_partitions", "daily_removed",
                "rows_in", "rows_kept", "rows_quarantined", "rows_superseded", "participant_days", "seconds")
        rows = [(k, getattr(self, k)) for k in keys] + [("files_failed", len(self.files_failed))]
        return pd.DataFrame(rows, columns=["metric", "value"])

    @property
    def diagnostics(self) -> pd.DataFrame:
        """One row per export file in the ledger: rows in / kept / quarantined and reasons."""
        return pd.DataFrame([{"file": k, **v} for k, v in self.manifest["by_file"].items()])

    def __str__(self) -> str:
        s = (f"build {self.store}: {self.files_new} new, {self.files_changed} changed, {self.files_unchanged} unchanged files; "
             f"{self.daily_partitions} daily partitions recomputed ({self.daily_removed} removed) in {self.seconds:.1f} s\n"
             f"  rows in {self.rows_in:,} = kept {self.rows_kept:,} + quarantined {self.rows_quarantined:,}; "
             f"superseded by newer exports {self.rows_superseded:,}; participant-days {self.participant_days:,}")
        for path, err in self.files_failed.items():
            s += f"\n  FAILED {path}: {err}"
        return s


def config_hash(config: CleaningConfig) -> str:
    text = json.dumps({"format": FORMAT, **dataclasses.asdict(config)}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()


def _fp(*parts: Iterable[str]) -> str:
    h = hashlib.sha1()
    for part in parts:
        h.update("\x1f".join(part).encode())
        h.update(b"\x1e")
    return h.hexdigest()


def _shift(date: str, k: int) -> str:
    return str(np.datetime64(date, "D") + k)


_STATE_COLUMNS = ["kind", "bucket", "date", "fingerprint", "rows", "superseded", "out_rows"]


def _load_state(layout: Layout) -> dict[tuple[str, str, str], dict[str, Any]]:
    path = layout.state / "partitions.parquet"
    if not path.exists():
        return {}
    df = pd.read_parquet(path)
    return {(r.kind, r.bucket, r.date): r._asdict() for r in df.itertuples(index=False)}


def _save_state(layout: Layout, state: dict) -> None:
    df = pd.DataFrame(list(state.values()), columns=_STATE_COLUMNS) if state else pd.DataFrame(columns=_STATE_COLUMNS)
    df = df.astype({"kind": str, "bucket": str, "date": str, "fingerprint": str, "rows": "int64", "superseded": "int64", "out_rows": "int64"})
    write_parquet(df.sort_values(["kind", "bucket", "date"]), layout.state / "partitions.parquet")


def _phase_table(layout: Layout, b: str) -> pd.DataFrame:
    path = layout.state / f"phase-{b}.parquet"
    if path.exists():
        return pd.read_parquet(path)
    return pd.DataFrame({"date": pd.Series([], dtype=object), "participant_id": pd.Series([], dtype=object),
                         "x": pd.Series([], dtype=float), "y": pd.Series([], dtype=float), "s": pd.Series([], dtype=float)})


def build_store(
    exports: str | Path | Iterable[str | Path],
    store: str | Path,
    *,
    n_buckets: int = 16,
    config: CleaningConfig = DEFAULT,
    read_kwargs: dict[str, Any] | None = None,
    patterns: Iterable[str] = _ledger.PATTERNS,
    client: Any = None,
    scheduler: str | None = None,
    verify: bool = False,
    progress: bool = False,
    wait: float = 0.0,
) -> BuildResult:
    """Bring the minutes and daily stores under ``store`` up to date with the files under ``exports``.

    ``read_kwargs`` go to :func:`evaluation.ingest.read_exports` for every file
    (``columns``, ``source_tz``, ``period``, ``demo``, ``pseudonymise_ids``, ...; ``enrolled``:
    a participants Parquet file whose ids are the enrolment list). ``client`` /
    ``scheduler``: run the tasks on Dask (see :class:`Runner`); default: this process.
    ``verify``: re-hash every file instead of trusting size + modification time.

    Duplicates across files: for a participant-minute present in several export
    files, the rows of the newest file (modification time when first ingested,
    then path) are used and the older rows are counted as superseded; copies
    inside one file are kept and flagged by the cleaning rules.
    """
    t0 = time.time()
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    roots = [exports] if isinstance(exports, (str, Path)) else list(exports)
    layout = Layout(Path(store).resolve(), int(n_buckets), config.tz)
    read_kwargs = dict(read_kwargs or {})
    chash = config_hash(config)

    def say(msg: str) -> None:
        if progress:
            print(msg, flush=True)

    with store_lock(layout.root, wait), Runner(client, scheduler) as runner:
        layout.open()
        ledger = _ledger.load(layout)
        found = _ledger.scan(roots, patterns)
        fplan = _ledger.plan(found, ledger, verify=verify)
        say(f"files: {len(fplan.new)} new, {len(fplan.changed)} changed, {len(fplan.unchanged)} unchanged")
        timings = {"scan": time.time() - t0}
        tick = time.time()

        # 1. ingest new and changed files (a changed file's old parts go first)
        for path in fplan.changed:
            old = ledger.loc[path]
            remove_file_rows(layout, old["part"], old["key"], json.loads(old["partitions"]))
            ledger = ledger.drop(index=path)
        batches = _batches([(p, int(found[p].st_mtime_ns), fplan.hashes.get(p)) for p in fplan.to_ingest],
                           {p: int(found[p].st_size) for p in fplan.to_ingest},
                           runner.slots() if fplan.to_ingest else 1)
        failed: dict[str, str] = {}
        rows = []
        fresh: dict[tuple[str, str, str], list] = {}  # (bucket, date, part) -> [phase sums, rows] of parts written now
        for res in (r for rs in runner.map(ingest_files, [(layout, b, read_kwargs, config) for b in batches]) for r in rs):
            path = res["path"]
            if "error" in res:
                failed[path] = res["error"]
                continue
            rows.append(_ledger.entry(path, found[path], res["sha256"], res))
            if "phase" in res:
                for b, d, n in res["partitions"]:
                    if f"{b}/{d}" in res["phase"]:  # absent: a participant's rows there come from two files
                        fresh.setdefault((b, d, res["part"]), [res["phase"][f"{b}/{d}"], 0])[1] += n
        for path, mtime in fplan.touched.items():
            ledger.loc[path, "mtime_ns"] = mtime
        if rows:
            ledger = pd.concat([ledger, pd.DataFrame(rows).set_index("path", drop=False)])

        timings["ingest"], tick = time.time() - tick, time.time()
        # 2. minutes partitions whose parts changed: rows, superseded rows, clock-offset phase sums
        listing = list_minutes(layout, stat=True)
        state = _load_state(layout)
        stale_phase = [(b, d) for (b, d), names in listing.items()
                       if state.get(("phase", b, d), {}).get("fingerprint") != _fp([chash], names)]
        gone = [(b, d) for (k, b, d) in list(state) if k == "phase" and (b, d) not in listing]
        say(f"minutes partitions: {len(stale_phase)} to summarise, {len(gone)} gone")
        results, to_read = _fused_phases(stale_phase, listing, fresh) if FUSE_PHASE else ([], stale_phase)
        results += runner.map(phase_partition, [(layout, b, d, config) for b, d in to_read])
        touched_buckets = {b for b, _ in stale_phase} | {b for b, _ in gone}
        phases = {b: _phase_table(layout, b) for b in {b for b, _ in listing} | touched_buckets}
        for b in touched_buckets:
            drop = {d for bb, d in stale_phase if bb == b} | {d for bb, d in gone if bb == b}
            new = [r["phase"] for r in results if r["bucket"] == b]
            t = pd.concat([phases[b][~phases[b]["date"].isin(drop)], *new], ignore_index=True)
            phases[b] = t.sort_values(["date", "participant_id"], kind="stable").reset_index(drop=True)
            write_parquet(phases[b], layout.state / f"phase-{b}.parquet")
        for b, d in gone:
            state.pop(("phase", b, d), None)
        for r in results:
            state[("phase", r["bucket"], r["date"])] = {
                "kind": "phase", "bucket": r["bucket"], "date": r["date"], "fingerprint": _fp([chash], listing[(r["bucket"], r["date"])]),
                "rows": r["rows"], "superseded": r["superseded"], "out_rows": len(r["phase"])}

        timings["phase"], tick = time.time() - tick, time.time()
        # 3. daily partitions whose halo or clock-offset decisions changed
        offsets: dict[str, set[str]] = {}
        present: dict[tuple[str, str], set[str]] = {}
        for b, t in phases.items():
            pooled = t.groupby("participant_id", sort=True)[["x", "y", "s"]].sum()
            offsets[b] = offset_participants(pooled, config)
            for d, ids in t.groupby("date")["participant_id"]:
                present[(b, d)] = set(ids)
        candidates: dict[tuple[str, str], tuple[str, list[str]]] = {}
        for b, d in listing:
            for day in (d, _shift(d, 1)):
                if (b, day) in candidates:
                    continue
                halo = [_shift(day, k) for k in (-1, 0, 1)]
                ids = set().union(*(present.get((b, h), set()) for h in halo))
                offs = sorted(offsets.get(b, set()) & ids)
                fp = _fp([chash], *(listing.get((b, h), ()) for h in halo), offs)
                candidates[(b, day)] = (fp, offs)
        stale_daily = [(b, d) for (b, d), (fp, _) in candidates.items()
                       if state.get(("daily", b, d), {}).get("fingerprint") != fp]
        removed = [(b, d) for (k, b, d) in list(state) if k == "daily" and (b, d) not in candidates]
        say(f"daily partitions: {len(stale_daily)} to recompute, {len(removed)} to remove")
        for b, d in removed:
            layout.daily_file(b, d).unlink(missing_ok=True)
            state.pop(("daily", b, d))
        runs = _runs(stale_daily, max_days=7)
        calls = [(layout, b, dates, config, sorted(set().union(*(candidates[(b, d)][1] for d in dates)))) for b, dates in runs]
        results = [r for rs in runner.map(daily_partition, calls) for r in rs]
        for r in results:
            key = (r["bucket"], r["date"])
            state[("daily", *key)] = {"kind": "daily", "bucket": key[0], "date": key[1], "fingerprint": candidates[key][0],
                                      "rows": 0, "superseded": 0, "out_rows": r["participant_days"]}
        where = runner.where
        timings["daily"] = time.time() - tick

        if fplan.to_ingest or fplan.touched or stale_phase or gone or stale_daily or removed:
            _save_state(layout, state)  # a no-op build rewrites only its manifest
            _ledger.save(layout, ledger)
        manifest = _manifest(layout, roots, ledger, state, config, chash, fplan, failed, started, t0, where,
                             len(stale_phase), len(stale_daily), len(removed))
        manifest["timings"] = {k: round(v, 3) for k, v in timings.items()}
        manifest["partitions"]["minutes_read_back"] = len(to_read)  # the rest had their sums handed over by ingest
        write_text(layout.root / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    r = manifest["rows"]
    return BuildResult(
        store=layout.root, manifest=manifest, files_new=len(fplan.new), files_changed=len(fplan.changed),
        files_unchanged=len(fplan.unchanged), files_failed=failed, phase_partitions=len(stale_phase),
        daily_partitions=len(stale_daily), daily_removed=len(removed), rows_in=r["rows_in"], rows_kept=r["rows_kept"],
        rows_quarantined=r["rows_quarantined"], rows_superseded=r["rows_superseded"], participant_days=r["participant_days"],
        seconds=manifest["seconds"],
    )


def _fused_phases(stale: list[tuple[str, str]], listing: dict, fresh: dict) -> tuple[list[dict], list[tuple[str, str]]]:
    """Phase results of stale minutes partitions made only of parts written by this build, each of other
    participants (then nothing is superseded and the partition's sums are its parts' sums, the same
    numbers a read gives); the other partitions are returned to be read."""
    done, to_read = [], []
    for b, d in stale:
        got = [fresh.get((b, d, name.split("@")[0])) for name in listing[(b, d)]]
        if any(g is None for g in got):
            to_read.append((b, d))
            continue
        phase = pd.concat([g[0] for g in got], ignore_index=True) if len(got) > 1 else got[0][0].copy()
        if phase["participant_id"].duplicated().any():
            to_read.append((b, d))
            continue
        rows = sum(g[1] for g in got)
        phase.insert(0, "date", d)
        done.append({"bucket": b, "date": d, "rows": rows, "superseded": 0,
                     "phase": phase.sort_values("participant_id", kind="stable").reset_index(drop=True)})
    return done, to_read


def _batches(items: list[tuple[str, int, str | None]], sizes: dict[str, int], slots: int,
             max_bytes: int = 256 << 20, max_files: int = 1024) -> list[list[tuple[str, int, str | None]]]:
    """Exports grouped into ingest tasks: at most ``max_bytes`` of input or ``max_files`` files each (one reader
    context per task instead of per file), and at least ``slots`` tasks when there are that many files,
    so every Dask worker has work. Files keep their (path) order."""
    if not items:
        return []
    total = sum(sizes[p] for p, _, _ in items)
    cap = max(1, min(max_bytes, -(-total // max(1, slots))))
    out: list[list[tuple[str, int, str | None]]] = [[]]
    size = 0
    for it in items:
        if out[-1] and (size + sizes[it[0]] > cap or len(out[-1]) >= max_files):
            out.append([])
            size = 0
        out[-1].append(it)
        size += sizes[it[0]]
    return out


def _runs(keys: list[tuple[str, str]], max_days: int = 7) -> list[tuple[str, list[str]]]:
    """Group (bucket, date) keys into runs of consecutive dates per bucket, at most ``max_days`` long
    (one task each: bounded memory, and each minutes partition is read about once)."""
    out: list[tuple[str, list[str]]] = []
    for b, d in sorted(keys):
        if out and out[-1][0] == b and len(out[-1][1]) < max_days and _shift(out[-1][1][-1], 1) == d:
            out[-1][1].append(d)
        else:
            out.append((b, [d]))
    return out


def _manifest(layout, roots, ledger, state, config, chash, fplan, failed, started, t0, where, n_phase, n_daily, n_removed) -> dict:
    by_reason: dict[str, int] = {}
    by_file = {}
    for row in ledger.itertuples(index=False):
        reasons = json.loads(row.by_reason)
        for k, v in reasons.items():
            by_reason[k] = by_reason.get(k, 0) + int(v)
        by_file[row.key] = {"name": Path(row.path).name, "sha256": row.sha256, "rows_in": int(row.rows_in),
                            "rows_kept": int(row.rows_kept), "rows_quarantined": int(row.rows_quarantined), "by_reason": reasons}
    phase = [v for k, v in state.items() if k[0] == "phase"]
    daily = [v for k, v in state.items() if k[0] == "daily"]
    rows = {
        "rows_in": int(ledger["rows_in"].sum()) if len(ledger) else 0,
        "rows_kept": int(ledger["rows_kept"].sum()) if len(ledger) else 0,
        "rows_quarantined": int(ledger["rows_quarantined"].sum()) if len(ledger) else 0,
        "by_reason": dict(sorted(by_reason.items())),
        "rows_stored": int(sum(v["rows"] for v in phase)),
        "rows_superseded": int(sum(v["superseded"] for v in phase)),
        "participant_days": int(sum(v["out_rows"] for v in daily)),
    }
    rows["balanced"] = rows["rows_in"] == rows["rows_kept"] + rows["rows_quarantined"] and rows["rows_kept"] == rows["rows_stored"]
    return {
        "build_id": uuid.uuid4().hex[:12], "started_at": started,
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "seconds": round(time.time() - t0, 3),
        "where": where, "store": str(layout.root), "exports": [str(Path(r).resolve()) for r in roots],
        "n_buckets": layout.n_buckets, "cleaning": dataclasses.asdict(config), "config_hash": chash,
        "files": {"total": len(ledger), "new": len(fplan.new), "changed": len(fplan.changed), "unchanged": len(fplan.unchanged),
                  "missing": len(fplan.missing), "failed": {Path(p).name: e for p, e in failed.items()}},
        "partitions": {"minutes": len(phase), "daily": len(daily), "minutes_recomputed": n_phase, "daily_recomputed": n_daily,
                       "daily_removed": n_removed},
        "rows": rows,
        "by_file": by_file,
    }
