#include "context.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <unordered_map>
#include <queue>

#include "addon.h"
#include "decode-calls.h"
#include "ggml-backend.h"
#include "heap.h"
#include "kv-introspect.h"
#include "lora.h"
#include "model.h"
#include "sampler.h"

namespace loom {

ContextState::ContextState(std::shared_ptr<ModelHandle> m, llama_context* c, int32_t capacity, bool invariant)
    : model(std::move(m)),
      ctx(c),
      batch(llama_batch_init(static_cast<int32_t>(llama_n_batch(c)), 0, 1)),
      batchCapacity(capacity),
      batchInvariant(invariant) {}

ContextState::~ContextState() {
  llama_batch_free(batch);
  llama_free(ctx);
}

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

enum KvOpCode : int32_t { KV_COPY = 0, KV_REMOVE = 1, KV_KEEP = 2, KV_CLEAR = 3 };
constexpr int32_t kKvOpWidth = 5;  // [code, seqA, seqB, p0, p1]
constexpr int32_t kMaxTopLogprobs = 20;

std::vector<int32_t> int32Vector(Napi::Env env, Napi::Value value, const char* name, bool optional = false) {
  if (optional && (value.IsUndefined() || value.IsNull())) return {};
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throwCoded(env, "LOOM_INVALID_BATCH", std::string(name) + " must be an Int32Array");
  }
  Napi::Int32Array array = value.As<Napi::Int32Array>();
  return std::vector<int32_t>(array.Data(), array.Data() + array.ElementLength());
}

void checkSeqId(Napi::Env env, int32_t seqId) {
  const int32_t limit = static_cast<int32_t>(llama_max_parallel_sequences());
  if (seqId < 0 || seqId >= limit) {
    throwCoded(env, "LOOM_INVALID_BATCH", "sequence id " + std::to_string(seqId) + " is outside [0, " + std::to_string(limit) + ")");
  }
}

void applyKvOps(llama_context* ctx, const std::vector<int32_t>& ops) {
  llama_memory_t memory = llama_get_memory(ctx);
  for (size_t i = 0; i < ops.size(); i += kKvOpWidth) {
    const int32_t a = ops[i + 1], b = ops[i + 2], p0 = ops[i + 3], p1 = ops[i + 4];
    switch (ops[i]) {
      case KV_COPY: llama_memory_seq_cp(memory, a, b, p0, p1); break;
      case KV_REMOVE: llama_memory_seq_rm(memory, a, p0, p1); break;
      case KV_KEEP: llama_memory_seq_keep(memory, a); break;
      case KV_CLEAR: llama_memory_clear(memory, true); break;
    }
  }
}

struct StepRequest {
  std::vector<int32_t> tokens, positions, seqIds, outputRows, topLogprobs, kvOps, draftsAfter;
  std::vector<std::shared_ptr<SamplerChain>> samplers;
  bool setAdapters = false;
  std::vector<std::shared_ptr<LoraHandle>> adapters;
  std::vector<float> adapterScales;
};

struct RowError {
  int32_t row;
  std::string code, message;
};

// Log-softmax of one logit row: the sampled token's log-probability and the top-N alternatives.
void computeLogprobs(const float* logits, int32_t nVocab, llama_token sampled, int32_t topN, float& sampledLogprob,
                     std::vector<int32_t>& topTokens, std::vector<float>& topLogprobs) {
  float maxLogit = -INFINITY;
  for (int32_t t = 0; t < nVocab; t++) maxLogit = std::max(maxLogit, logits[t]);
  double sum = 0;
  for (int32_t t = 0; t < nVocab; t++) sum += std::exp(static_cast<double>(logits[t] - maxLogit));
  const float logNorm = maxLogit + static_cast<float>(std::log(sum));
  sampledLogprob = sampled >= 0 ? logits[sampled] - logNorm : NAN;
  if (topN <= 0) return;
  using Entry = std::pair<float, int32_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> best;  // min-heap of the N largest
  for (int32_t t = 0; t < nVocab; t++) {
    if (static_cast<int32_t>(best.size()) < topN) {
      best.push({logits[t], t});
    } else if (logits[t] > best.top().first) {
      best.pop();
      best.push({logits[t], t});
    }
  }
  std::vector<Entry> ordered;
  while (!best.empty()) {
    ordered.push_back(best.top());
    best.pop();
  }
  for (auto it = ordered.rbegin(); it != ordered.rend(); ++it) {
    topTokens.push_back(it->second);
    topLogprobs.push_back(it->first - logNorm);
  }
}

class StepWorker : public PromiseWorker {
 public:
  StepWorker(Napi::Env env, std::shared_ptr<ContextState> state, StepRequest request)
      : PromiseWorker(env), state_(std::move(state)), request_(std::move(request)) {}

