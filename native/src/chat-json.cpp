#include "chat-json.h"

namespace loom {

common_json jsonArgument(const Napi::Value& value, const std::string& what) {
  if (!value.IsString()) throwCoded(value.Env(), "LOOM_INVALID_ARGUMENT", what + " must be a JSON string");
  common_json parsed = common_json::parse_no_throw(value.As<Napi::String>().Utf8Value());
  if (parsed.is_discarded()) throwCoded(value.Env(), "LOOM_INVALID_ARGUMENT", what + " is not valid JSON");
  return parsed;
}

const common_json* jsonField(const common_json& object, const std::string& key) {
  if (!object.is_object() || !object.contains(key)) return nullptr;
  const common_json& value = object.at(key);
  return value.is_null() ? nullptr : &value;
}

}  // namespace loom
