// Einsum equations ("ij,jk->ik", "...ii->...i", "bij,bjk"): parsed once from the attribute into
// terms of labels, then expanded against the actual input ranks (the "..." ellipsis stands for
// however many leading dimensions an input has beyond its letters; ellipses of different inputs
// broadcast right-aligned, numpy-style).
#pragma once
#include <string>
#include <vector>

#include "hs/status.h"

namespace hs::cpu {

// A label is a letter's character code; the ellipsis' j-th dimension (of the broadcast ellipsis)
// is kEllipsisLabel + j.
constexpr int kEllipsisLabel = 256;
constexpr int kEllipsisMark = -1;  // where "..." stands in a parsed term

struct EinsumTerms {
  std::vector<std::vector<int>> inputs;  // letters, and kEllipsisMark at most once per term
  bool explicit_output = false;          // the equation has "->"
  std::vector<int> output;               // only when explicit_output
};

// One label per input axis (a repeated label marks a diagonal) and per output axis.
struct EinsumEquation {
  std::vector<std::vector<int>> inputs;
  std::vector<int> output;
};

// Parses the text of the `equation` attribute (spaces ignored), or ERR_INVALID_MODEL naming the fault.
Status parse_einsum_terms(const std::string& equation, EinsumTerms* out);

// Expands ellipses for inputs of the given ranks and derives the implicit output (ellipsis
// dimensions, then the letters used exactly once, in character order), or ERR_SHAPE /
// ERR_INVALID_MODEL when the ranks or the labels do not fit.
Status expand_einsum(const EinsumTerms& terms, const std::vector<int64_t>& ranks, EinsumEquation* out);

}  // namespace hs::cpu
