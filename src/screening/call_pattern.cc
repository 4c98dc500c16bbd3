#include <algorithm>
#include <bit>

#include "screening/screening.h"

namespace spoofex::screening {
namespace {

constexpr std::size_t kProbe = 8;  // slots examined per call: the O(1) bound

std::size_t home(std::uint64_t key, std::size_t mask) {
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 24) & mask;
}

}  // namespace

CallPatternDetector::CallPatternDetector(BurstPolicy policy) : policy_(policy) {
  policy_.max_calls = std::clamp(policy_.max_calls, 1u, kRing - 1);
  table_.resize(std::bit_ceil(std::max<std::size_t>(policy_.capacity, kProbe)));
}

unsigned CallPatternDetector::observe(std::uint64_t key, Clock::time_point at) {
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const std::int64_t window_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(policy_.window).count();
  auto last_call = [](const Entry& e) { return e.times_ms[(e.head + kRing - 1) % kRing]; };
  auto expired = [&](const Entry& e) { return e.key == 0 || now_ms - last_call(e) > window_ms; };

  const std::size_t mask = table_.size() - 1;
  const std::size_t start = home(key, mask);
  Entry* target = nullptr;
  Entry* victim = nullptr;
  for (std::size_t p = 0; p < kProbe; ++p) {
    Entry& e = table_[(start + p) & mask];
    if (e.key == key) {
      target = &e;
      break;
    }
    // Prefer a free or expired slot; otherwise the caller heard from least recently.
    if (!victim || (expired(e) && !expired(*victim)) ||
        (expired(e) == expired(*victim) && last_call(e) < last_call(*victim))) {
      victim = &e;
    }
  }
  if (!target) {
    *victim = Entry{};
    victim->key = key;
    target = victim;
  }
  target->times_ms[target->head] = now_ms;
  target->head = (target->head + 1) % kRing;
  target->count = std::min<std::uint32_t>(target->count + 1, kRing);

  // Count recent calls, newest first, up to max_calls + 1 (enough to decide).
  unsigned recent = 0;
  const unsigned limit = std::min<unsigned>(target->count, policy_.max_calls + 1);
  for (unsigned i = 1; i <= limit; ++i) {
    const std::int64_t t = target->times_ms[(target->head + kRing - i) % kRing];
    if (now_ms - t > window_ms) break;
    ++recent;
  }
  return recent;
}

}  // namespace spoofex::screening
