"""Kernel-free views of a published run: every dashboard x language x district (x indicator) as static HTML.

The dashboards never recompute: a district or language switch is a lookup in the run's ``results.json``
and ``tables/``. So when a run is published, each dashboard is built once per language in a worker process
(the same widget tree Voila shows, from :mod:`.views`), its controls are set to every state in turn as a
visitor would set them, and each state is walked to HTML (:func:`._static.widget_html`). The server then
answers a visitor with a file instead of a kernel (``_service.Views``).

Layout (inside the run folder, written to ``views.tmp-<pid>`` and renamed, so a half-rendered set is
never served)::

    views/index.json                      states -> files, labels, timings
    views/<dashboard>/<lang>/<district or all>.html
    views/districts/<lang>/<indicator>/<district or all>.html
    views/img/<sha256[:20]>.png           figures, stored once (a map shared by 26 districts is one file)

Run as ``python -m evaluation.dashboards._prerender RUN_DIR [--workers N]``.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Iterator

VIEWS_DIR = "views"
INDEX = "index.json"
INDEX_VERSION = 1
DASHBOARDS = ("overview", "districts", "cost")
LANGS = ("ko", "en")
ALL = "all"  # file name of the "all of Seoul" state (district "")
# a districts job renders this many indicators x 26 districts; small enough to spread over the workers
CHOICES_PER_JOB = 3


@dataclass
class ViewsResult:
    """What :func:`render_run` wrote: pages, distinct figures, bytes on disk, seconds (wall)."""

    run_dir: Path
    pages: int
    images: int
    bytes: int
    seconds: float
    workers: int
    per_dashboard: dict[str, dict[str, float]] = field(default_factory=dict)

    def summary(self) -> str:
        parts = ", ".join(f"{k} {v['pages']:.0f} pages {v['cpu_seconds']:.0f} CPU s" for k, v in self.per_dashboard.items())
        return (f"views: {self.pages} pages, {self.images} figures, {self.bytes / 2**20:.1f} MiB in {self.seconds:.1f} s "
                f"on {self.workers} workers ({parts})")


def views_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / VIEWS_DIR


def has_views(run_dir: str | Path) -> bool:
    """True when the run's views were rendered completely (their index is written last)."""
    return (views_dir(run_dir) / INDEX).is_file()


def _slug(value: str) -> str:
    """A file-name-safe, unique name for an indicator key (keys may hold ':' and non-ASCII)."""
    text = re.sub(r"[^a-z0-9_]+", "-", value.lower()).strip("-")[:40] or "x"
    return f"{text}-{hashlib.sha256(value.encode()).hexdigest()[:6]}"


def state_key(lang: str, district: str = "", indicator: str = "") -> str:
    """Key of one state in ``index.json`` (what the server looks up; no visitor text reaches a path)."""
    return f"{lang}|{district}|{indicator}"


@contextlib.contextmanager
def shared_figures() -> Iterator[dict[str, int]]:
    """Draw each district-independent figure once while many districts are rendered.

    ``equity.tile_map`` takes no district: the same table and options give the same map whichever district is
    chosen, so the map (and its PNG) is made once per indicator and language instead of 26 times. Only
    figures returned by ``tile_map`` are shared; every other figure (e.g. the ranking, which outlines the
    chosen district) is drawn for each state. ``test_shared_figures_change_nothing`` checks the pages are
    byte-identical with and without this. Yields counters {"drawn", "shared"}.
    """
    import pandas as pd

    from .. import equity
    from . import views

    original_map, original_figure = equity.tile_map, views.figure
    maps: dict[tuple, Any] = {}
    images: dict[int, Any] = {}
    counts = {"drawn": 0, "shared": 0}

    def tile_map(data: pd.DataFrame, value: str = "value", **kwargs: Any) -> Any:
        if kwargs.get("ax") is not None:
            return original_map(data, value, **kwargs)
        digest = hashlib.sha256(pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes())
        digest.update(repr((list(data.columns), [str(t) for t in data.dtypes], value, sorted(kwargs.items()))).encode())
        key = (digest.hexdigest(),)
        if key not in maps:
            maps[key] = original_map(data, value, **kwargs)
        return maps[key]

    def figure(fig: Any) -> Any:
        if id(fig) in images:
            counts["shared"] += 1
            return images[id(fig)]
        counts["drawn"] += 1
        image = original_figure(fig)
        if any(fig is m for m in maps.values()):
            images[id(fig)] = image
        return image

    equity.tile_map, views.figure = tile_map, figure
    try:
        yield counts
    finally:
        equity.tile_map, views.figure = original_map, original_figure
        maps.clear()
        images.clear()