 protected:
  void Run() override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    llama_context* ctx = state_->ctx;
    applyKvOps(ctx, request_.kvOps);
    if (request_.setAdapters) {
      std::vector<llama_adapter_lora*> raw;
      for (auto& adapter : request_.adapters) raw.push_back(adapter->adapter);
      if (llama_set_adapters_lora(ctx, raw.data(), raw.size(), request_.adapterScales.data()) != 0) {
        throw CodedError("LOOM_ADAPTER_INVALID", withLlamaReason("failed to set LoRA adapters"));
      }
      state_->activeAdapters = request_.adapters;
    }
    if (!request_.tokens.empty()) decodeRows();
    if (request_.setAdapters && !request_.tokens.empty()) returnFreedMemory();
    kvSpanCells_ = kvSpanCells(ctx);
  }

  void decodeRows() {
    const size_t nOut = request_.outputRows.size();
    sampled_.assign(nOut, -1);
    sampledLogprobs_.assign(nOut, NAN);
    topCounts_.assign(nOut, 0);
    topTokensPerOutput_.assign(nOut, {});
    topLogprobsPerOutput_.assign(nOut, {});
    skipped_.assign(nOut, false);
    outputIndex_.assign(request_.tokens.size(), -1);
    for (size_t j = 0; j < nOut; j++) outputIndex_[request_.outputRows[j]] = static_cast<int32_t>(j);
    const bool perSequenceStreams = llama_n_ctx_seq(state_->ctx) != llama_n_ctx(state_->ctx);
    // In a unified pool, decode rows (one token of their sequence) go through llama_decode apart from prefill
    // chunks. In one micro-batch of 64 or more rows, the CPU flash-attention kernel tiles query rows, and a tile
    // holding many sequences' decode rows can skip no KV tile of the unified pool, so it attends densely over
    // every cell; on their own, decode rows take the per-row kernel, which skips other sequences' cells. With a
    // stream per sequence llama.cpp already splits the batch into equal-length micro-batches itself.
    const CallPolicy policy = state_->batchInvariant ? CallPolicy::BatchInvariant
                              : perSequenceStreams   ? CallPolicy::Whole
                                                     : CallPolicy::DecodeRowsFirst;
    const StepRows rows{request_.tokens, request_.positions, request_.seqIds, request_.outputRows};
    for (const DecodeCall& call : planDecodeCalls(rows, policy, perSequenceStreams)) decodeAndSample(call);
    for (size_t j = 0; j < nOut; j++) {
      topTokens_.insert(topTokens_.end(), topTokensPerOutput_[j].begin(), topTokensPerOutput_[j].end());
      topLogprobValues_.insert(topLogprobValues_.end(), topLogprobsPerOutput_[j].begin(), topLogprobsPerOutput_[j].end());
      topCounts_[j] = static_cast<int32_t>(topTokensPerOutput_[j].size());
    }
  }

  // Decodes one call, removes its pad rows' cells, then samples the step's output rows among its rows.
  void decodeAndSample(const DecodeCall& call) {
    llama_context* ctx = state_->ctx;
    llama_batch& batch = state_->batch;
    batch.n_tokens = static_cast<int32_t>(call.size());
    for (size_t k = 0; k < call.size(); k++) {
      batch.token[k] = call[k].token;
      batch.pos[k] = call[k].pos;
      batch.n_seq_id[k] = 1;
      batch.seq_id[k][0] = call[k].seq;
      batch.logits[k] = call[k].logits;
    }

    const auto decodeStart = Clock::now();
    int32_t rc;
    {
      auto compute = state_->computeLock();
      rc = llama_decode(ctx, batch);
    }
    decodeMs_ += msSince(decodeStart);
    if (rc == 1) throw CodedError("LOOM_KV_FULL", "no free KV cells for this batch; the KV manager must reserve cells before decoding");
    if (rc == 2) throw CodedError("LOOM_DECODE_ABORTED", "decode was aborted");
    if (rc == -1) throw CodedError("LOOM_INVALID_BATCH", withLlamaReason("llama_decode rejected the batch"));
    if (rc != 0) throw CodedError("LOOM_DECODE_FAILED", withLlamaReason("llama_decode failed with code " + std::to_string(rc)));
    for (const CallRow& pad : call) {
      if (pad.row < 0) llama_memory_seq_rm(llama_get_memory(ctx), pad.seq, pad.pos, -1);
    }

    const auto sampleStart = Clock::now();
    for (size_t k = 0; k < call.size(); k++) {
      const int32_t j = call[k].row < 0 ? -1 : outputIndex_[call[k].row];
      if (j >= 0) sampleOutput(j, static_cast<int32_t>(k));
    }
    sampleMs_ += msSince(sampleStart);
  }

  // Samples output j from row k of the last call. A row followed by draft rows (speculative decoding) verifies the
  // draft in the next row: when the token sampled here differs from it, the rows after are not sampled (token -1),
  // so a sequence's sampler sees exactly the tokens it would have seen decoding one token a step.
  void sampleOutput(int32_t j, int32_t k) {
    if (skipped_[j]) return;
    const int32_t nVocab = llama_vocab_n_tokens(state_->model->vocab());
    const float* logits = llama_get_logits_ith(state_->ctx, k);
    if (!logits) {
      errors_.push_back({j, "LOOM_DECODE_FAILED", withLlamaReason("no logits for output row")});
      return;
    }
    try {
      sampled_[j] = request_.samplers[j]->sample(logits, nVocab, state_->scratch);
    } catch (const CodedError& e) {
      errors_.push_back({j, e.code(), e.what()});
    }
    const int32_t topN = request_.topLogprobs.empty() ? -1 : request_.topLogprobs[j];
    if (topN >= 0) computeLogprobs(logits, nVocab, sampled_[j], topN, sampledLogprobs_[j], topTokensPerOutput_[j], topLogprobsPerOutput_[j]);
    const int32_t drafts = request_.draftsAfter.empty() ? 0 : request_.draftsAfter[j];
    if (drafts > 0 && sampled_[j] != request_.tokens[request_.outputRows[j] + 1]) {
      for (int32_t d = 1; d <= drafts; d++) skipped_[j + d] = true;
    }
  }

  Napi::Value Resolve(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("tokens", copyOut<Napi::Int32Array>(env, sampled_));
    out.Set("sampledLogprobs", copyOut<Napi::Float32Array>(env, sampledLogprobs_));
    out.Set("topCounts", copyOut<Napi::Int32Array>(env, topCounts_));
    out.Set("topTokens", copyOut<Napi::Int32Array>(env, topTokens_));
    out.Set("topLogprobs", copyOut<Napi::Float32Array>(env, topLogprobValues_));
    Napi::Array errors = Napi::Array::New(env, errors_.size());
    for (size_t i = 0; i < errors_.size(); i++) {
      Napi::Object error = Napi::Object::New(env);
      error.Set("outputIndex", errors_[i].row);
      error.Set("code", errors_[i].code);
      error.Set("message", errors_[i].message);
      errors.Set(i, error);
    }
    out.Set("errors", errors);
    out.Set("decodeMs", decodeMs_);
    out.Set("sampleMs", sampleMs_);
    out.Set("kvSpanCells", kvSpanCells_);
    return out;
  }

 private:
  template <typename ArrayType, typename T>
  static ArrayType copyOut(Napi::Env env, const std::vector<T>& values) {
    ArrayType array = ArrayType::New(env, values.size());
    if (!values.empty()) std::memcpy(array.Data(), values.data(), values.size() * sizeof(T));
    return array;
  }

  std::shared_ptr<ContextState> state_;
  StepRequest request_;
  std::vector<int32_t> sampled_, topCounts_, topTokens_;
  std::vector<float> sampledLogprobs_, topLogprobValues_;
  // Filled per output as the segments are decoded, flattened in output order at the end.
  std::vector<std::vector<int32_t>> topTokensPerOutput_;
  std::vector<std::vector<float>> topLogprobsPerOutput_;
  std::vector<RowError> errors_;
  std::vector<bool> skipped_;
  std::vector<int32_t> outputIndex_;  // per step row: its output index, or -1
  double decodeMs_ = 0, sampleMs_ = 0;
  int64_t kvSpanCells_ = -1;
};

