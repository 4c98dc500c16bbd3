#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

#include "triage/features.h"
#include "triage/triage.h"

namespace spoofex::triage {
namespace {

constexpr std::array<std::string_view, kCategories> kNames = {"emergency", "inquiry", "complaint",
                                                              "spam"};

}  // namespace

std::string_view to_string(Category c) { return kNames[static_cast<std::size_t>(c)]; }

std::optional<Category> category_from(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Category>(i);
  }
  return std::nullopt;
}

Result<std::vector<Example>> parse_examples(std::string_view tsv, Source source) {
  std::vector<Example> out;
  std::size_t line_no = 0;
  while (!tsv.empty()) {
    const auto nl = tsv.find('\n');
    std::string_view line = tsv.substr(0, nl);
    tsv = nl == std::string_view::npos ? std::string_view{} : tsv.substr(nl + 1);
    ++line_no;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto tab = line.find('\t');
    if (tab == std::string_view::npos) {
      return Error{"line " + std::to_string(line_no) + ": expected label<TAB>text"};
    }
    auto label = category_from(line.substr(0, tab));
    if (!label) {
      return Error{"line " + std::to_string(line_no) + ": unknown label '" +
                   std::string(line.substr(0, tab)) + "' (emergency, inquiry, complaint or spam)"};
    }
    out.push_back({*label, std::string(line.substr(tab + 1)), source});
  }
  return out;
}

Result<std::vector<Example>> load_examples(const std::string& path, Source source) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error{"cannot open '" + path + "'"};
  std::stringstream ss;
  ss << f.rdbuf();
  auto ex = parse_examples(ss.str(), source);
  if (!ex) return Error{path + ": " + ex.error()};
  return ex;
}

Metrics evaluate(const std::vector<Example>& data,
                 const std::function<Category(std::string_view)>& classify) {
  Metrics m;
  m.n = data.size();
  for (const auto& ex : data) {
    ++m.confusion[static_cast<std::size_t>(ex.label)][static_cast<std::size_t>(classify(ex.text))];
  }
  int correct = 0;
  for (std::size_t c = 0; c < kCategories; ++c) {
    int predicted = 0, actual = 0;
    for (std::size_t k = 0; k < kCategories; ++k) {
      predicted += m.confusion[k][c];
      actual += m.confusion[c][k];
    }
    const int tp = m.confusion[c][c];
    correct += tp;
    m.precision[c] = predicted ? static_cast<double>(tp) / predicted : 0.0;
    m.recall[c] = actual ? static_cast<double>(tp) / actual : 0.0;
    const double pr = m.precision[c] + m.recall[c];
    m.f1[c] = pr > 0 ? 2 * m.precision[c] * m.recall[c] / pr : 0.0;
    m.macro_f1 += m.f1[c] / kCategories;
  }
  m.accuracy = m.n ? static_cast<double>(correct) / static_cast<double>(m.n) : 0.0;
  return m;
}

Category majority_class(const std::vector<Example>& train) {
  std::array<int, kCategories> n{};
  for (const auto& ex : train) ++n[static_cast<std::size_t>(ex.label)];
  return static_cast<Category>(std::max_element(n.begin(), n.end()) - n.begin());
}

// The baseline a control room might write by hand: look for telling words.
Category keyword_rule(std::string_view text) {
  static const std::array<std::string_view, 22> emergency = {
      "help",      "fire",      "accident", "attack",  "attacking", "knife",
      "gun",       "kill",      "killing",  "dying",   "blood",     "bleeding",
      "kidnap",    "kidnapped", "rape",     "beating", "fight",     "unconscious",
      "emergency", "bachao",    "suicide",  "robbery"};
  static const std::array<std::string_view, 12> spam = {
      "offer", "loan", "prize", "lottery",   "kyc",    "congratulations",
      "press", "win",  "won",   "insurance", "credit", "recorded"};
  static const std::array<std::string_view, 10> complaint = {
      "stolen", "theft",  "fraud",     "cheated",   "complaint",
      "noise",  "harass", "harassing", "neighbour", "neighbor"};
  const auto tokens = tokenize(text);
  auto any = [&](const auto& words) {
    return std::any_of(tokens.begin(), tokens.end(), [&](const std::string& t) {
      return std::find(words.begin(), words.end(), t) != words.end();
    });
  };
  if (any(emergency)) return Category::emergency;
  if (any(spam)) return Category::spam;
  if (any(complaint)) return Category::complaint;
  return Category::inquiry;
}

}  // namespace spoofex::triage
