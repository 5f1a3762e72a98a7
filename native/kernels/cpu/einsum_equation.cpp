// Parsing and ellipsis expansion of Einsum equations (see einsum_equation.h).
#include "kernels/cpu/einsum_equation.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "kernels/cpu/common.h"

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

Status einsum_label_sizes(const EinsumEquation& eq, const std::vector<Shape>& shapes, std::map<int, int64_t>* sizes) {
  for (size_t i = 0; i < shapes.size(); ++i) {
    for (size_t d = 0; d < eq.inputs[i].size(); ++d) {
      const int label = eq.inputs[i][d];
      const int64_t dim = shapes[i][d];
      auto [it, inserted] = sizes->emplace(label, dim);
      if (inserted || dim == it->second || dim == 1) continue;
      if (it->second != 1)
        HS_FAIL(kShape, "Einsum: label '", label < kEllipsisLabel ? std::string(1, (char)label) : std::string("..."),
                "' has sizes ", it->second, " and ", dim);
      it->second = dim;
    }
  }
  return Status::ok();
}

int EinsumAxes::find(int label) const {
  auto it = std::find(labels.begin(), labels.end(), label);
  return it == labels.end() ? -1 : (int)(it - labels.begin());
}

EinsumAxes einsum_input_axes(const Shape& shape, const std::vector<int>& labels, const std::map<int, int64_t>& sizes) {
  EinsumAxes axes;
  const std::vector<int64_t> strides = strides_of(shape);
  for (size_t d = 0; d < shape.size(); ++d) {
    const int64_t size = sizes.at(labels[d]);
    const int64_t stride = shape[d] == 1 && size != 1 ? 0 : strides[d];
    const int at = axes.find(labels[d]);
    if (at >= 0) {
      axes.strides[at] += stride;
    } else {
      axes.labels.push_back(labels[d]);
      axes.dims.push_back(size);
      axes.strides.push_back(stride);
    }
  }
  return axes;
}

std::vector<int> einsum_needed_labels(const std::vector<std::vector<int>>& operands, size_t i,
                                      const std::vector<int>& output) {
  std::vector<int> needed;
  for (int label : operands[i]) {
    bool used_elsewhere = std::find(output.begin(), output.end(), label) != output.end();
    for (size_t j = 0; j < operands.size() && !used_elsewhere; ++j)
      used_elsewhere = j != i && std::find(operands[j].begin(), operands[j].end(), label) != operands[j].end();
    if (used_elsewhere) needed.push_back(label);
  }
  return needed;
}

std::set<int> einsum_kept_after(const std::vector<std::vector<int>>& operands, size_t i, const std::vector<int>& output) {
  std::set<int> kept(output.begin(), output.end());
  for (size_t j = i + 1; j < operands.size(); ++j) kept.insert(operands[j].begin(), operands[j].end());
  return kept;
}

EinsumPair split_einsum_pair(const std::vector<int>& a, const std::vector<int>& b, const std::set<int>& kept) {
  auto has = [](const std::vector<int>& labels, int label) {
    return std::find(labels.begin(), labels.end(), label) != labels.end();
  };
  EinsumPair p;
  for (int label : a) {
    const bool in_b = has(b, label), keep = kept.count(label) > 0;
    if (in_b) (keep ? p.batch : p.contracted).push_back(label);
    else if (keep) p.m.push_back(label);
    if (in_b || keep) p.a_rest.push_back(label);
  }
  for (int label : b) {
    const bool in_a = has(a, label), keep = kept.count(label) > 0;
    if (!in_a && keep) p.n.push_back(label);
    if (in_a || keep) p.b_rest.push_back(label);
  }
  return p;
}

}  // namespace hs::cpu
