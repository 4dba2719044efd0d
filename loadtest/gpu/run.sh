#!/usr/bin/env bash
# The GPU benchmark itself (npm run bench:gpu), for a machine with CUDA, cmake, ninja and Python but no Node.js and
# no network. From the carry folder .gpu-bench (npm run bench:gpu -- --prepare) it unpacks Node and the packages;
# builds llama.cpp from the source the addon's headers came from, with CUDA for one architecture, in one build: the
# libraries Loom's addon links and llama-server; points the addon at them; synthesizes the model (while the build
# runs); runs the model tests on the GPU; runs the serving benchmark (Loom with its defaults, then Loom and
# llama-server side by side); and writes gpu-bench.json, gpu-bench.md and gpu-bench.log into $OUT. Each phase is
# timed; when one fails, the rest still run where they can, and the exit status is 1.
# It writes into the working tree (node_modules, native/build, models, dist/ui, ../shared/models when missing), so
# it runs in a disposable copy: the device machine's, or the one `npm run bench:gpu` makes.
#
# usage: bash loadtest/gpu/run.sh [--dry-run]
#   --dry-run: the same steps on the CPU: llama.cpp without CUDA, the tiny model, concurrency 1 and 2, no deadline
#   OUT                  results folder (default: loadtest/results/gpu)
#   LOOM_GPU_WORK        scratch folder: Node, the llama.cpp source and build (default: /tmp/loom-gpu-bench); a
#                        build there from the same source is reused
#   LOOM_GPU_CUDA_ARCH   CMAKE_CUDA_ARCHITECTURES (default: 90, Hopper)
#   LOOM_GPU_DEADLINE_S  seconds after the start past which no benchmark level starts (default: 420, so the whole
#                        run ends within 8 minutes; none on a dry run). The model tests get at most 120 s and
#                        leave the benchmark 150 s before the deadline; the benchmark is stopped 50 s after it.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
pack=$root/.gpu-bench
work=${LOOM_GPU_WORK:-/tmp/loom-gpu-bench}
out=${OUT:-$root/loadtest/results/gpu}
started=$(date +%s)
if [ "${1:-}" = "--dry-run" ]; then
  mode=dry-run cuda=OFF expect=none preset=tiny concurrency=1,2 max_tokens=16
  deadline=$((started + ${LOOM_GPU_DEADLINE_S:-86400})) tests_limit=86400
else
  mode=gpu cuda=ON expect=cuda preset=llama-3.2-1b concurrency=1,16,64 max_tokens=64
  deadline=$((started + ${LOOM_GPU_DEADLINE_S:-420})) tests_limit=120
fi
[ -f "$pack/manifest.json" ] || { echo "run.sh: $pack is missing: run npm run bench:gpu -- --prepare" >&2; exit 2; }
mkdir -p "$work/logs" "$out"
log=$out/gpu-bench.log
: >"$log"
: >"$work/phases.tsv"
rm -f "$work/tests.json" "$work/bench.json"
node=$work/node/bin/node
tsx=$root/node_modules/tsx/dist/cli.mjs
build=$work/build
model=$root/models/$preset.gguf
failed=0

# phase NAME COMMAND...: runs COMMAND with its output in gpu-bench.log as it comes (so a run cut short by its time
# limit still returns what it did) and in logs/NAME.log, and records NAME, seconds and exit status in phases.tsv;
# prints the log's tail when it fails.
phase() {
  local name=$1 t0 rc ms
  shift
  t0=$(date +%s%3N)
  echo "===== $name" >>"$log"
  "$@" 2>&1 | tee -a "$log" >"$work/logs/$name.log"
  rc=${PIPESTATUS[0]}
  ms=$(($(date +%s%3N) - t0))
  printf '%s\t%d.%03d\t%d\n' "$name" $((ms / 1000)) $((ms % 1000)) "$rc" >>"$work/phases.tsv"
  echo "===== $name: exit $rc after $((ms / 1000)) s" >>"$log"
  echo "== $name: $((ms / 1000)) s, exit $rc"
  if [ "$rc" != 0 ]; then
    tail -n 40 "$work/logs/$name.log"
    failed=1
  fi
  return "$rc"
}

untar() { # untar FILE.tar.xz DEST: with xz where the machine has it, else with Python's lzma
  mkdir -p "$2"
  if command -v xz >/dev/null; then
    tar -xJf "$1" -C "$2"
  else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"
  fi
}

environment() {
  {
    echo "mode: $mode"
    echo "cores: $(nproc)"
    echo "cpu: $(grep -m 1 '^model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "kernel: $(uname -r)"
    if command -v nvidia-smi >/dev/null; then
      echo "gpu: $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -n 1)"
      echo "driver: $(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n 1)"
    fi
    command -v nvcc >/dev/null && echo "nvcc: $(nvcc --version | grep -o 'release [0-9.]*' | cut -d' ' -f2)"
    echo "cmake: $(cmake --version | head -n 1 | cut -d' ' -f3)"
    command -v ninja >/dev/null && echo "ninja: $(ninja --version)"
    echo "compiler: $(c++ --version | head -n 1)"
    echo "python: $(python3 --version | cut -d' ' -f2)"
  } | tee "$work/environment.txt"
  [ $cuda = OFF ] || { command -v nvcc >/dev/null && nvidia-smi; }
}