class InspectWorker : public PromiseWorker {
 public:
  InspectWorker(Napi::Env env, std::shared_ptr<ContextState> state, std::vector<int32_t> seqIds)
      : PromiseWorker(env), state_(std::move(state)), seqIds_(std::move(seqIds)) {}

 protected:
  void Run() override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    llama_memory_t memory = llama_get_memory(state_->ctx);
    usedCells_ = kvUsedCells(state_->ctx);
    spanCells_ = kvSpanCells(state_->ctx);
    for (int32_t seq : seqIds_) {
      posMin_.push_back(llama_memory_seq_pos_min(memory, seq));
      posMax_.push_back(llama_memory_seq_pos_max(memory, seq));
    }
  }
  Napi::Value Resolve(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("usedCells", usedCells_);
    out.Set("spanCells", spanCells_);
    out.Set("totalCells", llama_n_ctx(state_->ctx));
    Napi::Int32Array posMin = Napi::Int32Array::New(env, posMin_.size());
    Napi::Int32Array posMax = Napi::Int32Array::New(env, posMax_.size());
    std::copy(posMin_.begin(), posMin_.end(), posMin.Data());
    std::copy(posMax_.begin(), posMax_.end(), posMax.Data());
    out.Set("posMin", posMin);
    out.Set("posMax", posMax);
    return out;
  }

 private:
  std::shared_ptr<ContextState> state_;
  std::vector<int32_t> seqIds_, posMin_, posMax_;
  int64_t usedCells_ = -1, spanCells_ = -1;
};

