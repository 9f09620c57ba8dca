"""The builders, log, options, tables, export and cache on the micro world."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from restraint.datasets import (
    ACTOR_COLUMNS,
    COLUMNS,
    BuildLog,
    BuildOptions,
    build_actor_level_from,
    build_dyad_year_from,
    table1,
    table2,
)
from restraint.datasets import cache as dcache
from restraint.datasets.export import data_dictionary, write_datasets

from . import micro

OPT = BuildOptions(actor_years=micro.YEARS, dyad_years=micro.YEARS)


@pytest.fixture(scope="module")
def built() -> tuple:
    t = micro.tables()
    return build_actor_level_from(t, OPT), build_dyad_year_from(t, OPT)


def test_actor_level_rows_columns_and_covariates(built: tuple) -> None:
    actor, _ = built
    d = actor.data
    assert tuple(d.columns) == ACTOR_COLUMNS
    assert d["crisno"].tolist() == [1, 2, 3, 4, 5, 7, 8]
    assert (d["crisis"] == 1).all()
    assert (d["directed_dyad"] == d["ccode1"] * 1000 + d["ccode2"]).all()
    row = d.set_index("crisno")
    assert row.loc[1, "contig"] == 1 and row.loc[1, "mt"] == 1 and row.loc[1, "milresp"] == 1
    assert row.loc[7, "milresp"] is pd.NA  # crismg 9
    assert row.loc[8, "dp"] == 0 and row.loc[8, "mp"] == 0  # USA-TUR pact starts 1947
    assert row.loc[4, "prep"] is pd.NA  # FRN out of the system in 1943: no CINC
    assert actor.log.rows == 7 and actor.log.na_counts["milresp"] == 1


def test_dyad_year_rows_crises_and_log(built: tuple) -> None:
    _, dyad = built
    d = dyad.data
    assert tuple(d.columns) == COLUMNS
    keys = set(zip(d["ccode1"], d["ccode2"], d["year"], strict=True))
    assert keys == {(b, a, y) for a, b, y in keys}  # relevance is symmetric
    assert (325, 640, 1939) not in keys
    c = d[d["crisis"] == 1].set_index(["ccode1", "ccode2", "year"])
    assert set(c.index) == {(640, 651, 1941), (651, 640, 1941), (2, 640, 1946)}
    assert c.loc[(640, 651, 1941), "milresp"] == 0  # crisis 2 (first by date), crismg 1
    assert d.loc[d["crisis"] == 0, ["milresp", "ic", "mt"]].isna().all().all()
    steps = {(s.unit, s.step): s for s in dyad.log.steps}
    m = steps[("crisis rows", "matched to a relevant dyad-year")]
    assert m.rows_after == 3
    assert m.detail == {
        "actor or trigger not a system member that year": 2,
        "dyad-year not politically relevant": 1,
    }
    assert steps[("crisis rows", "duplicate crisis in a dyad-year")].removed == 1
    for s in dyad.log.steps:
        assert s.rows_before - s.removed == s.rows_after
    assert dyad.log.rows == len(d)
    assert dyad.log.na_counts["dp"] == int(d["dp"].isna().sum()) > 0  # 1949-50: no ATOP


def test_contdir_source_gives_the_same_data(built: tuple) -> None:
    _, dyad = built
    alt = build_dyad_year_from(micro.tables(), OPT, contiguity_source="contdir")
    pd.testing.assert_frame_equal(alt.data, dyad.data)


def test_build_is_deterministic(built: tuple) -> None:
    again = build_dyad_year_from(micro.tables(), OPT)
    pd.testing.assert_frame_equal(again.data, built[1].data)


def test_missing_table_is_named() -> None:
    t = micro.tables()
    del t["atop"]
    with pytest.raises(ValueError, match="atop"):
        build_actor_level_from(t, OPT)
    with pytest.raises(ValueError, match="unknown source table"):
        build_actor_level_from({**micro.tables(), "foo": pd.DataFrame()}, OPT)


def test_options_validate_and_round_trip() -> None:
    with pytest.raises(ValueError, match="membership"):
        BuildOptions(membership="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="contiguity_level"):
        BuildOptions(contiguity_level=7)
    with pytest.raises(ValueError, match="dp_obligations"):
        BuildOptions(dp_obligations=("alliance",))
    with pytest.raises(ValueError, match="share codes"):
        BuildOptions(milresp_one=(5, 6), milresp_zero=(1, 5))
    o = BuildOptions(contiguity_level=2, sc_obligations=["defense"])  # lists are accepted
    assert BuildOptions.from_dict(o.to_dict()) == o
    assert o.fingerprint() == BuildOptions.from_dict(o.to_dict()).fingerprint()
    assert o.fingerprint() != BuildOptions().fingerprint()
    with pytest.raises(ValueError, match="unknown build option"):
        BuildOptions.from_dict({"levels": 3})


def test_log_rejects_inconsistent_counts() -> None:
    log = BuildLog("x")
    with pytest.raises(ValueError, match="cannot add rows"):
        log.drop("u", "s", "r", 3, 4)
    with pytest.raises(ValueError, match="does not add up"):
        log.drop("u", "s", "r", 10, 5, {"a": 2})
    log.drop("u", "s", "r", 10, 5, {"a": 2, "b": 3})
    assert BuildLog.from_dict(json.loads(json.dumps(log.to_dict()))) == log
    assert "10 -> 5" in log.render()


def test_table1_counts_and_brackets(built: tuple) -> None:
    actor, dyad = built
    t1 = table1(actor, dyad)
    a, d = actor.data, dyad.data
    assert t1.loc["DP", "actor_count"] == int((a["dp"] == 1).sum())
    assert t1.loc["DP", "actor_n"] == int(a["dp"].notna().sum())
    crisis = d[d["crisis"] == 1]
    assert t1.loc["MP", "crisis_count"] == int((crisis["mp"] == 1).sum())
    assert t1.loc["MT", "dyad_n"] == len(crisis)  # MT exists only where CRISIS = 1
    prep = d["prep"].astype(float).dropna()
    assert t1.loc["Prep", "dyad_mean"] == pytest.approx(prep.mean())
    assert t1.loc["Prep", "dyad_sd"] == pytest.approx(prep.std())
    assert pd.isna(t1.loc["SC", "actor_count"])
    f = table1(actor, dyad, formatted=True)
    assert "[" in f.loc["DP", "Dyad-year"] and "[" not in f.loc["JD", "Dyad-year"]
    assert f.loc["N", "Actor level"] == f"{len(a):,}"


def test_table2_is_spearman_on_complete_rows() -> None:
    from scipy import stats

    rng = pd.Series(range(40))
    a = pd.DataFrame(
        {
            "mp": (rng % 3 == 0).astype(int),
            "dp": (rng % 2 == 0).astype(int),
            "jd": (rng % 5 == 0).astype(int),
            "prep": ((rng * 7919) % 101) / 101.0,
            "contig": (rng % 4 == 0).astype(int),
            "ic": (rng % 7 < 3).astype(int),
            "mt": (rng % 6 < 4).astype(int),
        }
    )
    a.loc[3, "prep"] = float("nan")
    t2 = table2(a)
    complete = a.dropna()
    rho = stats.spearmanr(complete["mp"], complete["prep"]).statistic
    assert t2.loc["MP", "Prep"] == pytest.approx(round(rho, 3))
    assert (t2.to_numpy().diagonal() == 1).all()
    assert list(t2.columns) == ["MP", "DP", "JD", "Prep", "Contig", "IC", "MT"]


def test_export_is_deterministic_atomic_and_documented(built: tuple, tmp_path) -> None:
    actor, dyad = built
    w1 = write_datasets(tmp_path / "a", actor, dyad, input_files={"x": "abc"})
    w2 = write_datasets(tmp_path / "b", actor, dyad, input_files={"x": "abc"})
    for name in w1:
        assert w1[name].read_bytes() == w2[name].read_bytes(), name
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".")]
    back = pd.read_parquet(w1["dyad_year.parquet"])
    pd.testing.assert_frame_equal(back, dyad.data)
    csv = pd.read_csv(w1["actor_level.csv"])
    assert list(csv.columns) == list(ACTOR_COLUMNS)
    prov = json.loads(w1["provenance.json"].read_text())
    assert prov["options"] == actor.options.to_dict()
    assert prov["input_files_sha256"] == {"x": "abc"}
    assert prov["outputs"]["dyad_year.parquet"]["bytes"] == w1["dyad_year.parquet"].stat().st_size
    dd = data_dictionary(actor.options)
    assert set(dd["variable"]) == set(ACTOR_COLUMNS)
    assert dd["definition"].str.len().min() > 10 and dd["version"].str.len().min() > 3


def test_cache_round_trip_and_damaged_entry(built: tuple, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RESTRAINT_CACHE_DIR", str(tmp_path))
    actor, dyad = built
    assert dcache.load("k1") is None
    entry = dcache.store("k1", actor, dyad)
    assert entry is not None and entry.parent == tmp_path / "datasets"
    a2, d2 = dcache.load("k1")
    pd.testing.assert_frame_equal(d2.data, dyad.data)
    assert a2.log == actor.log and a2.options == actor.options
    (entry / "meta.json").write_text("{not json")
    assert dcache.load("k1") is None


def test_jd_tally_matches_the_na_rule() -> None:
    t = micro.tables()
    zero = build_dyad_year_from(t, OPT)
    na = build_dyad_year_from(t, OPT, jd_missing="na")
    tally = zero.log.tallies["polity2 missing, JD undecided -> jd 0"]
    # Israel (no Polity row) with a democracy: undecided; the ATOP-less years add nothing.
    assert tally == na.log.na_counts["jd"] > 0
    assert zero.log.na_counts["jd"] == 0
    assert na.log.tallies["polity2 missing, JD undecided -> jd NA"] == tally


def test_reconciliation_on_the_micro_world_adds_up() -> None:
    from restraint.datasets.reconcile import reconcile

    rec = reconcile(micro.tables(), OPT)
    assert rec.adds_up()
    crisis = rec.section("crisis")
    assert crisis.ours == 3
    # The funnel ends at our count and every alternative is a real count.
    assert crisis.funnel[-1][1] == 3
    alts = dict(crisis.alternatives)
    assert alts["crisis actors: membership='year'"] == 3
    assert dict(rec.section("actor").alternatives)["membership='year'"] == 5
    frame = rec.to_frame()
    assert set(frame["kind"]) >= {"paper", "ours", "funnel", "alternative", "bridge"}
