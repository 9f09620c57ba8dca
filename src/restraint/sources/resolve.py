"""Find, download and verify the raw data files.

Resolution order for each data set (the first hit wins; within one location the data
set's file forms are tried in registry order):

1. the ``data_dir`` argument (``--data-dir`` on the command line),
2. the folder in the environment variable ``RESTRAINT_DATA_DIR``,
3. the user cache (``pooch.os_cache("restraint")``; ``RESTRAINT_CACHE_DIR`` overrides it),
4. a download from the official source into the cache (skipped when ``download=False``
   or the environment variable ``RESTRAINT_OFFLINE`` is set to a true value),
5. otherwise :class:`~restraint.errors.DataNotFoundError`, naming the file and where to
   put it.

Hash policy: a file is *verified* when its SHA-256 equals one the registry lists or, where
the registry knows none, the one recorded on the first verified download (``hashes.json``
in the cache). A mismatch on a download is an error and nothing is kept; on a file the
user supplied (data dir, environment, or the cache) it is a :class:`HashMismatchWarning`
and ``verified=False`` in the provenance, or an error with ``strict=True``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import threading
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restraint._io import atomic_write_text as _atomic_write_text
from restraint.errors import DataFileError, DataNotFoundError, HashMismatchWarning
from restraint.sources.registry import Dataset, FileForm, get_dataset

__all__ = [
    "Candidate",
    "ResolvedFile",
    "cache_dir",
    "file_sha256",
    "locate",
    "recorded_hashes",
    "resolve",
]

_ENV_DATA = "RESTRAINT_DATA_DIR"
_ENV_CACHE = "RESTRAINT_CACHE_DIR"
_ENV_OFFLINE = "RESTRAINT_OFFLINE"
_HASHES_JSON = "hashes.json"
_STAGING = ".partial"

# --- hashing with a per-process cache ------------------------------------------------

_HASH_CACHE: dict[tuple[str, int, int], str] = {}
_HASH_LOCK = threading.Lock()


def _stat_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def file_sha256(path: str | Path, data: bytes | None = None) -> str:
    """SHA-256 of a file, cached per (path, size, mtime) for the life of the process.

    ``data`` may carry the file's bytes when the caller has already read them, which
    saves a second read.
    """
    path = Path(path)
    key = _stat_key(path)
    with _HASH_LOCK:
        hit = _HASH_CACHE.get(key)
    if hit is not None:
        return hit
    if data is None:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
    else:
        digest = hashlib.sha256(data).hexdigest()
    with _HASH_LOCK:
        _HASH_CACHE[key] = digest
    return digest


# --- locations -----------------------------------------------------------------------


def cache_dir() -> Path:
    """The user cache folder (``RESTRAINT_CACHE_DIR`` or pooch's OS cache for restraint)."""
    env = os.environ.get(_ENV_CACHE)
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("restraint"))


def _offline() -> bool:
    return os.environ.get(_ENV_OFFLINE, "").strip().lower() in {"1", "true", "yes", "on"}


def _locations(data_dir: str | Path | None) -> list[tuple[str, Path]]:
    locs: list[tuple[str, Path]] = []
    if data_dir is not None:
        locs.append(("data_dir", Path(data_dir).expanduser()))
    env = os.environ.get(_ENV_DATA)
    if env:
        locs.append(("env", Path(env).expanduser()))
    locs.append(("cache", cache_dir()))
    return locs


# --- recorded hashes (trust on first verified download) ------------------------------


def recorded_hashes(root: Path | None = None) -> dict[str, dict[str, Any]]:
    """The hashes recorded on first verified downloads, keyed by relative path."""
    path = (root or cache_dir()) / _HASHES_JSON
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(
            f"cannot read the recorded-hash file ({exc}); expected a JSON object. Delete it "
            "to start afresh (the next downloads will be recorded again).",
            path=path,
        ) from exc
    if not isinstance(data, dict):
        raise DataFileError("expected a JSON object mapping file paths to hashes", path=path)
    return data