// Pooled embeddings: sequences are packed into batches of up to n_ubatch tokens, one llama sequence id each, and
// the pool is cleared after every batch, since pooling only sees the tokens of the micro-batch being computed.
class EmbedWorker : public PromiseWorker {
 public:
  EmbedWorker(Napi::Env env, std::shared_ptr<ContextState> state, std::vector<std::vector<int32_t>> inputs)
      : PromiseWorker(env), state_(std::move(state)), inputs_(std::move(inputs)) {}

 protected:
  void Run() override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    llama_context* ctx = state_->ctx;
    const int32_t nEmbd = llama_model_n_embd(state_->model->model);
    const int32_t capacity = std::min<int32_t>(llama_n_ubatch(ctx), state_->batchCapacity);
    const int32_t maxSeqs = static_cast<int32_t>(llama_n_seq_max(ctx));
    llama_memory_t memory = llama_get_memory(ctx);
    for (const auto& input : inputs_) {
      if (input.empty()) throw CodedError("LOOM_INVALID_ARGUMENT", "an embedding input has no tokens");
      if (static_cast<int32_t>(input.size()) > capacity) {
        throw CodedError("LOOM_INPUT_TOO_LONG", "an embedding input has " + std::to_string(input.size()) +
                                                    " tokens; the most one input may have is " + std::to_string(capacity));
      }
    }
    results_.assign(inputs_.size(), std::vector<float>(nEmbd));
    size_t next = 0;
    while (next < inputs_.size()) {
      llama_batch& batch = state_->batch;
      batch.n_tokens = 0;
      const size_t first = next;
      while (next < inputs_.size() && static_cast<int32_t>(next - first) < maxSeqs &&
             batch.n_tokens + static_cast<int32_t>(inputs_[next].size()) <= capacity) {
        const int32_t seq = static_cast<int32_t>(next - first);
        for (size_t p = 0; p < inputs_[next].size(); p++) {
          const int32_t i = batch.n_tokens++;
          batch.token[i] = inputs_[next][p];
          batch.pos[i] = static_cast<int32_t>(p);
          batch.n_seq_id[i] = 1;
          batch.seq_id[i][0] = seq;
          batch.logits[i] = 1;
        }
        next++;
      }
      if (memory) llama_memory_clear(memory, true);
      const bool encoder = llama_model_has_encoder(state_->model->model) && !llama_model_has_decoder(state_->model->model);
      int32_t rc;
      {
        auto compute = state_->computeLock();
        rc = encoder ? llama_encode(ctx, batch) : llama_decode(ctx, batch);
      }
      if (rc != 0) throw CodedError("LOOM_DECODE_FAILED", withLlamaReason("embedding decode failed with code " + std::to_string(rc)));
      for (size_t k = first; k < next; k++) {
        const float* embedding = llama_get_embeddings_seq(ctx, static_cast<int32_t>(k - first));
        if (!embedding) throw CodedError("LOOM_DECODE_FAILED", "the context produced no pooled embedding (was it created with embeddings and a pooling type?)");
        std::memcpy(results_[k].data(), embedding, nEmbd * sizeof(float));
      }
    }
    if (memory) llama_memory_clear(memory, true);
  }
  Napi::Value Resolve(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, results_.size());
    for (size_t i = 0; i < results_.size(); i++) {
      Napi::Float32Array vector = Napi::Float32Array::New(env, results_[i].size());
      std::memcpy(vector.Data(), results_[i].data(), results_[i].size() * sizeof(float));
      out.Set(i, vector);
    }
    return out;
  }

 private:
  std::shared_ptr<ContextState> state_;
  std::vector<std::vector<int32_t>> inputs_;
  std::vector<std::vector<float>> results_;
};

struct ContextOptions {
  llama_context_params params = llama_context_default_params();
};

ggml_type kvCacheType(Napi::Env env, const std::string& name) {
  static const std::pair<const char*, ggml_type> types[] = {
      {"f32", GGML_TYPE_F32}, {"f16", GGML_TYPE_F16}, {"bf16", GGML_TYPE_BF16}, {"q8_0", GGML_TYPE_Q8_0},
      {"q4_0", GGML_TYPE_Q4_0}, {"q4_1", GGML_TYPE_Q4_1}, {"q5_0", GGML_TYPE_Q5_0}, {"q5_1", GGML_TYPE_Q5_1},
  };
  for (const auto& [typeName, type] : types) {
    if (name == typeName) return type;
  }
  throwCoded(env, "LOOM_INVALID_ARGUMENT", "unknown KV cache type '" + name + "' (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1)");
}

