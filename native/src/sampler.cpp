#include "sampler.h"

#include <cmath>

#include "addon.h"
#include "grammar-sampler.h"
#include "model.h"

namespace loom {

namespace {

double numberOr(Napi::Object options, const char* key, double fallback) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  if (!value.IsNumber()) throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT", std::string("sampler option ") + key + " must be a number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number)) throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT", std::string("sampler option ") + key + " must be finite");
  return number;
}

void addLogitBias(Napi::Object options, llama_sampler* chain, int32_t nVocab) {
  Napi::Value tokensValue = options.Get("logitBiasTokens");
  if (tokensValue.IsUndefined()) return;
  Napi::Value biasValue = options.Get("logitBiasValues");
  if (!tokensValue.IsTypedArray() || !biasValue.IsTypedArray() ||
      tokensValue.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      biasValue.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT", "logitBiasTokens must be an Int32Array and logitBiasValues a Float32Array");
  }
  Napi::Int32Array tokens = tokensValue.As<Napi::Int32Array>();
  Napi::Float32Array biases = biasValue.As<Napi::Float32Array>();
  if (tokens.ElementLength() != biases.ElementLength()) {
    throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT", "logitBiasTokens and logitBiasValues differ in length");
  }
  std::vector<llama_logit_bias> entries;
  for (size_t i = 0; i < tokens.ElementLength(); i++) {
    if (tokens[i] < 0 || tokens[i] >= nVocab) {
      throwCoded(options.Env(), "LOOM_INVALID_ARGUMENT", "logit bias token " + std::to_string(tokens[i]) + " is outside the vocabulary");
    }
    entries.push_back({tokens[i], biases[i]});
  }
  if (!entries.empty()) llama_sampler_chain_add(chain, llama_sampler_init_logit_bias(nVocab, entries.size(), entries.data()));
}

// The chain without the grammar: sample() runs the grammar separately, as llama.cpp's common_sampler does.
llama_sampler* buildChain(Napi::Env env, const ModelHandle& model, Napi::Object options) {
  const int32_t nVocab = llama_vocab_n_tokens(model.vocab());
  const double temperature = numberOr(options, "temperature", 1.0);
  const double topP = numberOr(options, "topP", 1.0);
  const double minP = numberOr(options, "minP", 0.0);
  const double topK = numberOr(options, "topK", 0);
  const double seed = numberOr(options, "seed", LLAMA_DEFAULT_SEED);
  const double repeatPenalty = numberOr(options, "repeatPenalty", 1.0);
  const double presencePenalty = numberOr(options, "presencePenalty", 0.0);
  const double frequencyPenalty = numberOr(options, "frequencyPenalty", 0.0);
  const double penaltyLastN = numberOr(options, "penaltyLastN", 64);
  if (repeatPenalty <= 0) throwCoded(env, "LOOM_INVALID_ARGUMENT", "repeatPenalty must be greater than 0");
  llama_sampler_chain_params params = llama_sampler_chain_default_params();
  params.no_perf = true;
  llama_sampler* chain = llama_sampler_chain_init(params);
  try {
    addLogitBias(options, chain, nVocab);
    if (repeatPenalty != 1.0 || presencePenalty != 0.0 || frequencyPenalty != 0.0) {
      llama_sampler_chain_add(chain, llama_sampler_init_penalties(nVocab, static_cast<int32_t>(penaltyLastN), repeatPenalty,
                                                                  frequencyPenalty, presencePenalty));
    }
    if (temperature <= 0) {
      llama_sampler_chain_add(chain, llama_sampler_init_greedy());
    } else {
      if (topK > 0) llama_sampler_chain_add(chain, llama_sampler_init_top_k(static_cast<int32_t>(topK)));
      if (topP < 1.0) llama_sampler_chain_add(chain, llama_sampler_init_top_p(topP, 1));
      if (minP > 0.0) llama_sampler_chain_add(chain, llama_sampler_init_min_p(minP, 1));
      llama_sampler_chain_add(chain, llama_sampler_init_temp(temperature));
      llama_sampler_chain_add(chain, llama_sampler_init_dist(static_cast<uint32_t>(seed)));
    }
  } catch (const CodedError& e) {
    llama_sampler_free(chain);
    throwCoded(env, e.code(), e.what());
  } catch (...) {
    llama_sampler_free(chain);
    throw;
  }
  return chain;
}

}  // namespace

