"""Project GPU-hours of a full benchmark from a measured engine throughput (issue 15, point 8).

Reads a ``bench_engine.py`` JSON (its end-to-end items/s, warm) and the task registry's sizes, and prints, per
benchmark, the items to encode and the hours at that throughput. Unique items lie between a lower bound (every
task's queries plus one candidate list: classification-style tasks share one label set) and an upper bound
(every candidate of every list distinct); both are printed.

    python bench/project_gpu_hours.py bench_engine_qwen7b.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    record = json.loads(open(argv[0]).read())
    rate = record["numbers"]["a_end_to_end_items_per_s"]
    from mmeb.tasks import get_tasks

    low, high, count = defaultdict(int), defaultdict(int), defaultdict(int)
    for task in get_tasks("all"):
        meta = task.metadata
        group = getattr(meta, "benchmark", None) or "MMEB"
        low[group] += meta.n_queries + meta.n_candidates
        high[group] += meta.n_queries * (1 + meta.n_candidates)
        count[group] += 1
    out = {"preset": record.get("preset"), "device": record.get("device"), "items_per_s": rate, "benchmarks": {}}
    for group in sorted(low):
        out["benchmarks"][group] = {
            "tasks": count[group], "items_low": low[group], "items_high": high[group],
            "gpu_hours_low": low[group] / rate / 3600, "gpu_hours_high": high[group] / rate / 3600}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
