"""Published reference rows (figures copied from papers and official score files, never runs of mmeb),
shipped inside the package as result files under ``rows/`` and shown beside the user's own rows by
``mmeb leaderboard`` (``--no-published`` hides them). Only files read from here count as published: a
result file elsewhere that sets ``published`` is refused (a submission cannot mark itself published).

    rows/MMEB-V1/<model>/no_revision/<Task>.json | aggregates.json   (mmeb.leaderboard.published.v1)
    rows/MMEB-V2/<version>/<model>/<Task>.json                       (mmeb.leaderboard.published.v2)

Regenerate: ``python -m mmeb.leaderboard.published --write mmeb/leaderboard/published/rows
--v2-scores published_scores.json --v2-tasks tasks.json``.
"""

from __future__ import annotations

from pathlib import Path

#: the shipped reference rows (package data)
ROWS_DIR = Path(__file__).resolve().parent / "rows"


def write_all(out_dir: str | Path, v2_scores: str | Path | None, v2_tasks: str | Path | None) -> list[Path]:
    """Write the V1 rows, and the V2 rows when their transcriptions are given."""
    from mmeb.leaderboard.published.v1 import write_published
    from mmeb.leaderboard.published.v2 import BENCHMARK as V2, write_v2

    files = write_published(Path(out_dir) / "MMEB-V1")
    if v2_scores is not None and v2_tasks is not None:
        files += write_v2(Path(out_dir) / V2, v2_scores, v2_tasks)
    return files