def _build(name: str, lang: str, root: str) -> Any:
    from . import views

    build = {"overview": views.overview_app, "districts": views.districts_app, "cost": views.cost_app}[name]
    return build(lang=lang, root=root).dashboard


def _render_job(job: dict[str, Any]) -> dict[str, Any]:
    """Worker: one dashboard in one language (one slice of indicators), every district; returns files written."""

    with shared_figures() as counts:
        done = _render_states(job)
    return {**done, "figures_drawn": counts["drawn"], "figures_shared": counts["shared"]}


def _render_states(job: dict[str, Any]) -> dict[str, Any]:
    from . import _static

    t0, cpu0 = time.perf_counter(), time.process_time()
    out, tmp = Path(job["out"]), Path(job["out"]) / "img"
    app = _build(job["name"], job["lang"], job["root"])
    if app.programme.value != job["programme"]:
        app.programme.value = job["programme"]
    if app.run.value != job["run"]:
        app.run.value = job["run"]
    controls = {id(app.programme): "programme", id(app.run): "run", id(app.language): "lang"}
    if app.district is not None:
        controls[id(app.district)] = "district"
    if app.choice is not None:
        controls[id(app.choice)] = "indicator"

    def image_src(png: bytes, fmt: str) -> str:
        name = f"{hashlib.sha256(png).hexdigest()[:20]}.{fmt}"
        target = tmp / name
        if not target.exists():  # two workers may write the same figure: same bytes, atomic rename
            part = tmp / f".{name}.{os.getpid()}"
            part.write_bytes(png)
            os.replace(part, target)
        return "ev-img/" + name

    files: dict[str, str] = {}
    title = app.title[job["lang"]]
    districts = [""] + (list(job["districts"]) if app.district is not None else [])
    for choice in job["choices"] or [""]:
        if app.choice is not None and choice and app.choice.value != choice:
            # start the indicator at "all of Seoul" without drawing the old indicator for it first
            app._muted = True
            if app.district is not None:
                app.district.value = ""
            app._muted = False
            app.choice.value = choice
        for district in districts:
            if app.district is not None and app.district.value != district:
                app.district.value = district  # redraws, as when a visitor chooses it
            parts = [job["name"], job["lang"]] + ([_slug(choice)] if choice else []) + [f"{district or ALL}.html"]
            rel = "/".join(parts)
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            page = _static.view_page(_static.widget_html(app.widget, controls, image_src), lang=job["lang"], title=title)
            target.write_text(page, encoding="utf-8")
            files[state_key(job["lang"], district, choice)] = rel
    titles = dict(zip(app.programme._options_values, app.programme._options_labels))
    return {"name": job["name"], "lang": job["lang"], "programme_title": titles.get(job["programme"], job["programme"]),
            "files": files, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - cpu0}


