"""Analysis data sets: the actor level and the directed dyad-year (Hwang 2025).

Builders (``build_*_from`` are pure functions of the source tables; the others read the
raw files through :mod:`restraint.sources`)::

    from restraint.datasets import build_all, BuildOptions, table1, table2
    actor, dyad = build_all(data_dir)           # cached; BuildResult(.data, .log)
    print(dyad.log)                             # every removed row, counted with its reason

Building blocks: :mod:`~restraint.datasets.system` (members and major powers by year),
:mod:`~restraint.datasets.dyads` (directed dyad-years, contiguity, relevance),
:mod:`~restraint.datasets.alliances` (DP, MP, SC), :mod:`~restraint.datasets.covariates`
(JD, Prep, Contig), :mod:`~restraint.datasets.crosswalk` (Polity5 codes to COW codes),
:mod:`~restraint.datasets.crises` (ICB coding and aggregation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from restraint._lazy import lazy_exports

if TYPE_CHECKING:
    from restraint.datasets.alliances import (
        alliance_dyad_years,
        alliance_indicators,
        major_power_allies,
        pact_states,
    )
    from restraint.datasets.build import (
        ACTOR_COLUMNS,
        COLUMNS,
        BuildResult,
        SourceTables,
        build_actor_level,
        build_actor_level_from,
        build_all,
        build_dyad_year,
        build_dyad_year_from,
        load_tables,
    )
    from restraint.datasets.covariates import contiguity_indicator, joint_democracy, preponderance
    from restraint.datasets.crises import (
        code_crisis_variables,
        first_crisis_per_dyad_year,
        select_crisis_actors,
    )
    from restraint.datasets.crosswalk import (
        POLITY_TO_COW,
        CodeChange,
        audit_polity_codes,
        polity_to_cow,
    )
    from restraint.datasets.describe import format_table1, table1, table2
    from restraint.datasets.dyads import contiguity_years, directed_dyad_years, politically_relevant
    from restraint.datasets.log import BuildLog, LogStep
    from restraint.datasets.options import ICB_SUCCESSOR_CODES, BuildOptions
    from restraint.datasets.system import (
        majors_by_year,
        member_ever,
        member_in_year,
        member_on_date,
        states_by_year,
    )

__all__ = [
    "ACTOR_COLUMNS",
    "COLUMNS",
    "ICB_SUCCESSOR_CODES",
    "POLITY_TO_COW",
    "BuildLog",
    "BuildOptions",
    "BuildResult",
    "CodeChange",
    "LogStep",
    "SourceTables",
    "alliance_dyad_years",
    "alliance_indicators",
    "audit_polity_codes",
    "build_actor_level",
    "build_actor_level_from",
    "build_all",
    "build_dyad_year",
    "build_dyad_year_from",
    "code_crisis_variables",
    "contiguity_indicator",
    "contiguity_years",
    "directed_dyad_years",
    "first_crisis_per_dyad_year",
    "format_table1",
    "joint_democracy",
    "load_tables",
    "major_power_allies",
    "majors_by_year",
    "member_ever",
    "member_in_year",
    "member_on_date",
    "pact_states",
    "politically_relevant",
    "polity_to_cow",
    "preponderance",
    "select_crisis_actors",
    "states_by_year",
    "table1",
    "table2",
]

# Every builder imports pandas: loaded on first use (see restraint._lazy).
__getattr__, __dir__ = lazy_exports(
    __name__,
    submodules=(
        "alliances",
        "build",
        "cache",
        "cli",
        "covariates",
        "crises",
        "crosswalk",
        "describe",
        "dyads",
        "export",
        "log",
        "options",
        "reconcile",
        "system",
    ),
)
