// The only file that reads llama.cpp's private headers. They come from the same source bundle as the prebuilt
// libraries (build.mjs pins both to one version), and llama_kv_cache::get_cells is exported by libllama.
#include "kv-introspect.h"

#include "llama-kv-cache.h"

namespace loom {

int64_t kvUsedCells(llama_context* ctx) {
  auto* cache = dynamic_cast<llama_kv_cache*>(llama_get_memory(ctx));
  if (!cache || cache->get_n_stream() != 1) return -1;
  return cache->get_cells(0).get_used();
}

}  // namespace loom
