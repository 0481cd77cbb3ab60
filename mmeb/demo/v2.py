"""The demo's MMEB-V2 part: one video task and one visual-document task, so the main job shows all three
modalities. Their data is a small synthetic MMEB-V2 mirror in the real layouts (frame folders, a page corpus
with qrels; :func:`mmeb.testing.mirror_v2.write_v2_mirror`) and the real MMEB-V2 task classes read it, rank
the whole label pool / page corpus and score hit@1 / NDCG@5 as for the real benchmark.

The strings and pictures are random, so these scores only show that the pipeline runs end to end (chance
level is expected); with ``V2_QUERIES`` queries instead of the official counts the results are unofficial
and the demo's leaderboard lists them as such.
"""

from __future__ import annotations

import json
from pathlib import Path

#: one task per new modality: video classification over the 101-label pool, document retrieval over a corpus
V2_TASKS: tuple[str, ...] = ("UCF101", "ViDoRe_arxivqa")
V2_QUERIES = 20
V2_BENCHMARK = "MMEB-V2"
MARKER = "demo-v2.json"  # written last: its presence means the mirror is complete


def v2_selectors(tasks: tuple[str, ...] = V2_TASKS) -> list[str]:
    return [f"{V2_BENCHMARK}:{t}" for t in tasks]


def write_v2_data(out: Path, seed: int, tasks: tuple[str, ...] = V2_TASKS, n_queries: int = V2_QUERIES) -> Path:
    """The mirror for ``tasks`` under ``out`` (reused when its marker says it was written with these settings)."""
    from mmeb.testing.mirror_v2 import write_v2_mirror

    settings = {"seed": seed, "tasks": list(tasks), "n_queries": n_queries}
    marker = out / MARKER
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == settings:
        return out
    write_v2_mirror(out, tasks=list(tasks), seed=seed, n_queries=n_queries, data_versions=False)
    marker.write_text(json.dumps(settings) + "\n", encoding="utf-8")
    return out
