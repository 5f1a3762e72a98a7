// Einsum equations ("ij,jk->ik", "...ii->...i", "bij,bjk"): parsed once from the attribute into
// terms of labels, then expanded against the actual input ranks (the "..." ellipsis stands for
// however many leading dimensions an input has beyond its letters; ellipses of different inputs
// broadcast right-aligned, numpy-style).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hs/status.h"
#include "hs/tensor.h"

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

// One size per label over all inputs; a dimension of 1 broadcasts against a larger one, other
// disagreements are ERR_SHAPE.
Status einsum_label_sizes(const EinsumEquation& eq, const std::vector<Shape>& shapes, std::map<int, int64_t>* sizes);

// An operand as einsum reads it: one axis per distinct label, strides in elements.
struct EinsumAxes {
  std::vector<int> labels;
  std::vector<int64_t> dims, strides;

  int find(int label) const;  // the axis of `label`, or -1
};

// The axes of a row-major input of `shape` read through its term's `labels`: a label repeated within
// the term (a diagonal) is one axis whose stride sums the repeated axes' (so diagonals and traces
// need no copy); a dimension of 1 broadcast to a larger label size has stride 0.
EinsumAxes einsum_input_axes(const Shape& shape, const std::vector<int>& labels, const std::map<int, int64_t>& sizes);

// The labels of operand i that another operand or the output uses; the others are summed out of it
// before any contraction.
std::vector<int> einsum_needed_labels(const std::vector<std::vector<int>>& operands, size_t i,
                                      const std::vector<int>& output);

// Operands are contracted left to right; the labels still needed after folding in operand i: the
// output's and those of the operands after i.
std::set<int> einsum_kept_after(const std::vector<std::vector<int>>& operands, size_t i, const std::vector<int>& output);

// How the contraction of A and B treats each label, given the labels kept afterwards. A is then read
// as matrices [batch, m, contracted] and B as [batch, contracted, n]; the result is [batch, m, n].
struct EinsumPair {
  std::vector<int> batch;       // in both, kept
  std::vector<int> contracted;  // in both, not kept
  std::vector<int> m, n;        // in A only / B only, kept
  std::vector<int> a_rest, b_rest;  // A's and B's labels that take part; the others are summed out first
};
EinsumPair split_einsum_pair(const std::vector<int>& a, const std::vector<int>& b, const std::set<int>& kept);

}  // namespace hs::cpu
