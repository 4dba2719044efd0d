#include "model.h"

#include <cstdio>
#include <cstring>
#include <vector>

#include "addon.h"

namespace loom {

namespace {

std::string metaString(const llama_model* model, const char* key) {
  std::vector<char> buf(256);
  int32_t n = llama_model_meta_val_str(model, key, buf.data(), buf.size());
  if (n < 0) return "";
  if (static_cast<size_t>(n) >= buf.size()) {
    buf.resize(n + 1);
    llama_model_meta_val_str(model, key, buf.data(), buf.size());
  }
  return std::string(buf.data(), n);
}

// llama.cpp's own message for a file that is not GGUF is a log line; a direct check gives the caller a clear one.
void checkGgufFile(const std::string& path) {
  FILE* file = fopen(path.c_str(), "rb");
  if (!file) throw CodedError("LOOM_MODEL_NOT_FOUND", "cannot open model file '" + path + "': " + strerror(errno));
  char magic[4] = {0, 0, 0, 0};
  size_t n = fread(magic, 1, 4, file);
  fclose(file);
  if (n != 4 || memcmp(magic, "GGUF", 4) != 0) {
    throw CodedError("LOOM_MODEL_INVALID", "'" + path + "' is not a GGUF file (it does not start with the GGUF magic)");
  }
}

class LoadWorker : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, llama_model_params params)
      : PromiseWorker(env), path_(std::move(path)), params_(params) {}

 protected:
  void Run() override {
    checkGgufFile(path_);
    llama_model* model = llama_model_load_from_file(path_.c_str(), params_);
    if (!model) throw CodedError("LOOM_MODEL_INVALID", withLlamaReason("failed to load model '" + path_ + "'"));
    handle_ = std::make_shared<ModelHandle>(model);
  }
  Napi::Value Resolve(Napi::Env env) override {
    auto* holder = new std::shared_ptr<ModelHandle>(std::move(handle_));
    auto external = Napi::External<std::shared_ptr<ModelHandle>>::New(
        env, holder, [](Napi::Env, std::shared_ptr<ModelHandle>* p) { delete p; });
    return addonData(env).modelClass.New({external});
  }

 private:
  std::string path_;
  llama_model_params params_;
  std::shared_ptr<ModelHandle> handle_;
};

llama_token tokenArg(const Napi::CallbackInfo& info, size_t index, const ModelHandle& model) {
  if (!info[index].IsNumber()) throwCoded(info.Env(), "LOOM_INVALID_ARGUMENT", "token must be a number");
  int32_t token = info[index].As<Napi::Number>().Int32Value();
  if (token < 0 || token >= llama_vocab_n_tokens(model.vocab())) {
    throwCoded(info.Env(), "LOOM_INVALID_ARGUMENT", "token " + std::to_string(token) + " is outside the vocabulary");
  }
  return token;
}

}  // namespace

Napi::Function Model::Define(Napi::Env env) {
  return DefineClass(env, "Model",
                     {
                         StaticMethod<&Model::Load>("load"),
                         InstanceMethod<&Model::Info>("info"),
                         InstanceMethod<&Model::Metadata>("metadata"),
                         InstanceMethod<&Model::Tokenize>("tokenize"),
                         InstanceMethod<&Model::TokenToBytes>("tokenToBytes"),
                         InstanceMethod<&Model::Detokenize>("detokenize"),
                         InstanceMethod<&Model::Dispose>("dispose"),
                     });
}

Model::Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throwCoded(info.Env(), "LOOM_INVALID_ARGUMENT", "Model cannot be constructed directly; use Model.load(path)");
  }
  handle_ = *info[0].As<Napi::External<std::shared_ptr<ModelHandle>>>().Data();
}

Model* Model::Unwrap(Napi::Value value) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addonData(value.Env()).modelClass.Value())) {
    throwCoded(value.Env(), "LOOM_INVALID_ARGUMENT", "expected a Model");
  }
  return Napi::ObjectWrap<Model>::Unwrap(value.As<Napi::Object>());
}

std::shared_ptr<ModelHandle> Model::handle(Napi::Env env) const {
  if (!handle_) throwCoded(env, "LOOM_DISPOSED", "the model was disposed");
  return handle_;
}

