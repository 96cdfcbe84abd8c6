"""Cell-key perturbation of every published person count (ONS ``cell-key-perturbation``).

The method is the ONS Census 2021 / ABS TableBuilder one, run by the ONS package
(:func:`cell_key_perturbation.create_perturbed_table`), not re-implemented here:

* every participant gets a **record key**, an integer 0..255 derived from the
  pseudonym with a secret key: ``HMAC-SHA256(key, "record-key:" + pseudonym)[0]``
  (:func:`record_keys`). The key is handled like the pseudonym key
  (``$EVALUATION_PERTURBATION_KEY`` or a key file outside the repository named by
  ``$EVALUATION_PERTURBATION_KEY_FILE``; the demo uses a public demo key and says so);
* a cell's **cell key** is the sum of its records' keys modulo 256 (the package's
  integer form of "sum of uniform [0, 1) record keys, mod 1", at 1/256 resolution).
  The same set of records has the same cell key in every table and every rerun;
* the published count is ``count + ptable[pcv=count, ckey]`` (the **ptable**, :func:`ptable`).

The ptable used here (``threshold`` = 10, noise at most ±2):

* counts 1..9 go to **0** or to **10**, with probability ``count / 10`` of 10 (unbiased:
  the expected published value is the true count). So 1s and 2s never appear, and a
  published 0 can be a true 0..9, a published 10 a true 1..12;
* counts >= 12 get noise -2, -1, 0, +1, +2 with probabilities 13, 51, 128, 51, 13 in 256
  (mean 0, variance 0.80); counts 10 and 11 only the part of that which keeps them
  >= 10 (the rest stays at 0 noise: a bias of +0.30 at 10 and +0.10 at 11);
* a true 0 stays 0 (an empty cell has no records, hence no cell key).

Statistics of a cell (means, shares, CIs, SMDs) rest on its people: they are published only
when the cell's *published* count is at least :func:`stat_min_n` (threshold + 3 = 13; since
the noise is at most ±2 and small counts only reach exactly 10, such a cell has at least 11
people), and rounded to what ``n`` supports (:func:`round_stat`). The decision depends only on
published numbers, so whether a statistic is shown reveals nothing further.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import itertools
import math
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Literal, Sequence

import numpy as np
import pandas as pd

KEY_ENV = "EVALUATION_PERTURBATION_KEY"
KEY_FILE_ENV = "EVALUATION_PERTURBATION_KEY_FILE"
DEMO_KEY = b"evaluation-demo-perturbation-key-NOT-SECRET-public"
MIN_KEY_BYTES = 16
KEY_RANGE = 255  # record and cell keys are 0..255 (the package's default ptable range)
MAX_PCV = 750  # the package reuses ptable rows 501-750 for larger counts
DEFAULT_THRESHOLD = 10
MAX_NOISE = 2
# noise -2..+2 for counts >= threshold + 2, as counts out of 256 cell keys
NOISE_COUNTS = {-2: 13, -1: 51, 0: 128, 1: 51, 2: 13}
RECORD_KEY = "record_key"


class MissingKeyError(RuntimeError):
    """No perturbation key was given and demo mode is off."""


def load_key(key: str | bytes | None = None, key_file: str | Path | None = None, *, demo: bool = False) -> bytes:
    """The secret of the record keys: ``key``, ``key_file``, ``$EVALUATION_PERTURBATION_KEY``, the file named by
    ``$EVALUATION_PERTURBATION_KEY_FILE``; the public :data:`DEMO_KEY` only with ``demo=True``.

    A key file inside a git working tree is refused (as for the pseudonym key, by the same reader).
    """
    from ..ingest._pseudonym import read_secret

    return read_secret(key, key_file, env=KEY_ENV, file_env=KEY_FILE_ENV, what="perturbation key",
                       demo_key=DEMO_KEY if demo else None, error=MissingKeyError,
                       missing=f"no perturbation key: set ${KEY_ENV} or ${KEY_FILE_ENV} (a secret of at least "
                               f"{MIN_KEY_BYTES} bytes, kept like the pseudonym key), or run the demo (synthetic data) "
                               "with its public demo key")


def record_keys(ids: Iterable[str], key: bytes) -> np.ndarray:
    """Record key 0..255 of each pseudonymised id (``HMAC-SHA256(key, "record-key:" + id)``, first byte)."""
    out = [hmac.new(key, b"record-key:" + str(i).encode("utf-8"), hashlib.sha256).digest()[0] for i in ids]
    return np.asarray(out, dtype=np.int64)


# ------------------------------------------------------------------------------------------ the ptable
def _pvalue(pcv: int, ckey: int, threshold: int) -> int:
    if pcv < threshold:
        # unbiased: a count c goes to `threshold` on c/threshold of the cell keys, else to 0
        return threshold - pcv if ckey < round((KEY_RANGE + 1) * pcv / threshold) else -pcv
    edges, lo = {}, 0
    for noise, n in NOISE_COUNTS.items():
        edges[noise] = (lo, lo + n)
        lo += n
    # the noise bands are spread over the key range symmetrically around its middle
    centred = (ckey * 167) % (KEY_RANGE + 1)  # a fixed permutation: neighbouring keys do not share a band
    for noise, (a, b) in edges.items():
        if a <= centred < b:
            return noise if pcv + noise >= threshold else 0
    raise AssertionError("unreachable")  # pragma: no cover


@lru_cache(maxsize=8)
def _ptable(threshold: int, max_pcv: int) -> pd.DataFrame:
    rows = [(pcv, ck, _pvalue(pcv, ck, threshold)) for pcv, ck in itertools.product(range(1, max_pcv + 1), range(KEY_RANGE + 1))]
    return pd.DataFrame(rows, columns=["pcv", "ckey", "pvalue"])


def ptable(threshold: int = DEFAULT_THRESHOLD, max_pcv: int = MAX_PCV) -> pd.DataFrame:
    """The perturbation table (columns ``pcv``, ``ckey``, ``pvalue``) in the package's format; see the module docstring."""
    if threshold < 2:
        raise ValueError(f"threshold must be at least 2, got {threshold}")
    return _ptable(int(threshold), int(max_pcv)).copy()


