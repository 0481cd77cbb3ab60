#!/usr/bin/env bash
# GPU check for the lead (one H100/H200, ~5 min): real-size random-weight Qwen2-VL-2B with LoRA at
# global batch 256 with GradCache (chunk 8, as VLM2Vec V2), bf16, 3 steps; plus the tiny sweep on the
# GPU for the memory curve and the step-time ratio. Results land in $OUT (or ./bench-out).
set -euo pipefail
OUT=${OUT:-bench-out}; mkdir -p "$OUT"
. .venv/bin/activate 2>/dev/null || true
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
python bench/bench_gradcache.py --device cuda --preset qwen2vl-2b --lora --bf16 --batch-sizes 256 \
    --modes gradcache --chunk 8 --steps 3 --image-size 448 --timeout 420 --json-out "$OUT/qwen2vl2b_lora_b256.json" \
    | tee "$OUT/qwen2vl2b.txt"
python bench/bench_gradcache.py --device cuda --preset tiny-qwen2vl --batch-sizes 16,64,256 --steps 3 \
    --timeout 120 --json-out "$OUT/tiny_gpu.json" | tee "$OUT/tiny_gpu.txt"
