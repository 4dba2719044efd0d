#include "grammar-sampler.h"

#include <algorithm>
#include <climits>
#include <unordered_map>
#include <vector>

#include "reasoning-budget.h"

namespace loom {

namespace {

// The thinking gate: llama.cpp's reasoning-budget sampler with no budget, used only to know whether the output is
// inside a thinking block, wrapped around the grammar as common_sampler gates it.
struct ThinkingGate {
  llama_sampler* grammar;
  llama_sampler* thinking;
};

ThinkingGate* gateOf(const llama_sampler* sampler) {
  return static_cast<ThinkingGate*>(sampler->ctx);
}

bool grammarActive(const ThinkingGate* gate) {
  const common_reasoning_budget_state state = common_reasoning_budget_get_state(gate->thinking);
  return state == REASONING_BUDGET_IDLE || state == REASONING_BUDGET_DONE;
}

const char* gateName(const llama_sampler*) {
  return "loom-thinking-gate";
}

void gateAccept(llama_sampler* sampler, llama_token token) {
  ThinkingGate* gate = gateOf(sampler);
  const bool active = grammarActive(gate);
  llama_sampler_accept(gate->thinking, token);
  if (active) {
    llama_sampler_accept(gate->grammar, token);
    return;
  }
  // The tag that closes the thinking block may hold a trigger itself, so the grammar sees it.
  if (common_reasoning_budget_get_state(gate->thinking) != REASONING_BUDGET_DONE) return;
  if (const llama_tokens* end = common_reasoning_budget_get_end_match(gate->thinking)) {
    for (llama_token endToken : *end) llama_sampler_accept(gate->grammar, endToken);
  }
}

void gateApply(llama_sampler* sampler, llama_token_data_array* candidates) {
  ThinkingGate* gate = gateOf(sampler);
  if (grammarActive(gate)) llama_sampler_apply(gate->grammar, candidates);
}

void gateReset(llama_sampler* sampler) {
  llama_sampler_reset(gateOf(sampler)->grammar);
  llama_sampler_reset(gateOf(sampler)->thinking);
}

void gateFree(llama_sampler* sampler) {
  ThinkingGate* gate = gateOf(sampler);
  llama_sampler_free(gate->grammar);
  llama_sampler_free(gate->thinking);
  delete gate;
}

llama_sampler* newGate(llama_sampler* grammar, llama_sampler* thinking);

llama_sampler* gateClone(const llama_sampler* sampler) {
  return newGate(llama_sampler_clone(gateOf(sampler)->grammar), llama_sampler_clone(gateOf(sampler)->thinking));
}

llama_sampler_i gateInterface = {
    /* .name              = */ gateName,
    /* .accept            = */ gateAccept,
    /* .apply             = */ gateApply,
    /* .reset             = */ gateReset,
    /* .clone             = */ gateClone,
    /* .free              = */ gateFree,
    /* .backend_init      = */ nullptr,
    /* .backend_accept    = */ nullptr,
    /* .backend_apply     = */ nullptr,
    /* .backend_set_input = */ nullptr,
    /* .backend_reset     = */ nullptr,
    /* .copy_state        = */ nullptr,
};

llama_sampler* newGate(llama_sampler* grammar, llama_sampler* thinking) {
  return llama_sampler_init(&gateInterface, new ThinkingGate{grammar, thinking});
}

std::string stringOption(Napi::Object options, const char* key) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined() || value.IsNull()) return "";
  if (!value.IsString()) {
    throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT", std::string("sampler option ") + key + " must be a string");
  }
  return value.As<Napi::String>().Utf8Value();
}

std::vector<std::string> stringsOption(Napi::Object options, const char* key) {
  Napi::Value value = options.Get(key);
  std::vector<std::string> out;
  if (value.IsUndefined() || value.IsNull()) return out;
  if (!value.IsArray()) {
    throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT",
               std::string("sampler option ") + key + " must be an array of strings");
  }
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); i++) out.push_back(array.Get(i).ToString().Utf8Value());
  return out;
}

// Triggers as ChatTemplates.apply() returns them, turned into llama.cpp's patterns and tokens as common_sampler does.
void readTriggers(Napi::Object options, std::vector<std::string>& patterns, std::vector<llama_token>& tokens) {
  Napi::Value value = options.Get("grammarTriggers");
  if (value.IsUndefined() || value.IsNull()) return;
  if (!value.IsArray()) {
    throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT", "sampler option grammarTriggers must be an array");
  }
  Napi::Array triggers = value.As<Napi::Array>();
  for (uint32_t i = 0; i < triggers.Length(); i++) {
    if (!triggers.Get(i).IsObject()) {
      throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT", "a grammar trigger must be an object");
    }
    Napi::Object trigger = triggers.Get(i).As<Napi::Object>();
    const std::string type = stringOption(trigger, "type");
    const std::string text = stringOption(trigger, "value");
    if (type == "token") {
      if (!trigger.Get("token").IsNumber()) {
        throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT", "a token trigger needs its token id");
      }
      tokens.push_back(trigger.Get("token").As<Napi::Number>().Int32Value());
    } else if (type == "word") {
      patterns.push_back(regex_escape(text));
    } else if (type == "pattern") {
      patterns.push_back(text);
    } else if (type == "pattern_full") {
      const bool opens = !text.empty() && text.front() == '^', closes = !text.empty() && text.back() == '$';
      patterns.push_back((opens ? "" : "^") + text + (closes ? "" : "$"));
    } else {
      throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT",
                 "grammar trigger type must be token, word, pattern or pattern_full");
    }
  }
}