int32_t positiveInt(Napi::Env env, Napi::Object options, const char* key, int32_t fallback, int32_t max = INT32_MAX) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined()) return fallback;
  double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
  if (!(number >= 1 && number <= max && std::floor(number) == number)) {
    throwCoded(env, "LOOM_INVALID_ARGUMENT", std::string(key) + " must be an integer in [1, " + std::to_string(max) + "]");
  }
  return static_cast<int32_t>(number);
}

llama_context_params contextParams(Napi::Env env, Napi::Object options) {
  llama_context_params params = llama_context_default_params();
  // Unified: one pool every sequence's cells share (prefix cells shared in place, attention scans the whole
  // occupied pool). Per sequence: one stream of kvTokens / maxSequences cells each (attention scans only the
  // sequence's own stream; prefixes are shared by copying whole streams).
  Napi::Value unified = options.Get("kvUnified");
  params.kv_unified = !unified.IsBoolean() || unified.As<Napi::Boolean>().Value();
  params.no_perf = true;
  params.n_ctx = positiveInt(env, options, "kvTokens", 4096);
  params.n_batch = positiveInt(env, options, "batchTokens", std::min<int32_t>(params.n_ctx, 2048));
  params.n_ubatch = positiveInt(env, options, "microBatchTokens", std::min<int32_t>(params.n_batch, 512));
  params.n_seq_max = positiveInt(env, options, "maxSequences", 64, static_cast<int32_t>(llama_max_parallel_sequences()));
  params.n_threads = positiveInt(env, options, "threads", 1, 1024);
  params.n_threads_batch = positiveInt(env, options, "threadsBatch", params.n_threads, 1024);
  Napi::Value flash = options.Get("flashAttention");
  if (flash.IsString()) {
    std::string mode = flash.As<Napi::String>().Utf8Value();
    if (mode == "on") params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
    else if (mode == "off") params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    else if (mode == "auto") params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_AUTO;
    else throwCoded(env, "LOOM_INVALID_ARGUMENT", "flashAttention must be on, off or auto");
  }
  Napi::Value kvType = options.Get("kvCacheType");
  if (kvType.IsString()) params.type_k = params.type_v = kvCacheType(env, kvType.As<Napi::String>().Utf8Value());
  params.embeddings = options.Get("embeddings").IsBoolean() && options.Get("embeddings").As<Napi::Boolean>().Value();
  Napi::Value pooling = options.Get("pooling");
  if (pooling.IsString()) {
    std::string mode = pooling.As<Napi::String>().Utf8Value();
    if (mode == "none") params.pooling_type = LLAMA_POOLING_TYPE_NONE;
    else if (mode == "mean") params.pooling_type = LLAMA_POOLING_TYPE_MEAN;
    else if (mode == "cls") params.pooling_type = LLAMA_POOLING_TYPE_CLS;
    else if (mode == "last") params.pooling_type = LLAMA_POOLING_TYPE_LAST;
    else throwCoded(env, "LOOM_INVALID_ARGUMENT", "pooling must be none, mean, cls or last");
  }
  if (params.n_ubatch > params.n_batch) throwCoded(env, "LOOM_INVALID_ARGUMENT", "microBatchTokens must not exceed batchTokens");
  // llama.cpp reserves output rows for max(outputs, n_seq_max) and asserts that fits n_outputs_max (n_batch by
  // default): with more sequences than batch tokens it would abort the process.
  params.n_outputs_max = std::max(params.n_batch, params.n_seq_max);
  return params;
}

// llama.cpp would try to allocate a pool of any size, and where the kernel overcommits it then spends minutes
// touching memory it does not have; an estimate against the devices' free memory refuses such a pool at once.
void checkPoolFits(const llama_model* model, const llama_context_params& params) {
  const double layers = llama_model_n_layer(model);
  const double headDim = static_cast<double>(llama_model_n_embd(model)) / std::max(1, llama_model_n_head(model));
  const double kvWidth = headDim * llama_model_n_head_kv(model);
  const auto bytesPer = [](ggml_type type) { return static_cast<double>(ggml_type_size(type)) / ggml_blck_size(type); };
  const double needed = params.n_ctx * layers * kvWidth * (bytesPer(params.type_k) + bytesPer(params.type_v));
  double available = 0;
  for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
    size_t free = 0, total = 0;
    ggml_backend_dev_memory(ggml_backend_dev_get(i), &free, &total);
    available += free;
  }
  if (available > 0 && needed > available) {
    const auto gib = [](double bytes) { return std::to_string(bytes / (1 << 30)).substr(0, 6) + " GiB"; };
    throw CodedError("LOOM_CONTEXT_FAILED", "a KV pool of " + std::to_string(params.n_ctx) + " cells needs about " + gib(needed) +
                                                ", more than the " + gib(available) + " of free device memory");
  }
}

