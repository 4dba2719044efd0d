// ChatTemplates: llama.cpp's common chat layer for one model, the code llama-server runs. It renders OpenAI-shaped
// messages and tools into a prompt and returns what constrained generation and output parsing need.
#pragma once

#include "chat.h"
#include "common.h"

namespace loom {

class ChatTemplates : public Napi::ObjectWrap<ChatTemplates> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ChatTemplates(const Napi::CallbackInfo& info);

 private:
  Napi::Value Apply(const Napi::CallbackInfo& info);
  Napi::Value Source(const Napi::CallbackInfo& info);
  Napi::Value Capabilities(const Napi::CallbackInfo& info);

  std::shared_ptr<ModelHandle> model_;
  common_chat_templates_ptr templates_;
};

}  // namespace loom
