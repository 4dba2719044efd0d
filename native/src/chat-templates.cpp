#include "chat-templates.h"

#include <chrono>

#include "addon.h"
#include "chat-json.h"
#include "chat-tool-grammar.h"
#include "json-schema-to-grammar.h"
#include "model.h"

namespace loom {

namespace {

// A schema the chat layer would compile into its grammar is compiled once first, so that a bad one is reported as
// the client's schema rather than as a template failure.
void checkSchema(const std::string& schemaText, const std::string& what, const char* code) {
  try {
    json_schema_to_grammar(common_json::parse(schemaText), true);
  } catch (const std::exception& e) {
    throw CodedError(code, what + ": " + e.what());
  }
}

std::vector<common_chat_tool> parseTools(const common_json& request) {
  const common_json* tools = jsonField(request, "tools");
  if (!tools) return {};
  std::vector<common_chat_tool> parsed;
  try {
    parsed = common_chat_tools_parse_oaicompat(*tools);
  } catch (const std::exception& e) {
    throw CodedError("LOOM_INVALID_TOOLS", e.what());
  }
  for (const auto& tool : parsed) {
    if (!tool.parameters.empty()) {
      checkSchema(tool.parameters, "the parameters of tool " + tool.name, "LOOM_INVALID_TOOL_SCHEMA");
    }
  }
  return parsed;
}

// tool_choice as OpenAI sends it: "none", "auto", "required", or {type: "function", function: {name}}. A named
// function is returned in `named`; llama.cpp's layer has no named choice, so it is a required call to that tool.
common_chat_tool_choice parseToolChoice(const common_json& request, std::string& named) {
  const common_json* choice = jsonField(request, "tool_choice");
  if (!choice) return COMMON_CHAT_TOOL_CHOICE_AUTO;
  if (choice->is_string()) {
    try {
      return common_chat_tool_choice_parse_oaicompat(choice->get<std::string>());
    } catch (const std::exception& e) {
      throw CodedError("LOOM_INVALID_ARGUMENT", e.what());
    }
  }
  const common_json* function = jsonField(*choice, "function");
  const common_json* name = function ? jsonField(*function, "name") : nullptr;
  if (!name || !name->is_string()) {
    throw CodedError("LOOM_INVALID_ARGUMENT",
                     "tool_choice must be none, auto, required or {type: \"function\", function: {name}}");
  }
  named = name->get<std::string>();
  return COMMON_CHAT_TOOL_CHOICE_REQUIRED;
}

common_chat_templates_inputs parseInputs(const common_json& request, const common_chat_templates* templates) {
  common_chat_templates_inputs inputs;
  const common_json* messages = jsonField(request, "messages");
  if (!messages) throw CodedError("LOOM_INVALID_MESSAGES", "messages are required");
  try {
    inputs.messages = common_chat_msgs_parse_oaicompat(*messages);
  } catch (const std::exception& e) {
    throw CodedError("LOOM_INVALID_MESSAGES", e.what());
  }
  inputs.tools = parseTools(request);
  if (const common_json* schema = jsonField(request, "json_schema")) {
    inputs.json_schema = schema->dump();
    checkSchema(inputs.json_schema, "json_schema", "LOOM_INVALID_SCHEMA");
  }
  if (const common_json* grammar = jsonField(request, "grammar")) inputs.grammar = grammar->get<std::string>();
  auto caps = common_chat_templates_get_caps(templates);
  inputs.parallel_tool_calls = request.value("parallel_tool_calls", caps["supports_parallel_tool_calls"]);
  inputs.add_generation_prompt = request.value("add_generation_prompt", true);
  inputs.enable_thinking = request.value("enable_thinking", true);
  try {
    inputs.reasoning_format = common_reasoning_format_from_name(request.value("reasoning_format", "deepseek"));
  } catch (const std::exception& e) {
    throw CodedError("LOOM_INVALID_ARGUMENT", e.what());
  }
  if (const common_json* kwargs = jsonField(request, "chat_template_kwargs")) {
    for (const auto& [key, value] : kwargs->items()) inputs.chat_template_kwargs[key] = value.dump();
  }
  if (const common_json* now = jsonField(request, "now_ms")) {
    inputs.now = std::chrono::system_clock::time_point(std::chrono::milliseconds(now->get<int64_t>()));
  }
  return inputs;
}

common_chat_params applyTemplates(const common_chat_templates* templates, const common_chat_templates_inputs& inputs) {
  try {
    return common_chat_templates_apply(templates, inputs);
  } catch (const std::exception& e) {
    throw CodedError("LOOM_CHAT_TEMPLATE_FAILED", std::string("the chat template failed: ") + e.what());
  }
}

// A named tool: the prompt still lists every tool, as OpenAI's models see them all; the grammar, triggers and parser
// come from a second application that offers only the named one.
common_chat_params applyNamed(const common_chat_templates* templates, common_chat_templates_inputs inputs,
                              const std::string& named) {
  common_chat_params full = applyTemplates(templates, inputs);
  std::vector<common_chat_tool> only;
  for (const auto& tool : inputs.tools) {
    if (tool.name == named) only.push_back(tool);
  }
  if (only.empty()) {
    throw CodedError("LOOM_UNKNOWN_TOOL", "tool_choice names " + named + ", which is not among the tools");
  }
  inputs.tools = only;
  inputs.parallel_tool_calls = false;
  common_chat_params narrowed = applyTemplates(templates, inputs);
  narrowed.prompt = full.prompt;
  return narrowed;
}

const char* triggerType(common_grammar_trigger_type type) {
  switch (type) {
    case COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN: return "token";
    case COMMON_GRAMMAR_TRIGGER_TYPE_WORD: return "word";
    case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN: return "pattern";
    case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL: return "pattern_full";
  }
  return "unknown";
}

Napi::Array stringArray(Napi::Env env, const std::vector<std::string>& values) {
  Napi::Array out = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); i++) out.Set(i, values[i]);
  return out;
}

