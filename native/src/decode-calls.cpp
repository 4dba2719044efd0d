#include "decode-calls.h"

#include <algorithm>
#include <unordered_map>

namespace loom {

namespace {

// From this many query rows of one sequence in a micro-batch, ggml's CPU flash attention takes its tiled kernel
// (GGML_FA_TILE_Q), which accumulates in another order than the per-row kernel.
constexpr int32_t kTiledAttentionRows = 64;

std::unordered_map<int32_t, int32_t> rowsPerSequence(const StepRows& rows) {
  std::unordered_map<int32_t, int32_t> count;
  for (int32_t seq : rows.seqIds) count[seq]++;
  return count;
}

CallRow rowOf(const StepRows& rows, int32_t i, bool logits) {
  return {i, rows.tokens[i], rows.positions[i], rows.seqIds[i], logits};
}

std::vector<bool> outputFlags(const StepRows& rows) {
  std::vector<bool> isOutput(rows.tokens.size(), false);
  for (int32_t row : rows.outputRows) isOutput[row] = true;
  return isOutput;
}

// A call with exactly one row with logits gets a second one beside it: the output projection of a single row takes
// another matmul kernel than that of several.
void atLeastTwoOutputs(DecodeCall& call) {
  int32_t outputs = 0, at = -1;
  for (size_t k = 0; k < call.size(); k++) {
    if (call[k].logits) {
      outputs++;
      at = static_cast<int32_t>(k);
    }
  }
  if (outputs == 1 && call.size() > 1) call[at > 0 ? at - 1 : 1].logits = true;
}

// Batch-invariant calls. Measured with loadtest/determinism-probe.ts (a sequence teacher-forced alone and beside
// others, bit-identical log-probabilities in every case with a stream per sequence and flash attention on), ggml's
// CPU kernels give a row the same result in any micro-batch except where they switch algorithm with its shape:
//  - a matmul with one activation row runs ggml_vec_dot, with two or more llamafile's tinyBLAS (llamafile_sgemm
//    returns false for n < 2), whose per-element reduction order differs but does not depend on n;
//  - flash attention over one query row and 512 or more cells splits the cells across threads (use_split_kv_path),
//    and from 64 query rows it runs the tiled kernel;
//  - with a stream per sequence, llama.cpp cuts a call by runs of consecutive sequence ids, and a multi-row chunk
//    beside other sequences lands partly in their micro-batch.
// So: rows whose sequence sends one row share one call in sequence id order, all with logits, and a sequence with
// no neighbouring id there gets a throwaway second row (the next position); every longer chunk goes in calls of its
// own, of 2 to 63 rows; and no call has a single row with logits.
std::vector<DecodeCall> batchInvariantCalls(const StepRows& rows, bool perSequenceStreams) {
  const auto count = rowsPerSequence(rows);
  const auto isOutput = outputFlags(rows);
  std::vector<DecodeCall> calls;
  DecodeCall singles;
  for (size_t i = 0; i < rows.tokens.size(); i++) {
    if (count.at(rows.seqIds[i]) == 1) singles.push_back(rowOf(rows, static_cast<int32_t>(i), true));
  }
  std::stable_sort(singles.begin(), singles.end(), [](const CallRow& a, const CallRow& b) { return a.seq < b.seq; });
  DecodeCall padded;
  for (size_t k = 0; k < singles.size(); k++) {
    padded.push_back(singles[k]);
    const bool alone = perSequenceStreams
                           ? (k == 0 || singles[k - 1].seq != singles[k].seq - 1) &&
                                 (k + 1 == singles.size() || singles[k + 1].seq != singles[k].seq + 1)
                           : singles.size() == 1;
    if (alone) padded.push_back({-1, singles[k].token, singles[k].pos + 1, singles[k].seq, true});
  }
  if (!padded.empty()) calls.push_back(std::move(padded));

  std::vector<int32_t> seen;
  for (size_t i = 0; i < rows.tokens.size(); i++) {
    const int32_t seq = rows.seqIds[i];
    if (count.at(seq) == 1 || std::find(seen.begin(), seen.end(), seq) != seen.end()) continue;
    seen.push_back(seq);
    DecodeCall chunk;
    for (size_t r = i; r < rows.tokens.size(); r++) {
      if (rows.seqIds[r] == seq) chunk.push_back(rowOf(rows, static_cast<int32_t>(r), isOutput[r]));
    }
    for (size_t from = 0; from < chunk.size();) {
      const size_t rest = chunk.size() - from;
      const size_t maxRows = kTiledAttentionRows - 1;
      const size_t size = rest <= maxRows ? rest : rest == maxRows + 1 ? rest - 2 : maxRows;
      DecodeCall piece(chunk.begin() + from, chunk.begin() + from + size);
      atLeastTwoOutputs(piece);
      calls.push_back(std::move(piece));
      from += size;
    }
  }
  return calls;
}

}  // namespace

std::vector<DecodeCall> planDecodeCalls(const StepRows& rows, CallPolicy policy, bool perSequenceStreams) {
  if (policy == CallPolicy::BatchInvariant) return batchInvariantCalls(rows, perSequenceStreams);
  const auto isOutput = outputFlags(rows);
  const int32_t n = static_cast<int32_t>(rows.tokens.size());
  int32_t split = 0;
  if (policy == CallPolicy::DecodeRowsFirst) {
    const auto count = rowsPerSequence(rows);
    while (split < n && count.at(rows.seqIds[split]) == 1) split++;
  }
  std::vector<DecodeCall> calls;
  for (auto [from, to] : {std::pair{0, split}, std::pair{split, n}}) {
    if (from == to) continue;
    DecodeCall call;
    for (int32_t i = from; i < to; i++) call.push_back(rowOf(rows, i, isOutput[i]));
    calls.push_back(std::move(call));
  }
  return calls;
}

}  // namespace loom