// Persistent CPU threadpools for ctx: the process-wide ones when `shared`, its own otherwise. Without them (no CPU
// backend functions) ggml makes a threadpool per graph; a shared context still computes under the lock.
void attachThreadpools(ContextState& state, const llama_context_params& params, uint32_t poll, bool shared) {
  state.sharedCompute = shared;
  auto decode = cpuThreadpool(params.n_threads, poll, shared);
  auto batch = params.n_threads_batch == params.n_threads ? decode : cpuThreadpool(params.n_threads_batch, poll, shared);
  if (!decode || !batch) return;
  state.decodePool = std::move(decode);
  state.batchPool = std::move(batch);
  llama_attach_threadpool(state.ctx, state.decodePool->get(), state.batchPool->get());
}

class CreateWorker : public PromiseWorker {
 public:
  CreateWorker(Napi::Env env, std::shared_ptr<ModelHandle> model, llama_context_params params, uint32_t poll,
               bool batchInvariant, bool sharedCompute)
      : PromiseWorker(env),
        model_(std::move(model)),
        params_(params),
        poll_(poll),
        batchInvariant_(batchInvariant),
        sharedCompute_(sharedCompute) {}

 protected:
  void Run() override {
    llama_context* ctx = nullptr;
    const std::string what = "failed to create a context with " + std::to_string(params_.n_ctx) + " KV cells";
    checkPoolFits(model_->model, params_);
    try {
      ctx = llama_init_from_model(model_->model, params_);
    } catch (const std::exception& e) {
      throw CodedError("LOOM_CONTEXT_FAILED", what + ": " + e.what());
    }
    if (!ctx) throw CodedError("LOOM_CONTEXT_FAILED", withLlamaReason(what + " (not enough memory?)"));
    // Batch-invariant steps add up to one pad row per sequence, and their calls must not be cut further.
    const int32_t capacity = static_cast<int32_t>(llama_n_batch(ctx)) - (batchInvariant_ ? params_.n_seq_max : 0);
    state_ = std::make_shared<ContextState>(model_, ctx, capacity, batchInvariant_);
    attachThreadpools(*state_, params_, poll_, sharedCompute_);
  }
  Napi::Value Resolve(Napi::Env env) override {
    auto* holder = new std::shared_ptr<ContextState>(state_);
    auto external = Napi::External<std::shared_ptr<ContextState>>::New(
        env, holder, [](Napi::Env, std::shared_ptr<ContextState>* p) { delete p; });
    Napi::Object context = addonData(env).contextClass.New({external});
    context.Set("kvTokens", llama_n_ctx(state_->ctx));
    context.Set("batchTokens", state_->batchCapacity);
    context.Set("batchInvariant", state_->batchInvariant);
    context.Set("microBatchTokens", llama_n_ubatch(state_->ctx));
    context.Set("maxSequences", llama_n_seq_max(state_->ctx));
    context.Set("cellsPerSequence", llama_n_ctx_seq(state_->ctx));
    context.Set("threads", llama_n_threads(state_->ctx));
    context.Set("threadsBatch", llama_n_threads_batch(state_->ctx));
    context.Set("embeddings", params_.embeddings);
    context.Set("sharedCompute", state_->sharedCompute);
    return context;
  }

 private:
  std::shared_ptr<ModelHandle> model_;
  llama_context_params params_;
  uint32_t poll_;
  bool batchInvariant_;
  bool sharedCompute_;
  std::shared_ptr<ContextState> state_;
};

// draftsAfter[j] = d: output rows j+1..j+d are the next rows of output j's sequence, each verifying one draft.
void checkDraftRuns(Napi::Env env, const StepRequest& request) {
  const auto& drafts = request.draftsAfter;
  if (drafts.empty()) return;
  const size_t nOut = request.outputRows.size();
  if (drafts.size() != nOut) throwCoded(env, "LOOM_INVALID_BATCH", "draftsAfter must have one entry per output row");
  for (size_t j = 0; j < nOut; j++) {
    if (drafts[j] < 0 || j + drafts[j] >= nOut) throwCoded(env, "LOOM_INVALID_BATCH", "draftsAfter runs past the output rows");
    for (int32_t d = 1; d <= drafts[j]; d++) {
      const int32_t row = request.outputRows[j + d];
      if (row != request.outputRows[j] + d || request.seqIds[row] != request.seqIds[request.outputRows[j]] ||
          (j + d < nOut && drafts[j + d] != drafts[j] - d)) {
        throwCoded(env, "LOOM_INVALID_BATCH", "draftsAfter must name consecutive output rows of one sequence");
      }
    }
  }
}