// A trigger word's token, when the word is one token in this vocabulary (as llama-server converts them), or a marker
// token followed by whitespace only (Qwen's and Hermes' "<tool_call>\n"): the grammar, engaged at the marker, then
// requires the whitespace itself. -1 when the word must be matched as text.
llama_token triggerToken(const llama_vocab* vocab, const std::string& word) {
  auto ids = common_tokenize(vocab, word, false, true);
  if (ids.size() == 1) return ids[0];
  if (ids.empty() || !(llama_vocab_get_attr(vocab, ids[0]) & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_USER_DEFINED))) {
    return -1;
  }
  std::string marker = common_token_to_piece(vocab, ids[0], true);
  if (word.compare(0, marker.size(), marker) != 0) return -1;
  bool whitespace = word.find_first_not_of(" \t\r\n", marker.size()) == std::string::npos;
  return whitespace ? ids[0] : -1;
}

// Trigger words become token triggers where triggerToken finds one, and only the preserved tokens that are single
// tokens are kept, by id (the detokenizer renders those as text for the parser).
Napi::Object toJs(Napi::Env env, const common_chat_params& params, const llama_vocab* vocab) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("prompt", params.prompt);
  out.Set("format", static_cast<double>(params.format));
  out.Set("formatName", common_chat_format_name(params.format));
  out.Set("grammar", params.grammar);
  out.Set("grammarLazy", params.grammar_lazy);
  Napi::Array triggers = Napi::Array::New(env);
  for (const auto& trigger : params.grammar_triggers) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("type", triggerType(trigger.type));
    entry.Set("value", trigger.value);
    if (trigger.type == COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN) entry.Set("token", trigger.token);
    if (trigger.type == COMMON_GRAMMAR_TRIGGER_TYPE_WORD) {
      llama_token token = triggerToken(vocab, trigger.value);
      if (token >= 0) {
        entry.Set("type", "token");
        entry.Set("token", token);
      }
    }
    triggers.Set(triggers.Length(), entry);
  }
  out.Set("grammarTriggers", triggers);
  out.Set("preservedTokens", stringArray(env, params.preserved_tokens));
  std::vector<int32_t> preservedIds;
  for (const auto& text : params.preserved_tokens) {
    auto ids = common_tokenize(vocab, text, false, true);
    if (ids.size() == 1) preservedIds.push_back(ids[0]);
  }
  Napi::Int32Array ids = Napi::Int32Array::New(env, preservedIds.size());
  std::copy(preservedIds.begin(), preservedIds.end(), ids.Data());
  out.Set("preservedTokenIds", ids);
  out.Set("additionalStops", stringArray(env, params.additional_stops));
  out.Set("generationPrompt", params.generation_prompt);
  out.Set("parser", params.parser);
  out.Set("supportsThinking", params.supports_thinking);
  out.Set("thinkingStartTag", params.thinking_start_tag);
  out.Set("thinkingEndTags", stringArray(env, params.thinking_end_tags));
  return out;
}

}  // namespace

