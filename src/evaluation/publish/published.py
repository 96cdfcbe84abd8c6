"""What a run publishes, read as an outsider reads it: tables, results.json and the reports' visible text.

Nothing here opens the private folder, the executed notebooks or the manifest:
the attack suite (:mod:`evaluation.publish.attacks`) must see only what staff
and the public see.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

# person counts (people in a cell); person-days (one person contributes one per day)
PERSON_COUNTS = frozenset({
    "n", "participants", "participants_flagged", "enrolled", "active", "at_risk", "events", "count", "observed",
    "adherence_n", "persons", "people", "cumulative", "n_participants", "n_treated", "n_control", "n_matched",
    "n_unmatched", "n_units", "n_dropped", "censored", "dropouts",
})
PERSON_DAYS = frozenset({"person_days", "participant_days", "n_days", "days"})
# a dimension level that means "all levels" (a margin row)
TOTAL_LEVELS = frozenset({"all", "total", "합계", "전체", "계", "overall", "pooled"})
# columns that describe a row without splitting people (same count repeated once per metric)
NOT_DIMENSIONS = frozenset({"metric", "reason", "label", "unit", "note", "name_ko", "name_en", "district_name",
                            "verdict", "ci_method", "provenance", "source", "flagged_suppressed", "suppressed",
                            "margin", "cumulative_suppressed"})
_PEOPLE_WORDS = {"participant": "person", "participants": "person", "people": "person", "persons": "person",
                 "person": "person", "joiners": "person", "n": "person"}


def tokens(name: str) -> set[str]:
    """Lower-case words of a column or result key, people-words normalised to ``person``."""
    return {_PEOPLE_WORDS.get(w, w) for w in re.split(r"[^0-9a-z가-힣]+", str(name).lower()) if w}


def is_person_count(col: str) -> bool:
    c = col.lower()
    return c in PERSON_COUNTS or (c.startswith("n_") and c not in PERSON_DAYS) or c.endswith("_n")


def is_person_days(col: str) -> bool:
    return col.lower() in PERSON_DAYS


def is_total(level: object) -> bool:
    if level is None:
        return True
    if isinstance(level, float) and np.isnan(level):
        return True
    return isinstance(level, str) and level.strip().lower() in TOTAL_LEVELS


@dataclass
class Published:
    """A run folder's public files: ``tables`` (name -> DataFrame), ``results`` (notebook -> key -> entry),
    ``texts`` (report name -> visible text)."""

    run_dir: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    results: dict[str, dict] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    # tables whose Parquet metadata says their counts are cell-key perturbed (public: part of the file)
    perturbed: set[str] = field(default_factory=set)

    def result_values(self) -> list[tuple[str, str, float, str, str]]:
        """``(notebook, key, value, unit, label)`` of every numeric headline."""
        out = []
        for nb, entries in self.results.items():
            if not isinstance(entries, dict):
                continue
            for key, e in entries.items():
                if isinstance(e, dict) and isinstance(e.get("value"), (int, float)) and not isinstance(e.get("value"), bool):
                    out.append((nb, key, float(e["value"]), str(e.get("unit") or ""), str(e.get("label") or "")))
        return out


class _Text(HTMLParser):
    """Collects the text a reader sees; script and style contents are skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "pre", "table"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a reader sees in an HTML report (the standard library's HTML parser; tags, scripts, styles dropped)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return re.sub(r"[ \r\f\v]+", " ", "".join(parser.parts))


def _published_elsewhere(path: Path) -> bool:
    """A table whose published provenance is a seed document, official statistics or an illustrative model
    counts no one in the run's records (budget ledgers count years and items): nothing to attack there."""
    from .provenance import of_table

    try:
        prov = of_table(path)
    except Exception:  # unreadable metadata: attack the table as if it held people
        return False
    return prov is not None and prov.kind in ("seed", "official", "illustrative")


def _marked_perturbed(path: Path) -> bool:
    from .report import is_perturbed

    try:
        return is_perturbed(path)
    except Exception:  # unreadable metadata: read the counts as printed
        return False


def load(run_dir: str | Path) -> Published:
    """Read ``tables/*.parquet``, ``results.json``, ``reports/*.html`` and ``views/**/*.html`` of a run folder."""
    run_dir = Path(run_dir)
    pub = Published(run_dir)
    for p in sorted((run_dir / "tables").glob("*.parquet")):
        if _published_elsewhere(p):
            continue
        pub.tables[p.stem] = pd.read_parquet(p)
        if _marked_perturbed(p):
            pub.perturbed.add(p.stem)
    res = run_dir / "results.json"
    if res.exists():
        pub.results = json.loads(res.read_text(encoding="utf-8"))
    for p in sorted((run_dir / "reports").glob("*.html")):
        pub.texts[p.stem] = visible_text(p.read_text(encoding="utf-8", errors="replace"))
    # the dashboards' pre-rendered pages of a published run (rendered after the runner's audit; read by
    # ``evaluation audit RUN``): what they print is published too
    for p in sorted((run_dir / "views").rglob("*.html")) if (run_dir / "views").is_dir() else []:
        pub.texts[f"views/{p.relative_to(run_dir / 'views').as_posix()}"] = visible_text(
            p.read_text(encoding="utf-8", errors="replace"))
    return pub
