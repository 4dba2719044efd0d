// KV cell occupancy, which llama.h does not expose.
#pragma once

#include <cstdint>

#include "llama.h"

namespace loom {

// Cells in use, over all streams. -1 when the context's memory is not a plain KV cache (recurrent, hybrid or
// sliding-window models).
int64_t kvUsedCells(llama_context* ctx);

// One past the highest cell in use: llama.cpp's attention scans every cell below it (masking other sequences'
// cells) for every token of a unified pool; with a stream per sequence, the largest such span of any stream.
// -1 as above.
int64_t kvSpanCells(llama_context* ctx);

}  // namespace loom
