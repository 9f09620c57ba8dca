"""The verified raw-data layer: registry, resolution (data dir, cache, download) and readers.

>>> from restraint.sources import read_cow_states, resolve, DATASETS
>>> states = read_cow_states("path/to/raw")          # doctest: +SKIP
>>> states.attrs["source"]["verified"]               # doctest: +SKIP
True

See ``docs/data.md`` for where each file comes from and the hash policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from restraint._lazy import lazy_exports
from restraint.sources.registry import DATASETS, STUDY_CITATION, Dataset, FileForm, get_dataset
from restraint.sources.resolve import ResolvedFile, cache_dir, locate, resolve

if TYPE_CHECKING:
    from restraint.sources.readers import (
        READERS,
        DuplicateKeyWarning,
        load_all,
        parse_file,
        read_atop_ddyr,
        read_contiguity,
        read_contiguity_periods,
        read_cow_majors,
        read_cow_states,
        read_cow_system,
        read_icb_actors,
        read_icb_crises,
        read_nmc,
        read_polity,
        validate_file,
    )

__all__ = [
    "DATASETS",
    "READERS",
    "STUDY_CITATION",
    "Dataset",
    "DuplicateKeyWarning",
    "FileForm",
    "ResolvedFile",
    "cache_dir",
    "get_dataset",
    "load_all",
    "locate",
    "parse_file",
    "read_atop_ddyr",
    "read_contiguity",
    "read_contiguity_periods",
    "read_cow_majors",
    "read_cow_states",
    "read_cow_system",
    "read_icb_actors",
    "read_icb_crises",
    "read_nmc",
    "read_polity",
    "resolve",
    "validate_file",
]

# The readers import pandas: loaded on first use (see restraint._lazy).
__getattr__, __dir__ = lazy_exports(
    __name__,
    submodules=(
        "cli",
        "readers",
    ),
)
