// Module entry: backend loading, logging, and the classes of the addon's surface.
#include <napi.h>

#include <mutex>

#include "addon.h"
#include "chat-parser.h"
#include "chat-templates.h"
#include "context.h"
#include "ggml-backend.h"
#include "log.h"
#include "lora.h"
#include "model.h"
#include "sampler.h"
#include "heap.h"
#include "schema-grammar.h"

namespace loom {

namespace {

std::once_flag backendsLoaded;

// init(libDir): loads the ggml backends (CPU variants, CUDA, Vulkan, Metal) that sit beside the prebuilt libraries.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throwCoded(env, "LOOM_INVALID_ARGUMENT", "init(libDir): libDir must be a string");
  std::string libDir = info[0].As<Napi::String>().Utf8Value();
  std::call_once(backendsLoaded, [&] {
    ggml_backend_load_all_from_path(libDir.c_str());
    llama_backend_init();
  });
  Napi::Array devices = Napi::Array::New(env);
  for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
    ggml_backend_dev_t device = ggml_backend_dev_get(i);
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("name", ggml_backend_dev_name(device));
    entry.Set("description", ggml_backend_dev_description(device));
    size_t free = 0, total = 0;
    ggml_backend_dev_memory(device, &free, &total);
    entry.Set("memoryFreeBytes", static_cast<double>(free));
    entry.Set("memoryTotalBytes", static_cast<double>(total));
    devices.Set(devices.Length(), entry);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("devices", devices);
  out.Set("systemInfo", llama_print_system_info());
  out.Set("supportsGpuOffload", llama_supports_gpu_offload());
  out.Set("maxSequences", static_cast<double>(llama_max_parallel_sequences()));
  return out;
}

Napi::Value SetLogLevel(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throwCoded(info.Env(), "LOOM_INVALID_ARGUMENT", "setLogLevel(level): level must be 0..4");
  setLogLevel(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  limitMallocArenas();
  installLogHandler();
  auto* data = new AddonData();
  env.SetInstanceData(data);
  Napi::Function model = Model::Define(env);
  Napi::Function context = Context::Define(env);
  Napi::Function lora = LoraAdapter::Define(env);
  Napi::Function sampler = Sampler::Define(env);
  data->modelClass = Napi::Persistent(model);
  data->contextClass = Napi::Persistent(context);
  data->loraClass = Napi::Persistent(lora);
  data->samplerClass = Napi::Persistent(sampler);
  exports.Set("ChatTemplates", ChatTemplates::Define(env));
  exports.Set("ChatParser", ChatParser::Define(env));
  exports.Set("jsonSchemaToGrammar", Napi::Function::New(env, JsonSchemaToGrammar));
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("setLogLevel", Napi::Function::New(env, SetLogLevel));
  exports.Set("Model", model);
  exports.Set("Context", context);
  exports.Set("LoraAdapter", lora);
  exports.Set("Sampler", sampler);
  return exports;
}

}  // namespace

}  // namespace loom

static Napi::Object RegisterLoom(Napi::Env env, Napi::Object exports) {
  return loom::Register(env, exports);
}

NODE_API_MODULE(loom, RegisterLoom)
