#include "triage/features.h"

#include <algorithm>

#include "triage/triage.h"

namespace spoofex::triage {
namespace {

constexpr std::uint64_t kFnvOffset = 1469598103934665603ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

std::uint64_t fnv(std::uint64_t h, std::string_view s) {
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * kFnvPrime;
  return h;
}

}  // namespace

std::uint64_t feature_hash(std::string_view feature) { return fnv(kFnvOffset, feature); }

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> out;
  for_each_token(text, [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

std::vector<std::string> feature_texts(std::string_view text) {
  const auto tokens = tokenize(text);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < tokens.size() && out.size() < kMaxFeatures; ++i) {
    out.push_back(tokens[i]);
    if (i + 1 < tokens.size()) out.push_back(tokens[i] + " " + tokens[i + 1]);
  }
  if (out.size() > kMaxFeatures) out.resize(kMaxFeatures);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void feature_hashes(std::string_view text, FeatureHashes& out) {
  out.size = 0;
  std::uint64_t prev = 0;
  bool have_prev = false;
  auto add = [&](std::uint64_t h) {
    if (out.size < kMaxFeatures) out.values[out.size++] = h;
  };
  for_each_token(text, [&](std::string_view t) {
    const std::uint64_t h = fnv(kFnvOffset, t);
    // A bigram's hash continues the first word's hash over " second", as if hashing "a b".
    if (have_prev) add(fnv(fnv(prev, " "), t));
    add(h);
    prev = h;
    have_prev = true;
  });
  std::sort(out.values.begin(), out.values.begin() + static_cast<std::ptrdiff_t>(out.size));
  out.size = static_cast<std::size_t>(
      std::unique(out.values.begin(), out.values.begin() + static_cast<std::ptrdiff_t>(out.size)) -
      out.values.begin());
}

}  // namespace spoofex::triage