def _record_hash(root: Path, form: FileForm, sha: str) -> None:
    records = recorded_hashes(root)
    records[form.relpath] = {
        "sha256": sha,
        "url": form.url,
        "recorded": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    _atomic_write_text(root / _HASHES_JSON, json.dumps(records, indent=2, sort_keys=True))


def _expected(form: FileForm) -> tuple[tuple[str, ...], str | None]:
    """Accepted hashes of a form and where they come from (registry or first download)."""
    if form.sha256:
        return form.sha256, "registry"
    rec = recorded_hashes().get(form.relpath)
    if rec and isinstance(rec.get("sha256"), str):
        return (rec["sha256"],), f"first download ({rec.get('recorded', 'date unknown')})"
    return (), None


# --- result types --------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedFile:
    """A data set's file as found on disk, with its verification status.

    ``path`` is the file on disk (the archive for archive forms; ``member`` then names
    the file inside). ``origin`` is one of ``data_dir``, ``env``, ``cache``, ``download``.
    ``verified`` is True when ``sha256`` equals an expected hash (``hash_source`` says
    whose); ``expected_sha256`` is empty when no hash is known.
    """

    key: str
    path: Path
    form: FileForm
    origin: str
    sha256: str
    expected_sha256: tuple[str, ...]
    hash_source: str | None
    verified: bool
    version: str

    @property
    def member(self) -> tuple[str, ...]:
        """Member path inside the archive (empty for a bare file)."""
        return self.form.member

    def provenance(self) -> dict[str, Any]:
        """The dict readers attach as ``df.attrs["source"]``."""
        return {
            "key": self.key,
            "path": str(self.path),
            "member": "/".join(self.member) or None,
            "sha256": self.sha256,
            "version": self.version,
            "verified": self.verified,
            "origin": self.origin,
            "expected_sha256": list(self.expected_sha256),
            "hash_source": self.hash_source,
        }


@dataclass(frozen=True)
class Candidate:
    """A file form looked for at one location (for ``restraint data list``)."""

    origin: str
    path: Path
    form: FileForm
    exists: bool


def locate(key: str, data_dir: str | Path | None = None) -> list[Candidate]:
    """Every place a data set's files are looked for, in resolution order (no hashing)."""
    ds = get_dataset(key)
    out = []
    for origin, root in _locations(data_dir):
        for form in ds.forms:
            p = root / form.relpath
            out.append(Candidate(origin, p, form, p.is_file()))
    return out


# --- resolve -------------------------------------------------------------------------


def _check_hash(
    ds: Dataset, form: FileForm, path: Path, origin: str, *, strict: bool
) -> ResolvedFile:
    sha = file_sha256(path)
    expected, source = _expected(form)
    verified = bool(expected) and sha in expected
    if expected and not verified:
        rows = f" The known release has {form.rows} data rows." if form.rows else ""
        msg = (
            f"SHA-256 of {form.describe()} for data set {ds.key!r} ({ds.title} {ds.version}) "
            f"is {sha}, expected {' or '.join(expected)} ({source}). The file may be a "
            f"different release, edited, truncated or corrupt.{rows}"
        )
        if strict:
            raise DataFileError(msg + " (strict mode: refusing to use it)", path=path)
        warnings.warn(
            f"{path}: {msg} Using it anyway; provenance marks it unverified.",
            HashMismatchWarning,
            stacklevel=3,
        )
    return ResolvedFile(
        key=ds.key,
        path=path,
        form=form,
        origin=origin,
        sha256=sha,
        expected_sha256=expected,
        hash_source=source,
        verified=verified,
        version=ds.version,
    )


def resolve(
    key: str,
    data_dir: str | Path | None = None,
    *,
    strict: bool = False,
    download: bool = True,
) -> ResolvedFile:
    """Find the file for data set ``key``, downloading it if needed, and check its hash.

    See the module docstring for the order of locations and the hash policy. Raises
    :class:`DataNotFoundError` when no location has the file and it cannot be downloaded,
    :class:`DataFileError` for a mismatching download, or (``strict=True``) a mismatching
    local file.
    """
    ds = get_dataset(key)
    for origin, root in _locations(data_dir):
        for form in ds.forms:
            path = root / form.relpath
            if path.is_file():
                return _check_hash(ds, form, path, origin, strict=strict)

    failures: list[str] = []
    if download and not _offline():
        for form in ds.downloadable:
            try:
                path = _download(ds, form, cache_dir())
            except DataFileError:
                raise
            except Exception as exc:  # network errors of any kind: try the next form
                failures.append(f"{form.url}: {type(exc).__name__}: {exc}")
                continue
            resolved = _check_hash(ds, form, path, "download", strict=True)
            return resolved
    raise DataNotFoundError(_not_found_message(ds, data_dir, failures, download))


def _not_found_message(
    ds: Dataset, data_dir: str | Path | None, failures: list[str], download: bool
) -> str:
    looked = [str(root) for _, root in _locations(data_dir)]
    lines = [
        f"data set {ds.key!r} ({ds.title}, version {ds.version}) was not found.",
        f"Looked for {', '.join(f.relpath for f in ds.forms)} under: {'; '.join(looked)}.",
    ]
    if ds.manual:
        lines.append(ds.manual)
    else:
        lines.append(
            f"Put {ds.primary.relpath} (from {ds.homepage}) under a data folder and pass "
            f"--data-dir / data_dir=, or set {_ENV_DATA}."
        )
    if failures:
        lines.append("Download failed: " + " | ".join(failures))
    elif ds.downloadable and (not download or _offline()):
        lines.append(
            f"Downloads were disabled (download=False or {_ENV_OFFLINE}); official source: "
            + ", ".join(str(f.url) for f in ds.downloadable)
        )
    return "\n".join(lines)


# --- download ------------------------------------------------------------------------


class _RichProgress:
    """A tqdm-like progress bar for pooch, drawn with rich (tqdm is not a dependency)."""

    def __init__(self, label: str) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            transient=True,
        )
        self._task = self._progress.add_task(label, total=None)
        self._started = False
        self._total = 0

    @property
    def total(self) -> int:
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        self._total = value
        if not self._started:
            self._progress.start()
            self._started = True
        self._progress.update(self._task, total=value or None)

    def update(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def reset(self) -> None:
        self._progress.reset(self._task, total=self._total or None)

    def close(self) -> None:
        if self._started:
            self._progress.stop()
            self._started = False


def _download(ds: Dataset, form: FileForm, root: Path) -> Path:
    """Download ``form`` into the cache; verify hash and contents before it is kept.

    The transfer goes to a uniquely named file under ``<cache>/.partial`` (pooch itself
    streams to a temporary file and renames it only when the transfer completes), is
    hashed, parsed and validated there, and only then renamed into place. Whatever goes
    wrong, the staging file is removed, so an interrupted or corrupt transfer can never be
    picked up later.
    """
    import pooch

    assert form.url is not None
    target = root / form.relpath
    staging_dir = root / _STAGING
    staging_dir.mkdir(parents=True, exist_ok=True)
    staged = staging_dir / f"{uuid.uuid4().hex}-{form.filename}"
    pooch.get_logger().setLevel("WARNING")
    bar = _RichProgress(f"{ds.key}: {form.filename}")
    try:
        downloader = pooch.HTTPDownloader(progressbar=bar, timeout=60)
        pooch.retrieve(
            form.url,
            known_hash=None,
            fname=staged.name,
            path=staging_dir,
            downloader=downloader,
        )
        bar.close()
        sha = file_sha256(staged)
        if form.sha256 and sha not in form.sha256:
            raise DataFileError(
                f"download of {form.url} has SHA-256 {sha}, expected "
                f"{' or '.join(form.sha256)}; the download was discarded. The distributor "
                "may have changed the file; get it by hand and pass --data-dir to use it "
                "with a recorded warning.",
                path=form.url,
            )
        # Parse the download with the data set's reader before keeping it: an early
        # close without a Content-Length passes the transfer but not the parser.
        from restraint.sources.readers import validate_file

        validate_file(ds.key, staged, form)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        if not form.sha256:
            _record_hash(root, form, sha)
        return target
    finally:
        bar.close()
        staged.unlink(missing_ok=True)
        # Also remove a pooch temporary file left by an interrupted process, if any.
        if staging_dir.is_dir() and not any(staging_dir.iterdir()):
            shutil.rmtree(staging_dir, ignore_errors=True)
