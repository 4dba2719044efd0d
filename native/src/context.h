// Context: one llama.cpp context over a unified KV pool. Every operation runs on a worker thread, one at a time.
#pragma once

#include <mutex>
#include <vector>

#include "common.h"
#include "ggml-cpu.h"

namespace loom {

// Persistent CPU threadpools: without them ggml makes and joins a threadpool for every graph it computes.
struct CpuThreadpools {
  ggml_threadpool* decode = nullptr;
  ggml_threadpool* batch = nullptr;
  void (*release)(ggml_threadpool*) = nullptr;
  ~CpuThreadpools();
};

struct ContextState {
  std::shared_ptr<ModelHandle> model;
  std::unique_ptr<CpuThreadpools> threadpools;  // outlives ctx: declared before it, destroyed after llama_free
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
