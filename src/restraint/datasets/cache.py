"""Cache of built data sets, keyed by input-file hashes, options and package version.

An unchanged second build reads two Parquet files instead of re-reading and re-joining
the raw data. The key hashes the *contents* of every candidate input file found in the
data folder, so editing, replacing or adding a raw file invalidates it. Entries are
written atomically (temporary folder, then rename), so a crash never leaves a partial
entry that could be read back.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from restraint import __version__
from restraint.datasets.log import BuildLog
from restraint.datasets.options import BuildOptions

if TYPE_CHECKING:
    from restraint.datasets.build import BuildResult

#: Bump when the builders' output changes for the same inputs and options.
SCHEMA = 1

# Registry key in restraint.sources for each source table.
REGISTRY_KEYS: dict[str, str] = {
    "icb_actors": "icb_actors",
    "states": "cow_states",
    "majors": "cow_majors",
    "system": "cow_system",
    "contiguity": "cow_contig",
    "contiguity_periods": "cow_contig_periods",
    "nmc": "cow_nmc",
    "polity": "polity",
    "atop": "atop_ddyr",
}


def cache_root() -> Path:
    """Folder of the data-set cache: ``datasets/`` in the package's user cache
    (``RESTRAINT_CACHE_DIR`` overrides its location)."""
    from restraint.sources import cache_dir

    return cache_dir() / "datasets"


def input_hashes(
    data_dir: str | Path | None, tables: tuple[str, ...] | None = None
) -> dict[str, str] | None:
    """SHA-256 of the file each source table would be read from, by table name.

    Files are located exactly as the readers locate them (:func:`restraint.sources.resolve`
    without downloading: ``data_dir``, ``RESTRAINT_DATA_DIR``, the user cache). None when a
    file is not available locally (the build then reads, and may download, without cache).
    """
    from restraint.errors import DataNotFoundError
    from restraint.sources import resolve

    out: dict[str, str] = {}
    for name in tables or tuple(REGISTRY_KEYS):
        try:
            with warnings.catch_warnings():
                # A hash mismatch is reported by the reader itself; not twice.
                warnings.simplefilter("ignore")
                rf = resolve(REGISTRY_KEYS[name], data_dir, download=False)
        except DataNotFoundError:
            return None
        out[name] = rf.sha256
    return out


def cache_key(
    data_dir: str | Path | None, options: BuildOptions, tables: tuple[str, ...] | None = None
) -> str | None:
    """Cache key for these inputs and options, or None when the inputs cannot be hashed."""
    hashes = input_hashes(data_dir, tables)
    if hashes is None:
        return None
    payload = {
        "schema": SCHEMA,
        "version": __version__,
        "options": options.to_dict(),
        "inputs": hashes,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _entry(key: str) -> Path:
    return cache_root() / key


def load(
    key: str, which: tuple[str, ...] = ("actor", "dyad")
) -> tuple[BuildResult | None, BuildResult | None] | None:
    """The cached results for ``key`` (None when absent or unreadable)."""
    from restraint.datasets.build import BuildResult

    entry = _entry(key)
    meta_path = entry / "meta.json"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        out: list[BuildResult | None] = []
        for name in ("actor", "dyad"):
            if name not in which:
                out.append(None)
                continue
            m = meta.get(name)
            if m is None:
                return None
            data = pd.read_parquet(entry / f"{name}.parquet")
            out.append(
                BuildResult(
                    data=data,
                    log=BuildLog.from_dict(m["log"]),
                    options=BuildOptions.from_dict(m["options"]),
                    provenance=m["provenance"],
                )
            )
    except (OSError, ValueError, KeyError):
        # A damaged entry is ignored and rebuilt, never trusted.
        return None
    return out[0], out[1]


def store(key: str, actor: BuildResult | None, dyad: BuildResult | None) -> Path | None:
    """Write the results under ``key`` atomically; merges with an existing entry."""
    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    entry = _entry(key)
    meta: dict[str, Any] = {}
    old = load(key)
    results = {"actor": actor, "dyad": dyad}
    if old is not None:
        for name, res in zip(("actor", "dyad"), old, strict=True):
            if results[name] is None:
                results[name] = res
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        for name, res in results.items():
            if res is None:
                continue
            res.data.to_parquet(tmp / f"{name}.parquet", index=False)
            meta[name] = {
                "log": res.log.to_dict(),
                "options": res.options.to_dict(),
                "provenance": res.provenance,
            }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        if entry.exists():
            shutil.rmtree(entry, ignore_errors=True)
        os.replace(tmp, entry)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    return entry
