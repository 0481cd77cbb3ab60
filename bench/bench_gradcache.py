"""GradCache benchmark: peak memory against the global batch, with and without GradCache, and the
step-time ratio (with / without) at a batch both fit.

Each (batch, mode) runs in a fresh subprocess so peak memory is its own: on CPU the peak RSS growth
over the RSS after setup (resource.getrusage maxrss; tracemalloc does not see torch allocations), on
GPU torch.cuda.max_memory_allocated. A training step = the real objective (cached or plain in-batch
InfoNCE, tau 0.02) + backward + AdamW step, on half image / half text queries against text / image
targets, through the same encoder `mmeb train` uses. With --bf16 the model's forward is wrapped in
autocast as accelerate does in the Trainer, so GradCache's gradient pass (run inside backward, outside
any `with autocast` around the loss call) is bf16 too. Per step it also records the processor time (on
the prep thread) and the main thread's time spent getting processed chunks (waiting + hand-off).

    python bench/bench_gradcache.py --preset tiny-qwen2vl --batch-sizes 16,32,64,128,256
    # the GPU run (real-size random-weight Qwen2-VL-2B, LoRA, batch 256, GradCache only):
    python bench/bench_gradcache.py --device cuda --preset qwen2vl-2b --lora --bf16 --batch-sizes 256 \
        --modes gradcache --chunk 8 --steps 3 --json-out gpu.json
    # the chunk from free memory (the first step probes; it is skipped from the median as a warm-up):
    python bench/bench_gradcache.py --preset tiny-qwen2vl --batch-sizes 32 --chunk auto --steps 5
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def _inputs(n: int, image_size: int):
    from PIL import Image

    from mmeb.training.encoder import RawInput

    def img(i):
        buf = io.BytesIO()
        Image.new("RGB", (image_size, image_size), ((37 * i) % 256, (91 * i) % 256, (53 * i) % 256)).save(buf, "PNG")
        return buf.getvalue()

    queries = [RawInput("<|image_1|>\nRepresent the given image for classification\n", img(i)) if i % 2 == 0
               else RawInput(f"Find me an everyday image that matches the given caption: a photo number {i}\n")
               for i in range(n)]
    targets = [RawInput(f"label {i}") if i % 2 == 0 else RawInput("<|image_1|>\nRepresent the given image.\n", img(i))
               for i in range(n)]
    return queries, targets


def run_one(args) -> dict:
    """One measurement in this (fresh) process."""
    import torch

    from mmeb.training.config import TrainConfig
    from mmeb.training.encoder import ByteBudget, ChunkMemo, raw_features
    from mmeb.training.model import build_st_model
    from mmeb.training.trainer import build_loss

    torch.manual_seed(0)
    cfg = TrainConfig(model=args.model_dir, subsets=["VOC2007"], output_dir="unused", lora=args.lora,
                      gradcache=args.mode == "gradcache", query_chunk_size=args.chunk, target_chunk_size=args.chunk,
                      global_batch_size=args.batch, bf16=args.bf16, gradient_checkpointing=False,
                      chunk_cache_gib=args.chunk_cache_gib)
    st, encoder = build_st_model(cfg)
    st.to(args.device)
    cuda = args.device.startswith("cuda")
    if args.bf16:  # as accelerate.prepare_model: every forward, including the replay inside backward
        st.forward = torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16)(st.forward)
    clock = {"prep": 0.0, "get": 0.0}

    def timed(name, fn):
        def run(*a, **k):
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                clock[name] += time.perf_counter() - start
        return run

    encoder.prepare = timed("prep", encoder.prepare)
    encoder._chunk = timed("get", encoder._chunk)
    loss_fn = build_loss(st, cfg)
    opt = torch.optim.AdamW([p for p in st.parameters() if p.requires_grad], lr=1e-5)
    queries, targets = _inputs(args.batch, args.image_size)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    rss_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    times, prep, get, kept = [], [], [], []
    for _ in range(args.steps):
        clock.update(prep=0.0, get=0.0)
        start = time.perf_counter()
        budget = ByteBudget(int(cfg.chunk_cache_gib * 2**30))  # one per batch, as the collator makes it
        loss = loss_fn([raw_features(queries, ChunkMemo(budget)), raw_features(targets, ChunkMemo(budget))], None)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
        prep.append(clock["prep"])
        get.append(clock["get"])
        kept.append(budget.peak)
    skip = 1 if len(times) > 1 else 0  # the first step warms up
    chosen = getattr(loss_fn, "mini_batch_size", None) if args.mode == "gradcache" else None
    result = {"batch": args.batch, "mode": args.mode, "chunk": args.chunk, "chunk_used": chosen, "loss": float(loss),
              "chunk_cache_gib": args.chunk_cache_gib,
              "step_s": statistics.median(times[skip:]), "step_times_s": times,
              "processor_s": statistics.median(prep[skip:]), "get_chunk_s": statistics.median(get[skip:]),
              "chunk_cache_peak_mib": max(kept) / 2**20}
    if cuda:
        result["peak_gpu_alloc_mib"] = torch.cuda.max_memory_allocated() / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result["peak_rss_mib"] = peak / 2**20
    result["peak_rss_over_setup_mib"] = (peak - rss_setup) / 2**20
    return result


def _chunk_arg(text: str):
    return text if text == "auto" else int(text)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--preset", default="tiny-qwen2vl", help="an mmeb.testing.models preset")
    p.add_argument("--model-dir", help="use this model directory instead of building --preset")
    p.add_argument("--lora", action="store_true")
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--batch-sizes", default="16,32,64,128,256")
    p.add_argument("--modes", default="gradcache,plain")
    p.add_argument("--chunk", type=_chunk_arg, default=4,
                   help="GradCache chunk size, or auto (from free memory, probed at the first step)")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--image-size", type=int, default=112)
    p.add_argument("--chunk-cache-gib", type=float, default=8.0,
                   help="TrainConfig.chunk_cache_gib (0: the processor runs in both GradCache passes)")
    p.add_argument("--timeout", type=int, default=1800, help="seconds per measurement")
    p.add_argument("--json-out")
    p.add_argument("--_one", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    p.add_argument("--mode", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args._one:
        print("RESULT " + json.dumps(run_one(args)))
        return

    tmp = tempfile.TemporaryDirectory()
    if not args.model_dir:
        from mmeb.testing.models import build

        args.model_dir = str(build(args.preset, os.path.join(tmp.name, "model")))
    rows = []
    for batch in [int(b) for b in args.batch_sizes.split(",")]:
        for mode in args.modes.split(","):
            cmd = [sys.executable, __file__, "--_one", "--batch", str(batch), "--mode", mode, "--device", args.device,
                   "--model-dir", args.model_dir, "--chunk", str(args.chunk), "--steps", str(args.steps),
                   "--image-size", str(args.image_size), "--chunk-cache-gib", str(args.chunk_cache_gib)] + (["--lora"] if args.lora else []) + \
                  (["--bf16"] if args.bf16 else [])
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
                line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
                row = json.loads(line[-1][7:]) if line else {"batch": batch, "mode": mode,
                                                             "failed": done.stderr.strip().splitlines()[-1:]}
            except subprocess.TimeoutExpired:
                row = {"batch": batch, "mode": mode, "failed": f"timeout {args.timeout}s"}
            rows.append(row)
            mem = row.get("peak_gpu_alloc_mib", row.get("peak_rss_over_setup_mib"))
            print(f"batch {batch:5d} {mode:9s} " + (f"chunk {row.get('chunk_used')}  " if mode == "gradcache" else "") + (f"step {row['step_s']:.3f} s  peak {mem:9.1f} MiB  "
                                                     f"processor {row['processor_s']:.3f} s  "
                                                     f"main thread getting chunks {row['get_chunk_s']:.3f} s  "
                                                     f"kept {row['chunk_cache_peak_mib']:.1f} MiB"
                                                     if "step_s" in row else f"FAILED {row['failed']}"), flush=True)
    ratios = {}
    for batch in {r["batch"] for r in rows}:
        both = {r["mode"]: r for r in rows if r["batch"] == batch and "step_s" in r}
        if {"gradcache", "plain"} <= set(both):
            ratios[batch] = both["gradcache"]["step_s"] / both["plain"]["step_s"]
    for batch, ratio in sorted(ratios.items()):
        print(f"step-time ratio gradcache/plain at batch {batch}: {ratio:.2f}")
    report = {"device": args.device, "preset": args.preset, "lora": args.lora, "bf16": args.bf16, "chunk": args.chunk,
              "chunk_cache_gib": args.chunk_cache_gib,
              "image_size": args.image_size, "rows": rows, "step_time_ratio": ratios,
              "memory_metric": "torch.cuda.max_memory_allocated" if args.device.startswith("cuda")
              else "peak RSS growth over RSS after setup (getrusage maxrss)"}
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
