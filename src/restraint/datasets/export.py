"""Writing the data sets: Parquet + CSV, a data dictionary and provenance JSON.

Outputs are deterministic (rows sorted, fixed column order, no timestamps) and written
atomically (temporary file in the target folder, then ``os.replace``), so a reader never
sees a half-written file and two runs on the same inputs give identical bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from restraint import __version__
from restraint._io import atomic_write
from restraint.datasets.build import ACTOR_COLUMNS, COLUMNS, BuildResult
from restraint.datasets.options import BuildOptions

__all__ = ["data_dictionary", "write_datasets", "atomic_write"]

_VERSIONS = {
    "icb": "ICB actor level v15",
    "atop": "ATOP 5.1 (directed dyad-year)",
    "states": "COW State System Membership 2016",
    "contig": "COW Direct Contiguity 3.2",
    "nmc": "COW National Material Capabilities 6.0",
    "polity": "Polity5 p5v2018",
}


def data_dictionary(options: BuildOptions | None = None) -> pd.DataFrame:
    """One row per output column: variable, definition, source, version, data sets."""
    o = options or BuildOptions()
    dp_ob = "/".join(o.dp_obligations)
    sc_ob = "/".join(o.sc_obligations)
    side = (
        "either state holds the obligation"
        if o.alliance_direction == "either"
        else "A itself holds the obligation"
    )
    src = o.contiguity_source
    rows = [
        (
            "milresp",
            f"1 if ICB crismg in {list(o.milresp_one)} (military crisis management), "
            f"0 if in {list(o.milresp_zero)}, NA otherwise; dyad-year: only where crisis = 1",
            "icb: crismg",
            "icb",
            "both",
        ),
        (
            "crisis",
            "dyad-year: 1 if A was an ICB crisis actor triggered by B in that year "
            "(first crisis by trigger date per dyad-year); actor level: always 1",
            "icb: cracid, trigent, yrtrig",
            "icb",
            "both",
        ),
        (
            "mp",
            f"1 if A is not a COW major power that year and has an ATOP {dp_ob} pact with "
            f"at least one state that is a major power that year ({side}); NA outside ATOP years",
            "atop: statea, stateb, year, defense; cow majors2016",
            "atop,states",
            "both",
        ),
        (
            "dp",
            f"1 if A has at least one ATOP {dp_ob} pact that year ({side}); NA outside ATOP years",
            "atop",
            "atop",
            "both",
        ),
        ("dpmp", "0 no DP, 1 DP but not MP, 2 MP", "derived from dp, mp", "atop,states", "both"),
        (
            "jd",
            f"1 if polity2(A) >= {o.jd_threshold:g} and polity2(B) >= {o.jd_threshold:g} "
            f"that year; missing polity2 that leaves JD undecided -> "
            f"{'0' if o.jd_missing == 'zero' else 'NA'}; Polity codes "
            f"{'mapped to COW codes' if o.polity_codes == 'cow' else 'as published'}",
            "polity: polity2",
            "polity",
            "both",
        ),
        (
            "prep",
            "CINC(A) / (CINC(A) + CINC(B)) that year; NA if either CINC is missing",
            "nmc: cinc",
            "nmc",
            "both",
        ),
        (
            "contig",
            f"1 if the closest COW direct contiguity type of (A, B) that year is in "
            f"{list(o.contig_types)} ({src}), else 0; NA outside the file's years",
            f"cow {src}: conttype",
            "contig",
            "both",
        ),
        (
            "ic",
            "1 if ICB econdt = 1 (increase in economic problems) or gvinst = 1 "
            "(significant increase in government instability), else "
            f"{'0' if o.ic_missing == 'zero' else '0, NA when one is missing'}; dyad-year: only "
            "where crisis = 1",
            "icb: econdt, gvinst",
            "icb",
            "both",
        ),
        (
            "mt",
            f"1 if ICB triggr in {list(o.mt_codes)} (military trigger), 0 for other codes "
            "1-9; dyad-year: only where crisis = 1",
            "icb: triggr",
            "icb",
            "both",
        ),
        (
            "sc",
            f"1 if A and B share an ATOP alliance with any of {sc_ob} that year ({side})",
            "atop",
            "atop",
            "both",
        ),
        (
            "ccode1",
            "COW code of A (the acting state; ICB cracid at the actor level)",
            "cow / icb: cracid",
            "states",
            "both",
        ),
        (
            "ccode2",
            "COW code of B (the counterpart; ICB trigent at the actor level)",
            "cow / icb: trigent",
            "states",
            "both",
        ),
        (
            "year",
            "year (actor level: ICB trigger year yrtrig)",
            "icb: yrtrig / cow system",
            "states",
            "both",
        ),
        ("directed_dyad", "ccode1 * 1000 + ccode2", "derived", "states", "both"),
        ("crisno", "ICB crisis number", "icb: crisno", "icb", "actor_level"),
        ("cracno", "ICB crisis-actor number", "icb: cracno", "icb", "actor_level"),
    ]
    out = pd.DataFrame(rows, columns=["variable", "definition", "source", "version", "datasets"])
    out["version"] = [
        "; ".join(_VERSIONS[k] for k in v.split(",")) for v in out["version"].tolist()
    ]
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sorted(res: BuildResult, actor: bool) -> pd.DataFrame:
    cols = list(ACTOR_COLUMNS if actor else COLUMNS)
    keys = ["crisno", "cracno"] if actor else ["ccode1", "ccode2", "year"]
    return res.data.loc[:, cols].sort_values(keys, kind="mergesort").reset_index(drop=True)


def write_datasets(
    out_dir: str | Path,
    actor: BuildResult,
    dyad: BuildResult,
    *,
    input_files: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Write both data sets (Parquet and CSV), the data dictionary, the build logs and
    ``provenance.json`` into ``out_dir``; returns the written paths by name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, res, is_actor in (("actor_level", actor, True), ("dyad_year", dyad, False)):
        df = _sorted(res, is_actor)
        p = out / f"{name}.parquet"
        atomic_write(p, lambda t, df=df: df.to_parquet(t, index=False, engine="pyarrow"))
        written[p.name] = p
        c = out / f"{name}.csv"
        atomic_write(c, lambda t, df=df: df.to_csv(t, index=False, lineterminator="\n"))
        written[c.name] = c
    dd = data_dictionary(actor.options)
    p = out / "data_dictionary.csv"
    atomic_write(p, lambda t: dd.to_csv(t, index=False, lineterminator="\n"))
    written[p.name] = p
    logs = {"actor_level": actor.log.to_dict(), "dyad_year": dyad.log.to_dict()}
    p = out / "build_log.json"
    atomic_write(p, lambda t: t.write_text(json.dumps(logs, indent=1) + "\n"))
    written[p.name] = p
    prov: dict[str, Any] = {
        "package": "restraint",
        "version": __version__,
        "options": actor.options.to_dict(),
        "options_sha256": actor.options.fingerprint(),
        "input_files_sha256": input_files or {},
        "inputs": {
            "actor_level": actor.provenance.get("inputs", {}),
            "dyad_year": dyad.provenance.get("inputs", {}),
        },
        "outputs": {
            name: {"sha256": _sha256(path), "bytes": path.stat().st_size}
            for name, path in sorted(written.items())
        },
        "rows": {"actor_level": len(actor.data), "dyad_year": len(dyad.data)},
    }
    p = out / "provenance.json"
    atomic_write(p, lambda t: t.write_text(json.dumps(prov, indent=1, sort_keys=True) + "\n"))
    written[p.name] = p
    return written
