#include "chat-tool-grammar.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "chat-peg-parser.h"
#include "common.h"
#include "json-schema-to-grammar.h"
#include "peg-parser.h"

namespace loom {

namespace {

using Id = common_peg_parser_id;
using Builder = common_chat_peg_builder;

// What a subtree of the parser holds, outside tool calls and reasoning: free text, a call, a reasoning block.
struct Holds {
  bool content = false;
  bool tool = false;
  bool reasoning = false;
};

std::vector<Id> childrenOf(const common_peg_parser_variant& node) {
  return std::visit(
      [](const auto& p) -> std::vector<Id> {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, common_peg_sequence_parser> || std::is_same_v<T, common_peg_choice_parser>) {
          return p.children;
        } else if constexpr (std::is_same_v<T, common_peg_repetition_parser> ||
                             std::is_same_v<T, common_peg_and_parser> || std::is_same_v<T, common_peg_not_parser> ||
                             std::is_same_v<T, common_peg_schema_parser> || std::is_same_v<T, common_peg_rule_parser> ||
                             std::is_same_v<T, common_peg_atomic_parser> || std::is_same_v<T, common_peg_tag_parser> ||
                             std::is_same_v<T, common_peg_gbnf_parser> || std::is_same_v<T, common_peg_ac_parser>) {
          return {p.child};
        } else {
          return {};
        }
      },
      node);
}

// The grammar comes from the chat format's PEG parser (common_peg_arena::build_grammar), whose tags say what each
// part of the output is. The parser travels serialized (common_chat_params.parser); loaded again it has its
// structure but not its JSON schemas, so the rules it gives are only taken where this rewrote them: the skeleton
// around the calls, never a call's own rules, which keep their schemas from the original grammar.
class Tightener {
 public:
  Tightener(common_peg_arena& arena, bool callsFirst, bool singleCall)
      : arena_(arena), callsFirst_(callsFirst), singleCall_(singleCall) {}

  // Rewrites from the root (an eager grammar) or from the trigger rules (a lazy one); returns the rules it changed.
  std::set<std::string> run(bool lazy) {
    if (!lazy) {
      rewrite(arena_.root());
    } else {
      for (Id id = 0; id < arena_.size(); id++) {
        const auto* rule = std::get_if<common_peg_rule_parser>(&arena_.get(id));
        if (rule && rule->trigger) rewrite(id);
      }
    }
    return changed_;
  }

 private:
  Holds holds(Id id) {
    if (auto found = memo_.find(id); found != memo_.end()) return found->second;
    if (!scanning_.insert(id).second) return {};  // a recursive rule: its other visit tells
    Holds out;
    const auto& node = arena_.get(id);
    const auto* tag = std::get_if<common_peg_tag_parser>(&node);
    if (tag && tag->tag == Builder::CONTENT) {
      out.content = true;
    } else if (tag && tag->tag == Builder::TOOL) {
      out.tool = true;
    } else if (tag && (tag->tag == Builder::REASONING || tag->tag == Builder::REASONING_BLOCK)) {
      out.reasoning = true;
    } else {
      for (Id child : childrenOf(node)) {
        Holds h = holds(child);
        out.content |= h.content;
        out.tool |= h.tool;
        out.reasoning |= h.reasoning;
      }
    }
    scanning_.erase(id);
    memo_[id] = out;
    return out;
  }

  // Free text the output may hold before the calls: content itself, or an optional group of content only.
  bool isFreeText(Id id) {
    const auto& node = arena_.get(id);
    if (const auto* tag = std::get_if<common_peg_tag_parser>(&node)) return tag->tag == Builder::CONTENT;
    const auto* repetition = std::get_if<common_peg_repetition_parser>(&node);
    if (!repetition || repetition->min_count != 0) return false;
    Holds h = holds(id);
    return h.content && !h.tool && !h.reasoning;
  }

  // Rewrites the subtree at id in place; true when the text of the rule it belongs to changes.
  bool rewrite(Id id) {
    auto& node = arena_.get(id);
    if (auto* rule = std::get_if<common_peg_rule_parser>(&node)) {
      if (visitedRules_.insert(id).second && rewrite(rule->child)) changed_.insert(rule->name);
      return false;
    }
    if (auto* tag = std::get_if<common_peg_tag_parser>(&node)) {
      if (tag->tag == Builder::TOOL || tag->tag == Builder::REASONING || tag->tag == Builder::REASONING_BLOCK) {
        return false;
      }
      return rewrite(tag->child);
    }
    bool changed = false;
    if (auto* sequence = std::get_if<common_peg_sequence_parser>(&node)) {
      if (callsFirst_) changed |= replaceFreeText(sequence->children);
      for (Id child : std::vector<Id>(sequence->children)) changed |= rewrite(child);
    } else if (auto* choice = std::get_if<common_peg_choice_parser>(&node)) {
      // Alternatives with free text go when another has none: "text then a call | calls", "preamble | analysis".
      auto& alternatives = choice->children;
      bool anyWithout = false;
      for (Id child : alternatives) anyWithout |= !holds(child).content;
      if (callsFirst_ && anyWithout) changed |= dropIf(alternatives, [&](Id child) { return holds(child).content; });
      for (Id child : std::vector<Id>(alternatives)) changed |= rewrite(child);
    } else if (auto* repetition = std::get_if<common_peg_repetition_parser>(&node)) {
      if (singleCall_ && holds(repetition->child).tool && repetition->max_count != 1) {
        repetition->max_count = 1;
        repetition->min_count = std::min(repetition->min_count, 1);
        changed = true;
      }
      changed |= rewrite(repetition->child);
    } else if (auto* atomic = std::get_if<common_peg_atomic_parser>(&node)) {
      changed |= rewrite(atomic->child);
    }
    return changed;
  }

