// A bigram language model in ARPA format, estimated with absolute discounting and
// backed off to unigrams (Ney, Essen & Kneser 1994), over the words the
// pronunciation dictionary knows. Small domain LMs like this one steer PocketSphinx
// towards what callers to a police line say.
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "speech/engines.h"
#include "speech/speech.h"

namespace spoofex::speech {
namespace {

constexpr double kDiscount = 0.5;

}  // namespace

Result<std::set<std::string>> load_dictionary_words(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Error{"cannot open pronunciation dictionary '" + path + "'"};
  std::set<std::string> words;
  std::string line;
  while (std::getline(f, line)) {
    const auto end = line.find_first_of(" \t(");
    if (end != 0 && end != std::string::npos) words.insert(line.substr(0, end));
  }
  return words;
}

std::string build_arpa(const std::vector<std::string>& sentences,
                       const std::set<std::string>& known, const std::set<std::string>& boosted,
                       double boost) {
  std::map<std::string, double> uni;
  std::map<std::pair<std::string, std::string>, double> bi;
  double tokens = 0;
  for (const auto& s : sentences) {
    // A word the dictionary lacks cannot be recognised: it splits the sentence.
    std::vector<std::string> seq = {"<s>"};
    auto close = [&] {
      if (seq.size() > 1) {
        seq.push_back("</s>");
        for (std::size_t i = 0; i < seq.size(); ++i) {
          if (i > 0) {
            uni[seq[i]] += 1;
            tokens += 1;
            bi[{seq[i - 1], seq[i]}] += 1;
          }
        }
        uni["<s>"] += 1;
      }
      seq = {"<s>"};
    };
    for (auto& w : words(s)) {
      if (known.count(w)) {
        seq.push_back(std::move(w));
      } else {
        close();
      }
    }
    close();
  }
  // Unigrams: add-one over the seen vocabulary but <s> (never predicted), so every word
  // keeps some mass.
  const double vocab = static_cast<double>(uni.size()) - 1;
  std::map<std::string, double> p_uni;
  for (const auto& [w, c] : uni) p_uni[w] = (w == "<s>" ? 0.0 : c + 1) / (tokens + vocab);
  // Boosted words (the decisive keywords) get `boost` times their unigram share, and the
  // rest give it up: a context that backs off to unigrams then prefers them.
  if (boost != 1.0 && !boosted.empty()) {
    double total = 0;
    for (auto& [w, p] : p_uni) total += p *= boosted.count(w) ? boost : 1.0;
    for (auto& [w, p] : p_uni) p /= total;
  }
  std::map<std::string, double> history, types, seen_mass;
  for (const auto& [k, c] : bi) {
    history[k.first] += c;
    types[k.first] += 1;
    seen_mass[k.first] += p_uni[k.second];
  }
  std::ostringstream out;
  out.precision(6);
  out << "\\data\\\nngram 1=" << uni.size() << "\nngram 2=" << bi.size() << "\n\n\\1-grams:\n";
  for (const auto& [w, c] : uni) {
    const double lp = w == "<s>" ? -99.0 : std::log10(p_uni[w]);
    double bow = 0;
    if (history.count(w)) {
      const double left = kDiscount * types[w] / history[w];
      bow = std::log10(left / std::max(1e-9, 1.0 - seen_mass[w]));
    }
    out << lp << ' ' << w << ' ' << bow << '\n';
  }
  out << "\n\\2-grams:\n";
  for (const auto& [k, c] : bi) {
    out << std::log10((c - kDiscount) / history[k.first]) << ' ' << k.first << ' ' << k.second
        << '\n';
  }
  out << "\n\\end\\\n";
  return out.str();
}

}  // namespace spoofex::speech
