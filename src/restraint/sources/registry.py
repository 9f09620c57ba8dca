"""Registry of the raw data sets: versions, official sources, file forms, hashes, citations.

The registry is pure data (in the spirit of pooch's registry): nothing here touches the
disk or the network. :mod:`restraint.sources.resolve` finds files; the readers in
:mod:`restraint.sources.readers` parse them.

A data set may be satisfied by several *file forms* (for instance the COW contiguity data
as a bare CSV or as a member of the official zip). Forms are listed in order of
preference; within one location the first form present wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "DATASETS",
    "Dataset",
    "FileForm",
    "ICB_DOWNLOAD_PAGE",
    "STUDY_CITATION",
    "get_dataset",
]

ICB_DOWNLOAD_PAGE = "https://sites.duke.edu/icbdata/data-collections/"

_COW = "https://correlatesofwar.org/wp-content/uploads"
_ATOP_ZIP = "http://www.atopdata.org/uploads/6/9/1/3/69134503/atop_5.1__.csv_.zip"


@dataclass(frozen=True)
class FileForm:
    """One file that satisfies a data set.

    ``relpath`` is the path inside a data folder (and inside the cache). For an archive,
    ``member`` names the file inside it: a tuple with one entry per nesting level, each
    matched first by exact name and then by base name (distributors move files between
    folders of the archive across re-uploads). ``sha256`` lists the accepted hashes of the
    file at ``relpath`` (the archive itself for archive forms); empty when none is known, in
    which case the hash of the first verified download is recorded in the cache.
    """

    relpath: str
    fmt: str  # "csv" or "xls"; the format of the member for archive forms
    member: tuple[str, ...] = ()
    sha256: tuple[str, ...] = ()
    url: str | None = None
    official: bool = True
    rows: int | None = None  # data rows of the known release, to explain a hash mismatch
    note: str = ""

    @property
    def is_archive(self) -> bool:
        """True when the data are a member of a zip archive."""
        return bool(self.member)

    @property
    def filename(self) -> str:
        """The name of the file on disk (the archive for archive forms)."""
        return self.relpath.rsplit("/", 1)[-1]

    def describe(self) -> str:
        """Human-readable location of the data, e.g. ``cow/x.zip!dir/contdird.csv``."""
        return self.relpath + "".join("!" + m for m in self.member)


@dataclass(frozen=True)
class Dataset:
    """A raw data set the study reads, with everything needed to obtain and cite it."""

    key: str
    title: str
    version: str
    homepage: str
    forms: tuple[FileForm, ...]
    citation: str
    manual: str | None = None  # instructions where there is no stable download link
    required_columns: tuple[str, ...] = field(default_factory=tuple)

    @property
    def primary(self) -> FileForm:
        """The preferred form (where a user should put the file)."""
        return self.forms[0]

    @property
    def downloadable(self) -> tuple[FileForm, ...]:
        """Forms with an official download URL, in order of preference."""
        return tuple(f for f in self.forms if f.url)


# --- citations (BibTeX) -------------------------------------------------------------

_CITE_ICB = """@misc{icb_v15,
  author = {Brecher, Michael and Wilkenfeld, Jonathan and Beardsley, Kyle and James, Patrick
            and Quinn, David},
  title = {International Crisis Behavior Data Codebook, Version 15},
  year = {2023},
  howpublished = {\\url{https://sites.duke.edu/icbdata/data-collections/}},
  note = {Actor-level (icb2v15) and system-level (icb1v15) data}
}
@book{brecher_wilkenfeld_1997,
  author = {Brecher, Michael and Wilkenfeld, Jonathan},
  title = {A Study of Crisis},
  publisher = {University of Michigan Press},
  address = {Ann Arbor},
  year = {1997}
}"""

_CITE_COW_STATES = """@misc{cow_states_2016,
  author = {{Correlates of War Project}},
  title = {State System Membership List, v2016},
  year = {2017},
  howpublished = {\\url{https://correlatesofwar.org/data-sets/state-system-membership/}}
}"""

_CITE_CONTIG = """@article{stinnett_2002,
  author = {Stinnett, Douglas M. and Tir, Jaroslav and Schafer, Philip and Diehl, Paul F.
            and Gochman, Charles},
  title = {The Correlates of War Project Direct Contiguity Data, Version 3},
  journal = {Conflict Management and Peace Science},
  volume = {19},
  number = {2},
  pages = {58--66},
  year = {2002}
}
@misc{cow_contiguity_3_2,
  author = {{Correlates of War Project}},
  title = {Direct Contiguity Data, 1816--2016, Version 3.2},
  year = {2017},
  howpublished = {\\url{https://correlatesofwar.org/data-sets/direct-contiguity/}}
}"""

_CITE_NMC = """@incollection{singer_bremer_stuckey_1972,
  author = {Singer, J. David and Bremer, Stuart and Stuckey, John},
  title = {Capability Distribution, Uncertainty, and Major Power War, 1820--1965},
  booktitle = {Peace, War, and Numbers},
  editor = {Russett, Bruce},
  publisher = {Sage},
  address = {Beverly Hills},
  pages = {19--48},
  year = {1972}
}
@misc{cow_nmc_6_0,
  author = {Greig, J. Michael and Enterline, Andrew J.},
  title = {Correlates of War Project National Material Capabilities (NMC) Data
           Documentation, Version 6.0},
  year = {2021},
  howpublished = {\\url{https://correlatesofwar.org/data-sets/national-material-capabilities/}}
}"""

_CITE_POLITY = """@misc{polity5,
  author = {Marshall, Monty G. and Gurr, Ted Robert},
  title = {Polity5: Political Regime Characteristics and Transitions, 1800--2018.
           Dataset Users' Manual},
  publisher = {Center for Systemic Peace},
  year = {2020},
  howpublished = {\\url{https://www.systemicpeace.org/inscrdata.html}},
  note = {Annual time series p5v2018}
}"""

_CITE_ATOP = """@article{leeds_2002,
  author = {Leeds, Brett Ashley and Ritter, Jeffrey M. and Mitchell, Sara McLaughlin
            and Long, Andrew G.},
  title = {Alliance Treaty Obligations and Provisions, 1815--1944},
  journal = {International Interactions},
  volume = {28},
  number = {3},
  pages = {237--260},
  year = {2002}
}
@misc{atop_5_1,
  author = {Leeds, Brett Ashley},
  title = {Alliance Treaty Obligations and Provisions (ATOP) Codebook, Version 5.1},
  howpublished = {\\url{http://www.atopdata.org/data.html}},
  note = {Directed dyad-year file atop5\\_1ddyr}
}"""

STUDY_CITATION = """@article{hwang_2025,
  author = {Hwang, W.},
  title = {Restraint Effect of Alliances in Crises},
  journal = {Japanese Journal of Political Science},
  year = {2025},
  doi = {10.1017/S1468109925000039}
}"""

_ICB_MANUAL = (
    "The ICB data have no stable direct download link. Download the actor-level "
    "(icb2v15.csv) and system-level (icb1v15.csv) files of ICB version 15 from "
    f"{ICB_DOWNLOAD_PAGE} and put them in <data dir>/icb/."
)

# --- the registry -------------------------------------------------------------------

_ICB_COLS_COMMON = ("crisno", "crisname", "trigent", "yrtrig", "motrig", "datrig", "crismg")

_DATASETS: tuple[Dataset, ...] = (
    Dataset(
        key="icb_actors",
        title="International Crisis Behavior, actor level",
        version="15",
        homepage=ICB_DOWNLOAD_PAGE,
        forms=(
            FileForm(
                relpath="icb/icb2v15.csv",
                fmt="csv",
                # Two unedited official downloads are known (2024-03 and 2023-05); they
                # differ in one cell (crisno 488, cracno 1081, majres). Both are accepted.
                sha256=(
                    "1fec4f512b032a2557ba9fe171abd01515339f7f66f9185a129e8e487ca847d5",
                    "f835b7bf8cca84a65f51cd6dc0760ab0bdc0f935f377882ee9248eb81582075c",
                ),
                rows=1100,
            ),
        ),
        citation=_CITE_ICB,
        manual=_ICB_MANUAL,
        required_columns=(
            *_ICB_COLS_COMMON,
            "cracno",
            "cracid",
            "actor",
            "triggr",
            "econdt",
            "gvinst",
        ),
    ),
    Dataset(
        key="icb_crises",
        title="International Crisis Behavior, system (crisis) level",
        version="15",
        homepage=ICB_DOWNLOAD_PAGE,
        forms=(
            FileForm(
                relpath="icb/icb1v15.csv",
                fmt="csv",
                sha256=("97e27c8d1977ae43964a21d50668659dfd1f61041a937dde1908cfccc50e8904",),
                rows=496,
            ),
        ),
        citation=_CITE_ICB,
        manual=_ICB_MANUAL,
        required_columns=_ICB_COLS_COMMON,
    ),
    Dataset(
        key="cow_states",
        title="COW State System Membership, states",
        version="2016",
        homepage="https://correlatesofwar.org/data-sets/state-system-membership/",
        forms=(
            FileForm(
                relpath="cow/states2016.csv",
                fmt="csv",
                sha256=("3d78d333ea75a7791bf5772b203d2ab96b27e70ed52825f5293c474195f47888",),
                url=f"{_COW}/states2016.csv",
                rows=243,
            ),
        ),
        citation=_CITE_COW_STATES,
        required_columns=(
            "stateabb",
            "ccode",
            "statenme",
            "styear",
            "stmonth",
            "stday",
            "endyear",
            "endmonth",
            "endday",
            "version",
        ),
    ),
    Dataset(
        key="cow_majors",
        title="COW State System Membership, major powers",
        version="2016",
        homepage="https://correlatesofwar.org/data-sets/state-system-membership/",
        forms=(
            FileForm(
                relpath="cow/majors2016.csv",
                fmt="csv",
                sha256=("6ba42de12f2f63401ff5a61e6d0037d17b5dd03ed9aca07d0bc16660e03694eb",),
                url=f"{_COW}/majors2016.csv",
                rows=14,
            ),
        ),
        citation=_CITE_COW_STATES,
        required_columns=(
            "stateabb",
            "ccode",
            "styear",
            "stmonth",
            "stday",
            "endyear",
            "endmonth",
            "endday",
            "version",
        ),
    ),
    Dataset(
        key="cow_system",
        title="COW State System Membership, system state-years",
        version="2016",
        homepage="https://correlatesofwar.org/data-sets/state-system-membership/",
        forms=(
            FileForm(
                relpath="cow/system2016.csv",
                fmt="csv",
                sha256=("280e10b408c0aefb3b452e1d35d59a54d78935c08ac3a6039c47cb982cdc9f17",),
                url=f"{_COW}/system2016.csv",
                rows=15951,
            ),
        ),
        citation=_CITE_COW_STATES,
        required_columns=("stateabb", "ccode", "year", "version"),
    ),
    Dataset(
        key="cow_contig",
        title="COW Direct Contiguity, directed dyad-year (contdird)",
        version="3.2",
        homepage="https://correlatesofwar.org/data-sets/direct-contiguity/",
        forms=(
            FileForm(
                relpath="cow/contdird.csv",
                fmt="csv",
                sha256=("42b8fe2bc7fffe58665a38f7476d7d76cf3acd5a22e176c3691670997a4717f2",),
                rows=82498,
            ),
            FileForm(
                relpath="cow/DirectContiguity320.zip",
                fmt="csv",
                member=("DirectContiguity320/contdird.csv",),
                sha256=("f1be081934f353f395bb873093b695ea01d7dfcb48e89146bd984c45342ba17a",),
                url=f"{_COW}/DirectContiguity320.zip",
                rows=82498,
            ),
        ),
        citation=_CITE_CONTIG,
        required_columns=(
            "dyad",
            "state1no",
            "state1ab",
            "state2no",
            "state2ab",
            "year",
            "conttype",
            "version",
        ),
    ),
    Dataset(
        key="cow_contig_periods",
        title="COW Direct Contiguity, dyad-period master records (contdir)",
        version="3.2",
        homepage="https://correlatesofwar.org/data-sets/direct-contiguity/",
        forms=(
            FileForm(
                relpath="cow/contdir.csv",
                fmt="csv",
                sha256=("62f3714d1a75c940887bf15b40b256aeeb41545734ab13abe96ab3f49a980362",),
                rows=847,
            ),
            FileForm(
                relpath="cow/DirectContiguity320.zip",
                fmt="csv",
                member=("DirectContiguity320/contdir.csv",),
                sha256=("f1be081934f353f395bb873093b695ea01d7dfcb48e89146bd984c45342ba17a",),
                url=f"{_COW}/DirectContiguity320.zip",
                rows=847,
            ),
        ),
        citation=_CITE_CONTIG,
        required_columns=(
            "dyad",
            "statelno",
            "statelab",
            "statehno",
            "statehab",
            "conttype",
            "begin",
            "end",
            "notes",
            "version",
        ),
    ),
    Dataset(
        key="cow_nmc",
        title="COW National Material Capabilities, abridged",
        version="6.0",
        homepage="https://correlatesofwar.org/data-sets/national-material-capabilities/",
        forms=(
            FileForm(
                relpath="cow/NMC-60-abridged.csv",
                fmt="csv",
                sha256=("cd8465ea476da51d3e91261e216e96cfaf1fbf309dbe6bfc25a99bfb9fa7cfde",),
                rows=15951,
            ),
            FileForm(
                # The official distribution nests the abridged CSV in a zip inside a zip.
                relpath="cow/NMC_Documentation-6.0.zip",
                fmt="csv",
                member=("NMC-60-abridged.zip", "NMC-60-abridged.csv"),
                url=f"{_COW}/NMC_Documentation-6.0.zip",
                rows=15951,
            ),
        ),
        citation=_CITE_NMC,
        required_columns=(
            "stateabb",
            "ccode",
            "year",
            "milex",
            "milper",
            "irst",
            "pec",
            "tpop",
            "upop",
            "cinc",
            "version",
        ),
    ),
    Dataset(
        key="polity",
        title="Polity5 annual time series",
        version="p5v2018",
        homepage="https://www.systemicpeace.org/inscrdata.html",
        forms=(
            FileForm(
                relpath="polity/p5v2018.xls",
                fmt="xls",
                url="http://www.systemicpeace.org/inscr/p5v2018.xls",
                rows=17574,
            ),
            FileForm(
                relpath="polity/p5v2018.csv",
                fmt="csv",
                sha256=("a1e24a1cb79e5a3427f6e1ca822515fdeee45471ed579419f0c742a5e482ec0b",),
                official=False,
                rows=17574,
                note="CSV (UTF-8) export of the official p5v2018.xls, all 37 columns",
            ),
        ),
        citation=_CITE_POLITY,
        required_columns=(
            "p5",
            "cyear",
            "ccode",
            "scode",
            "country",
            "year",
            "flag",
            "fragment",
            "democ",
            "autoc",
            "polity",
            "polity2",
            "durable",
            "xrreg",
            "xrcomp",
            "xropen",
            "xconst",
            "parreg",
            "parcomp",
            "exrec",
            "exconst",
            "polcomp",
            "prior",
            "emonth",
            "eday",
            "eyear",
            "eprec",
            "interim",
            "bmonth",
            "bday",
            "byear",
            "bprec",
            "post",
            "change",
            "d5",
            "sf",
            "regtrans",
        ),
    ),
    Dataset(
        key="atop_ddyr",
        title="Alliance Treaty Obligations and Provisions, directed dyad-year",
        version="5.1",
        homepage="http://www.atopdata.org/data.html",
        forms=(
            FileForm(relpath="atop/atop5_1ddyr.csv", fmt="csv", rows=273296),
            FileForm(
                relpath="atop/atop_5.1__.csv_.zip",
                fmt="csv",
                member=("ATOP 5.1 (.csv)/atop5_1ddyr.csv",),
                url=_ATOP_ZIP,
                rows=273296,
            ),
            FileForm(
                relpath="atop/atop5_1ddyr_subset.csv",
                fmt="csv",
                sha256=("7a51c9beb8c25ac753c9eacf7f1949dc0f3acbe509e9dc5781a35c08f46b2cfa",),
                official=False,
                rows=273296,
                note=(
                    "column subset of atop5_1ddyr (stateA, stateB, year, defense, offense, "
                    "neutral, nonagg, consul), as distributed by the R package peacesciencer"
                ),
            ),
        ),
        citation=_CITE_ATOP,
        required_columns=(
            "statea",
            "stateb",
            "year",
            "defense",
            "offense",
            "neutral",
            "nonagg",
            "consul",
        ),
    ),
)

#: Read-only mapping ``key -> Dataset`` in the order of STUDY.md section 1.
DATASETS: MappingProxyType[str, Dataset] = MappingProxyType({d.key: d for d in _DATASETS})


def get_dataset(key: str) -> Dataset:
    """Return the registry entry for ``key``; raise ``KeyError`` listing the valid keys."""
    try:
        return DATASETS[key]
    except KeyError:
        raise KeyError(
            f"unknown data set {key!r}; expected one of: {', '.join(DATASETS)}"
        ) from None