// Grammar-based rejection sampling, as common_sampler_sample: the chain picks from the raw logits, and only when the
// grammar rejects that token is the row sampled again with the grammar applied to the whole vocabulary. Checking
// one token is far cheaper than masking every token of a large vocabulary at each step.
llama_token SamplerChain::sample(const float* logits, int32_t nVocab, std::vector<llama_token_data>& scratch) {
  auto fill = [&] {
    scratch.resize(nVocab);
    for (int32_t t = 0; t < nVocab; t++) scratch[t] = {t, logits[t], 0.0f};
    return llama_token_data_array{scratch.data(), scratch.size(), -1, false};
  };
  llama_token_data_array candidates = fill();
  try {
    llama_sampler_apply(chain, &candidates);
    const bool picked = candidates.selected >= 0 && candidates.selected < static_cast<int64_t>(candidates.size) &&
                        !std::isinf(candidates.data[candidates.selected].logit);
    if (grammar && !(picked && allows(candidates.data[candidates.selected].id))) {
      candidates = fill();
      llama_sampler_apply(grammar, &candidates);
      llama_sampler_apply(chain, &candidates);
    }
  } catch (const std::exception& e) {
    throw CodedError("LOOM_SAMPLING_FAILED", std::string("sampling failed: ") + e.what());
  }
  if (candidates.selected < 0 || candidates.selected >= static_cast<int64_t>(candidates.size) ||
      std::isinf(candidates.data[candidates.selected].logit)) {
    throw CodedError("LOOM_SAMPLING_FAILED", "sampling failed: no token is allowed (a grammar or logit bias excludes every token)");
  }
  llama_token token = candidates.data[candidates.selected].id;
  try {
    accept(token);
  } catch (const std::exception& e) {
    throw CodedError("LOOM_SAMPLING_FAILED", std::string("sampling failed: ") + e.what());
  }
  return token;
}

bool SamplerChain::allows(llama_token token) const {
  if (!grammar) return true;
  llama_token_data single = {token, 1.0f, 0.0f};
  llama_token_data_array array = {&single, 1, -1, false};
  llama_sampler_apply(grammar, &array);
  return !std::isinf(single.logit);
}

void SamplerChain::accept(llama_token token) {
  if (grammar) llama_sampler_accept(grammar, token);
  llama_sampler_accept(chain, token);
}

Napi::Function Sampler::Define(Napi::Env env) {
  return DefineClass(env, "Sampler",
                     {
                         InstanceMethod<&Sampler::Accept>("accept"),
                         InstanceMethod<&Sampler::Dispose>("dispose"),
                     });
}

Sampler* Sampler::Unwrap(Napi::Value value) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addonData(value.Env()).samplerClass.Value())) {
    throwCoded(value.Env(), "LOOM_INVALID_ARGUMENT", "expected a Sampler");
  }
  return Napi::ObjectWrap<Sampler>::Unwrap(value.As<Napi::Object>());
}

// new Sampler(model, options): built on the calling thread so that a bad grammar fails its own request.
Sampler::Sampler(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sampler>(info) {
  Napi::Env env = info.Env();
  auto model = Model::Unwrap(info[0])->handle(env);
  Napi::Object options = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  llama_sampler* grammar = nullptr;
  try {
    grammar = buildGrammarSampler(options, model->vocab());
  } catch (const CodedError& e) {
    throwCoded(env, e.code(), e.what());
  }
  llama_sampler* chain = nullptr;
  try {
    chain = buildChain(env, *model, options);
  } catch (...) {
    if (grammar) llama_sampler_free(grammar);
    throw;
  }
  chain_ = std::make_shared<SamplerChain>(model, chain, grammar);
}

std::shared_ptr<SamplerChain> Sampler::chain(Napi::Env env) const {
  if (!chain_) throwCoded(env, "LOOM_DISPOSED", "the sampler was disposed");
  return chain_;
}

// Replays tokens into the chain's state (penalty history, grammar position), e.g. after a preempted sequence
// is recomputed. Only call between steps that use this sampler.
Napi::Value Sampler::Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto state = chain(env);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throwCoded(env, "LOOM_INVALID_ARGUMENT", "accept(tokens): tokens must be an Int32Array");
  }
  Napi::Int32Array tokens = info[0].As<Napi::Int32Array>();
  const int32_t nVocab = llama_vocab_n_tokens(state->model->vocab());
  try {
    for (size_t i = 0; i < tokens.ElementLength(); i++) {
      if (tokens[i] < 0 || tokens[i] >= nVocab) throw CodedError("LOOM_INVALID_ARGUMENT", "token outside the vocabulary");
      // Checked first: llama.cpp aborts the process when a grammar is made to accept an end token it forbids.
      if (!state->allows(tokens[i])) {
        throw CodedError("LOOM_SAMPLING_FAILED",
                         "token " + std::to_string(tokens[i]) + " is not allowed by the grammar here");
      }
      state->accept(tokens[i]);
    }
  } catch (const CodedError& e) {
    throwCoded(env, e.code(), e.what());
  } catch (const std::exception& e) {
    throwCoded(env, "LOOM_SAMPLING_FAILED", std::string("accept failed: ") + e.what());
  }
  return env.Undefined();
}

Napi::Value Sampler::Dispose(const Napi::CallbackInfo& info) {
  chain_.reset();
  return info.Env().Undefined();
}

}  // namespace loom
