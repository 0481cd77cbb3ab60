#!/usr/bin/env bash
# GPU check for the model adapters (issue 4, point 6). Run from the repo root on a GPU machine:
#   bash bench/gpu_check_models.sh            (writes JSON + logs under ${OUT:-bench/gpu_out})
# 1) tiny Qwen2-VL on cuda: default dtype is bf16 and embeddings agree with the fp32 CPU run;
# 2) engine benchmark on real-size random-weight CLIP ViT-L/14 and Qwen2-VL-2B (speed does not depend on weights).
set -euo pipefail
OUT=${OUT:-bench/gpu_out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python - <<'PY' 2>&1 | tee "$OUT/tiny_bf16_check.txt"
import tempfile, torch
from PIL import Image
from mmeb.models import load_model
from mmeb.models.protocol import ModelInput
from mmeb.models.random_init import build
d = build("tiny-qwen2vl", tempfile.mkdtemp() + "/tiny-qwen2vl")
inputs = [ModelInput("q", "", Image.new("RGB", (64, 48), "red"), "<|image_1|>\nq\n"), ModelInput("", "cat", None, "cat")]
gpu, cpu = load_model(str(d), device="cuda"), load_model(str(d), device="cpu")
assert gpu.settings["dtype"] == "bfloat16", gpu.settings["dtype"]
cos = (gpu.encode(inputs, task_name="T", role="query") * cpu.encode(inputs, task_name="T", role="query")).sum(-1)
print("bf16-vs-fp32 cosine per item:", cos.tolist(), "attn:", gpu.settings["attn_implementation"])
assert cos.min() > 0.98
PY
python bench/bench_engine.py --preset clip-vit-l-14 --device cuda --n-queries 1000 --batch-size 128 \
  --json-out "$OUT/bench_clip-vit-l-14.json" 2>&1 | tee "$OUT/bench_clip-vit-l-14.txt"
python bench/bench_engine.py --preset qwen2vl-2b --device cuda --n-queries 200 --batch-size 16 \
  --json-out "$OUT/bench_qwen2vl-2b.json" 2>&1 | tee "$OUT/bench_qwen2vl-2b.txt"
