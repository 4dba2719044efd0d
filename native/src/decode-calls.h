// How one step's rows are cut into llama_decode calls. llama.cpp cuts each call into micro-batches itself (in
// order for a unified pool; by runs of consecutive sequence ids with a stream per sequence), and the CPU kernels
// that compute a row depend on the micro-batch it lands in, so the cut decides the arithmetic.
#pragma once

#include <cstdint>
#include <vector>

#include "llama.h"

namespace loom {

// One row of a llama_decode call: a row of the step (row >= 0), or a throwaway pad row (row -1) whose cell is
// removed right after the call.
struct CallRow {
  int32_t row;
  llama_token token;
  llama_pos pos;
  llama_seq_id seq;
  bool logits;
};

using DecodeCall = std::vector<CallRow>;

struct StepRows {
  const std::vector<int32_t>& tokens;
  const std::vector<int32_t>& positions;
  const std::vector<int32_t>& seqIds;
  const std::vector<int32_t>& outputRows;  // increasing
};

enum class CallPolicy {
  // One call: llama.cpp's own cut (a stream per sequence).
  Whole,
  // A unified pool: the leading rows whose sequence has no other row go alone, so decode rows take the per-row
  // flash-attention kernel, which skips other sequences' cells.
  DecodeRowsFirst,
  // Batch-invariant (deterministic mode): a row's arithmetic must not depend on its neighbours.
  BatchInvariant,
};

// The calls for a step's rows under `policy`; `perSequenceStreams` tells how llama.cpp cuts a call.
std::vector<DecodeCall> planDecodeCalls(const StepRows& rows, CallPolicy policy, bool perSequenceStreams);

}  // namespace loom
