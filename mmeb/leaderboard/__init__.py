"""Leaderboard: aggregate result files per benchmark as the paper does, validate submissions, render
Markdown / CSV / JSON / a static page, ship the published reference rows, export to the official format.

    from mmeb.leaderboard import build_leaderboard
    build_leaderboard("results", "leaderboard")
"""

from __future__ import annotations

import importlib

# Resolved on first use, so `python -m mmeb.leaderboard.published` and `mmeb tasks` import nothing extra.
_EXPORTS = {
    "build_leaderboard": "mmeb.leaderboard.build", "compute_leaderboard": "mmeb.leaderboard.build",
    "Leaderboard": "mmeb.leaderboard.build", "validate_path": "mmeb.leaderboard.validate",
    "InvalidResultsError": "mmeb.leaderboard.validate", "export_mmeb_leaderboard": "mmeb.leaderboard.export",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'mmeb.leaderboard' has no attribute {name!r}")
