#!/usr/bin/env bash
# Assembler-level check of every kernel, on any x86-64 Linux machine (no GPU): emits each kernel's PTX with
# `jepa ptx` (ILGPU's PTX backend, ISA 7.8), assembles it with CUDA 11.8's ptxas for each architecture, disassembles
# the result with cuobjdump, and prints a markdown table per kernel and architecture: registers, spill stores/loads,
# static shared memory, stack frame, and the SASS instruction mix (FFMA, FMUL, FADD, vector loads/stores,
# tensor-core ops), in the whole kernel and in its hot loop.
#
#   scripts/ptx-check.sh [--arch sm_90,sm_80] [--out DIR]
#
# --out keeps the PTX, cubins, ptxas logs and SASS listings in DIR (default: a temporary folder, removed).
# JEPA=path/to/jepa uses that binary instead of building Jepa.Cli (Release); PTXAS_FLAGS adds ptxas options
# (e.g. PTXAS_FLAGS=-maxrregcount=32 shows which kernels would spill under that register limit).
#
# The tools (ptxas, cuobjdump, nvdisasm: static x86-64 binaries from Debian 12's non-free package
# nvidia-cuda-toolkit 11.8) are fetched into .tools/cuda-11.8/ (git-ignored) when missing; nothing is installed.
# The test suite's PtxAssemblerTests run the same ptxas when that folder exists.
#
# Hot loop: loops are read off the SASS as backward branches (a BRA to a lower address spans one loop); each
# instruction belongs to the smallest loop that holds it, and the hot loop is the one whose own body (nested loops
# left out) holds the most FFMA+FMUL+FADD; "-" when the kernel has no loop. Found from branch addresses alone, it
# is "the loop body with the most float arithmetic", not a measurement of where the time goes.
#
# Exit codes: 0 all kernels assemble without spills; 1 a kernel does not compile to PTX, does not assemble, or
# spills (each is named on standard error); 2 the tools are missing and cannot be downloaded, or bad usage.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools/cuda-11.8"
bin="$tools/bin"
deb_name="nvidia-cuda-toolkit_11.8.89~11.8.0-5~deb12u1_amd64.deb"
deb_url="http://deb.debian.org/debian/pool/non-free/n/nvidia-cuda-toolkit/$deb_name"
deb_sha256="d1156026e704fe0368b6295db06224ed00a727966fb13454f34e3f3102db0457"

archs="sm_90,sm_80"
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) archs=${2:?--arch needs a value, e.g. sm_90,sm_80}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "ptx-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

die_fetch() {
  echo "ptx-check: cannot get the CUDA tools: $1" >&2
  echo "ptx-check: needs $deb_url (network), or unpack that package's usr/bin/{ptxas,cuobjdump,nvdisasm} into $bin yourself." >&2
  exit 2
}

# Downloads the pinned Debian package (checked against its SHA-256) and keeps only the three binaries.
fetch_tools() {
  local tmp deb
  tmp=$(mktemp -d)
  deb="$tmp/$deb_name"
  echo "ptx-check: fetching ptxas, cuobjdump and nvdisasm from $deb_url (84 MB) into $tools" >&2
  if command -v curl >/dev/null; then
    curl -fsSL --retry 2 --connect-timeout 20 -o "$deb" "$deb_url" || { rm -rf "$tmp"; die_fetch "download failed (no network, or the package left the pool)"; }
  elif command -v wget >/dev/null; then
    wget -q -O "$deb" "$deb_url" || { rm -rf "$tmp"; die_fetch "download failed (no network, or the package left the pool)"; }
  else
    rm -rf "$tmp"; die_fetch "neither curl nor wget is installed"
  fi
  echo "$deb_sha256  $deb" | sha256sum -c --quiet - >/dev/null 2>&1 || { rm -rf "$tmp"; die_fetch "SHA-256 mismatch on the downloaded package"; }
  mkdir -p "$tmp/x"
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" ./usr/bin/ptxas ./usr/bin/cuobjdump ./usr/bin/nvdisasm
  else
    (cd "$tmp" && ar x "$deb" data.tar.xz && tar -xJf data.tar.xz -C x ./usr/bin/ptxas ./usr/bin/cuobjdump ./usr/bin/nvdisasm)
  fi || { rm -rf "$tmp"; die_fetch "could not unpack $deb_name"; }
  mkdir -p "$bin"
  mv "$tmp/x/usr/bin/ptxas" "$tmp/x/usr/bin/cuobjdump" "$tmp/x/usr/bin/nvdisasm" "$bin/"
  echo "$deb_name" > "$tools/SOURCE"
  rm -rf "$tmp"
}

[ -x "$bin/ptxas" ] && [ -x "$bin/cuobjdump" ] && [ -x "$bin/nvdisasm" ] || fetch_tools
export PATH="$bin:$PATH" # cuobjdump -sass runs nvdisasm from PATH

if [ -n "$out" ]; then mkdir -p "$out"; work=$(cd "$out" && pwd); else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi

if [ -n "${JEPA:-}" ]; then
  jepa=$JEPA
else
  dotnet build "$root/Jepa.Cli" -c Release -nologo -v q >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; echo "ptx-check: building Jepa.Cli failed" >&2; exit 1; }
  jepa="$root/Jepa.Cli/bin/Release/net10.0/jepa"
fi

echo "ptx-check: $(ptxas --version | tail -1); $(cuobjdump --version | tail -1)" >&2

