// The only file that reads llama.cpp's private headers. They come from the same source bundle as the prebuilt
// libraries (build.mjs pins both to one version), and llama_kv_cache::get_cells is exported by libllama.
#include "kv-introspect.h"

#include <algorithm>

#include "llama-kv-cache.h"

namespace loom {

static const llama_kv_cache* plainCache(llama_context* ctx) {
  return dynamic_cast<llama_kv_cache*>(llama_get_memory(ctx));
}

int64_t kvUsedCells(llama_context* ctx) {
  const auto* cache = plainCache(ctx);
  if (!cache) return -1;
  int64_t used = 0;
  for (uint32_t s = 0; s < cache->get_n_stream(); s++) used += cache->get_cells(s).get_used();
  return used;
}

int64_t kvSpanCells(llama_context* ctx) {
  const auto* cache = plainCache(ctx);
  if (!cache) return -1;
  int64_t span = 0;
  for (uint32_t s = 0; s < cache->get_n_stream(); s++) span = std::max<int64_t>(span, cache->get_cells(s).used_max_p1());
  return span;
}

}  // namespace loom
