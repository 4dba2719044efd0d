// Tool-call grammars with OpenAI's semantics of tool_choice and parallel_tool_calls, derived from the grammar
// llama.cpp's chat layer builds. llama.cpp lets text come before a required call and lets calls repeat whatever
// parallel_tool_calls says; this tightens both at the source of the grammar, its PEG parser.
#pragma once

#include "chat.h"

namespace loom {

// Rewrites params.grammar (params.parser stays as it is: it reads anything the new grammar allows).
// callsFirst: the output is the call(s) right away; a reasoning block the format allows before them stays, free text
// (content, a preamble) goes. singleCall: exactly one call, after which the grammar is complete, so only
// end-of-generation may follow. Throws CodedError LOOM_TOOL_GRAMMAR_FAILED when the grammar does not have the shape
// this expects of llama.cpp's output.
void tightenToolGrammar(common_chat_params& params, bool callsFirst, bool singleCall);

}  // namespace loom
