#!/usr/bin/env bash
# One run on a GPU server: devices, every kernel on CUDA against the CPU, a short LLM-JEPA training run on
# CUDA compared with the CPU run of the same seed and with a second CUDA run, and the benchmarks (ours and
# PyTorch's on the same GPU). Logs go to the folder given as the first argument.
#
# Build first on a machine with the .NET SDK (self-contained, no SDK needed on the server):
#   dotnet publish Jepa.Cli   -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true -o .device/Jepa.Cli
#   dotnet publish Jepa.Bench -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true -o .device/Jepa.Bench
# then copy the repository (with .device/) to the server and run:  bash scripts/gpu-check.sh LOGDIR [PEER_SCRIPT]
set -uo pipefail
out=${1:?usage: gpu-check.sh LOGDIR [path/to/torch_llama_step.py]}
peer=${2:-}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/.." && pwd)
jepa="$root/.device/Jepa.Cli/jepa"
bench="$root/.device/Jepa.Bench/Jepa.Bench"
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
status=0
run() { # name, command...
  local name=$1; shift
  echo "== $name: $*" | tee -a "$out/summary.txt"
  local t0=$(date +%s.%N)
  "$@" > "$out/$name.log" 2>&1; local rc=$?
  printf '   exit %d, %.1f s\n' "$rc" "$(echo "$(date +%s.%N) - $t0" | bc)" | tee -a "$out/summary.txt"
  [ $rc -eq 0 ] || status=1
  return $rc
}
{ date -u; nvidia-smi || true; ldconfig -p | grep -i -E 'libcuda|nvrtc' || true; } > "$out/machine.txt" 2>&1

run devices  "$jepa" devices
run selftest "$jepa" selftest --device cuda

# Short LLM-JEPA runs on the built-in data: CPU reference, then CUDA twice with the same seed.
common=(--steps 20 --batch 8 --seed 7 --eval-count 50 --json)
run train-cpu   "$jepa" train "${common[@]}" --device cpu  --out "$out/run-cpu"
run train-cuda1 "$jepa" train "${common[@]}" --device cuda --out "$out/run-cuda1"
run train-cuda2 "$jepa" train "${common[@]}" --device cuda --out "$out/run-cuda2"
# The tensor-core paths (forward products of the linear layers in TF32 and BF16): the same run, twice each.
for p in tf32 bf16; do
  run train-$p-1 "$jepa" train "${common[@]}" --device cuda --precision $p --out "$out/run-$p-1"
  run train-$p-2 "$jepa" train "${common[@]}" --device cuda --precision $p --out "$out/run-$p-2"
done
python3 - "$out" <<'PY' | tee -a "$out/summary.txt"
import json, sys, os
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name, "metrics.jsonl")
    return [json.loads(l) for l in open(p)] if os.path.exists(p) else []
cpu, g1, g2 = load("run-cpu"), load("run-cuda1"), load("run-cuda2")
if not (cpu and g1 and g2):
    print("training comparison: missing metrics"); sys.exit(0)
for k in ("lm_loss", "jepa_loss"):
    rel = [abs(a[k] - b[k]) / max(abs(b[k]), 1e-9) for a, b in zip(g1[:5], cpu[:5]) if a.get(k) is not None and b.get(k) is not None]
    print(f"cuda vs cpu {k}, first 5 steps, max relative difference: {max(rel) if rel else float('nan'):.2e}")
same = all(a.get("lm_loss") == b.get("lm_loss") and a.get("jepa_loss") == b.get("jepa_loss") for a, b in zip(g1, g2))
w1, w2 = (os.path.join(out, r, "model", "model.safetensors") for r in ("run-cuda1", "run-cuda2"))
bitwise = os.path.exists(w1) and open(w1, "rb").read() == open(w2, "rb").read()
print(f"cuda run twice: identical losses {same}, bitwise-identical weights {bitwise}")
for p in ("tf32", "bf16"):
    t1, t2 = load(f"run-{p}-1"), load(f"run-{p}-2")
    if not (t1 and t2):
        print(f"{p}: missing metrics"); continue
    rel = [abs(a["lm_loss"] - b["lm_loss"]) / max(abs(b["lm_loss"]), 1e-9) for a, b in zip(t1[:5], g1[:5])]
    twice = all(a.get("lm_loss") == b.get("lm_loss") for a, b in zip(t1, t2))
    print(f"{p} vs fp32 on cuda, lm_loss first 5 steps, max relative difference: {max(rel):.2e}; {p} run twice identical: {twice}")
PY

# Benchmarks: kernels, then training steps on config M; PyTorch on the same GPU in the same run.
export JEPA_DEVICE=cuda
run bench-kernels "$bench" --filter '*MatMul*' '*Attention*' '*Elementwise*' --job short
run bench-steps   "$bench" steps --config m --repeats 3
run bench-lora    "$bench" steps --config m --repeats 1 --lm-only --lora   # peak memory: LoRA against full fine-tuning
run jepa-bench    "$jepa" bench --device cuda --config m --json
run jepa-bench-tf32 "$jepa" bench --device cuda --config m --json --precision tf32
run jepa-bench-bf16 "$jepa" bench --device cuda --config m --json --precision bf16
if [ -n "$peer" ] && command -v python3 >/dev/null; then
  run torch-steps python3 "$peer" --cuda 32000 768 12 12 2048 512 8
fi
echo "logs in $out" | tee -a "$out/summary.txt"
exit $status