Napi::Value Model::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throwCoded(env, "LOOM_INVALID_ARGUMENT", "Model.load(path, options): path must be a string");
  llama_model_params params = llama_model_default_params();
  if (info[1].IsObject()) {
    Napi::Object options = info[1].As<Napi::Object>();
    if (options.Get("gpuLayers").IsNumber()) params.n_gpu_layers = options.Get("gpuLayers").As<Napi::Number>().Int32Value();
    if (options.Get("useMmap").IsBoolean()) {
      params.load_mode = options.Get("useMmap").As<Napi::Boolean>() ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
    }
    if (options.Get("vocabOnly").IsBoolean()) params.vocab_only = options.Get("vocabOnly").As<Napi::Boolean>();
  }
  auto* worker = new LoadWorker(env, info[0].As<Napi::String>().Utf8Value(), params);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Model::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto model = handle(env);
  const llama_vocab* vocab = model->vocab();
  Napi::Object out = Napi::Object::New(env);
  char desc[256];
  llama_model_desc(model->model, desc, sizeof(desc));
  out.Set("architecture", metaString(model->model, "general.architecture"));
  out.Set("name", metaString(model->model, "general.name"));
  out.Set("description", std::string(desc));
  out.Set("parameterCount", static_cast<double>(llama_model_n_params(model->model)));
  out.Set("sizeBytes", static_cast<double>(llama_model_size(model->model)));
  out.Set("contextLengthTrain", llama_model_n_ctx_train(model->model));
  out.Set("embeddingSize", llama_model_n_embd(model->model));
  out.Set("layerCount", llama_model_n_layer(model->model));
  out.Set("headCount", llama_model_n_head(model->model));
  out.Set("headCountKv", llama_model_n_head_kv(model->model));
  out.Set("hasEncoder", llama_model_has_encoder(model->model));
  out.Set("isRecurrent", llama_model_is_recurrent(model->model) || llama_model_is_hybrid(model->model));
  const int32_t nVocab = llama_vocab_n_tokens(vocab);
  out.Set("vocabSize", nVocab);
  out.Set("bosToken", llama_vocab_bos(vocab));
  out.Set("eosToken", llama_vocab_eos(vocab));
  out.Set("eotToken", llama_vocab_eot(vocab));
  out.Set("addBos", llama_vocab_get_add_bos(vocab));
  out.Set("addEos", llama_vocab_get_add_eos(vocab));
  std::vector<int32_t> eog;
  for (int32_t t = 0; t < nVocab; t++) {
    if (llama_vocab_is_eog(vocab, t)) eog.push_back(t);
  }
  Napi::Int32Array eogArray = Napi::Int32Array::New(env, eog.size());
  std::copy(eog.begin(), eog.end(), eogArray.Data());
  out.Set("endOfGenerationTokens", eogArray);
  const char* tmpl = llama_model_chat_template(model->model, nullptr);
  out.Set("chatTemplate", tmpl ? Napi::Value(Napi::String::New(env, tmpl)) : env.Null());
  return out;
}

Napi::Value Model::Metadata(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto model = handle(env);
  Napi::Object out = Napi::Object::New(env);
  std::vector<char> key(256), value(4096);
  const int32_t count = llama_model_meta_count(model->model);
  for (int32_t i = 0; i < count; i++) {
    if (llama_model_meta_key_by_index(model->model, i, key.data(), key.size()) < 0) continue;
    int32_t n = llama_model_meta_val_str_by_index(model->model, i, value.data(), value.size());
    if (n < 0) continue;
    if (static_cast<size_t>(n) >= value.size()) {
      value.resize(n + 1);
      llama_model_meta_val_str_by_index(model->model, i, value.data(), value.size());
    }
    out.Set(key.data(), std::string(value.data(), n));
  }
  return out;
}

Napi::Value Model::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto model = handle(env);
  if (!info[0].IsString()) throwCoded(env, "LOOM_INVALID_ARGUMENT", "tokenize(text, addSpecial, parseSpecial): text must be a string");
  std::string text = info[0].As<Napi::String>().Utf8Value();
  bool addSpecial = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  bool parseSpecial = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  std::vector<llama_token> tokens(text.size() + 2);
  int32_t n = llama_tokenize(model->vocab(), text.data(), text.size(), tokens.data(), tokens.size(), addSpecial, parseSpecial);
  if (n < 0) {
    if (n == INT32_MIN) throwCoded(env, "LOOM_INVALID_ARGUMENT", "text is too long to tokenize");
    tokens.resize(-n);
    n = llama_tokenize(model->vocab(), text.data(), text.size(), tokens.data(), tokens.size(), addSpecial, parseSpecial);
  }
  Napi::Int32Array out = Napi::Int32Array::New(env, n);
  std::copy(tokens.begin(), tokens.begin() + n, out.Data());
  return out;
}

Napi::Value Model::TokenToBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto model = handle(env);
  llama_token token = tokenArg(info, 0, *model);
  bool special = !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
  char buf[256];
  int32_t n = llama_token_to_piece(model->vocab(), token, buf, sizeof(buf), 0, special);
  std::vector<char> big;
  const char* data = buf;
  if (n < 0) {
    big.resize(-n);
    n = llama_token_to_piece(model->vocab(), token, big.data(), big.size(), 0, special);
    data = big.data();
  }
  Napi::Uint8Array out = Napi::Uint8Array::New(env, n);
  memcpy(out.Data(), data, n);
  return out;
}

Napi::Value Model::Detokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto model = handle(env);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throwCoded(env, "LOOM_INVALID_ARGUMENT", "detokenize(tokens, removeSpecial, unparseSpecial): tokens must be an Int32Array");
  }
  Napi::Int32Array tokens = info[0].As<Napi::Int32Array>();
  const int32_t nVocab = llama_vocab_n_tokens(model->vocab());
  for (size_t i = 0; i < tokens.ElementLength(); i++) {
    if (tokens[i] < 0 || tokens[i] >= nVocab) {
      throwCoded(env, "LOOM_INVALID_ARGUMENT", "token " + std::to_string(tokens[i]) + " is outside the vocabulary");
    }
  }
  bool removeSpecial = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  bool unparseSpecial = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  std::vector<char> text(tokens.ElementLength() * 8 + 16);
  int32_t n = llama_detokenize(model->vocab(), tokens.Data(), tokens.ElementLength(), text.data(), text.size(), removeSpecial, unparseSpecial);
  if (n < 0) {
    text.resize(-n);
    n = llama_detokenize(model->vocab(), tokens.Data(), tokens.ElementLength(), text.data(), text.size(), removeSpecial, unparseSpecial);
  }
  return Napi::String::New(env, text.data(), n);
}

Napi::Value Model::Dispose(const Napi::CallbackInfo& info) {
  handle_.reset();
  return info.Env().Undefined();
}

}  // namespace loom
