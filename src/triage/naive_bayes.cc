#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include "triage/features.h"
#include "triage/triage.h"

namespace spoofex::triage {
namespace {

constexpr std::string_view kMagic = "spoofex-triage-nb 1";

std::array<double, kCategories> softmax(const std::array<double, kCategories>& s, double t) {
  std::array<double, kCategories> p{};
  const double m = *std::max_element(s.begin(), s.end());
  double sum = 0;
  for (std::size_t c = 0; c < kCategories; ++c) sum += p[c] = std::exp((s[c] - m) / t);
  for (auto& v : p) v /= sum;
  return p;
}

// Negative log-likelihood of the labels under temperature t.
double nll(const std::vector<std::pair<std::array<double, kCategories>, Category>>& scored,
           double t) {
  double total = 0;
  for (const auto& [s, label] : scored) {
    total -= std::log(std::max(softmax(s, t)[static_cast<std::size_t>(label)], 1e-12));
  }
  return total;
}

}  // namespace

NaiveBayes NaiveBayes::train(const std::vector<Example>& examples, const TrainOptions& options) {
  NaiveBayes nb;
  nb.options_ = options;
  for (const auto& ex : examples) {
    const auto c = static_cast<std::size_t>(ex.label);
    nb.doc_count_[c] += 1;
    for (const auto& f : feature_texts(ex.text)) nb.counts_[f][c] += 1;
  }
  nb.finalize();
  if (options.calibrate && examples.size() >= 50) {
    // 5-fold cross-validation gives honest held-out scores to fit the temperature on.
    std::vector<std::size_t> order(examples.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937(12345));
    std::vector<std::pair<std::array<double, kCategories>, Category>> scored;
    constexpr std::size_t kFolds = 5;
    for (std::size_t fold = 0; fold < kFolds; ++fold) {
      std::vector<Example> train_part;
      std::vector<const Example*> held;
      for (std::size_t i = 0; i < order.size(); ++i) {
        if (i % kFolds == fold) {
          held.push_back(&examples[order[i]]);
        } else {
          train_part.push_back(examples[order[i]]);
        }
      }
      TrainOptions inner = options;
      inner.calibrate = false;
      const NaiveBayes part = train(train_part, inner);
      for (const auto* ex : held) scored.emplace_back(part.raw_scores(ex->text), ex->label);
    }
    double best_t = 1.0, best = nll(scored, 1.0);
    for (double t = 0.25; t <= 64.0; t *= 1.1) {
      if (const double v = nll(scored, t); v < best) {
        best = v;
        best_t = t;
      }
    }
    nb.temperature_ = best_t;
  }
  return nb;
}

void NaiveBayes::finalize() {
  const double vocab = static_cast<double>(std::max<std::size_t>(counts_.size(), 1));
  const double alpha = options_.alpha;
  feature_total_.fill(0);
  for (const auto& [f, n] : counts_) {
    for (std::size_t c = 0; c < kCategories; ++c) feature_total_[c] += n[c];
  }
  const double docs = std::accumulate(doc_count_.begin(), doc_count_.end(), 0.0);
  const double all_features = std::accumulate(feature_total_.begin(), feature_total_.end(), 0.0);
  for (std::size_t c = 0; c < kCategories; ++c) {
    log_prior_[c] = std::log((doc_count_[c] + 1.0) / (docs + kCategories));
    const double denom = options_.complement ? all_features - feature_total_[c] : feature_total_[c];
    log_unseen_[c] = std::log(alpha / (denom + alpha * vocab));
  }
  features_.clear();
  features_.reserve(counts_.size());
  for (const auto& [f, n] : counts_) {
    std::array<float, kCategories> w{};
    const double total_n = n[0] + n[1] + n[2] + n[3];
    for (std::size_t c = 0; c < kCategories; ++c) {
      if (options_.complement) {
        const double denom = all_features - feature_total_[c];
        // Complement NB: evidence against the class, so it is subtracted.
        w[c] = static_cast<float>(-std::log((total_n - n[c] + alpha) / (denom + alpha * vocab)));
      } else {
        w[c] = static_cast<float>(std::log((n[c] + alpha) / (feature_total_[c] + alpha * vocab)));
      }
    }
    features_.emplace(feature_hash(f), w);
  }
}

std::array<double, kCategories> NaiveBayes::raw_scores(std::string_view text) const {
  std::array<double, kCategories> s =
      options_.complement ? std::array<double, kCategories>{} : log_prior_;
  FeatureHashes hashes;
  feature_hashes(text, hashes);
  for (std::size_t i = 0; i < hashes.size; ++i) {
    auto it = features_.find(hashes.values[i]);
    if (it == features_.end()) continue;  // unseen: no evidence either way
    for (std::size_t c = 0; c < kCategories; ++c) s[c] += it->second[c];
  }
  return s;
}

Prediction NaiveBayes::predict(std::string_view text) const {
  Prediction p;
  p.scores = softmax(raw_scores(text), temperature_);
  const auto best = std::max_element(p.scores.begin(), p.scores.end()) - p.scores.begin();
  p.category = static_cast<Category>(best);
  p.confidence = p.scores[static_cast<std::size_t>(best)];
  return p;
}

std::string NaiveBayes::serialize() const {
  std::ostringstream out;
  out.precision(9);
  out << kMagic << '\n'
      << "alpha " << options_.alpha << '\n'
      << "complement " << (options_.complement ? 1 : 0) << '\n'
      << "temperature " << temperature_ << '\n'
      << "docs";
  for (double d : doc_count_) out << ' ' << d;
  out << '\n';
  for (const auto& [f, n] : counts_)
    out << f << '\t' << n[0] << '\t' << n[1] << '\t' << n[2] << '\t' << n[3] << '\n';
  return out.str();
}

Status NaiveBayes::save(const std::string& path) const {
  // Write a sibling file and rename it, so a reader never sees half a model.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Error{"cannot write model '" + tmp + "'"};
    f << serialize();
    f.flush();
    if (!f) return Error{"cannot write model '" + tmp + "'"};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Error{"cannot replace model '" + path + "'"};
  return Ok{};
}

Result<NaiveBayes> NaiveBayes::parse(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  if (!std::getline(in, line) || line != kMagic) return Error{"not a spoofex triage model"};
  NaiveBayes nb;
  int complement = 0;
  std::string key;
  auto header = [&](const char* name, auto& value) -> bool {
    if (!std::getline(in, line)) return false;
    std::istringstream ls(line);
    return static_cast<bool>(ls >> key >> value) && key == name;
  };
  if (!header("alpha", nb.options_.alpha) || !header("complement", complement) ||
      !header("temperature", nb.temperature_) || !std::getline(in, line)) {
    return Error{"triage model header is damaged"};
  }
  std::istringstream docs(line);
  docs >> key;
  for (auto& d : nb.doc_count_) docs >> d;
  const bool counts_ok = std::all_of(nb.doc_count_.begin(), nb.doc_count_.end(),
                                     [](double d) { return std::isfinite(d) && d >= 0; });
  // Out-of-range values would not crash, but would turn every prediction into NaN.
  if (key != "docs" || !docs || !counts_ok || !(nb.temperature_ > 0 && nb.temperature_ < 1e6) ||
      !(nb.options_.alpha > 0 && nb.options_.alpha <= 100)) {
    return Error{"triage model header is damaged"};
  }
  nb.options_.complement = complement != 0;
  std::size_t line_no = 5;
  while (std::getline(in, line)) {
    ++line_no;
    const auto tab = line.find('\t');
    std::array<float, kCategories> n{};
    std::istringstream ls(tab == std::string::npos ? std::string() : line.substr(tab + 1));
    for (auto& v : n) ls >> v;
    const bool valid =
        std::all_of(n.begin(), n.end(), [](float v) { return std::isfinite(v) && v >= 0; });
    if (tab == 0 || tab == std::string::npos || !ls || !valid) {
      return Error{"triage model line " + std::to_string(line_no) + " is damaged"};
    }
    nb.counts_[line.substr(0, tab)] = n;
  }
  nb.finalize();
  return nb;
}

Result<NaiveBayes> NaiveBayes::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error{"cannot open model '" + path + "'"};
  std::stringstream ss;
  ss << f.rdbuf();
  auto nb = parse(ss.str());
  if (!nb) return Error{"'" + path + "': " + nb.error()};
  return nb;
}

}  // namespace spoofex::triage
