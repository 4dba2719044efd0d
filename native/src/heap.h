// How the addon's process holds native memory. llama.cpp re-reserves its compute graphs (a new backend scheduler
// and compute buffers, the old ones freed) on the first decode after the LoRA adapter set changes, and loading or
// freeing an adapter allocates and frees its tensors: churn of mid-sized blocks on whichever libuv worker thread
// runs the call. glibc keeps freed blocks in the arena that held them, one arena per thread (up to 8 per core), and
// does not give their pages back: soaks that switched adapters grew RSS by ~5 MB a minute (loading and unloading
// adapters, ~10 MB) with a flat V8 heap and no leak (heaptrack: 4.9 MB never freed over a whole run). With both
// functions below the same loads stayed flat (RELIABILITY.md).
#pragma once

namespace loom {

// Caps glibc's malloc at 2 arenas unless MALLOC_ARENA_MAX is set (a no-op without glibc); called when the addon
// loads, before llama.cpp's threads first allocate, so the reserves' blocks are reused across threads.
void limitMallocArenas();

// Gives the free pages of every arena back to the kernel (glibc's malloc_trim; a no-op elsewhere). Called after a
// decode that followed an adapter-set change and after an adapter is freed, both rare next to steps.
void returnFreedMemory();

}  // namespace loom
