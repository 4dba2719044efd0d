#!/usr/bin/env bash
# Builds llama.cpp's llama-server and llama-batched-bench, the peers of `npm run bench`, from the llama.cpp source
# that node-llama-cpp carries (the same version Loom links), into a folder outside the repository.
# usage: bash loadtest/build-llama-server.sh [DEST]   (default /tmp/llama-peer; about 15 minutes on 2 cores)
# (GGML_NATIVE would also enable AMX, which this VM advertises but does not grant: llama-server died with SIGILL.)
# then:  LLAMA_SERVER_BIN=DEST/build/bin/llama-server npm run bench
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-/tmp/llama-peer}"
# node-llama-cpp's exports hide package.json, so its folder is found from its main entry.
bundle="$(node -p 'const p = require("node:path"); const m = require.resolve("node-llama-cpp");
  p.join(m.slice(0, m.lastIndexOf("node_modules/node-llama-cpp") + 27), "llama", "gitRelease.bundle")')"
if [ ! -d "$dest/src/.git" ]; then
  rm -rf "$dest/src"
  git clone --quiet "$bundle" "$dest/src"
fi
# shellcheck source=cpu-options.sh
source loadtest/cpu-options.sh
cmake -S "$dest/src" -B "$dest/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DGGML_NATIVE=OFF $(cpu_options) \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON >/dev/null
cmake --build "$dest/build" --target llama-server llama-batched-bench -j "$(nproc)"
echo "built $dest/build/bin/llama-server and $dest/build/bin/llama-batched-bench"
