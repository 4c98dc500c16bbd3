#include "speech/speech.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

#include "speech/engines.h"

namespace spoofex::speech {

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '\'' || c >= 0x80) {
      cur += static_cast<char>(std::tolower(c));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

Result<std::unique_ptr<Engine>> make_engine(const EngineConfig& config) {
  if (config.engine == "pocketsphinx") return make_pocketsphinx(config);
  if (config.engine == "vosk") return make_vosk(config);
  return Error{"unknown speech engine '" + config.engine + "' (pocketsphinx or vosk)"};
}

double word_error_rate(std::string_view reference, std::string_view hypothesis) {
  const auto r = words(reference), h = words(hypothesis);
  if (r.empty()) return h.empty() ? 0.0 : 1.0;
  // Levenshtein distance over words, one row at a time.
  std::vector<std::size_t> prev(h.size() + 1), cur(h.size() + 1);
  for (std::size_t j = 0; j <= h.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= r.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= h.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] == h[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return static_cast<double>(prev[h.size()]) / static_cast<double>(r.size());
}

Result<std::set<std::string>> load_keywords(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Error{"cannot open keyword list '" + path + "'"};
  std::set<std::string> out;
  std::string line;
  while (std::getline(f, line)) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    for (auto& w : words(line)) out.insert(std::move(w));
  }
  if (out.empty()) return Error{"keyword list '" + path + "' has no words"};
  return out;
}

KeywordCount count_keywords(std::string_view reference, std::string_view hypothesis,
                            const std::set<std::string>& keywords) {
  std::map<std::string, std::size_t> said, heard;
  for (auto& w : words(reference))
    if (keywords.count(w)) ++said[w];
  for (auto& w : words(hypothesis))
    if (keywords.count(w)) ++heard[w];
  KeywordCount c;
  for (const auto& [w, n] : heard) {
    const std::size_t s = said.count(w) ? said[w] : 0;
    c.heard += std::min(n, s);
    c.false_alarms += n > s ? n - s : 0;
  }
  for (const auto& [w, n] : said) c.said += n;
  return c;
}

}  // namespace spoofex::speech
