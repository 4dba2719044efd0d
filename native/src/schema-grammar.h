// jsonSchemaToGrammar: llama.cpp's JSON-schema-to-GBNF converter (json_schema_to_grammar), as llama-server uses it.
#pragma once

#include "common.h"

namespace loom {

Napi::Value JsonSchemaToGrammar(const Napi::CallbackInfo& info);

}  // namespace loom