StepRequest parseStep(Napi::Env env, const ContextState& state, Napi::Object batch) {
  StepRequest request;
  request.tokens = int32Vector(env, batch.Get("tokens"), "tokens");
  request.positions = int32Vector(env, batch.Get("positions"), "positions");
  request.seqIds = int32Vector(env, batch.Get("seqIds"), "seqIds");
  request.outputRows = int32Vector(env, batch.Get("outputRows"), "outputRows");
  request.topLogprobs = int32Vector(env, batch.Get("topLogprobs"), "topLogprobs", true);
  request.kvOps = int32Vector(env, batch.Get("kvOps"), "kvOps", true);
  const size_t n = request.tokens.size();
  if (request.positions.size() != n || request.seqIds.size() != n) {
    throwCoded(env, "LOOM_INVALID_BATCH", "tokens, positions and seqIds must have the same length");
  }
  if (static_cast<int32_t>(n) > state.batchCapacity) {
    throwCoded(env, "LOOM_INVALID_BATCH", "batch of " + std::to_string(n) + " tokens exceeds batchTokens " + std::to_string(state.batchCapacity));
  }
  const int32_t nVocab = llama_vocab_n_tokens(state.model->vocab());
  for (size_t i = 0; i < n; i++) {
    checkSeqId(env, request.seqIds[i]);
    if (request.tokens[i] < 0 || request.tokens[i] >= nVocab) {
      throwCoded(env, "LOOM_INVALID_BATCH", "token " + std::to_string(request.tokens[i]) + " is outside the vocabulary");
    }
    if (request.positions[i] < 0) throwCoded(env, "LOOM_INVALID_BATCH", "positions must not be negative");
  }
  for (size_t j = 0; j < request.outputRows.size(); j++) {
    const int32_t row = request.outputRows[j];
    if (row < 0 || row >= static_cast<int32_t>(n) || (j > 0 && row <= request.outputRows[j - 1])) {
      throwCoded(env, "LOOM_INVALID_BATCH", "outputRows must be increasing row indices of the batch");
    }
  }
  request.draftsAfter = int32Vector(env, batch.Get("draftsAfter"), "draftsAfter", true);
  checkDraftRuns(env, request);
  if (!request.topLogprobs.empty() && request.topLogprobs.size() != request.outputRows.size()) {
    throwCoded(env, "LOOM_INVALID_BATCH", "topLogprobs must have one entry per output row");
  }
  for (int32_t topN : request.topLogprobs) {
    if (topN > kMaxTopLogprobs) throwCoded(env, "LOOM_INVALID_BATCH", "at most 20 top logprobs per row");
  }
  Napi::Value samplersValue = batch.Get("samplers");
  if (!samplersValue.IsArray() || samplersValue.As<Napi::Array>().Length() != request.outputRows.size()) {
    throwCoded(env, "LOOM_INVALID_BATCH", "samplers must be an array with one Sampler per output row");
  }
  Napi::Array samplers = samplersValue.As<Napi::Array>();
  for (uint32_t j = 0; j < samplers.Length(); j++) request.samplers.push_back(Sampler::Unwrap(samplers.Get(j))->chain(env));
  if (request.kvOps.size() % kKvOpWidth != 0) throwCoded(env, "LOOM_INVALID_BATCH", "kvOps must hold groups of 5 integers");
  for (size_t i = 0; i < request.kvOps.size(); i += kKvOpWidth) {
    const int32_t code = request.kvOps[i];
    if (code < KV_COPY || code > KV_CLEAR) throwCoded(env, "LOOM_INVALID_BATCH", "unknown KV op code " + std::to_string(code));
    if (code != KV_CLEAR) checkSeqId(env, request.kvOps[i + 1]);
    if (code == KV_COPY) checkSeqId(env, request.kvOps[i + 2]);
  }
  Napi::Value adaptersValue = batch.Get("adapters");
  if (adaptersValue.IsArray()) {
    Napi::Array adapters = adaptersValue.As<Napi::Array>();
    request.setAdapters = true;
    Napi::Value scalesValue = batch.Get("adapterScales");
    if (!scalesValue.IsTypedArray() || scalesValue.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
        scalesValue.As<Napi::Float32Array>().ElementLength() != adapters.Length()) {
      throwCoded(env, "LOOM_INVALID_BATCH", "adapterScales must be a Float32Array with one scale per adapter");
    }
    Napi::Float32Array scales = scalesValue.As<Napi::Float32Array>();
    for (uint32_t i = 0; i < adapters.Length(); i++) {
      auto adapter = LoraAdapter::Unwrap(adapters.Get(i))->handle(env);
      if (adapter->model != state.model) throwCoded(env, "LOOM_ADAPTER_INVALID", "the adapter was loaded for another model");
      request.adapters.push_back(adapter);
      request.adapterScales.push_back(scales[i]);
    }
  }
  return request;
}

