// Model: an asynchronously loaded GGUF model; metadata, tokenizer and detokenizer.
#pragma once

#include "common.h"

namespace loom {

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Model(const Napi::CallbackInfo& info);

  // The live handle, or a thrown JS error when the model was disposed.
  std::shared_ptr<ModelHandle> handle(Napi::Env env) const;
  static Model* Unwrap(Napi::Value value);

 private:
  static Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Metadata(const Napi::CallbackInfo& info);
  Napi::Value Tokenize(const Napi::CallbackInfo& info);
  Napi::Value TokenToBytes(const Napi::CallbackInfo& info);
  Napi::Value Detokenize(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<ModelHandle> handle_;
};

}  // namespace loom
