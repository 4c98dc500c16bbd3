// Private to triage: tokens and features, shared by training and prediction so
// both see exactly the same features.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spoofex::triage {

inline constexpr std::size_t kMaxFeatures = 512;  // per utterance; the rest are ignored

struct FeatureHashes {
  std::array<std::uint64_t, kMaxFeatures> values;
  std::size_t size = 0;
};

// Unigrams and bigrams ("word", "word next"), de-duplicated.
std::vector<std::string> feature_texts(std::string_view text);
// The same features as 64-bit hashes, without allocating.
void feature_hashes(std::string_view text, FeatureHashes& out);
std::uint64_t feature_hash(std::string_view feature);

// Calls visit(token) for each lower-cased token; tokens longer than 48 bytes are cut.
template <typename Visit>
void for_each_token(std::string_view text, Visit&& visit) {
  char buf[48];
  std::size_t len = 0;
  auto flush = [&] {
    if (len > 0) visit(std::string_view(buf, len));
    len = 0;
  };
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
    const bool upper = c >= 'A' && c <= 'Z';
    if (word || upper) {
      if (len < sizeof buf) buf[len++] = upper ? static_cast<char>(c + 32) : static_cast<char>(c);
    } else if (c != '\'') {  // "don't" becomes the one token "dont"
      flush();
    }
  }
  flush();
}

}  // namespace spoofex::triage