template <typename Worker, typename... Args>
Napi::Value queue(Napi::Env env, Args&&... args) {
  auto* worker = new Worker(env, std::forward<Args>(args)...);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

Napi::Function Context::Define(Napi::Env env) {
  return DefineClass(env, "Context",
                     {
                         StaticMethod<&Context::Create>("create"),
                         InstanceMethod<&Context::Step>("step"),
                         InstanceMethod<&Context::Inspect>("inspect"),
                         InstanceMethod<&Context::Embed>("embed"),
                         InstanceMethod<&Context::Dispose>("dispose"),
                     });
}

Context::Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throwCoded(info.Env(), "LOOM_INVALID_ARGUMENT", "Context cannot be constructed directly; use Context.create(model, options)");
  }
  state_ = *info[0].As<Napi::External<std::shared_ptr<ContextState>>>().Data();
}

std::shared_ptr<ContextState> Context::state(Napi::Env env) const {
  if (!state_) throwCoded(env, "LOOM_DISPOSED", "the context was disposed");
  return state_;
}

Napi::Value Context::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto model = Model::Unwrap(info[0])->handle(env);
  Napi::Object options = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  Napi::Value pollValue = options.Get("threadPoll");
  uint32_t poll = 50;
  if (!pollValue.IsUndefined()) {
    double value = pollValue.IsNumber() ? pollValue.As<Napi::Number>().DoubleValue() : -1;
    if (!(value >= 0 && value <= 100)) throwCoded(env, "LOOM_INVALID_ARGUMENT", "threadPoll must be in [0, 100]");
    poll = static_cast<uint32_t>(value);
  }
  llama_context_params params = contextParams(env, options);
  const bool batchInvariant = options.Get("batchInvariant").IsBoolean() && options.Get("batchInvariant").As<Napi::Boolean>().Value();
  if (batchInvariant) {
    // Measured batch-invariant only with flash attention (decode-calls.cpp); without it, attention is a matmul
    // whose kernel follows the rows per stream.
    if (params.flash_attn_type == LLAMA_FLASH_ATTN_TYPE_DISABLED) {
      throwCoded(env, "LOOM_INVALID_ARGUMENT", "batchInvariant needs flash attention (flashAttention on or auto)");
    }
    params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
    params.n_batch += params.n_seq_max;
    params.n_ubatch = params.n_batch;
    params.n_outputs_max = params.n_batch;
  }
  // Contexts of models on the CPU share one threadpool and take turns computing (compute.h); sharedCompute: false
  // gives a context pools of its own (a model offloaded to a GPU, whose contexts may compute concurrently).
  Napi::Value shared = options.Get("sharedCompute");
  const bool sharedCompute = !shared.IsBoolean() || shared.As<Napi::Boolean>().Value();
  return queue<CreateWorker>(env, model, params, poll, batchInvariant, sharedCompute);
}

Napi::Value Context::Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto current = state(env);
  if (!info[0].IsObject()) throwCoded(env, "LOOM_INVALID_BATCH", "step(batch): batch must be an object");
  return queue<StepWorker>(env, current, parseStep(env, *current, info[0].As<Napi::Object>()));
}

Napi::Value Context::Inspect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto current = state(env);
  std::vector<int32_t> seqIds = int32Vector(env, info[0], "seqIds", true);
  for (int32_t seq : seqIds) checkSeqId(env, seq);
  return queue<InspectWorker>(env, current, std::move(seqIds));
}

Napi::Value Context::Embed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto current = state(env);
  if (!info[0].IsArray()) throwCoded(env, "LOOM_INVALID_ARGUMENT", "embed(inputs): inputs must be an array of Int32Array");
  Napi::Array inputs = info[0].As<Napi::Array>();
  std::vector<std::vector<int32_t>> tokens;
  const int32_t nVocab = llama_vocab_n_tokens(current->model->vocab());
  for (uint32_t i = 0; i < inputs.Length(); i++) {
    tokens.push_back(int32Vector(env, inputs.Get(i), "embedding input"));
    for (int32_t token : tokens.back()) {
      if (token < 0 || token >= nVocab) throwCoded(env, "LOOM_INVALID_ARGUMENT", "token " + std::to_string(token) + " is outside the vocabulary");
    }
  }
  return queue<EmbedWorker>(env, current, std::move(tokens));
}

Napi::Value Context::Dispose(const Napi::CallbackInfo& info) {
  state_.reset();
  return info.Env().Undefined();
}

}  // namespace loom
