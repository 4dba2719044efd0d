// JSON crossing the addon boundary for the chat layer: JS strings in, llama.cpp's common_json inside.
#pragma once

#include <string>

#include "common.h"
#include "json.h"

namespace loom {

// Parses a JS string argument as JSON; anything else, or text that is not JSON, is a coded error.
common_json jsonArgument(const Napi::Value& value, const std::string& what);

// The value at key when it is present and not null, else nullptr.
const common_json* jsonField(const common_json& object, const std::string& key);

}  // namespace loom
