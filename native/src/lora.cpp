#include "lora.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "addon.h"
#include "model.h"

namespace loom {

namespace {

class LoadLoraWorker : public PromiseWorker {
 public:
  LoadLoraWorker(Napi::Env env, std::shared_ptr<ModelHandle> model, std::string path)
      : PromiseWorker(env), model_(std::move(model)), path_(std::move(path)) {}

 protected:
  void Run() override {
    FILE* file = fopen(path_.c_str(), "rb");
    if (!file) throw CodedError("LOOM_ADAPTER_NOT_FOUND", "cannot open adapter file '" + path_ + "': " + strerror(errno));
    char magic[4] = {0, 0, 0, 0};
    size_t n = fread(magic, 1, 4, file);
    fclose(file);
    if (n != 4 || memcmp(magic, "GGUF", 4) != 0) {
      throw CodedError("LOOM_ADAPTER_INVALID", "'" + path_ + "' is not a GGUF file");
    }
    llama_adapter_lora* adapter = nullptr;
    try {
      adapter = llama_adapter_lora_init(model_->model, path_.c_str());
    } catch (const std::exception& e) {
      throw CodedError("LOOM_ADAPTER_INVALID", "failed to load adapter '" + path_ + "': " + e.what());
    }
    if (!adapter) throw CodedError("LOOM_ADAPTER_INVALID", withLlamaReason("failed to load adapter '" + path_ + "'"));
    handle_ = std::make_shared<LoraHandle>(model_, adapter);
  }
  Napi::Value Resolve(Napi::Env env) override {
    auto* holder = new std::shared_ptr<LoraHandle>(std::move(handle_));
    auto external = Napi::External<std::shared_ptr<LoraHandle>>::New(
        env, holder, [](Napi::Env, std::shared_ptr<LoraHandle>* p) { delete p; });
    return addonData(env).loraClass.New({external});
  }

 private:
  std::shared_ptr<ModelHandle> model_;
  std::string path_;
  std::shared_ptr<LoraHandle> handle_;
};

}  // namespace

Napi::Function LoraAdapter::Define(Napi::Env env) {
  return DefineClass(env, "LoraAdapter",
                     {
                         StaticMethod<&LoraAdapter::Load>("load"),
                         InstanceMethod<&LoraAdapter::Metadata>("metadata"),
                         InstanceMethod<&LoraAdapter::Dispose>("dispose"),
                     });
}

LoraAdapter::LoraAdapter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LoraAdapter>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throwCoded(info.Env(), "LOOM_INVALID_ARGUMENT", "LoraAdapter cannot be constructed directly; use LoraAdapter.load(model, path)");
  }
  handle_ = *info[0].As<Napi::External<std::shared_ptr<LoraHandle>>>().Data();
}

LoraAdapter* LoraAdapter::Unwrap(Napi::Value value) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addonData(value.Env()).loraClass.Value())) {
    throwCoded(value.Env(), "LOOM_INVALID_ARGUMENT", "expected a LoraAdapter");
  }
  return Napi::ObjectWrap<LoraAdapter>::Unwrap(value.As<Napi::Object>());
}

std::shared_ptr<LoraHandle> LoraAdapter::handle(Napi::Env env) const {
  if (!handle_) throwCoded(env, "LOOM_DISPOSED", "the adapter was disposed");
  return handle_;
}

Napi::Value LoraAdapter::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto model = Model::Unwrap(info[0])->handle(env);
  if (!info[1].IsString()) throwCoded(env, "LOOM_INVALID_ARGUMENT", "LoraAdapter.load(model, path): path must be a string");
  auto* worker = new LoadLoraWorker(env, model, info[1].As<Napi::String>().Utf8Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value LoraAdapter::Metadata(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto lora = handle(env);
  Napi::Object out = Napi::Object::New(env);
  std::vector<char> key(256), value(1024);
  const int32_t count = llama_adapter_meta_count(lora->adapter);
  for (int32_t i = 0; i < count; i++) {
    if (llama_adapter_meta_key_by_index(lora->adapter, i, key.data(), key.size()) < 0) continue;
    int32_t n = llama_adapter_meta_val_str_by_index(lora->adapter, i, value.data(), value.size());
    if (n >= 0) out.Set(key.data(), std::string(value.data(), std::min<size_t>(n, value.size() - 1)));
  }
  return out;
}

Napi::Value LoraAdapter::Dispose(const Napi::CallbackInfo& info) {
  handle_.reset();
  return info.Env().Undefined();
}

}  // namespace loom
