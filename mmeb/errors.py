"""Exceptions raised for bad input. Each message says what was wrong, where, and what to do."""

from __future__ import annotations


class MMEBError(Exception):
    """Base class: the CLI prints these as one line (no traceback) and exits with code 2."""


class UnknownNameError(MMEBError, KeyError):
    """An unknown task / model / selector name. The message carries a close-match suggestion."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class DataError(MMEBError):
    """Task data is missing or malformed (names task, row and file)."""


class DataUnavailableError(DataError):
    """Data is not on disk and the Hub cannot be reached."""


class ModelOutputError(MMEBError):
    """A model returned something the engine cannot use (names task and role)."""


class ConfigError(MMEBError):
    """A bad configuration (training config, model settings, CLI options)."""


def close_matches(name: str, choices, n: int = 3, cutoff: float = 0.5) -> list[str]:
    """The choices closest to ``name`` (case-insensitive, difflib), best first, in their own spelling."""
    import difflib

    lowered = {str(c).lower(): str(c) for c in choices}
    return [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=cutoff)]


def did_you_mean(name: str, choices, n: int = 3, cutoff: float = 0.5) -> str:
    """`` Did you mean: a, b?`` for the close matches of ``name``, or "" when there are none."""
    close = close_matches(name, choices, n=n, cutoff=cutoff)
    return f" Did you mean: {', '.join(close)}?" if close else ""


def suggest(name: str, choices, kind: str) -> UnknownNameError:
    """Build an UnknownNameError with a close-match suggestion."""
    hint = did_you_mean(name, choices)
    return UnknownNameError(f"unknown {kind} {name!r}.{hint} (see the full list with `mmeb {kind}s`)"
                            if kind in ("task", "model") else f"unknown {kind} {name!r}.{hint}")