# One SASS listing → "FFMA FMUL FADD VEC MMA LOOP" where LOOP is "ffma/fmul/fadd lds/ldg vec" of the hot loop, or "-".
sass_mix() {
  awk '
    function hex(s,   i, v) { s = tolower(s); sub(/^0x/, "", s); v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
    /^[[:space:]]*\/\*[0-9a-f]+\*\// {
      line = $0
      match(line, /\/\*[0-9a-f]+\*\//); addr = hex(substr(line, RSTART + 2, RLENGTH - 4))
      rest = substr(line, RSTART + RLENGTH)
      sub(/;.*/, "", rest); n = split(rest, w, /[[:space:]]+/)
      k = 1; while (k <= n && (w[k] == "" || w[k] ~ /^@/)) k++
      op = w[k]; if (op == "") next
      count++; A[count] = addr; O[count] = op
      if (op ~ /^BRA/ && match(rest, /0x[0-9a-f]+/)) { t = hex(substr(rest, RSTART, RLENGTH)); if (t < addr) { nl++; LS[nl] = t; LE[nl] = addr } }
    }
    function kind(op) {
      if (op ~ /^FFMA(\.|$)/) return "ffma"
      if (op ~ /^FMUL(\.|$)/) return "fmul"
      if (op ~ /^FADD(\.|$)/) return "fadd"
      return ""
    }
    function isvec(op) { return op ~ /^(LDS|LDG|STS|STG|LD|ST|LDSM)\..*(64|128)(\.|$)/ }
    function ismma(op) { return op ~ /^(HMMA|IMMA|DMMA|BMMA|HGMMA|IGMMA|QGMMA|BGMMA)(\.|$)/ }
    END {
      for (i = 1; i <= count; i++) { k = kind(O[i]); if (k != "") T[k]++; if (isvec(O[i])) vec++; if (ismma(O[i])) mma++ }
      # Each instruction belongs to the smallest loop that holds it (its own body, nested loops excluded).
      for (i = 1; i <= count; i++) {
        own = 0
        for (l = 1; l <= nl; l++) if (A[i] >= LS[l] && A[i] <= LE[l] && (!own || LE[l] - LS[l] < LE[own] - LS[own])) own = l
        if (!own) continue
        k = kind(O[i]); if (k != "") { FP[own]++; LK[own, k]++ }
        if (O[i] ~ /^LDS(\.|$)/) LDS[own]++
        if (O[i] ~ /^LDG(\.|$)/) LDG[own]++
        if (isvec(O[i])) LV[own]++
      }
      best = 0
      for (l = 1; l <= nl; l++) if (!best || FP[l] + 0 > FP[best] + 0) best = l
      loop = "-"
      if (best) loop = sprintf("%d/%d/%d %d/%d %d", LK[best, "ffma"], LK[best, "fmul"], LK[best, "fadd"], LDS[best], LDG[best], LV[best])
      printf "%d %d %d %d %d %s\n", T["ffma"], T["fmul"], T["fadd"], vec, mma, loop
    }' "$1"
}

failures=()
IFS=',' read -r -a arch_list <<< "$archs"
for arch in "${arch_list[@]}"; do
  case "$arch" in sm_[0-9][0-9]) ;; *) echo "ptx-check: bad architecture '$arch' (expected e.g. sm_90)" >&2; exit 2 ;; esac
  dir="$work/$arch"
  mkdir -p "$dir"
  if ! "$jepa" ptx --out "$dir" --arch "$arch" --isa 7.8 >"$dir/emit.log" 2>&1; then
    cat "$dir/emit.log" >&2
    failures+=("$arch: a kernel does not compile to PTX (see above)")
  fi
  echo
  echo "### $arch"
  echo
  echo "| kernel | regs | spill st/ld (B) | smem (B) | stack (B) | FFMA | FMUL | FADD | vec ld/st | MMA | hot loop FFMA/FMUL/FADD | hot loop LDS/LDG | hot loop vec |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  for ptx in "$dir"/*.ptx; do
    name=$(basename "$ptx" .ptx)
    # shellcheck disable=SC2086 # PTXAS_FLAGS is a list of options
    if ! ptxas -arch="$arch" -v ${PTXAS_FLAGS:-} -o "$dir/$name.cubin" "$ptx" >"$dir/$name.ptxas.log" 2>&1; then
      echo "| $name | ASSEMBLER ERROR | | | | | | | | | | | |"
      sed 's/^/    /' "$dir/$name.ptxas.log" >&2
      failures+=("$arch $name: ptxas failed")
      continue
    fi
    log="$dir/$name.ptxas.log"
    regs=$(sed -n 's/.*Used \([0-9]*\) registers.*/\1/p' "$log" | head -1)
    smem=$(sed -n 's/.*[, ]\([0-9]*\) bytes smem.*/\1/p' "$log" | head -1)
    read -r stack st ld < <(sed -n 's/^ *\([0-9]*\) bytes stack frame, \([0-9]*\) bytes spill stores, \([0-9]*\) bytes spill loads.*/\1 \2 \3/p' "$log" | head -1)
    if [ -z "$regs" ] || [ -z "${stack:-}" ]; then
      failures+=("$arch $name: could not read ptxas -v output ($log)")
      continue
    fi
    cuobjdump -sass "$dir/$name.cubin" > "$dir/$name.sass"
    read -r ffma fmul fadd vec mma loopfp loopld loopvec < <(sass_mix "$dir/$name.sass")
    echo "| $name | $regs | $st/$ld | ${smem:-0} | $stack | $ffma | $fmul | $fadd | $vec | $mma | $loopfp | ${loopld:--} | ${loopvec:--} |"
    if [ "$st" != 0 ] || [ "$ld" != 0 ]; then failures+=("$arch $name: spills ($st bytes stored, $ld bytes loaded)"); fi
  done
done

if [ ${#failures[@]} -gt 0 ]; then
  echo >&2
  printf 'ptx-check: FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi
echo >&2
echo "ptx-check: every kernel assembles for ${archs//,/ and } without spills" >&2