Napi::Function ChatTemplates::Define(Napi::Env env) {
  return DefineClass(env, "ChatTemplates",
                     {
                         InstanceMethod<&ChatTemplates::Apply>("apply"),
                         InstanceMethod<&ChatTemplates::Source>("source"),
                         InstanceMethod<&ChatTemplates::Capabilities>("capabilities"),
                     });
}

// new ChatTemplates(model, overrideSource?): the model's own templates (tokenizer.chat_template and its tool_use
// variant), or the given Jinja source in their place, as llama-server's --chat-template-file.
ChatTemplates::ChatTemplates(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ChatTemplates>(info) {
  Napi::Env env = info.Env();
  model_ = Model::Unwrap(info[0])->handle(env);
  std::string source;
  if (info[1].IsString()) {
    source = info[1].As<Napi::String>().Utf8Value();
  } else if (!info[1].IsUndefined() && !info[1].IsNull()) {
    throwCoded(env, "LOOM_INVALID_ARGUMENT", "ChatTemplates(model, source): source must be a string");
  }
  try {
    templates_ = common_chat_templates_init(model_->model, source);
  } catch (const std::exception& e) {
    throwCoded(env, "LOOM_CHAT_TEMPLATE_INVALID", std::string("the chat template does not parse: ") + e.what());
  }
}

// apply(requestJson): see ChatApplyRequest in src/backend/llama/addon.ts for the fields.
Napi::Value ChatTemplates::Apply(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  common_json request = jsonArgument(info[0], "apply(request): request");
  try {
    std::string named;
    common_chat_tool_choice choice = parseToolChoice(request, named);
    common_chat_templates_inputs inputs = parseInputs(request, templates_.get());
    inputs.tool_choice = choice;
    if (!inputs.grammar.empty() && !inputs.tools.empty() && choice != COMMON_CHAT_TOOL_CHOICE_NONE) {
      throw CodedError("LOOM_INVALID_ARGUMENT", "a grammar cannot be combined with tools");
    }
    if (!inputs.tools.empty() && choice != COMMON_CHAT_TOOL_CHOICE_NONE &&
        !common_chat_templates_get_caps(templates_.get())["supports_tool_calls"]) {
      throw CodedError("LOOM_TOOLS_UNSUPPORTED", "this model's chat template cannot render tool calls");
    }
    if (!named.empty() && inputs.tools.empty()) {
      throw CodedError("LOOM_UNKNOWN_TOOL", "tool_choice names " + named + ", but no tools were given");
    }
    common_chat_params params =
        named.empty() ? applyTemplates(templates_.get(), inputs) : applyNamed(templates_.get(), inputs, named);
    // OpenAI's required and named choices make the message the call(s); parallel_tool_calls false makes it one.
    // A response format takes the place of the calls in llama.cpp's layer, so it is left as it is.
    if (!inputs.tools.empty() && choice != COMMON_CHAT_TOOL_CHOICE_NONE && inputs.json_schema.empty()) {
      tightenToolGrammar(params, choice == COMMON_CHAT_TOOL_CHOICE_REQUIRED,
                         !named.empty() || !inputs.parallel_tool_calls);
    }
    return toJs(env, params, model_->vocab());
  } catch (const CodedError& e) {
    throwCoded(env, e.code(), e.what());
  } catch (const std::exception& e) {
    throwCoded(env, "LOOM_INVALID_ARGUMENT", e.what());
  }
}

// source(variant?): the Jinja source in use; variant "tool_use" gives the model's tool-use template, or "".
Napi::Value ChatTemplates::Source(const Napi::CallbackInfo& info) {
  std::string variant = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  return Napi::String::New(info.Env(), common_chat_templates_source(templates_.get(), variant));
}

// capabilities(): what the template can render (supports_tools, supports_parallel_tool_calls, ...), plus
// supports_enable_thinking: whether enable_thinking changes the prompt.
Napi::Value ChatTemplates::Capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  for (const auto& [name, value] : common_chat_templates_get_caps(templates_.get())) out.Set(name, value);
  out.Set("supports_enable_thinking", common_chat_templates_support_enable_thinking(templates_.get()));
  return out;
}

}  // namespace loom
