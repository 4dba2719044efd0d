// The only file that reads llama.cpp's private headers. They come from the same source bundle as the prebuilt
// libraries (build.mjs pins both to one version), and llama_kv_cache::get_cells is exported by libllama.
#include "kv-introspect.h"

#include "llama-kv-cache.h"

namespace loom {

static const llama_kv_cache* plainCache(llama_context* ctx) {
  auto* cache = dynamic_cast<llama_kv_cache*>(llama_get_memory(ctx));
  return cache && cache->get_n_stream() == 1 ? cache : nullptr;
}

int64_t kvUsedCells(llama_context* ctx) {
  const auto* cache = plainCache(ctx);
  return cache ? cache->get_cells(0).get_used() : -1;
}

int64_t kvSpanCells(llama_context* ctx) {
  const auto* cache = plainCache(ctx);
  return cache ? cache->get_cells(0).used_max_p1() : -1;
}

}  // namespace loom
