// Text operators of scikit-learn style pipelines:
//   StringNormalizer: drops the stopwords (compared without case unless is_case_sensitive) from a
//     [C] or [1, C] string tensor, then lower- or upper-cases what is left (ASCII letters; other
//     UTF-8 bytes are kept as they are); nothing left gives one empty string.
//   TfIdfVectorizer: counts the n-grams of the pool (int64 or string tokens; n from
//     min_gram_length to max_gram_length, tokens up to max_skip_count apart) in each row of X and
//     writes them at their ngram_indexes: the count (TF), weight if present (IDF) or count x
//     weight (TFIDF).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "kernels/cpu/common.h"

namespace hs::cpu {
namespace {

std::string ascii_case(std::string s, bool upper) {
  for (char& c : s) {
    if (upper && c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
  }
  return s;
}

class StringNormalizer final : public KernelBase {
 public:
  explicit StringNormalizer(const KernelInfo& info)
      : case_sensitive_(info.node.attr_int("is_case_sensitive", 0) != 0) {
    const std::string action = info.node.attr_string("case_change_action", "NONE");
    if (action == "LOWER") change_ = -1;
    else if (action == "UPPER") change_ = 1;
    else if (action != "NONE")
      init_status = Status(StatusCode::kInvalidModel, str_cat("StringNormalizer: case_change_action '", action, "' is not NONE, LOWER or UPPER"));
    if (const Attribute* words = info.node.attr("stopwords"))
      for (const std::string& w : words->strings) stopwords_.push_back(case_sensitive_ ? w : ascii_case(w, false));
  }
  bool takes_strings() const override { return true; }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "StringNormalizer", &x));
    if (x->dtype() != DType::kString || !(x->rank() == 1 || (x->rank() == 2 && x->dim(0) == 1)))
      HS_FAIL(kType, "StringNormalizer takes a [C] or [1, C] string tensor, got ", dtype_name(x->dtype()), " ", x->shape());
    std::vector<std::string> kept;
    for (int64_t i = 0; i < x->numel(); ++i) {
      const std::string& s = x->string_data()[i];
      const std::string key = case_sensitive_ ? s : ascii_case(s, false);
      if (std::find(stopwords_.begin(), stopwords_.end(), key) != stopwords_.end()) continue;
      kept.push_back(change_ == 0 ? s : ascii_case(s, change_ > 0));
    }
    if (kept.empty()) kept.push_back("");
    const int64_t c = (int64_t)kept.size();
    ctx.set_output(0, Tensor::strings(x->rank() == 1 ? Shape{c} : Shape{1, c}, std::move(kept)));
    return Status::ok();
  }

 private:
  bool case_sensitive_;
  int change_ = 0;  // -1 lower, 1 upper
  std::vector<std::string> stopwords_;
};

