"""``--preprocess device`` against the reference path (issue 15, point 4), on real-style JPEGs (256-640 px).

Reports the max / mean absolute difference of the normalised pixels the model sees, the cosine between the two
paths' image embeddings, and the per-task score change of a full engine run (bench_engine.py's workload).

    python bench/bench_preprocess.py --model-dir D --device cpu --n-queries 24 --json-out F
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from bench_engine import TASKS, model_input, unique_items, write_workload  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", required=True, help="a two-tower model folder (e.g. built by bench_engine)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n-queries", type=int, default=24)
    parser.add_argument("--work-dir", default=None)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args(argv)
    from mmeb.evaluation import evaluate
    from mmeb.models import load_model

    work = Path(args.work_dir or tempfile.mkdtemp(prefix="mmeb-preprocess-"))
    data_dir = write_workload(work / "data", args.n_queries, args.n_queries, 2 * args.n_queries)
    reference = load_model(args.model_dir, device=args.device)
    device = load_model(args.model_dir, device=args.device)
    device.set_preprocess("device")

    task = unique_items(data_dir)[TASKS[0]]
    inputs = [model_input(item, task["images"]) for item in task["query"] if item.has_image]
    with torch.inference_mode():
        ref_batch = reference.prepare(inputs, task_name=TASKS[0], role="query")
        dev_batch = device.prepare(inputs, task_name=TASKS[0], role="query")
        ref_pixels = ref_batch["pixel_values"].to(args.device)
        dev_pixels = device._device_pixels(dev_batch["images_uint8"])
        diff = (ref_pixels.float() - dev_pixels.float()).abs()
        a, b = reference.embed(ref_batch).float(), device.embed(dev_batch).float()
        cosine = torch.nn.functional.cosine_similarity(a, b, dim=1)
    common = dict(data_dir=str(data_dir), device=args.device, num_workers=2, batch_size=16, progress=False)
    ref_results = {r.task_name: r.main_score for r in evaluate(reference, list(TASKS), **common)}
    dev_results = {r.task_name: r.main_score for r in evaluate(device, list(TASKS), preprocess="device", **common)}
    record = {
        "device": args.device, "images": len(inputs), "model": str(args.model_dir),
        "pixel_abs_diff_max": float(diff.max()), "pixel_abs_diff_mean": float(diff.mean()),
        "embedding_cosine_min": float(cosine.min()), "embedding_cosine_mean": float(cosine.mean()),
        "score_change": {name: dev_results[name] - ref_results[name] for name in TASKS},
        "scores_reference": ref_results, "scores_device": dev_results,
    }
    print(json.dumps(record, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
