#!/usr/bin/env bash
# Longer fuzzing than the test suite's: the seeded safetensors and JSONL fuzz tests with many more cases.
#   scripts/fuzz-soak.sh [CASES]      (default 50000 per test)
set -euo pipefail
cd "$(dirname "$0")/.."
JEPA_FUZZ_CASES="${1:-50000}" dotnet test -c Release --filter "FullyQualifiedName~Jepa.Tests.Fuzz" --logger "console;verbosity=normal"
