"""Integration tests on the real raw files: counts, the reference fixtures, the
reconciliation, the cache and the command line.

Tolerances. The raw files are pinned by SHA-256 (shared/data/raw/MANIFEST.md), so our own
counts are asserted exactly. Against the paper: the actor level must match exactly (792);
the dyad-years within 1.5 % of 169,916 and the crisis dyad-years within 5 % of 651 — the
paper's counts come from EUGene 3.212 and its bundled data versions, which cannot be
reproduced from the current files (docs/datasets.md, "Reconciliation").
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from restraint.datasets import (
    BuildOptions,
    build_actor_level_from,
    build_all,
    build_dyad_year_from,
)
from restraint.datasets.reconcile import PAPER_COUNTS, reconcile

pytestmark = pytest.mark.realdata

# The reference fixtures joined Polity on its published codes (430 dyad-years differ in JD
# under the default Polity-to-COW crosswalk; see test_polity_crosswalk.py).
FIXTURE_RULES = BuildOptions(membership="year", alliance_direction="own", polity_codes="raw")


@pytest.fixture(scope="module")
def default_builds(real_tables):
    return build_actor_level_from(real_tables), build_dyad_year_from(real_tables)


def test_actor_level_counts(real_tables, default_builds) -> None:
    actor, _ = default_builds
    assert len(actor.data) == PAPER_COUNTS["actor"] == 792
    assert len(build_actor_level_from(real_tables, membership="year").data) == 779
    assert len(build_actor_level_from(real_tables, membership="day").data) == 768
    # Under "ever", the 13 actor rows whose states are not members in the trigger year have
    # no CINC: they stay in the data with Prep NA and are counted in the log.
    assert actor.log.na_counts["prep"] == 13
    assert actor.data["milresp"].notna().all()


def test_dyad_year_counts(real_tables, default_builds) -> None:
    _, dyad = default_builds
    n = len(dyad.data)
    assert n == 167_690
    assert abs(n - PAPER_COUNTS["dyad"]) / PAPER_COUNTS["dyad"] < 0.015
    n_crisis = int(dyad.data["crisis"].sum())
    assert n_crisis == 671
    assert abs(n_crisis - PAPER_COUNTS["crisis"]) / PAPER_COUNTS["crisis"] < 0.05
    assert len(build_dyad_year_from(real_tables, contiguity_level=5).data) == 178_476
    assert len(build_dyad_year_from(real_tables, contiguity_level=0).data) == 129_268
    alt = build_dyad_year_from(real_tables, contiguity_source="contdir")
    pd.testing.assert_frame_equal(alt.data, dyad.data)


def test_dyad_year_structure(default_builds) -> None:
    actor, dyad = default_builds
    d = dyad.data
    keys = set(zip(d["ccode1"], d["ccode2"], d["year"], strict=True))
    assert keys == {(b, a, y) for a, b, y in keys}
    assert not d.duplicated(["ccode1", "ccode2", "year"]).any()
    assert d["year"].between(1918, 2011).all()
    for frame in (actor.data, d):
        mp, dp = frame["mp"].astype(float), frame["dp"].astype(float)
        assert (dp[mp == 1] == 1).all()
        assert set(frame["contig"].dropna().unique()) <= {0, 1}
    # France can have MP = 1 only in 1941-44, when COW does not count it a major power.
    frn = d[(d["ccode1"] == 220) & (d["mp"] == 1)]
    assert frn["year"].between(1941, 1944).all()
    assert d.loc[d["crisis"] == 0, ["milresp", "ic", "mt"]].isna().all().all()
    assert d.loc[d["crisis"] == 1, ["milresp", "ic", "mt"]].notna().all().all()


def test_reproduces_the_reference_fixtures_under_their_rules(real_tables, reference_dir) -> None:
    ours_a = build_actor_level_from(real_tables, FIXTURE_RULES).data
    ours_d = build_dyad_year_from(real_tables, FIXTURE_RULES).data
    fa = pd.read_csv(reference_dir / "fixture_actor.csv")
    fd = pd.read_csv(reference_dir / "fixture_dyadyear.csv")
    ours_d = ours_d[ours_d["prep"].notna()]  # the fixture dropped missing prep (none here)
    assert len(ours_a) == len(fa) == 779
    assert len(ours_d) == len(fd) == 167_690
    for ours, fix, key in (
        (ours_a, fa, ["crisno", "cracno"]),
        (ours_d, fd, ["ccode1", "ccode2", "year"]),
    ):
        m = fix.merge(ours, on=key, suffixes=("_f", ""), how="outer", indicator=True)
        assert (m["_merge"] == "both").all()
        for col in fix.columns:
            if col in key:
                continue
            a = m[f"{col}_f"].astype(float).to_numpy()
            b = m[col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-12, err_msg=col)


def test_default_alliance_rule_only_adds_pacts_recorded_in_one_direction(
    real_tables, default_builds, reference_dir
) -> None:
    _, dyad = default_builds
    fd = pd.read_csv(reference_dir / "fixture_dyadyear.csv")
    m = fd.merge(dyad.data, on=["ccode1", "ccode2", "year"], suffixes=("_f", ""))
    for col in ("dp", "mp", "sc"):
        ours, fix = m[col].astype(int), m[f"{col}_f"]
        assert (ours >= fix).all(), col  # "either" never removes a pact "own" sees
    # Japan is protected by the US treaty without a reciprocal obligation.
    jpn = m[(m["ccode1"] == 740) & (m["year"] == 1970)]
    assert (jpn["dp"] == 1).all() and (jpn["dp_f"] == 0).all()


@pytest.mark.slow
def test_reconciliation_adds_up(real_tables) -> None:
    rec = reconcile(real_tables)
    assert rec.adds_up()
    dyad = rec.section("dyad")
    assert dyad.ours == 167_690 and dyad.difference == 2_226
    alts = dict(dyad.alternatives)
    assert alts["contiguity_level=5"] == 178_476
    crisis = rec.section("crisis")
    assert crisis.difference == -20
    assert dict(rec.section("actor").alternatives)["membership='year'"] == 779
    # Non-default options are bridged back to the defaults before the residual.
    rec2 = reconcile(real_tables, BuildOptions(membership="year", contiguity_level=1))
    assert rec2.adds_up()
    assert rec2.section("actor").bridge[0][1] == 13
    text = rec.render()
    assert "adds up" in text and "DOES NOT" not in text


def test_build_all_uses_the_cache(raw_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RESTRAINT_CACHE_DIR", str(tmp_path))
    actor, dyad = build_all(raw_dir)
    import restraint.datasets.build as b

    def boom(*a, **k):
        raise AssertionError("raw files read despite a valid cache entry")

    monkeypatch.setattr(b, "load_tables", boom)
    a2, d2 = build_all(raw_dir)
    pd.testing.assert_frame_equal(d2.data, dyad.data)
    pd.testing.assert_frame_equal(a2.data, actor.data)
    assert d2.log == dyad.log
    with pytest.raises(AssertionError, match="despite"):
        build_all(raw_dir, BuildOptions(contiguity_level=3))  # other options: other key


@pytest.mark.slow
def test_cli_build_writes_deterministic_outputs(raw_dir, tmp_path, monkeypatch) -> None:
    from restraint.cli import app

    monkeypatch.setenv("RESTRAINT_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()
    out1, out2 = tmp_path / "o1", tmp_path / "o2"
    r1 = runner.invoke(app, ["build", "--data-dir", str(raw_dir), "--out", str(out1), "--tables"])
    assert r1.exit_code == 0, r1.output
    assert "Table 1" in r1.output and "Table 2" in r1.output
    r2 = runner.invoke(
        app, ["build", "--data-dir", str(raw_dir), "--out", str(out2), "--no-cache", "--explain"]
    )
    assert r2.exit_code == 0, r2.output
    assert "169,916" in r2.output and "adds up" in r2.output
    for name in (
        "actor_level.parquet",
        "dyad_year.parquet",
        "actor_level.csv",
        "dyad_year.csv",
        "data_dictionary.csv",
    ):
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name
    prov = json.loads((out1 / "provenance.json").read_text())
    assert prov["rows"] == {"actor_level": 792, "dyad_year": 167_690}
    assert len(prov["input_files_sha256"]) == 9
    assert prov["inputs"]["dyad_year"]["atop"]["sha256"]
    dy = pd.read_parquet(out1 / "dyad_year.parquet")
    assert list(dy.columns) == [
        "milresp",
        "crisis",
        "mp",
        "dp",
        "dpmp",
        "jd",
        "prep",
        "contig",
        "ic",
        "mt",
        "sc",
        "ccode1",
        "ccode2",
        "year",
        "directed_dyad",
    ]
    assert (out1 / "table2.csv").is_file()
    bad = runner.invoke(
        app,
        [
            "build",
            "--data-dir",
            str(raw_dir),
            "--membership",
            "often",
            "--out",
            str(tmp_path / "o3"),
        ],
    )
    assert bad.exit_code != 0 and "membership" in bad.output


def test_cli_requires_an_action() -> None:
    from restraint.cli import app

    r = CliRunner().invoke(app, ["build"])
    assert r.exit_code != 0 and "--out" in r.output
