"""Keyed-hash pseudonyms (HMAC-SHA256) for participant ids, and where the key comes from."""
from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

KEY_ENV = "EVALUATION_PSEUDONYM_KEY"
KEY_FILE_ENV = "EVALUATION_PSEUDONYM_KEY_FILE"
DEMO_KEY = b"evaluation-demo-key-NOT-SECRET-do-not-use-for-real-data"
MIN_KEY_BYTES = 16


class MissingKeyError(RuntimeError):
    """No pseudonymisation key was given and demo mode is off."""


def _inside_git_repo(path: Path) -> Path | None:
    for parent in [path.parent, *path.parent.parents]:
        if (parent / ".git").exists():
            return parent
    return None


def read_secret(key: str | bytes | None, key_file: str | Path | None, *, env: str, file_env: str, what: str,
                demo_key: bytes | None, missing: str, error: type[Exception] | None = None) -> bytes:
    """A secret of at least :data:`MIN_KEY_BYTES` bytes: ``key``, else ``key_file``, else ``$<env>``, else the
    file named by ``$<file_env>``; ``demo_key`` (public) when none is given and it is not None, else
    ``error(missing)``. ``what`` names the secret in messages. A key file inside a git working tree is refused.

    One reader for both secrets (the pseudonym key and the perturbation key), so both are refused alike.
    """
    error = error or MissingKeyError
    if key is None and key_file is None:
        key = os.environ.get(env) or None
        key_file = os.environ.get(file_env) or None
    if key is None and key_file is not None:
        path = Path(key_file).expanduser().resolve()
        repo = _inside_git_repo(path)
        if repo is not None:
            raise error(f"{what} file {path} is inside the git repository {repo}; keep keys outside the repository")
        if not path.is_file():
            raise error(f"{what} file {path} does not exist")
        key = path.read_bytes().strip()
    if key is None:
        if demo_key is not None:
            return demo_key
        raise error(missing)
    key = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(key) < MIN_KEY_BYTES:
        raise error(f"{what} is {len(key)} bytes; at least {MIN_KEY_BYTES} are required")
    return key


def load_key(key: str | bytes | None = None, key_file: str | Path | None = None, *, demo: bool = False) -> bytes:
    """The HMAC key: ``key``, else ``key_file``, else ``$EVALUATION_PSEUDONYM_KEY``, else the file
    named by ``$EVALUATION_PSEUDONYM_KEY_FILE``; the public demo key only when ``demo=True``.

    A key file inside a git working tree is refused (keys must live outside the repository).
    """
    return read_secret(key, key_file, env=KEY_ENV, file_env=KEY_FILE_ENV, what="pseudonymisation key",
                       demo_key=DEMO_KEY if demo else None,
                       missing=f"no pseudonymisation key: set ${KEY_ENV} or ${KEY_FILE_ENV}, pass key= or key_file=, "
                               "or pass demo=True for synthetic data (ids are then hashed with a public, non-secret key)")


def pseudonymise(ids: pd.Series | np.ndarray | list, key: bytes, *, length: int = 24) -> np.ndarray:
    """``"p" + hex(HMAC-SHA256(key, id))[:length]`` for each id (hashed once per distinct id; None stays None).

    Distinct ids are found with Arrow, whose strings carry their length: pandas' object hash table
    stops at a NUL byte, which made ``"RID\\x00AAA"`` and ``"RID\\x00BBB"`` one pseudonym.
    """
    s = pd.Series(ids, dtype=object) if not isinstance(ids, pd.Series) else ids.astype(object)
    values = s.to_numpy(dtype=object)
    nulls = pd.isna(values)
    if not all(isinstance(v, str) for v in values[~nulls][:1]) or (~nulls).sum() and not isinstance(values[~nulls][0], str):
        values = np.where(nulls, None, s.astype(str).to_numpy(dtype=object))
    arr = pa.array(np.where(nulls, None, values), type=pa.string())
    enc = pc.dictionary_encode(arr)
    uniques = enc.dictionary.to_pylist()
    hashed = np.array(["p" + hmac.new(key, u.encode("utf-8"), hashlib.sha256).hexdigest()[:length] for u in uniques],
                      dtype=object)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    out = np.empty(len(codes), dtype=object)
    ok = codes >= 0
    out[ok] = hashed[codes[ok]]
    out[~ok] = None
    return out