// Tokens whose pieces spell text exactly, longest piece first, from a map of the vocabulary's pieces. Only for
// walking a grammar through text: no tokenizer ever produces these for the model.
llama_tokens spell(const llama_vocab* vocab, const std::string& text) {
  std::unordered_map<std::string, llama_token> pieces;
  size_t longest = 0;
  for (llama_token t = 0; t < llama_vocab_n_tokens(vocab); t++) {
    const std::string piece = common_token_to_piece(vocab, t, true);
    if (piece.empty() || pieces.count(piece)) continue;
    pieces.emplace(piece, t);
    longest = std::max(longest, piece.size());
  }
  llama_tokens out;
  for (size_t at = 0; at < text.size();) {
    size_t length = std::min(longest, text.size() - at);
    while (length > 0 && !pieces.count(text.substr(at, length))) length--;
    if (length == 0) throw std::runtime_error("no token spells the text at \"" + text.substr(at) + "\"");
    out.push_back(pieces.at(text.substr(at, length)));
    at += length;
  }
  return out;
}

// The generation prompt as tokens whose pieces spell it exactly, as the grammar reads it. The prompt's own
// tokenization mostly does; a SentencePiece vocabulary also adds a space before the text after a special token
// ("<|im_start|>" " assistant"), which the grammar refuses, so such a text run is spelled from the vocabulary.
llama_tokens prefillTokens(const llama_vocab* vocab, const std::string& prompt) {
  llama_tokens out;
  size_t at = 0;
  for (llama_token token : common_tokenize(vocab, prompt, false, true)) {
    const std::string piece = common_token_to_piece(vocab, token, true);
    if (prompt.compare(at, piece.size(), piece) == 0) {
      out.push_back(token);
      at += piece.size();
    } else if (!piece.empty() && piece[0] == ' ' && prompt.compare(at, piece.size() - 1, piece, 1) == 0) {
      for (llama_token spelled : spell(vocab, piece.substr(1))) out.push_back(spelled);
      at += piece.size() - 1;
    } else {
      throw std::runtime_error("the generation prompt's tokens do not spell it at \"" + prompt.substr(at) + "\"");
    }
  }
  return out;
}

llama_sampler* compileGrammar(const llama_vocab* vocab, const std::string& grammar, const std::string& root, bool lazy,
                              const std::vector<std::string>& patterns, const std::vector<llama_token>& tokens) {
  std::vector<const char*> patternPointers;
  for (const auto& pattern : patterns) patternPointers.push_back(pattern.c_str());
  llama_sampler* sampler = nullptr;
  try {
    sampler = lazy ? llama_sampler_init_grammar_lazy_patterns(vocab, grammar.c_str(), root.c_str(),
                                                              patternPointers.data(), patternPointers.size(),
                                                              tokens.data(), tokens.size())
                   : llama_sampler_init_grammar(vocab, grammar.c_str(), root.c_str());
  } catch (const std::exception& e) {
    throw CodedError("LOOM_INVALID_GRAMMAR", std::string("invalid grammar: ") + e.what());
  }
  if (!sampler) throw CodedError("LOOM_INVALID_GRAMMAR", withLlamaReason("invalid grammar"));
  return sampler;
}

}  // namespace

llama_sampler* buildGrammarSampler(Napi::Object options, const llama_vocab* vocab) {
  const std::string grammar = stringOption(options, "grammar");
  if (grammar.empty()) return nullptr;
  const std::string root = options.Get("grammarRoot").IsString() ? stringOption(options, "grammarRoot") : "root";
  const bool lazy = options.Get("grammarLazy").IsBoolean() && options.Get("grammarLazy").As<Napi::Boolean>().Value();
  std::vector<std::string> patterns;
  std::vector<llama_token> triggerTokens;
  readTriggers(options, patterns, triggerTokens);
  if (lazy && patterns.empty() && triggerTokens.empty()) {
    throw CodedError("LOOM_INVALID_GRAMMAR", "a lazy grammar needs at least one trigger");
  }
  llama_tokens prefill;
  try {
    prefill = prefillTokens(vocab, stringOption(options, "grammarPrefill"));
  } catch (const std::runtime_error& e) {
    throw CodedError("LOOM_INVALID_GRAMMAR", e.what());
  }
  const std::string thinkingStart = stringOption(options, "thinkingStartTag");
  const std::vector<std::string> thinkingEnds = stringsOption(options, "thinkingEndTags");
  llama_sampler* sampler = compileGrammar(vocab, grammar, root, lazy, patterns, triggerTokens);
  try {
    // The template wrote the generation prompt; a grammar that starts with it must be walked past it first.
    if (!lazy) {
      for (llama_token token : prefill) llama_sampler_accept(sampler, token);
    }
    if (!lazy || thinkingStart.empty() || thinkingEnds.empty()) return sampler;
    std::vector<llama_tokens> ends;
    for (const auto& end : thinkingEnds) ends.push_back(common_tokenize(vocab, end, false, true));
    llama_sampler* thinking =
        common_reasoning_budget_init(vocab, {common_tokenize(vocab, thinkingStart, false, true)}, ends, {}, INT_MAX);
    for (llama_token token : prefill) llama_sampler_accept(thinking, token);
    return newGate(sampler, thinking);
  } catch (const CodedError&) {
    llama_sampler_free(sampler);
    throw;
  } catch (const std::exception& e) {
    llama_sampler_free(sampler);
    throw CodedError("LOOM_INVALID_GRAMMAR",
                     std::string("the grammar does not accept the generation prompt: ") + e.what());
  }
}

}  // namespace loom
