"""Options of the analysis data-set builders (one frozen dataclass, documented defaults).

Every choice the paper leaves open is an option here; the defaults reproduce the paper's
published counts as closely as the documented rules allow (see ``docs/datasets.md``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

ALL_OBLIGATIONS: tuple[str, ...] = ("defense", "offense", "neutral", "nonagg", "consul")

Membership = Literal["ever", "year", "day"]
ContiguitySource = Literal["contdird", "contdir"]
AllianceDirection = Literal["either", "own"]
MissingRule = Literal["zero", "na"]
PolityCodes = Literal["cow", "raw"]

# ICB keeps the pre-unification codes for unified Germany (260, COW: 255 from Oct 1990) and
# unified Yemen (678, COW: 679 from May 1990); its codebook's country table has no 255-era
# Germany after 1990 nor a 679. Offered as an opt-in recoding, off by default because the
# paper's count (792) and the reference fixtures use ICB's codes unchanged.
ICB_SUCCESSOR_CODES: tuple[tuple[int, int, int], ...] = ((260, 1991, 255), (678, 1991, 679))


@dataclass(frozen=True)
class BuildOptions:
    """Rules for building the actor-level and directed dyad-year data sets.

    Attributes
    ----------
    actor_years:
        Inclusive range of ICB trigger years (``yrtrig``) kept at the actor level
        (default 1918-2016, the paper's).
    dyad_years:
        Inclusive year range of the directed dyad-year data (default 1918-2011).
    membership:
        Rule deciding whether an ICB actor and its triggering entity are "states of the COW
        system": ``"ever"`` (the code appears anywhere in ``states2016``; default, gives the
        paper's 792 and fits its wording), ``"year"`` (member in the trigger year,
        ``system2016``; 779) or ``"day"`` (member on the trigger date; when ICB gives no
        day, any day of the trigger month counts).
    contiguity_level:
        Politically relevant cut-off: a dyad-year is relevant when its direct contiguity
        type is ``<= contiguity_level`` (1 land/river ... 5 <= 400 miles of water; 0 means
        contiguity never makes a dyad relevant). Default 4 (EUGene's "level 4").
    major_power_clause:
        Whether a dyad-year is also relevant when either state is a major power that year.
    contiguity_source:
        ``"contdird"`` (COW's directed dyad-year file; default) or ``"contdir"`` (the master
        file of dyad periods; a dyad-year counts when the period ``begin..end`` touches the
        year). Both give the closest type when several periods touch one year.
    contig_types:
        Direct contiguity types that make the ``contig`` covariate 1 (default land/river and
        <= 12 miles of water: (1, 2)).
    jd_threshold:
        ``polity2`` at or above which a state counts as a democracy (default 6).
    jd_missing:
        What JD is when it cannot be decided because a ``polity2`` is missing (the other
        state being a democracy or missing too): ``"zero"`` (default: JD marks *known* joint
        democracies, as in the reference fixtures) or ``"na"``. When one state is known to be
        a non-democracy, JD is 0 under both rules.
    ic_missing:
        What IC is when neither ``econdt`` nor ``gvinst`` is 1 and at least one is missing:
        ``"zero"`` (default: IC marks a *recorded* internal crisis) or ``"na"``.
    dp_obligations:
        ATOP obligations that count as a defence pact for DP and MP (default defense only).
    sc_obligations:
        ATOP obligations that count as security cooperation for SC (default all five).
    alliance_direction:
        ATOP's dyad-year rows are directed (row (A, B): A's obligations to B; some are
        one-sided). ``"either"`` (default): A and B share a pact when either has the
        obligation, which is what "shares a defence pact" says and keeps a pact recorded
        in one direction only; ``"own"``: only obligations A itself undertook (the rule of
        the reference fixtures).
    milresp_one / milresp_zero:
        ICB ``crismg`` codes coded MILRESP = 1 (default 6-8) and = 0 (default 1-5); any other
        code gives NA (counted in the log).
    mt_codes:
        ICB ``triggr`` codes that make a military trigger (default 7-9).
    special_triggers:
        ``trigent`` codes that are not states (995 internal, 996 non-state, 997 several).
    icb_successor_codes:
        Optional recoding of ICB actor/trigger codes to COW codes, as ``(icb_code,
        from_year, cow_code)`` triples applied to trigger years ``>= from_year``; default
        none. :data:`ICB_SUCCESSOR_CODES` holds the Germany/Yemen unification pair.
    """

    actor_years: tuple[int, int] = (1918, 2016)
    dyad_years: tuple[int, int] = (1918, 2011)
    membership: Membership = "ever"
    contiguity_level: int = 4
    major_power_clause: bool = True
    contiguity_source: ContiguitySource = "contdird"
    contig_types: tuple[int, ...] = (1, 2)
    jd_threshold: float = 6
    jd_missing: MissingRule = "zero"
    polity_codes: PolityCodes = "cow"
    ic_missing: MissingRule = "zero"
    dp_obligations: tuple[str, ...] = ("defense",)
    sc_obligations: tuple[str, ...] = ALL_OBLIGATIONS
    alliance_direction: AllianceDirection = "either"
    milresp_one: tuple[int, ...] = (6, 7, 8)
    milresp_zero: tuple[int, ...] = (1, 2, 3, 4, 5)
    mt_codes: tuple[int, ...] = (7, 8, 9)
    special_triggers: tuple[int, ...] = (995, 996, 997)
    icb_successor_codes: tuple[tuple[int, int, int], ...] = ()

    def __post_init__(self) -> None:
        # Normalise list inputs (from JSON/CLI) to tuples so options stay hashable.
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                if f.name == "icb_successor_codes":
                    value = tuple(tuple(int(x) for x in v) for v in value)
                else:
                    value = tuple(value)
                object.__setattr__(self, f.name, value)
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the option when a value is out of its domain."""
        for name in ("actor_years", "dyad_years"):
            lo, hi = getattr(self, name)
            if not (isinstance(lo, int) and isinstance(hi, int)) or lo > hi:
                raise ValueError(f"option {name}={getattr(self, name)!r}: expected (first, last)")
        if self.membership not in ("ever", "year", "day"):
            raise ValueError(
                f"option membership={self.membership!r}: expected 'ever', 'year' or 'day'"
            )
        if self.contiguity_source not in ("contdird", "contdir"):
            raise ValueError(
                f"option contiguity_source={self.contiguity_source!r}: "
                "expected 'contdird' or 'contdir'"
            )
        if not 0 <= int(self.contiguity_level) <= 5:
            raise ValueError(
                f"option contiguity_level={self.contiguity_level!r}: expected 0-5 "
                "(0 = contiguity never makes a dyad relevant)"
            )
        for t in self.contig_types:
            if t not in (1, 2, 3, 4, 5):
                raise ValueError(f"option contig_types={self.contig_types!r}: types are 1-5")
        for name in ("jd_missing", "ic_missing"):
            if getattr(self, name) not in ("zero", "na"):
                raise ValueError(f"option {name}={getattr(self, name)!r}: expected 'zero' or 'na'")
        if self.polity_codes not in ("cow", "raw"):
            raise ValueError(
                f"option polity_codes={self.polity_codes!r}: expected 'cow' (map Polity's "
                "codes to COW's) or 'raw' (Polity's published codes)"
            )
        for name in ("dp_obligations", "sc_obligations"):
            obl = getattr(self, name)
            bad = [o for o in obl if o not in ALL_OBLIGATIONS]
            if bad or not obl:
                raise ValueError(
                    f"option {name}={obl!r}: expected a non-empty subset of {ALL_OBLIGATIONS}"
                )
        if self.alliance_direction not in ("either", "own"):
            raise ValueError(
                f"option alliance_direction={self.alliance_direction!r}: expected 'either' or 'own'"
            )
        overlap = set(self.milresp_one) & set(self.milresp_zero)
        if overlap:
            raise ValueError(
                f"options milresp_one/milresp_zero share codes {sorted(overlap)}: "
                "a crismg code cannot be both 1 and 0"
            )
        for triple in self.icb_successor_codes:
            if len(triple) != 3:
                raise ValueError(
                    f"option icb_successor_codes: {triple!r} is not (icb_code, from_year, cow)"
                )

    def replace(self, **changes: Any) -> BuildOptions:
        """A copy with ``changes`` applied (validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildOptions:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown build option(s) {unknown}; known: {sorted(names)}")
        conv = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        if "icb_successor_codes" in conv:
            conv["icb_successor_codes"] = tuple(tuple(x) for x in conv["icb_successor_codes"])
        return cls(**conv)

    def fingerprint(self) -> str:
        """Stable SHA-256 of the options (used in cache keys and provenance)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