def stat_min_n(threshold: int = DEFAULT_THRESHOLD) -> int:
    """Smallest *published* count whose cell statistics are published (threshold + 3 = 13 by default)."""
    return threshold + MAX_NOISE + 1


# ------------------------------------------------------------------------------------------ counts
def perturbed_counts(data: pd.DataFrame, by: Sequence[str], *, key: bytes, id_col: str = "participant_id",
                     threshold: int = DEFAULT_THRESHOLD, levels: dict[str, Sequence] | None = None) -> pd.DataFrame:
    """Frequency table of ``data`` (one row per person and cell) by ``by``, perturbed by the ONS package.

    Returns the ``by`` columns and ``count`` (the perturbed count; never 1..threshold-1) over the full
    grid of levels (``levels`` adds levels that have no records: listed as 0, a structural zero).
    The true counts are not returned. A person listed twice in one cell is counted once.
    """
    from cell_key_perturbation.create_perturbed_table import create_perturbed_table

    by = list(by)
    missing = [c for c in [*by, id_col] if c not in data.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing; have {list(data.columns)}")
    if not by:
        raise ValueError("perturbed_counts needs at least one grouping column; use perturbed_total for one count")
    micro = data[[*by, id_col]].drop_duplicates()
    if micro[by].isna().any().any():
        raise ValueError(f"grouping columns {by} have missing values; give them a level (e.g. 'unknown') first")
    micro = micro.assign(**{RECORD_KEY: record_keys(micro[id_col].astype(str), key)})
    if micro.empty:
        out = pd.DataFrame({c: pd.Series([], dtype=object) for c in by})
        out["count"] = pd.Series([], dtype="Int64")
    else:
        for c in by:  # the package groups with observed levels only; categoricals would add empty rows unkeyed
            if isinstance(micro[c].dtype, pd.CategoricalDtype):
                micro[c] = micro[c].astype(object)
        with contextlib.redirect_stdout(io.StringIO()):  # the package prints progress notes
            table = create_perturbed_table(micro, ptable(threshold), geog=[], tab_vars=by, record_key=RECORD_KEY,
                                           use_existing_ons_id=False, threshold=0)
        out = table[[*by, "count"]].copy()
    if levels:
        grid = [list(levels.get(c, sorted(out[c].dropna().unique().tolist()))) for c in by]
        full = pd.DataFrame(list(itertools.product(*grid)), columns=by)
        out = full.merge(out, on=by, how="left")
    out["count"] = out["count"].fillna(0).astype("Int64")
    return out.reset_index(drop=True)


def perturbed_total(ids: Iterable[str], *, key: bytes, threshold: int = DEFAULT_THRESHOLD) -> int:
    """The perturbed number of distinct people in ``ids`` (the same value as that set's cell in any table)."""
    ids = pd.Series(list(ids), dtype=object).dropna().astype(str).drop_duplicates()
    if ids.empty:
        return 0
    frame = pd.DataFrame({"_all": "all", "participant_id": ids})
    return int(perturbed_counts(frame, ["_all"], key=key, threshold=threshold)["count"].iloc[0])


def perturbed_with_margins(data: pd.DataFrame, by: Sequence[str], *, key: bytes, id_col: str = "participant_id",
                           threshold: int = DEFAULT_THRESHOLD, levels: dict[str, Sequence] | None = None,
                           total_label: None = None) -> pd.DataFrame:
    """Cells and every margin (each subset of ``by``; a margin's key columns are None) with ``margin`` flag.

    The cells are perturbed (:func:`perturbed_counts`); each margin is the sum of the published cells it
    covers, so a table adds up and its margins say nothing its cells do not. A margin perturbed with its own
    key, beside cells of which one is small, gave that cell away: with a district of 120 people printed 119
    and its band-issued cell printed 117, the own-device cell printed 0 or 10 lies in 0..6 -- a window
    narrower than the threshold (found by the attack suite on the demo; ONS tables, which perturb margins on
    their own, do not turn 1..9 into 0 or 10). Sums of cells that are each 0 or at least 10 are never 1..9.
    """
    by = list(by)
    placed = data[[*by, id_col]].drop_duplicates()
    if placed[id_col].duplicated().any():
        raise ValueError(f"perturbed_with_margins: a person is in more than one cell of {by}; margins are sums of "
                         "cells and would count them twice (publish the cells alone, margins=False)")
    cells = perturbed_counts(data, by, key=key, id_col=id_col, threshold=threshold, levels=levels)
    cells["count"] = cells["count"].astype("int64")
    parts = []
    for k in range(len(by), -1, -1):
        for keep in itertools.combinations(by, k):
            if len(keep) == len(by):
                part = cells[[*by, "count"]].copy()
            elif keep:
                part = cells.groupby(list(keep), sort=True, dropna=False, observed=True)["count"].sum().reset_index()
            else:
                part = pd.DataFrame({"count": [int(cells["count"].sum())]})
            for c in by:
                if c not in keep:
                    part[c] = None
            part["margin"] = k < len(by)
            parts.append(part[[*by, "count", "margin"]])
    out = pd.concat(parts, ignore_index=True)
    out["count"] = out["count"].astype("Int64")
    return out


# ------------------------------------------------------------------------------------------ statistics
StatKind = Literal["share", "mean", "smd", "ratio"]


def _sig(x: float, digits: int) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def round_stat(value: float | None, n: float | None, kind: StatKind, *, threshold: int = DEFAULT_THRESHOLD,
               scale: float | None = None) -> float | None:
    """A statistic as published: None unless ``n`` (the cell's published count) >= :func:`stat_min_n`, then
    rounded to what ``n`` supports.

    ``share`` (a proportion 0..1): 1 percentage point below n=100, 0.1 pp from 100;
    ``mean`` (and its CI ends): 2 significant digits below n=100, 3 from 100 -- of ``scale`` when given
    (e.g. the estimate, so a CI end keeps the estimate's decimals), else of the value;
    ``smd``: 0.1 below n=100, 0.01 from 100; ``ratio`` (e.g. a rate per person): 2/3 significant digits.
    """
    if value is None or n is None or pd.isna(value) or pd.isna(n) or n < stat_min_n(threshold):
        return None
    value = float(value)
    big = n >= 100
    if kind == "share":
        return round(value, 3 if big else 2)
    if kind == "smd":
        return round(value, 2 if big else 1)
    if kind in ("mean", "ratio"):
        digits = 3 if big else 2
        ref = abs(float(scale)) if scale is not None and pd.notna(scale) and scale != 0 else abs(value)
        if ref == 0 or not math.isfinite(ref):
            return value
        decimals = digits - 1 - int(math.floor(math.log10(ref)))
        return round(value, decimals)
    raise ValueError(f"kind must be 'share', 'mean', 'smd' or 'ratio', got {kind!r}")
