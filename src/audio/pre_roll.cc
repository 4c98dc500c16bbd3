#include <algorithm>

#include "audio/audio.h"

namespace spoofex::audio {
namespace {
constexpr std::size_t kRate = 8000;
constexpr std::size_t kKept = kRate;  // 1 s: more than the analyzer's 0.6 s to declare speech
}  // namespace

void PreRoll::push(std::span<const std::int16_t> pcm) {
  if (ring_.empty()) ring_.assign(kKept, 0);
  for (const std::int16_t x : pcm) {
    ring_[next_] = x;
    next_ = (next_ + 1) % kKept;
  }
  filled_ = std::min(kKept, filled_ + pcm.size());
}

void PreRoll::take(double onset_s, double end_s, std::vector<std::int16_t>& out) {
  const double lead_s = std::max(0.0, end_s - onset_s + kSpeechLeadInS);
  const auto keep = std::min(filled_, static_cast<std::size_t>(lead_s * kRate));
  // The newest `keep` samples, oldest first: they end just before next_.
  for (std::size_t i = kKept - keep; i < kKept; ++i) out.push_back(ring_[(next_ + i) % kKept]);
  filled_ = 0;
}

}  // namespace spoofex::audio
