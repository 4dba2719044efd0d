// Sampler: one sequence's sampler chain (logit bias, penalties, top-k/p, min-p, temperature, seed) and its grammar.
#pragma once

#include <vector>

#include "common.h"

namespace loom {

struct SamplerChain {
  std::shared_ptr<ModelHandle> model;
  llama_sampler* chain;
  llama_sampler* grammar;  // nullptr without a grammar; kept out of the chain for rejection sampling
  SamplerChain(std::shared_ptr<ModelHandle> m, llama_sampler* c, llama_sampler* g)
      : model(std::move(m)), chain(c), grammar(g) {}
  ~SamplerChain() {
    llama_sampler_free(chain);
    if (grammar) llama_sampler_free(grammar);
  }
  SamplerChain(const SamplerChain&) = delete;
  SamplerChain& operator=(const SamplerChain&) = delete;

  // Samples from one logit row and accepts the token into the chain's state. Throws CodedError when the
  // chain leaves nothing to choose (e.g. a grammar that no token can continue).
  llama_token sample(const float* logits, int32_t nVocab, std::vector<llama_token_data>& scratch);

  // Whether the grammar (if any) allows this token next.
  bool allows(llama_token token) const;
  // Accepts a token into the grammar and the chain, as sample() does for the token it picks.
  void accept(llama_token token);
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