class TfIdfVectorizer final : public KernelBase {
 public:
  explicit TfIdfVectorizer(const KernelInfo& info)
      : min_n_(info.node.attr_int("min_gram_length", 1)), max_n_(info.node.attr_int("max_gram_length", 1)),
        max_skip_(info.node.attr_int("max_skip_count", 0)) {
    const Node& n = info.node;
    const std::string mode = n.attr_string("mode", "TF");
    mode_ = mode == "TF" ? 0 : mode == "IDF" ? 1 : mode == "TFIDF" ? 2 : -1;
    const std::vector<int64_t> counts = n.attr_ints("ngram_counts"), indexes = n.attr_ints("ngram_indexes");
    weights_ = n.attr_floats("weights");
    const Attribute* strings = n.attr("pool_strings");
    strings_ = strings != nullptr;
    std::vector<std::string> pool;
    if (strings) pool = strings->strings;
    else
      for (int64_t v : n.attr_ints("pool_int64s")) pool.push_back(std::to_string(v));
    if (mode_ < 0) init_status = Status(StatusCode::kInvalidModel, str_cat("TfIdfVectorizer: mode '", mode, "' is not TF, IDF or TFIDF"));
    if (min_n_ < 1 || max_n_ < min_n_ || max_skip_ < 0 || (int64_t)counts.size() < max_n_)
      init_status = Status(StatusCode::kInvalidModel, "TfIdfVectorizer: gram lengths, max_skip_count or ngram_counts are inconsistent");
    if (!weights_.empty() && weights_.size() != indexes.size())
      init_status = Status(StatusCode::kInvalidModel, "TfIdfVectorizer: weights and ngram_indexes differ in length");
    for (size_t i = 0; i < counts.size(); ++i)
      if (counts[i] < (i ? counts[i - 1] : 0) || counts[i] > (int64_t)pool.size())
        init_status = Status(StatusCode::kInvalidModel, str_cat("TfIdfVectorizer: ngram_counts ", counts, " must rise within the pool of ", pool.size()));
    for (int64_t i : indexes)
      if (i < 0) init_status = Status(StatusCode::kInvalidModel, str_cat("TfIdfVectorizer: ngram_indexes must be >= 0, got ", i));
    if (!init_status.is_ok()) return;
    // The pool holds the 1-grams from counts[0], the 2-grams from counts[1], ...: each n-gram is
    // n consecutive pool entries. Key: the tokens joined with a separator no token contains.
    size_t g = 0;
    for (int64_t len = 1; len <= (int64_t)counts.size(); ++len) {
      const int64_t begin = counts[(size_t)len - 1], end = len < (int64_t)counts.size() ? counts[(size_t)len] : (int64_t)pool.size();
      for (int64_t at = begin; at + len <= end; at += len, ++g) {
        if (g >= indexes.size()) break;
        std::string key;
        for (int64_t t = 0; t < len; ++t) key += pool[(size_t)(at + t)] + '\x1f';
        grams_[key] = g;
      }
    }
    for (int64_t i : indexes) width_ = std::max(width_, i + 1);
    indexes_ = indexes;
  }
  bool takes_strings() const override { return true; }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "TfIdfVectorizer", &x));
    if (x->rank() < 1 || x->rank() > 2) HS_FAIL(kShape, "TfIdfVectorizer takes [C] or [N, C], got ", x->shape());
    if (strings_ != (x->dtype() == DType::kString)) HS_FAIL(kType, "TfIdfVectorizer: X's type does not match the pool's");
    const int64_t rows = x->rank() == 2 ? x->dim(0) : 1, cols = x->dim(-1);
    std::vector<std::string> tokens((size_t)x->numel());
    if (strings_) {
      for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = x->string_data()[i];
    } else {
      const std::vector<int64_t> v = x->to_int64_vector();
      for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = std::to_string(v[i]);
    }
    Tensor* y = ctx.output(0, DType::kFloat32, x->rank() == 2 ? Shape{rows, width_} : Shape{width_});
    float* out = y->data<float>();
    std::fill(out, out + y->numel(), 0.f);
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<int64_t> counts(indexes_.size(), 0);
      const std::string* row = tokens.data() + r * cols;
      for (int64_t n = min_n_; n <= max_n_; ++n)
        for (int64_t skip = 0; skip <= (n == 1 ? 0 : max_skip_); ++skip)
          for (int64_t start = 0; start + (n - 1) * (skip + 1) < cols; ++start) {
            std::string key;
            for (int64_t t = 0; t < n; ++t) key += row[start + t * (skip + 1)] + '\x1f';
            auto it = grams_.find(key);
            if (it != grams_.end()) ++counts[it->second];
          }
      for (size_t g = 0; g < counts.size(); ++g) {
        if (counts[g] == 0) continue;
        const float w = weights_.empty() ? 1.f : weights_[g];
        out[r * width_ + indexes_[g]] = mode_ == 0 ? (float)counts[g] : mode_ == 1 ? w : (float)counts[g] * w;
      }
    }
    return Status::ok();
  }

 private:
  int64_t min_n_, max_n_, max_skip_;
  int mode_ = 0;  // TF, IDF, TFIDF
  bool strings_ = false;
  std::vector<float> weights_;
  std::vector<int64_t> indexes_;
  std::map<std::string, size_t> grams_;  // pool n-gram -> its position among the n-grams
  int64_t width_ = 0;
};

}  // namespace

HS_REGISTER_KERNEL("", "StringNormalizer", StringNormalizer);
HS_REGISTER_KERNEL("", "TfIdfVectorizer", TfIdfVectorizer);

}  // namespace hs::cpu
