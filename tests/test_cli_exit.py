"""The console script ends without the interpreter's teardown, but like ``sys.exit``: same
status, output flushed, other threads joined, ``atexit`` handlers run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import atexit, sys, threading, time
from pathlib import Path
import restraint.cli as cli

out = Path(sys.argv[1])
atexit.register(lambda: (out / "atexit").write_text("ran"))

def late():
    time.sleep(0.3)
    (out / "thread").write_text("joined")

threading.Thread(target=late).start()
sys.argv = ["restraint", *sys.argv[2:]]
if sys.argv[1:] == ["exit-message"]:
    cli._exit("it went wrong")
cli.main()
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), *args], capture_output=True, text=True
    )


def test_success_flushes_joins_and_runs_atexit(tmp_path: Path) -> None:
    res = _run(tmp_path, "--version")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("restraint ")
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "thread").read_text() == "joined"


def test_usage_error_keeps_its_status(tmp_path: Path) -> None:
    res = _run(tmp_path, "no-such-command")
    assert res.returncode == 2
    assert "no-such-command" in res.stderr
    assert (tmp_path / "atexit").exists() and (tmp_path / "thread").exists()


def test_exit_with_a_message(tmp_path: Path) -> None:
    res = _run(tmp_path, "exit-message")
    assert res.returncode == 1
    assert "it went wrong" in res.stderr
    assert (tmp_path / "atexit").exists()
