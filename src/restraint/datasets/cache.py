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

# Files each table may be read from, relative to the data folder (docs: README layout).
INPUT_CANDIDATES: dict[str, tuple[str, ...]] = {
    "icb_actors": ("icb/icb2v15.csv",),
    "states": ("cow/states2016.csv",),
    "majors": ("cow/majors2016.csv",),
    "system": ("cow/system2016.csv",),
    "contiguity": ("cow/contdird.csv", "cow/DirectContiguity320.zip"),
    "contiguity_periods": ("cow/contdir.csv", "cow/DirectContiguity320.zip"),
    "nmc": ("cow/NMC-60-abridged.csv",),
    "polity": ("polity/p5v2018.xls", "polity/p5v2018.csv"),
    "atop": (
        "atop/atop5_1ddyr.csv",
        "atop/atop_5.1__.csv_.zip",
        "atop/atop5_1ddyr_subset.csv",
    ),
}


def cache_root() -> Path:
    """Folder of the data-set cache: ``$RESTRAINT_CACHE_DIR/datasets`` or the user cache."""
    env = os.environ.get("RESTRAINT_CACHE_DIR")
    if env:
        base = Path(env)
    else:
        import pooch

        base = Path(pooch.os_cache("restraint"))
    return base / "datasets"


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    """``data_dir`` or ``$RESTRAINT_DATA_DIR``; None when neither is given."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get("RESTRAINT_DATA_DIR")
    return Path(env) if env else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_hashes(data_dir: str | Path | None) -> dict[str, str] | None:
    """SHA-256 of every candidate input file present in the data folder, by relative path.

    None when the folder is unknown or a table has no candidate file there (the readers
    would then look elsewhere, which this key could not see).
    """
    root = resolve_data_dir(data_dir)
    if root is None or not root.is_dir():
        return None
    out: dict[str, str] = {}
    for cands in INPUT_CANDIDATES.values():
        present = [c for c in cands if (root / c).is_file()]
        if not present:
            return None
        for c in present:
            if c not in out:
                out[c] = _sha256(root / c)
    return dict(sorted(out.items()))


def cache_key(data_dir: str | Path | None, options: BuildOptions) -> str | None:
    """Cache key for these inputs and options, or None when the inputs cannot be hashed."""
    hashes = input_hashes(data_dir)
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
        (tmp / "meta.json").write_text(json.dumps(meta, sort_keys=True, indent=1))
        if entry.exists():
            shutil.rmtree(entry, ignore_errors=True)
        os.replace(tmp, entry)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    return entry