unpack() {
  rm -rf "$work/node" "$work/files"
  untar "$pack/node.tar.xz" "$work/node" &&
    untar "$pack/node_modules.tar.xz" "$root" &&
    untar "$pack/files.tar.xz" "$work/files" &&
    cp -r "$work/files/native" "$work/files/dist" "$work/files/models" "$root/" &&
    mkdir -p "$root/../shared/models" &&
    for f in "$work/files/shared-models"/*; do
      [ -e "$root/../shared/models/${f##*/}" ] || cp "$f" "$root/../shared/models/"
    done &&
    echo "node $("$node" --version), packages $(ls "$root/node_modules" | wc -l)"
}

# cpu_options: the CPU backend's instruction sets, shared with loadtest/build-llama-server.sh.
source loadtest/cpu-options.sh

# The source is unpacked again only when the pack's differs, so a second dry run reuses its build.
build_llama() {
  local stamp
  stamp=$(sha256sum "$pack/llama.cpp.tar.xz" | cut -d' ' -f1)
  if [ "$(cat "$work/llama.cpp.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$work/llama.cpp" "$build"
    untar "$pack/llama.cpp.tar.xz" "$work" || return 1
    echo "$stamp" >"$work/llama.cpp.stamp"
  fi
  local generator=() targets=(llama-server llama-common ggml-cpu)
  command -v ninja >/dev/null && generator=(-G Ninja)
  [ $cuda = ON ] && targets+=(ggml-cuda)
  # Shared libraries, with the backends as loadable modules as in node-llama-cpp's builds (GGML_BACKEND_DL; it
  # rules out GGML_NATIVE); no OpenMP, as there; no web UI and no OpenSSL for llama-server, which needs neither.
  cmake -S "$work/llama.cpp" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DGGML_BACKEND_DL=ON -DGGML_NATIVE=OFF $(cpu_options) -DGGML_OPENMP=OFF -DGGML_CCACHE=OFF \
    -DGGML_CUDA=$cuda -DCMAKE_CUDA_ARCHITECTURES="${LOOM_GPU_CUDA_ARCH:-90}" -DGGML_CUDA_NCCL=OFF \
    -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
    -DLLAMA_OPENSSL=OFF &&
    cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"
}

# The addon links llama.cpp by node-llama-cpp's file names (libs.txt): each is linked to the file this build made,
# and LD_LIBRARY_PATH, searched before the addon's RUNPATH, finds them. The addon loads the ggml backends it finds
# in the manifest's libDir.
link_llama() {
  local linked made
  while read -r linked made; do
    [ -e "$build/bin/$made" ] || { echo "the build made no $made"; return 1; }
    [ "$linked" = "$made" ] || ln -sfn "$made" "$build/bin/$linked"
  done <"$pack/libs.txt"
  local version
  version=$(grep -o '"llamaCpp": "[^"]*"' "$pack/manifest.json" | cut -d'"' -f4)
  printf '{ "variant": "%s", "llamaVersion": "%s", "libDir": "%s", "packageName": "source build" }\n' \
    "$([ $cuda = ON ] && echo cuda || echo cpu)" "$version" "$build/bin" >"$root/native/build/loom-native.json" &&
    "$node" "$tsx" loadtest/gpu/check-libraries.ts --expect $expect
}

export PATH="$work/node/bin:$PATH:/usr/local/cuda/bin"
echo "GPU benchmark ($mode) in $root; work folder $work; results in $out"
phase environment environment
phase unpack unpack || { echo "run.sh: cannot continue without the unpacked pack" >&2; exit 1; }
export LD_LIBRARY_PATH="$build/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
make_model() { "$node" "$tsx" models/synth.ts --preset "$preset" --out "$model.part" && mv "$model.part" "$model"; }
[ -e "$model" ] || phase model make_model &
phase build build_llama && phase link link_llama
linked=$?
if [ $linked = 0 ]; then
  # The tests stop in time to leave the benchmark 150 s before the deadline; the benchmark stops 50 s after it.
  limit=$((deadline - 150 - $(date +%s)))
  [ $limit -lt $tests_limit ] || limit=$tests_limit
  if [ $limit -ge 20 ]; then
    phase tests timeout $limit "$node" node_modules/vitest/vitest.mjs run --config test/gpu/vitest.config.ts \
      --reporter=default --reporter=json --outputFile.json="$work/tests.json"
  else
    echo "== tests: not run, ${limit} s left before the benchmark's share" | tee -a "$log"
    failed=1
  fi
fi
wait # for the model, made while llama.cpp built and the tests ran
[ -e "$model" ] || failed=1
if [ $linked = 0 ] && [ -e "$model" ]; then
  limit=$((deadline + 50 - $(date +%s)))
  [ $limit -ge 30 ] || limit=30
  phase bench timeout $limit "$node" "$tsx" loadtest/gpu/bench.ts --model "$model" \
    --llama-server "$build/bin/llama-server" --concurrency $concurrency --max-tokens $max_tokens \
    --deadline $deadline --out "$work/bench.json"
fi
"$node" "$tsx" loadtest/gpu/report.ts --mode $mode --work "$work" --out "$out" \
  --total-seconds $(($(date +%s) - started)) || failed=1
exit $failed
