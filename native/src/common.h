// Shared declarations of the addon: handles that keep llama.cpp objects alive across threads, and error helpers.
#pragma once

#include <napi.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "heap.h"
#include "llama.h"

namespace loom {

// A model is freed only when the last context, adapter or sampler built on it lets go, so disposing a
// model while a step runs on a worker thread is safe.
struct ModelHandle {
  llama_model* model;
  explicit ModelHandle(llama_model* m) : model(m) {}
  ~ModelHandle() { llama_model_free(model); }
  ModelHandle(const ModelHandle&) = delete;
  ModelHandle& operator=(const ModelHandle&) = delete;
  const llama_vocab* vocab() const { return llama_model_get_vocab(model); }
};

struct LoraHandle {
  std::shared_ptr<ModelHandle> model;  // an adapter must be freed before its model
  llama_adapter_lora* adapter;
  LoraHandle(std::shared_ptr<ModelHandle> m, llama_adapter_lora* a) : model(std::move(m)), adapter(a) {}
  ~LoraHandle() {
    llama_adapter_lora_free(adapter);
    returnFreedMemory();
  }
  LoraHandle(const LoraHandle&) = delete;
  LoraHandle& operator=(const LoraHandle&) = delete;
};

// An error that carries a stable code to JavaScript (err.code), as Node's own errors do.
class CodedError : public std::runtime_error {
 public:
  CodedError(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

[[noreturn]] void throwCoded(Napi::Env env, const std::string& code, const std::string& message);
Napi::Error makeCodedError(Napi::Env env, const std::string& code, const std::string& message);

// Appends what llama.cpp last logged as an error on this thread, which is where it explains a NULL result.
std::string withLlamaReason(const std::string& message);

// A promise-returning worker: Run() on the thread pool, Resolve() back on the JS thread. A CodedError thrown
// by Run() rejects the promise with that code.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Resolve(Napi::Env env) = 0;

 private:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;
  Napi::Promise::Deferred deferred_;
  std::string code_;
};

}  // namespace loom
