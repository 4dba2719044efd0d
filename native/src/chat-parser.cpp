#include "chat-parser.h"

namespace loom {

namespace {

std::string stringField(Napi::Object options, const char* key) {
  Napi::Value value = options.Get(key);
  if (!value.IsString()) {
    throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT", std::string("ChatParser: ") + key + " must be a string");
  }
  return value.As<Napi::String>().Utf8Value();
}

Napi::Object toJs(Napi::Env env, const common_chat_msg& message) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("content", message.content);
  out.Set("reasoningContent", message.reasoning_content);
  Napi::Array calls = Napi::Array::New(env, message.tool_calls.size());
  for (size_t i = 0; i < message.tool_calls.size(); i++) {
    const auto& call = message.tool_calls[i];
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("name", call.name);
    entry.Set("arguments", call.arguments);
    if (!call.id.empty()) entry.Set("id", call.id);
    calls.Set(i, entry);
  }
  out.Set("toolCalls", calls);
  return out;
}

}  // namespace

Napi::Function ChatParser::Define(Napi::Env env) {
  return DefineClass(env, "ChatParser",
                     {
                         InstanceMethod<&ChatParser::Parse>("parse"),
                         InstanceMethod<&ChatParser::Complete>("complete"),
                     });
}

// new ChatParser({format, generationPrompt, parser}): the fields of one ChatTemplates.apply() result, as llama-server
// carries them from the template to the parse of that request's output.
ChatParser::ChatParser(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ChatParser>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throwCoded(env, "LOOM_INVALID_ARGUMENT", "ChatParser(params): params must be an object");
  Napi::Object options = info[0].As<Napi::Object>();
  Napi::Value format = options.Get("format");
  if (!format.IsNumber() || format.As<Napi::Number>().Int32Value() < 0 ||
      format.As<Napi::Number>().Int32Value() >= COMMON_CHAT_FORMAT_COUNT) {
    throwCoded(env, "LOOM_INVALID_ARGUMENT", "ChatParser: format must be a chat format id from apply()");
  }
  params_.format = static_cast<common_chat_format>(format.As<Napi::Number>().Int32Value());
  params_.generation_prompt = stringField(options, "generationPrompt");
  std::string parser = stringField(options, "parser");
  try {
    if (!parser.empty()) params_.parser.load(parser);
  } catch (const std::exception& e) {
    throwCoded(env, "LOOM_INVALID_ARGUMENT",
               std::string("ChatParser: the parser definition does not load: ") + e.what());
  }
}

// parse(text, isPartial): text is what the model generated after the prompt. On a partial text a call being written
// comes back with the arguments so far; on the final text, output that does not match the format is an error.
Napi::Value ChatParser::Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throwCoded(env, "LOOM_INVALID_ARGUMENT", "parse(text, isPartial): text must be a string");
  const bool partial = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  try {
    return toJs(env, common_chat_parse(info[0].As<Napi::String>().Utf8Value(), partial, params_));
  } catch (const std::exception& e) {
    throwCoded(env, "LOOM_CHAT_PARSE_FAILED", e.what());
  }
}

// complete(text): whether text is a whole message of the format, one that needs no more input: the parse
// common_chat_parse does, without its leniency, which reads a call cut short as a call.
Napi::Value ChatParser::Complete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throwCoded(env, "LOOM_INVALID_ARGUMENT", "complete(text): text must be a string");
  if (params_.parser.empty()) return Napi::Boolean::New(env, true);
  common_peg_parse_context ctx(params_.generation_prompt + info[0].As<Napi::String>().Utf8Value());
  return Napi::Boolean::New(env, params_.parser.parse(ctx).success());
}

}  // namespace loom
