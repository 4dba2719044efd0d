// Context: one llama.cpp context over a unified KV pool. Every operation runs on a worker thread, one at a time.
#pragma once

#include <mutex>
#include <vector>

#include "common.h"
#include "compute.h"

namespace loom {

struct ContextState {
  std::shared_ptr<ModelHandle> model;
  // Persistent CPU threadpools (without them ggml makes and joins one for every graph), attached to ctx; they
  // outlive it (llama_free runs in the destructor's body) and may be shared with other contexts (compute.h).
  std::shared_ptr<Threadpool> decodePool, batchPool;
  bool sharedCompute = false;  // on the process-wide pools: every graph compute holds lockSharedCompute()
  std::vector<std::shared_ptr<LoraHandle>> activeAdapters;  // llama.cpp keeps raw pointers to these
  llama_context* ctx = nullptr;
  llama_batch batch{};
  int32_t batchCapacity = 0;  // rows a step may send
  bool batchInvariant = false;  // deterministic mode: see decode-calls.cpp
  std::vector<llama_token_data> scratch;
  std::mutex mutex;

  ContextState(std::shared_ptr<ModelHandle> m, llama_context* c, int32_t capacity, bool invariant);
  ~ContextState();
  ContextState(const ContextState&) = delete;
  // Held around a graph compute: the process-wide compute lock on shared pools, nothing otherwise.
  std::unique_lock<std::mutex> computeLock() const {
    return sharedCompute ? lockSharedCompute() : std::unique_lock<std::mutex>();
  }
  ContextState& operator=(const ContextState&) = delete;
};

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Context(const Napi::CallbackInfo& info);

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Inspect(const Napi::CallbackInfo& info);
  Napi::Value Embed(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<ContextState> state(Napi::Env env) const;

  std::shared_ptr<ContextState> state_;
};

}  // namespace loom
