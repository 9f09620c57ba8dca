"""Project-level checks: the CLI is wired, the code is lint-clean, the README is true."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restraint import __version__
from restraint.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_cli_version_and_subcommands() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["--version"])
    assert out.exit_code == 0
    assert __version__ in out.stdout
    helptext = runner.invoke(app, ["--help"]).stdout
    for sub in ("data", "build", "replicate", "game"):
        assert sub in helptext, f"sub-command {sub!r} missing from `restraint --help`"


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff not installed")
    res = subprocess.run(
        [ruff, "check", "src", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_readme_test_command_matches_ci() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    test_cmd = next(b.strip() for b in blocks if "pytest" in b)
    assert test_cmd in ci, "CI must run exactly the README's test command"
