#!/usr/bin/env bash
# The one prepared GPU check (issues 3, 4 and 6), sized for a single ~8-minute run on one H100/H200:
#   1. tiny Qwen2-VL on cuda: default dtype bf16, embeddings agree with the fp32 CPU run;
#   2. engine bench (a)/(b)/(c) on real-size random-weight CLIP ViT-L/14 (1000 queries/task) and Qwen2-VL-2B;
#   3. trainer: real-size random-weight Qwen2-VL-2B + LoRA, global batch 256 with GradCache (step time, peak memory),
#      and the GradCache / plain step-time ratio at a batch both fit, with chunk 8 (3b) and half the batch (3c).
# Usage (repo root, GPU machine):  OUT=/some/dir bash bench/gpu_check.sh
# Quick dry run of the same script on the CPU with tiny models:  SMOKE=1 bash bench/gpu_check.sh
set -uo pipefail
OUT=${OUT:-bench/gpu_out}; mkdir -p "$OUT"
WORK=${WORK:-/tmp/mmeb-gpu}; mkdir -p "$WORK"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if [ "${SMOKE:-0}" = 1 ]; then
  DEV=cpu CLIP=tiny-clip QWEN=tiny-qwen2vl NQ_CLIP=20 NQ_QWEN=10 TRAIN_B=16 RATIO_B=8 IMG=56 WORKERS=2
else
  DEV=cuda CLIP=clip-vit-l-14 QWEN=qwen2vl-2b NQ_CLIP=1000 NQ_QWEN=200 TRAIN_B=256 RATIO_B=32 IMG=448 WORKERS=8
fi
STEPS=${STEPS:-"1 2a 2b 3a 3b 3c"}   # a subset, e.g. STEPS="2a 3b", when device time is short
want() { [[ " $STEPS " == *" $1 "* ]]; }
step() { echo; echo "=== $1 ($(date +%T))"; }

step "machine"
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi") | tee "$OUT/gpu.txt"
python -c "import torch, transformers, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUT/gpu.txt"

if want 1; then
step "1. tiny Qwen2-VL: bf16 on $DEV vs fp32 CPU"
timeout 60 python - "$DEV" <<'PY' 2>&1 | tee "$OUT/tiny_bf16_check.txt"
import sys, tempfile
from PIL import Image
from mmeb.models import load_model
from mmeb.models.protocol import ModelInput
from mmeb.testing.models import build
dev = sys.argv[1]
d = build("tiny-qwen2vl", tempfile.mkdtemp() + "/tiny-qwen2vl")
inputs = [ModelInput("q", "", Image.new("RGB", (64, 48), "red"), "<|image_1|>\nq\n"), ModelInput("", "cat", None, "cat")]
acc, ref = load_model(str(d), device=dev), load_model(str(d), device="cpu")
cos = (acc.encode(inputs, task_name="T", role="query") * ref.encode(inputs, task_name="T", role="query")).sum(-1)
print("dtype", acc.settings["dtype"], "attn", acc.settings.get("attn_implementation"), "cosine per item", cos.tolist())
assert dev == "cpu" or acc.settings["dtype"] == "bfloat16"
assert cos.min() > 0.98
PY
fi

if want 2a; then
step "2a. engine bench: $CLIP, $NQ_CLIP queries/task"
timeout 140 python bench/bench_engine.py --preset "$CLIP" --device "$DEV" --n-queries "$NQ_CLIP" --batch-size 128 \
  --num-workers "$WORKERS" --work-dir "$WORK/engine-clip" --json-out "$OUT/bench_engine_clip.json" 2>&1 | tail -25 | tee "$OUT/bench_engine_clip.txt"
fi

if want 2b; then
step "2b. engine bench: $QWEN, $NQ_QWEN queries/task"
timeout "${QWEN_ENGINE_TIMEOUT:-140}" python bench/bench_engine.py --preset "$QWEN" --device "$DEV" --n-queries "${NQ_QWEN_OVERRIDE:-$NQ_QWEN}" --batch-size 16 \
  --num-workers "$WORKERS" --work-dir "$WORK/engine-qwen" --json-out "$OUT/bench_engine_qwen.json" 2>&1 | tail -25 | tee "$OUT/bench_engine_qwen.txt"
fi

QWEN_DIR="$WORK/engine-qwen/model"
[ -f "$QWEN_DIR/config.json" ] || QWEN_DIR=""
if want 3a; then
step "3a. trainer: $QWEN + LoRA, batch $TRAIN_B, GradCache chunk 8"
timeout 140 python bench/bench_gradcache.py --device "$DEV" --preset "$QWEN" ${QWEN_DIR:+--model-dir "$QWEN_DIR"} --lora \
  $([ "$DEV" = cuda ] && echo --bf16) --batch-sizes "$TRAIN_B" --modes gradcache --chunk 8 --steps 3 --image-size "$IMG" \
  --timeout 130 --json-out "$OUT/bench_train_b${TRAIN_B}.json" 2>&1 | tail -15 | tee "$OUT/bench_train_big.txt"
fi

if want 3b; then
step "3b. trainer: GradCache / plain step time at batch $RATIO_B"
timeout 85 python bench/bench_gradcache.py --device "$DEV" --preset "$QWEN" ${QWEN_DIR:+--model-dir "$QWEN_DIR"} --lora \
  $([ "$DEV" = cuda ] && echo --bf16) --batch-sizes "$RATIO_B" --modes gradcache,plain --chunk 8 --steps 3 --image-size "$IMG" \
  --timeout 40 --json-out "$OUT/bench_train_ratio.json" 2>&1 | tail -15 | tee "$OUT/bench_train_ratio.txt"
fi

if want 3c; then
step "3c. trainer: GradCache (chunk $((RATIO_B / 2))) / plain step time at batch $RATIO_B"
timeout 85 python bench/bench_gradcache.py --device "$DEV" --preset "$QWEN" ${QWEN_DIR:+--model-dir "$QWEN_DIR"} --lora \
  $([ "$DEV" = cuda ] && echo --bf16) --batch-sizes "$RATIO_B" --modes gradcache,plain --chunk $((RATIO_B / 2)) --steps 3 \
  --image-size "$IMG" --timeout 40 --json-out "$OUT/bench_train_ratio_chunk$((RATIO_B / 2)).json" 2>&1 | tail -15 \
  | tee "$OUT/bench_train_ratio_chunk$((RATIO_B / 2)).txt"
fi

step "done"
