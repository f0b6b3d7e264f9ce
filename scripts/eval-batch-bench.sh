#!/usr/bin/env bash
# Wall time of `jepa eval` at several --batch sizes against --batch 1, runs interleaved (batch sizes in turn, REPEATS
# rounds), with the median of each and its ratio to batch 1's; checks that every run wrote the same predictions.
# Trains the model first (100 steps, next-token loss only) unless MODEL_DIR/model exists. With BASELINE=path/to/jepa
# (an older build, without --batch), that build runs too in each round, as 'before'.
#   [BASELINE=...] bash scripts/eval-batch-bench.sh [DATA_DIR] [MODEL_DIR] [COUNT] [REPEATS] [BATCHES...]
set -euo pipefail
data=${1:-/work/shared/data/nl-rx-synth}
run=${2:-/tmp/evalbench}
count=${3:-200}
repeats=${4:-3}
shift $(( $# < 4 ? $# : 4 ))
batches=("$@")
[ ${#batches[@]} -gt 0 ] || batches=(8 32 64)
root=$(cd "$(dirname "$0")/.." && pwd)
dotnet build "$root/Jepa.Cli" -c Release -v q -nologo > /dev/null
jepa="$root/Jepa.Cli/bin/Release/net10.0/jepa"
if [ ! -d "$run/model" ]; then
  "$jepa" train --out "$run" --data "$data/train.jsonl" --lambda 0 --steps 100 --eval-count 0 --max-length 160 --device cpu > /dev/null
fi
all=(1 "${batches[@]}")
[ -z "${BASELINE:-}" ] || all=(before "${all[@]}")
declare -A times
for ((r = 1; r <= repeats; r++)); do
  for b in "${all[@]}"; do
    t0=$(date +%s.%N)
    if [ "$b" = before ]; then batch=(); bin=$BASELINE; else batch=(--batch "$b"); bin=$jepa; fi
    "$bin" eval --model "$run/model" --data "$data/test.jsonl" --count "$count" --metric regex --device cpu "${batch[@]}" \
      --out "$run/pred-b$b.jsonl" > /dev/null 2>&1
    t=$(echo "$(date +%s.%N) - $t0" | bc)
    times[$b]="${times[$b]:-} $t"
    cmp -s "$run/pred-b${all[0]}.jsonl" "$run/pred-b$b.jsonl" || { echo "batch $b: predictions differ from batch ${all[0]}" >&2; exit 1; }
    printf 'round %d  batch %-6s %6.1f s  (load %s)\n' "$r" "$b" "$t" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
base=$(echo "${times[1]}" | median)
for b in "${all[@]}"; do
  m=$(echo "${times[$b]}" | median)
  printf 'batch %-6s median %6.1f s  speed-up %.2fx against batch 1  (runs:%s)\n' "$b" "$m" "$(echo "$base / $m" | bc -l)" "${times[$b]}"
done
