#!/usr/bin/env bash
# The one prepared GPU check (issues 3, 4, 6 and 15), sized for ~10 minutes on one H100/H200:
#   1. tiny Qwen2-VL on cuda: default dtype bf16, embeddings agree with the fp32 CPU run;
#   2. engine bench on real-size random-weight models - (a)/(b), (a)/(c), first pass, warm rerun, peak memory,
#      prepare_overhead, worker_scaling, pipeline_gap_share, warm_rerun_share: 2a CLIP ViT-L/14, 2b SigLIP-so400m,
#      2c Qwen2-VL-2B, 2d Qwen2-VL-7B; 2e --preprocess device vs reference on CLIP ViT-L/14 (pixel difference,
#      embedding cosine, score change); 2f GPU-hours of MMEB-V1 / V2 projected from 2d;
#   3. trainer: real-size random-weight Qwen2-VL-2B + LoRA, global batch 256 with GradCache (step time, peak memory),
#      and the GradCache / plain step-time ratio at a batch both fit, with chunk 8 (3b) and half the batch (3c).
# Usage (repo root, GPU machine):  OUT=/some/dir bash bench/gpu_check.sh
# Quick dry run of the same script on the CPU with tiny models:  SMOKE=1 bash bench/gpu_check.sh
set -uo pipefail
OUT=${OUT:-bench/gpu_out}; mkdir -p "$OUT"
WORK=${WORK:-/tmp/mmeb-gpu}; mkdir -p "$WORK"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if [ "${SMOKE:-0}" = 1 ]; then
  DEV=cpu CLIP=tiny-clip SIGLIP=tiny-siglip QWEN=tiny-qwen2vl QWEN7=tiny-qwen2vl NQ_CLIP=20 NQ_QWEN=10 NQ_QWEN7=10
  TRAIN_B=16 RATIO_B=8 IMG=56 WORKERS=2
else
  DEV=cuda CLIP=clip-vit-l-14 SIGLIP=siglip-so400m QWEN=qwen2vl-2b QWEN7=qwen2vl-7b NQ_CLIP=1000 NQ_QWEN=200
  NQ_QWEN7=100 TRAIN_B=256 RATIO_B=32 IMG=448 WORKERS=8
fi
STEPS=${STEPS:-"1 2a 2b 2c 2d 2e 2f 3a 3b 3c"}   # a subset, e.g. STEPS="2a 3b", when device time is short
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

engine() {  # engine <step> <preset> <queries> <batch> <name> [extra flags]
  local id=$1 preset=$2 nq=$3 batch=$4 name=$5; shift 5
  step "$id. engine bench: $preset, $nq queries/task"
  timeout "${ENGINE_TIMEOUT:-150}" python bench/bench_engine.py --preset "$preset" --device "$DEV" --n-queries "$nq" \
    --batch-size "$batch" --num-workers "$WORKERS" --no-compare-loader --prepare-images 128 --work-dir "$WORK/engine-$name" \
    --json-out "$OUT/bench_engine_$name.json" "$@" 2>&1 | tail -32 | tee "$OUT/bench_engine_$name.txt"
}
want 2a && engine 2a "$CLIP" "$NQ_CLIP" 128 clip
want 2b && engine 2b "$SIGLIP" "$NQ_CLIP" 128 siglip
want 2c && engine 2c "$QWEN" "$NQ_QWEN" 16 qwen
want 2d && engine 2d "$QWEN7" "$NQ_QWEN7" 8 qwen7b

if want 2e; then
step "2e. --preprocess device vs reference: $CLIP"
CLIP_DIR="$WORK/engine-clip/model"
[ -f "$CLIP_DIR/config.json" ] || CLIP_DIR=$(python -c "from mmeb.testing.models import build; print(build('$CLIP', '$WORK/clip-model', device='$DEV' if '$DEV' == 'cuda' else None))" | tail -1)
timeout 120 python bench/bench_preprocess.py --model-dir "$CLIP_DIR" --device "$DEV" --n-queries 200 \
  --json-out "$OUT/bench_preprocess_clip.json" 2>&1 | tail -30 | tee "$OUT/bench_preprocess_clip.txt"
fi

if want 2f; then
step "2f. projected GPU-hours for a 7B model (from 2d's end-to-end throughput)"
[ -f "$OUT/bench_engine_qwen7b.json" ] && python bench/project_gpu_hours.py "$OUT/bench_engine_qwen7b.json" \
  | tee "$OUT/gpu_hours_7b.json"
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
