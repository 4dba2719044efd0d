// Process-wide CPU compute: the one ggml CPU threadpool (per thread count) every CPU context of the addon shares,
// and the lock that keeps two graphs off it at once.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "ggml-cpu.h"

namespace loom {

// A ggml CPU threadpool, freed when the last context attached to it lets go. After a graph, ggml's idle workers
// spin (poll) before they sleep: one pool per context would leave several pools spinning on the same cores while
// another context computes, stalling its barriers.
class Threadpool {
 public:
  Threadpool(ggml_threadpool* pool, void (*release)(ggml_threadpool*)) : pool_(pool), release_(release) {}
  ~Threadpool() { release_(pool_); }
  Threadpool(const Threadpool&) = delete;
  Threadpool& operator=(const Threadpool&) = delete;
  ggml_threadpool* get() const { return pool_; }

 private:
  ggml_threadpool* pool_;
  void (*release_)(ggml_threadpool*);
};

// A pool of `threads` workers polling at `poll` (0-100): private ones for a context that computes on its own
// (a GPU-offloaded model), or the process-wide one of that size when `shared`. Null when the CPU backend exposes
// no threadpool functions.
std::shared_ptr<Threadpool> cpuThreadpool(int32_t threads, uint32_t poll, bool shared);

// Held around every graph compute (llama_decode, llama_encode) of a context on the shared pools: one ggml
// threadpool must never run two graphs at once.
std::unique_lock<std::mutex> lockSharedCompute();

}  // namespace loom
