// ChatParser: llama.cpp's output parser for one chat-templated request (common_chat_parse), split into content,
// reasoning and tool calls, on the final text or on a partial one while it streams.
#pragma once

#include "chat.h"
#include "common.h"

namespace loom {

class ChatParser : public Napi::ObjectWrap<ChatParser> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ChatParser(const Napi::CallbackInfo& info);

 private:
  Napi::Value Parse(const Napi::CallbackInfo& info);
  Napi::Value Complete(const Napi::CallbackInfo& info);

  // The parser definition is loaded once here, not on every parse of a growing stream.
  common_chat_parser_params params_;
};

}  // namespace loom