  // Free text in a sequence becomes optional whitespace (what models write between a closed reasoning block and
  // the calls, e.g. DeepSeek R1's "</think>\n\n"), unless whitespace is already allowed beside it.
  bool replaceFreeText(std::vector<Id>& children) {
    std::vector<Id> kept;
    std::vector<std::pair<size_t, Id>> gaps;  // where free text was (a position in kept), and one node of it
    for (Id child : children) {
      if (!isFreeText(child)) {
        kept.push_back(child);
      } else if (gaps.empty() || gaps.back().first != kept.size()) {
        gaps.emplace_back(kept.size(), child);
      }
    }
    if (gaps.empty()) return false;
    auto isSpace = [&](Id id) { return std::holds_alternative<common_peg_space_parser>(arena_.get(id)); };
    auto isEpsilon = [&](Id id) { return std::holds_alternative<common_peg_epsilon_parser>(arena_.get(id)); };
    std::vector<Id> out;
    size_t gap = 0;
    for (size_t i = 0; i <= kept.size(); i++) {
      if (gap < gaps.size() && gaps[gap].first == i) {
        Id dropped = gaps[gap++].second;
        auto before = std::find_if(kept.rend() - i, kept.rend(), [&](Id id) { return !isEpsilon(id); });
        auto after = std::find_if(kept.begin() + i, kept.end(), [&](Id id) { return !isEpsilon(id); });
        bool spaced = (before != kept.rend() && isSpace(*before)) || (after != kept.end() && isSpace(*after));
        if (!spaced) out.push_back(spaceId(dropped));
      }
      if (i < kept.size()) out.push_back(kept[i]);
    }
    children = out;
    return true;
  }

  // A whitespace node: one the arena has (nodes are shared freely), else `reuse`, a node dropped from the tree,
  // turned into one.
  Id spaceId(Id reuse) {
    for (Id id = 0; id < arena_.size(); id++) {
      if (std::holds_alternative<common_peg_space_parser>(arena_.get(id))) return id;
    }
    arena_.get(reuse) = common_peg_space_parser{};
    return reuse;
  }

  template <typename Pred>
  static bool dropIf(std::vector<Id>& ids, Pred pred) {
    size_t before = ids.size();
    ids.erase(std::remove_if(ids.begin(), ids.end(), pred), ids.end());
    return ids.size() != before;
  }

  common_peg_arena& arena_;
  const bool callsFirst_;
  const bool singleCall_;
  std::map<Id, Holds> memo_;
  std::set<Id> scanning_;
  std::set<Id> visitedRules_;
  std::set<std::string> changed_;
};

// GBNF as build_grammar formats it: one "name ::= body" line per rule, in name order.
std::map<std::string, std::string> rulesOf(const std::string& grammar) {
  std::map<std::string, std::string> rules;
  std::istringstream lines(grammar);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    size_t sep = line.find(" ::= ");
    if (sep == std::string::npos) {
      throw CodedError("LOOM_TOOL_GRAMMAR_FAILED", "unexpected line in the chat layer's grammar: " + line);
    }
    rules[line.substr(0, sep)] = line;
  }
  return rules;
}

}  // namespace

void tightenToolGrammar(common_chat_params& params, bool callsFirst, bool singleCall) {
  if (params.grammar.empty() || params.parser.empty() || (!callsFirst && !singleCall)) return;
  common_peg_arena arena;
  arena.load(params.parser);
  std::set<std::string> changed = Tightener(arena, callsFirst, singleCall).run(params.grammar_lazy);
  if (changed.empty() && (params.grammar_lazy || !callsFirst)) return;
  // The root of an eager grammar is regenerated whenever calls must come first; rules the rewrite left alone keep
  // the original's text (with their schemas).
  if (!params.grammar_lazy) changed.insert("root");
  auto rebuilt = rulesOf(build_grammar([&](const common_grammar_builder& builder) {
    arena.build_grammar(builder, params.grammar_lazy);
  }));
  auto rules = rulesOf(params.grammar);
  for (const auto& name : changed) {
    auto line = rebuilt.find(name);
    if (line == rebuilt.end() || rules.find(name) == rules.end()) {
      throw CodedError("LOOM_TOOL_GRAMMAR_FAILED", "the chat layer's grammar has no rule " + name);
    }
    rules[name] = line->second;
  }
  std::string grammar;
  for (const auto& [name, line] : rules) grammar += line + "\n";
  params.grammar = grammar;
}

}  // namespace loom
