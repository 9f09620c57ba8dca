"""Exceptions and warnings shared by every layer."""

from __future__ import annotations


class RestraintError(Exception):
    """Base class of the package's errors."""


class DataFileError(RestraintError):
    """A raw data file is missing, corrupt, truncated, mis-encoded or fails validation.

    The message always names the file and, where known, the line/row and column and what
    was expected.
    """

    def __init__(
        self,
        message: str,
        *,
        path: object | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        parts = []
        if path is not None:
            parts.append(str(path))
        if line is not None:
            parts.append(f"line {line}")
        if column is not None:
            parts.append(f"column {column!r}")
        prefix = ": ".join([", ".join(parts)]) if parts else ""
        super().__init__(f"{prefix}: {message}" if prefix else message)


class DataNotFoundError(RestraintError):
    """A data set could not be resolved from any location (data dir, cache, download)."""


class HashMismatchWarning(UserWarning):
    """A user-supplied file's SHA-256 differs from the registry's expected hash."""


class EstimationWarning(UserWarning):
    """An estimator met a numerical problem (separation, non-convergence, boundary)."""


class EstimationError(RestraintError):
    """An estimator could not produce a usable result."""
