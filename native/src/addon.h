// Per-environment data: the constructors native code needs to build JS objects around native handles.
#pragma once

#include <napi.h>

namespace loom {

struct AddonData {
  Napi::FunctionReference modelClass;
  Napi::FunctionReference contextClass;
  Napi::FunctionReference loraClass;
  Napi::FunctionReference samplerClass;
};

inline AddonData& addonData(Napi::Env env) {
  return *env.GetInstanceData<AddonData>();
}

}  // namespace loom
