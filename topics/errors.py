"""Exceptions and warnings that speak to the user.

Every error names the file (and row of ``corpus.csv`` where there is one), says what was
expected and what to do about it.
"""

from __future__ import annotations

__all__ = [
    "TopicsError",
    "CorpusError",
    "InputFileError",
    "NoDataError",
    "TopicsWarning",
    "SkippedFileWarning",
    "FigureSkippedWarning",
]


class TopicsError(Exception):
    """Base class of every error raised by :mod:`topics`."""


class CorpusError(TopicsError):
    """The corpus folder or its ``corpus.csv`` is unusable as a whole."""


class InputFileError(TopicsError):
    """One input document cannot be read.

    Parameters
    ----------
    path : str
        The document's path relative to the corpus folder.
    reason : str
        A short machine-friendly reason (``missing``, ``empty``, ``binary``, ...).
    message : str
        What went wrong and what to do, for a person.
    row : int or None
        The 1-based data row of ``corpus.csv`` that lists the file, if any.
    """

    def __init__(self, path: str, reason: str, message: str, row: int | None = None):
        self.path = path
        self.reason = reason
        self.row = row
        where = f"{path}" + (f" (corpus.csv row {row})" if row is not None else "")
        super().__init__(f"{where}: {message}")


class NoDataError(TopicsError, ValueError):
    """A figure or table cannot be made because the result lacks the data it needs.

    The message says which data is missing (e.g. "this result has no theme assignments") and
    how to get it. :func:`topics.figures.all_figures` skips such a figure and records the
    reason; every other exception propagates.

    Parameters
    ----------
    message : str
    absent : bool, default False
        True when the run did not make this data because it was not asked for (no
        codebook, no effects formula, no coded sheet): the figure is skipped quietly.
        False when the data exists but cannot be drawn (e.g. one group): the figure is
        skipped with a :class:`FigureSkippedWarning`.
    """

    def __init__(self, message: str, *, absent: bool = False):
        super().__init__(message)
        self.absent = absent


class TopicsWarning(UserWarning):
    """Base class of warnings issued by :mod:`topics`."""


class SkippedFileWarning(TopicsWarning):
    """A document was skipped; the run goes on and the manifest records why."""


class FigureSkippedWarning(TopicsWarning):
    """A figure was not drawn for a stated reason; the manifest records it."""
