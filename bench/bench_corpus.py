"""MMEB-V2 benchmarks on the CPU (issue 13): corpus ranking and frame loading.

1. Corpus ranking: ``rank_pool`` + the graded metrics for Q text queries against an N-page corpus (random
   unit embeddings of dimension D, every query with 1-3 graded positives), as the engine runs a visdoc task
   after encoding. Reports query x corpus pairs per second and the peak resident memory of a fresh process
   (the embeddings themselves included), for the default chunk budget and a small one.
2. Frame loading: V videos of 8 stored JPEG frames (W x H) in the mirror layout; the V2 loader lists and samples
   them (``load``), then every frame is read and decoded as the engine's workers do (``MediaStore.open``) on 1 and
   2 threads. Reports frames per second.

    python bench/bench_corpus.py                       # 1000 queries x 10000 pages, dim 1536; 200 videos
    python bench/bench_corpus.py --queries 200 --pages 2000 --videos 50 --json-out corpus.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rank_worker(queries: int, pages: int, dim: int, chunk_mb: int) -> dict:
    """Runs in a fresh process so its peak RSS is this workload's."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from mmeb.evaluation import graded
    from mmeb.evaluation.corpus import rank_pool

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    q = F.normalize(torch.randn(queries, dim), dim=1)
    corpus = F.normalize(torch.randn(pages, dim), dim=1)
    relevance = [{int(c): float(rng.integers(1, 4)) for c in rng.choice(pages, rng.integers(1, 4), replace=False)}
                 for _ in range(queries)]
    after_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    ranking = rank_pool(q, corpus, list(range(queries)), relevance, [None] * queries,
                        chunk_bytes=chunk_mb * 2**20)
    rank_s = time.perf_counter() - started
    per_query = [graded.query_metrics(c, "fractional") for c in ranking.counts]
    total_s = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"queries": queries, "pages": pages, "dim": dim, "chunk_mb": chunk_mb, "rank_s": round(rank_s, 3),
            "rank_and_metrics_s": round(total_s, 3), "pairs_per_s": round(queries * pages / total_s),
            "peak_rss_mb": round(peak / 1024, 1), "rss_before_mb": round(base / 1024, 1),
            "embeddings_mb": round((queries + pages) * dim * 4 / 2**20, 1),
            "rss_growth_over_inputs_mb": round((peak - after_data) / 1024, 1),
            "mean_ndcg5": round(sum(m["ndcg_linear@5"] for m in per_query) / queries, 5)}


def bench_ranking(args) -> list[dict]:
    out = []
    for chunk_mb in (256, 16):
        code = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'bench')!r});"
                f"from bench_corpus import rank_worker;"
                f"print(json.dumps(rank_worker({args.queries}, {args.pages}, {args.dim}, {chunk_mb})))")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def bench_frames(args) -> dict:
    import io

    import numpy as np
    from PIL import Image

    from mmeb.tasks import get_task

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = root / "VLM2Vec/MSR-VTT/test_1k"
        repo.mkdir(parents=True)
        rng = np.random.default_rng(0)
        frames_root = root / "TIGER-Lab/MMEB-V2/video-tasks/frames/video_ret/MSR-VTT"
        for v in range(args.videos):
            folder = frames_root / f"video{v}"
            folder.mkdir(parents=True)
            for i in range(8):
                pixels = rng.integers(0, 256, (args.height, args.width, 3), dtype=np.uint8)
                buf = io.BytesIO()
                Image.fromarray(pixels).save(buf, format="JPEG", quality=85)
                (folder / f"frame_{i + 1:04d}.jpg").write_bytes(buf.getvalue())
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist([{"video_id": f"video{v}", "caption": "a caption"}
                                             for v in range(args.videos)]), repo / "test-00000-of-00001.parquet")
        started = time.perf_counter()
        data = get_task("MMEB-V2:MSR-VTT").load(data_dir=str(root))
        load_s = time.perf_counter() - started
        paths = [p for item in data.pool for p in item.frames]
        result = {"videos": args.videos, "frames": len(paths), "frame_size": f"{args.width}x{args.height}",
                  "load_list_sample_s": round(load_s, 3)}
        for threads in (1, 2):
            started = time.perf_counter()
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(data.images.open, paths, chunksize=8))
            seconds = time.perf_counter() - started
            result[f"decode_frames_per_s_{threads}_thread"] = round(len(paths) / seconds, 1)
        return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--pages", type=int, default=10_000)
    p.add_argument("--dim", type=int, default=1536)
    p.add_argument("--videos", type=int, default=200)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--json-out", default=None)
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    report = {"ranking": bench_ranking(args), "frames": bench_frames(args)}
    print(json.dumps(report, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
