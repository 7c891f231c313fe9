"""Every error greg-tui raises on purpose, in one module under one base class.

``GregError`` is what a command line or the app catches to show one line instead of a
traceback; each subclass names its domain. Value-like problems also derive from
``ValueError`` so callers that validate with ``except ValueError`` keep working.
"""

from __future__ import annotations


class GregError(Exception):
    """Base of every error greg-tui raises on purpose; its message is one line for the user
    (a library's multi-line text quoted in it is folded onto that line)."""

    def __str__(self) -> str:
        return " ".join(super().__str__().split())


def one_line(problem: object, limit: int = 400) -> str:
    """An error (or any text) as one line for the user: whitespace runs, newlines included,
    become one space; long texts are cut at ``limit`` characters."""
    text = " ".join(str(problem).split())
    if not text and isinstance(problem, BaseException):
        text = type(problem).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------------------- writers


class FolderBusyError(GregError):
    """Another greg-tui process (or thread) is writing the same folder or file; the message
    says who (``greg_core.locking``)."""


class PublishInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM turned into it) arrived while a run was being published.

    Not a ``GregError``: it is an interruption, and ``except KeyboardInterrupt`` still
    catches it. ``published`` says whether the new result set had already replaced the
    previous one when the interruption arrived (then it is complete and verified on disk);
    when False, the previous results are untouched."""

    def __init__(self, published: bool, output_dir: str) -> None:
        self.published = published
        self.output_dir = output_dir
        state = "after" if published else "before"
        super().__init__(f"interrupted {state} publishing the results in {output_dir}")


# ----------------------------------------------------------------------------- data


class MarketDataError(GregError, ValueError):
    """A market data file that cannot be read; the message names the file and the column."""


class ChainFileWarning(UserWarning):
    """A snapshot file was skipped (unreadable, foreign, empty or misnamed), two files share
    a harvest time, or the files' greek_delta disagrees with our delta."""


# ----------------------------------------------------------------------------- harvesting


class HarvestDataError(GregError, ValueError):
    """A file the harvester must merge into cannot be read; it is left untouched."""


class DeribitError(GregError):
    """Base class of everything the Deribit client raises."""


class DeribitApiError(DeribitError):
    """Deribit answered with an error (or kept answering with a transient one)."""

    def __init__(self, code: int, message: str, method: str) -> None:
        self.code = code
        self.message = message
        self.method = method
        super().__init__(f"Deribit error {code} ({message}) in public/{method}")


class DeribitResponseError(DeribitError):
    """Deribit answered, but not in the shape its documentation promises."""


class DeribitOffline(DeribitError):
    """Deribit could not be reached at all; the message is meant for the user as is."""

    def __init__(self, message: str, base_url: str, reason: str = "") -> None:
        self.base_url = base_url
        self.reason = reason
        super().__init__(message)


class DeribitTimeout(DeribitOffline):
    """Deribit was reached (or is reachable) but did not answer in time, after the retries."""


class DeribitConfigError(DeribitError, ValueError):
    """The Deribit base URL (``--base-url`` / ``GREG_DERIBIT_BASE_URL``) is not usable."""


# ----------------------------------------------------------------------------- selector


class SelectorSpecError(GregError, ValueError):
    """A selector spec that cannot be loaded; the message names the file/step and token."""


# ----------------------------------------------------------------------------- sweep


class SweepConfigError(GregError, ValueError):
    """A sweep parameter is invalid; the message is one line naming it and the valid choices."""


class SweepCancelled(GregError):
    """The sweep was cancelled; nothing was written."""


class SweepResultsError(GregError, ValueError):
    """Result files that cannot be read; the message names the file and the problem."""


# ----------------------------------------------------------------------------- regimes


class RegimeFileError(GregError, ValueError):
    """A regime file that cannot be used; the message says which file and why."""
