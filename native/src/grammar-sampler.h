// The grammar stage of a sequence's sampler, built from the sampler options as llama-server's common_sampler builds
// it: a plain grammar (a client's GBNF, response_format), or a chat-layer grammar that may be lazy (it engages when
// the output matches a trigger), is prefilled with the generation prompt the template already wrote, and stays idle
// inside a thinking block so that a trigger the model merely thinks about does not start a tool call.
#pragma once

#include "common.h"

namespace loom {

// nullptr when the options carry no grammar. Throws CodedError LOOM_INVALID_GRAMMAR for a grammar or a trigger
// that does not compile.
llama_sampler* buildGrammarSampler(Napi::Object options, const llama_vocab* vocab);

}  // namespace loom
