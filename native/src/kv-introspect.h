// The number of KV cells in use, which llama.h does not expose.
#pragma once

#include <cstdint>

#include "llama.h"

namespace loom {

// -1 when the context's memory is not a plain KV cache (recurrent, hybrid or sliding-window models).
int64_t kvUsedCells(llama_context* ctx);

}  // namespace loom
