#include "schema-grammar.h"

#include "chat-json.h"
#include "json-schema-to-grammar.h"

namespace loom {

// jsonSchemaToGrammar(schemaJson): GBNF text whose root rule matches the JSON values the schema allows. A schema
// the converter rejects (bad $ref, invalid pattern, unknown type) throws LOOM_INVALID_SCHEMA.
Napi::Value JsonSchemaToGrammar(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  common_json schema = jsonArgument(info[0], "jsonSchemaToGrammar(schema): schema");
  try {
    return Napi::String::New(env, json_schema_to_grammar(schema, true));
  } catch (const std::exception& e) {
    throwCoded(env, "LOOM_INVALID_SCHEMA", e.what());
  }
}

}  // namespace loom
