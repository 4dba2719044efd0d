// Sampler: one sequence's sampler chain (logit bias, penalties, grammar, top-k/p, min-p, temperature, seed).
#pragma once

#include <vector>

#include "common.h"

namespace loom {

struct SamplerChain {
  std::shared_ptr<ModelHandle> model;
  llama_sampler* chain;
  SamplerChain(std::shared_ptr<ModelHandle> m, llama_sampler* c) : model(std::move(m)), chain(c) {}
  ~SamplerChain() { llama_sampler_free(chain); }
  SamplerChain(const SamplerChain&) = delete;
  SamplerChain& operator=(const SamplerChain&) = delete;

  // Samples from one logit row and accepts the token into the chain's state. Throws CodedError when the
  // chain leaves nothing to choose (e.g. a grammar that no token can continue).
  llama_token sample(const float* logits, int32_t nVocab, std::vector<llama_token_data>& scratch);
};

class Sampler : public Napi::ObjectWrap<Sampler> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Sampler(const Napi::CallbackInfo& info);
  std::shared_ptr<SamplerChain> chain(Napi::Env env) const;
  static Sampler* Unwrap(Napi::Value value);

 private:
  Napi::Value Accept(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<SamplerChain> chain_;
};

}  // namespace loom