def _plan(run_dir: Path, out: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The jobs (dashboard x language x indicator slice) and what the index says about each dashboard."""
    from ..reference import districts
    from . import _data, views

    root = run_dir.parent.parent
    run = _data.RunData(run_dir)
    codes = list(districts.codes())
    base = {"root": str(root), "programme": run_dir.parent.name, "run": run_dir.name, "out": str(out)}
    choices = [v for _, v in views._indicator_choices(run, "ko")]
    jobs: list[dict[str, Any]] = []
    for lang in LANGS:
        jobs.append({**base, "name": "overview", "lang": lang, "choices": [], "districts": codes})
        jobs.append({**base, "name": "cost", "lang": lang, "choices": [], "districts": []})
        for i in range(0, max(len(choices), 1), CHOICES_PER_JOB):
            jobs.append({**base, "name": "districts", "lang": lang, "choices": choices[i:i + CHOICES_PER_JOB],
                         "districts": codes})
    meta = {"overview": {"districts": codes, "indicators": []}, "cost": {"districts": [], "indicators": []},
            "districts": {"districts": codes, "indicators": choices}}
    # heaviest first, so the last job to finish is a short one
    jobs.sort(key=lambda j: -(len(j["districts"]) + 1) * max(len(j["choices"]), 1) * (3 if j["name"] == "districts" else 1))
    return jobs, meta


def _labels(run_dir: Path, titles: dict[str, str]) -> dict[str, Any]:
    """The run's and programme's names (as the dashboards' own menu shows them, per language) and the word
    "latest", for the server's menus."""
    from ..publish.i18n import t
    from ..publish.report_html import run_label
    from . import _app  # noqa: F401  (registers "latest")

    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    fallback = manifest.get("title") or run_dir.parent.name
    return {"run": run_label(run_dir.name), "programme": {lang: titles.get(lang, fallback) for lang in LANGS},
            "latest": {lang: t("latest", lang) for lang in LANGS}}


def render_run(run_dir: str | Path, *, workers: int | None = None) -> ViewsResult:
    """Render every kernel-free view of a published run into ``<run>/views/`` (replacing older ones).

    ``workers``: processes rendering at once (default: every core; 1, in this process, for a run without
    tables). Each builds a dashboard once per
    language and walks its states, so the widget code, fonts and tables load once per job, not per page.
    """
    run_dir = Path(run_dir).resolve()
    if not (run_dir / "results.json").is_file() or not (run_dir / "manifest.json").is_file():
        raise FileNotFoundError(f"{run_dir} is not a published run (no results.json / manifest.json)")
    if workers is None:  # a run without tables draws no figure: not worth starting worker processes
        workers = (os.cpu_count() or 1) if any((run_dir / "tables").glob("*.parquet")) else 1
    workers = max(1, workers)
    t0 = time.perf_counter()
    out = run_dir / f"{VIEWS_DIR}.tmp-{os.getpid()}"
    shutil.rmtree(out, ignore_errors=True)
    (out / "img").mkdir(parents=True)
    try:
        jobs, meta = _plan(run_dir, out)
        if workers == 1:
            done = [_render_job(j) for j in jobs]
        else:
            # spawn: the caller may hold threads (a run's kernel client, Voila's loop) that fork would copy
            with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=get_context("spawn")) as pool:
                done = list(pool.map(_render_job, jobs))
        files: dict[str, dict[str, str]] = {name: {} for name in DASHBOARDS}
        per: dict[str, dict[str, float]] = {name: {"pages": 0, "cpu_seconds": 0.0, "figures_drawn": 0,
                                                   "figures_shared": 0} for name in DASHBOARDS}
        for d in done:
            files[d["name"]].update(d["files"])
            per[d["name"]]["pages"] += len(d["files"])
            for k in ("cpu_seconds", "figures_drawn", "figures_shared"):
                per[d["name"]][k] += d[k]
        seconds = time.perf_counter() - t0
        pages = sum(len(f) for f in files.values())
        images = len(list((out / "img").glob("*.png")))
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        index = {"version": INDEX_VERSION, "run_id": run_dir.name, "programme": run_dir.parent.name,
                 "labels": _labels(run_dir, {d["lang"]: d["programme_title"] for d in done}), "dashboards": {name: {**meta[name], "files": files[name]} for name in DASHBOARDS},
                 "pages": pages, "images": images, "bytes": size, "seconds": round(seconds, 1), "workers": workers,
                 "per_dashboard": per}
        (out / INDEX).write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
        final = views_dir(run_dir)
        if final.exists():
            old = run_dir / f"{VIEWS_DIR}.old-{os.getpid()}"
            os.replace(final, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(out, final)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return ViewsResult(run_dir, pages, images, size, seconds, workers, per)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evaluation.dashboards._prerender", description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)
    result = render_run(args.run_dir, workers=args.workers)
    print(result.summary(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
