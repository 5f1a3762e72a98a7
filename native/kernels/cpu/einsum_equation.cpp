// Parsing and ellipsis expansion of Einsum equations (see einsum_equation.h).
#include "kernels/cpu/einsum_equation.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace hs::cpu {
namespace {

Status parse_term(const std::string& equation, const std::string& term, std::vector<int>* labels) {
  bool has_ellipsis = false;
  for (size_t i = 0; i < term.size(); ++i) {
    const char c = term[i];
    if (std::isalpha(static_cast<unsigned char>(c))) {
      labels->push_back(c);
    } else if (c == '.' && term.compare(i, 3, "...") == 0 && !has_ellipsis) {
      labels->push_back(kEllipsisMark);
      has_ellipsis = true;
      i += 2;
    } else {
      HS_FAIL(kInvalidModel, "Einsum: equation '", equation, "' has an invalid term '", term, "'");
    }
  }
  return Status::ok();
}

}  // namespace

Status parse_einsum_terms(const std::string& equation, EinsumTerms* out) {
  std::string text;
  for (char c : equation)
    if (!std::isspace(static_cast<unsigned char>(c))) text += c;
  const size_t arrow = text.find("->");
  const std::string lhs = text.substr(0, arrow);
  *out = EinsumTerms();
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    out->inputs.emplace_back();
    HS_RETURN_IF_ERROR(parse_term(equation, lhs.substr(start, comma - start), &out->inputs.back()));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  out->explicit_output = arrow != std::string::npos;
  if (out->explicit_output) {
    HS_RETURN_IF_ERROR(parse_term(equation, text.substr(arrow + 2), &out->output));
    std::vector<int> sorted = out->output;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      HS_FAIL(kInvalidModel, "Einsum: equation '", equation, "' repeats a label in its output");
  }
  return Status::ok();
}

Status expand_einsum(const EinsumTerms& terms, const std::vector<int64_t>& ranks, EinsumEquation* out) {
  if (ranks.size() != terms.inputs.size())
    HS_FAIL(kInvalidModel, "Einsum: the equation has ", terms.inputs.size(), " inputs, the node ", ranks.size());
  // Dimensions each input's ellipsis covers, and the broadcast ellipsis rank.
  std::vector<int64_t> ellipsis_ranks(ranks.size(), 0);
  int64_t ellipsis_rank = 0;
  for (size_t i = 0; i < ranks.size(); ++i) {
    const std::vector<int>& term = terms.inputs[i];
    const bool has_ellipsis = std::count(term.begin(), term.end(), kEllipsisMark) > 0;
    const int64_t letters = (int64_t)term.size() - (has_ellipsis ? 1 : 0);
    if (has_ellipsis ? ranks[i] < letters : ranks[i] != letters)
      HS_FAIL(kShape, "Einsum: input ", i, " has rank ", ranks[i], " but its term has ", letters, " labels",
              has_ellipsis ? " and an ellipsis" : "");
    ellipsis_ranks[i] = has_ellipsis ? ranks[i] - letters : 0;
    ellipsis_rank = std::max(ellipsis_rank, ellipsis_ranks[i]);
  }
  *out = EinsumEquation();
  std::map<int, int> uses;
  for (size_t i = 0; i < ranks.size(); ++i) {
    std::vector<int>& labels = out->inputs.emplace_back();
    for (int label : terms.inputs[i]) {
      if (label != kEllipsisMark) {
        labels.push_back(label);
        ++uses[label];
        continue;
      }
      for (int64_t j = ellipsis_rank - ellipsis_ranks[i]; j < ellipsis_rank; ++j)
        labels.push_back(kEllipsisLabel + (int)j);
    }
  }
  if (!terms.explicit_output) {
    for (int64_t j = 0; j < ellipsis_rank; ++j) out->output.push_back(kEllipsisLabel + (int)j);
    for (const auto& [label, count] : uses)  // std::map: character order
      if (count == 1) out->output.push_back(label);
    return Status::ok();
  }
  // An explicit output places the ellipsis where written; without one, its dimensions are summed.
  for (int label : terms.output) {
    if (label == kEllipsisMark) {
      for (int64_t j = 0; j < ellipsis_rank; ++j) out->output.push_back(kEllipsisLabel + (int)j);
    } else if (!uses.count(label)) {
      HS_FAIL(kInvalidModel, "Einsum: output label '", (char)label, "' does not appear in any input");
    } else {
      out->output.push_back(label);
    }
  }
  return Status::ok();
}

}  // namespace hs::cpu
