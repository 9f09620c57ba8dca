"""Downloads against a local HTTP server on 127.0.0.1: a good file, a hash mismatch,
interrupted transfers and corrupt archives. No failure may leave a usable file behind."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType

import pytest

from restraint.errors import DataFileError, DataNotFoundError, HashMismatchWarning
from restraint.sources import read_contiguity_periods, read_cow_states, registry, resolve
from tests.sources import synth

STATES = synth.states()
ZIP = synth.contiguity_zip()

# path -> (body, declared Content-Length or None, bytes actually sent)
ROUTES: dict[str, tuple[bytes, int | None, int]] = {
    "/states2016.csv": (STATES, len(STATES), len(STATES)),
    "/cut-with-length.csv": (STATES, len(STATES), len(STATES) // 2),
    "/cut-no-length.csv": (STATES, None, len(STATES) - 15),
    "/DirectContiguity320.zip": (ZIP, len(ZIP), len(ZIP)),
    "/cut-no-length.zip": (ZIP, None, len(ZIP) // 2),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        route = ROUTES.get(self.path)
        if route is None:
            self.send_error(404, "not here")
            return
        body, length, sent = route
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if length is not None:
            self.send_header("Content-Length", str(length))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[:sent])
        self.wfile.flush()
        # Closing now cuts the transfer short where sent < length (a dropped connection).
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESTRAINT_OFFLINE", raising=False)


def _point(monkeypatch: pytest.MonkeyPatch, key: str, **changes) -> None:
    """Replace the downloadable form of ``key`` in the registry (URL, hashes)."""
    ds = registry.DATASETS[key]
    forms = tuple(
        dataclasses.replace(f, **changes) if f.url or f is ds.forms[0] else f for f in ds.forms
    )
    if key in ("cow_contig", "cow_contig_periods"):
        forms = tuple(f for f in forms if f.member)
    new = dict(registry.DATASETS)
    new[key] = dataclasses.replace(ds, forms=forms)
    monkeypatch.setattr(registry, "DATASETS", MappingProxyType(new))


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_good_download_is_verified_cached_and_reused(server, online, cache, monkeypatch):
    _point(monkeypatch, "cow_states", url=f"{server}/states2016.csv", sha256=(_sha(STATES),))
    df = read_cow_states()
    src = df.attrs["source"]
    assert src["origin"] == "download" and src["verified"] is True
    assert len(df) == len(synth.STATES_ROWS)
    assert _files(cache) == [cache / "cow/states2016.csv"]  # no staging left-overs
    assert (cache / "cow/states2016.csv").read_bytes() == STATES
    assert resolve("cow_states").origin == "cache"


def test_first_download_hash_is_recorded_and_checked(server, online, cache, monkeypatch):
    _point(monkeypatch, "cow_states", url=f"{server}/states2016.csv", sha256=())
    rf = resolve("cow_states")
    assert rf.verified is True and rf.hash_source.startswith("first download")
    assert sorted(p.name for p in _files(cache)) == ["hashes.json", "states2016.csv"]
    assert _sha(STATES) in (cache / "hashes.json").read_text()
    # A later change to the cached file is caught against the recorded hash.
    (cache / "cow/states2016.csv").write_bytes(STATES.replace(b"Canada", b"Kanada"))
    with pytest.warns(HashMismatchWarning, match="first download"):
        assert resolve("cow_states").verified is False


def test_hash_mismatch_download_is_an_error_and_not_kept(server, online, cache, monkeypatch):
    _point(monkeypatch, "cow_states", url=f"{server}/states2016.csv", sha256=("0" * 64,))
    with pytest.raises(DataFileError, match="download was discarded"):
        resolve("cow_states")
    assert _files(cache) == []


def test_interrupted_transfer_leaves_nothing(server, online, cache, monkeypatch):
    _point(monkeypatch, "cow_states", url=f"{server}/cut-with-length.csv", sha256=())
    with pytest.raises(DataNotFoundError, match="Download failed"):
        resolve("cow_states")
    assert _files(cache) == []


def test_truncated_transfer_without_length_fails_validation(server, online, cache, monkeypatch):
    # Without a Content-Length an early close looks complete to HTTP: the parser catches it.
    _point(monkeypatch, "cow_states", url=f"{server}/cut-no-length.csv", sha256=())
    with pytest.raises(DataFileError, match="truncated"):
        resolve("cow_states")
    assert _files(cache) == []


def test_truncated_zip_download_is_not_kept(server, online, cache, monkeypatch):
    _point(monkeypatch, "cow_contig_periods", url=f"{server}/cut-no-length.zip", sha256=())
    with pytest.raises(DataFileError, match="not a valid zip archive"):
        resolve("cow_contig_periods")
    assert _files(cache) == []


def test_http_error_is_not_found(server, online, cache, monkeypatch):
    _point(monkeypatch, "cow_states", url=f"{server}/missing.csv", sha256=())
    with pytest.raises(DataNotFoundError, match="404"):
        resolve("cow_states")
    assert _files(cache) == []


def test_zip_download_serves_member(server, online, cache, monkeypatch):
    _point(
        monkeypatch,
        "cow_contig_periods",
        url=f"{server}/DirectContiguity320.zip",
        sha256=(_sha(ZIP),),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = read_contiguity_periods()
    assert df.attrs["source"]["member"] == "DirectContiguity320/contdir.csv"
    assert df.attrs["source"]["verified"] is True
    assert len(df) == len(synth.CONTDIR_ROWS)
    assert _files(cache) == [cache / "cow/DirectContiguity320.zip"]


def test_offline_switch_blocks_downloads(server, cache, monkeypatch):
    _point(monkeypatch, "cow_states", url=f"{server}/states2016.csv", sha256=(_sha(STATES),))
    with pytest.raises(DataNotFoundError, match="Downloads were disabled"):
        resolve("cow_states")  # RESTRAINT_OFFLINE=1 from the autouse fixture
    assert _files(cache) == []
