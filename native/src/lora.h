// LoraAdapter: a LoRA adapter GGUF loaded against one model, off the event loop.
#pragma once

#include "common.h"

namespace loom {

class LoraAdapter : public Napi::ObjectWrap<LoraAdapter> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit LoraAdapter(const Napi::CallbackInfo& info);
  std::shared_ptr<LoraHandle> handle(Napi::Env env) const;
  static LoraAdapter* Unwrap(Napi::Value value);

 private:
  static Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value Metadata(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<LoraHandle> handle_;
};

}  // namespace loom
