"""``restraint data list | fetch | verify | cite``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from restraint.cli import app as root_app
from restraint.sources.cli import app
from tests.sources import synth

runner = CliRunner()


def test_mounted_under_restraint_data() -> None:
    out = runner.invoke(root_app, ["data", "--help"])
    assert out.exit_code == 0
    for cmd in ("list", "fetch", "verify", "cite"):
        assert cmd in out.stdout


def test_list_shows_location_and_status(synth_dir: Path) -> None:
    (synth_dir / "icb/icb1v15.csv").unlink()
    out = runner.invoke(app, ["list", "--data-dir", str(synth_dir)])
    assert out.exit_code == 0, out.stdout
    lines = {ln.split("│")[1].strip(): ln for ln in out.stdout.splitlines() if ln.count("│") > 3}
    assert "HASH MISMATCH" in lines["cow_states"]
    assert str(synth_dir / "cow/states2016.csv") in lines["cow_states"]
    assert "not found (manual download)" in lines["icb_crises"]


@pytest.mark.realdata
def test_verify_real_data_strict(raw_dir: Path) -> None:
    out = runner.invoke(app, ["verify", "--data-dir", str(raw_dir), "--strict"])
    assert out.exit_code == 0, out.stdout
    assert out.stdout.count("verified, sha256") == 10
    assert "UNVERIFIED" not in out.stdout


@pytest.mark.realdata
def test_list_real_data(raw_dir: Path) -> None:
    out = runner.invoke(app, ["list", "--data-dir", str(raw_dir)])
    assert out.exit_code == 0
    assert out.stdout.count("verified (registry)") == 10


def test_verify_exit_codes(synth_dir: Path, tmp_path: Path) -> None:
    ok = runner.invoke(app, ["verify", "--data-dir", str(synth_dir)])
    assert ok.exit_code == 0, ok.stdout
    assert "UNVERIFIED" in ok.stdout and "warning" in ok.stdout
    strict = runner.invoke(app, ["verify", "--data-dir", str(synth_dir), "--strict"])
    assert strict.exit_code == 1
    assert "strict mode" in strict.stdout

    synth.write(synth_dir, "cow/system2016.csv", synth.system() + b"\r\nUSA,2,1816,2016")
    bad = runner.invoke(app, ["verify", "--data-dir", str(synth_dir), "cow_system"])
    assert bad.exit_code == 1
    assert "duplicate key" in bad.stdout

    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner.invoke(app, ["verify", "--data-dir", str(empty)])
    assert missing.exit_code == 1
    assert "10 data set(s) failed" in missing.stdout


def test_fetch(synth_dir: Path, tmp_path: Path) -> None:
    out = runner.invoke(app, ["fetch", "--data-dir", str(synth_dir), "cow"])
    assert out.exit_code == 0, out.stdout
    assert out.stdout.count("✓") == 6  # states, majors, system, contig x2, nmc
    offline = runner.invoke(app, ["fetch", "--data-dir", str(tmp_path), "polity"])
    assert offline.exit_code == 1
    assert "Downloads were disabled" in offline.stdout


def test_cite() -> None:
    out = runner.invoke(app, ["cite"])
    assert out.exit_code == 0
    for entry in ("@misc{icb_v15", "@article{leeds_2002", "@article{stinnett_2002",
                  "@misc{polity5", "@misc{cow_states_2016", "@misc{cow_nmc_6_0",
                  "@article{hwang_2025"):  # fmt: skip
        assert entry in out.stdout
    assert out.stdout.count("@misc{icb_v15") == 1  # shared citations printed once
    one = runner.invoke(app, ["cite", "polity"])
    assert "@misc{polity5" in one.stdout and "icb_v15" not in one.stdout
    assert "hwang_2025" not in one.stdout
    bad = runner.invoke(app, ["cite", "nope"])
    assert bad.exit_code != 0
