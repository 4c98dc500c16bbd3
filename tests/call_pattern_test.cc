// Unit tests for CallPatternDetector: burst counting with a bounded table.
// Time is always an explicit time point; the real clock is never read.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <new>
#include <random>
#include <vector>

#include "screening/screening.h"

// Counts heap allocations so a test can show that observing callers allocates nothing.
namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace spoofex::screening {
namespace {

using std::chrono::seconds;

Clock::time_point at(std::int64_t s) { return Clock::time_point(seconds(s)); }

BurstPolicy policy(unsigned max_calls, std::int64_t window_s, std::size_t capacity = 1024) {
  BurstPolicy p;
  p.max_calls = max_calls;
  p.window = seconds(window_s);
  p.capacity = capacity;
  return p;
}

constexpr std::uint64_t kCaller = 919876543210ull;

TEST(CallPatternTest, CallsWithinWindowCountUp) {
  CallPatternDetector d(policy(3, 600));
  EXPECT_EQ(d.observe(kCaller, at(1000)), 1u);
  EXPECT_EQ(d.observe(kCaller, at(1100)), 2u);
  EXPECT_EQ(d.observe(kCaller, at(1200)), 3u);
}

TEST(CallPatternTest, FourthCallWithinWindowExceedsMaxCalls) {
  CallPatternDetector d(policy(3, 600));
  d.observe(kCaller, at(1000));
  d.observe(kCaller, at(1100));
  d.observe(kCaller, at(1200));
  const unsigned fourth = d.observe(kCaller, at(1300));
  EXPECT_EQ(fourth, 4u);
  EXPECT_GT(fourth, d.policy().max_calls);
}

TEST(CallPatternTest, CountIsCappedAtMaxCallsPlusOne) {
  CallPatternDetector d(policy(3, 600));
  unsigned last = 0;
  for (int i = 0; i < 10; ++i) last = d.observe(kCaller, at(1000 + i));
  EXPECT_EQ(last, 4u);
}

TEST(CallPatternTest, CallsSpreadWiderThanWindowNeverExceedTwo) {
  CallPatternDetector d(policy(3, 600));
  for (int i = 0; i < 20; ++i) {
    const unsigned n = d.observe(kCaller, at(1000 + 400 * i));
    EXPECT_LE(n, 2u) << "call " << i;
    EXPECT_GE(n, 1u) << "call " << i;
  }
}

TEST(CallPatternTest, CallsFartherApartThanWindowAlwaysCountOne) {
  CallPatternDetector d(policy(3, 600));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(d.observe(kCaller, at(1000 + 601 * i)), 1u) << i;
}

TEST(CallPatternTest, CallerReturningAfterWindowStartsAgainAtOne) {
  CallPatternDetector d(policy(3, 600));
  d.observe(kCaller, at(1000));
  d.observe(kCaller, at(1010));
  d.observe(kCaller, at(1020));
  d.observe(kCaller, at(1030));
  EXPECT_EQ(d.observe(kCaller, at(1030 + 601)), 1u);
  EXPECT_EQ(d.observe(kCaller, at(1030 + 602)), 2u);
}

TEST(CallPatternTest, OldCallsSlideOutOfWindow) {
  CallPatternDetector d(policy(3, 600));
  d.observe(kCaller, at(0));
  d.observe(kCaller, at(300));
  // At 700 the call at 0 is out of the window, the one at 300 is in.
  EXPECT_EQ(d.observe(kCaller, at(700)), 2u);
}

TEST(CallPatternTest, CallersAreCountedSeparately) {
  CallPatternDetector d(policy(3, 600));
  d.observe(kCaller, at(1000));
  d.observe(kCaller, at(1001));
  EXPECT_EQ(d.observe(kCaller + 1, at(1002)), 1u);
  EXPECT_EQ(d.observe(kCaller, at(1003)), 3u);
}

TEST(CallPatternTest, MaxCallsZeroIsClampedToOne) {
  const CallPatternDetector d(policy(0, 600));
  EXPECT_EQ(d.policy().max_calls, 1u);
}

TEST(CallPatternTest, MaxCallsAboveFifteenIsClampedToFifteen) {
  const CallPatternDetector d(policy(100, 600));
  EXPECT_EQ(d.policy().max_calls, 15u);
}

TEST(CallPatternTest, MaxCallsWithinRangeIsKept) {
  const CallPatternDetector d(policy(7, 600));
  EXPECT_EQ(d.policy().max_calls, 7u);
}

TEST(CallPatternTest, ClampedMaxCallsStillDetectsBurst) {
  CallPatternDetector d(policy(100, 600));
  unsigned last = 0;
  for (int i = 0; i < 40; ++i) last = d.observe(kCaller, at(1000 + i));
  EXPECT_EQ(last, 16u);
}

// --- Capacity bound -------------------------------------------------------------------

TEST(CallPatternCapacityTest, ObservingManyCallersAllocatesNothing) {
  CallPatternDetector d(policy(3, 600, 64));
  const std::size_t before = g_allocations.load();
  for (std::uint64_t k = 1; k <= 10'000; ++k) d.observe(910000000000ull + k, at(1000));
  const std::size_t after = g_allocations.load();
  EXPECT_EQ(after - before, 0u);
}

// Every caller remembered at the end of the first pass answers 2 in the second, and
// the second pass only forgets. So the 2s count the entries held: at most capacity.
TEST(CallPatternCapacityTest, RemembersAtMostCapacityCallers) {
  CallPatternDetector d(policy(3, 600, 64));
  for (std::uint64_t k = 1; k <= 10'000; ++k) d.observe(910000000000ull + k, at(1000));
  std::size_t remembered = 0;
  for (std::uint64_t k = 1; k <= 10'000; ++k) {
    remembered += d.observe(910000000000ull + k, at(1001)) == 2u;
  }
  EXPECT_LE(remembered, 64u);
}

TEST(CallPatternCapacityTest, ForgottenCallerNeverCountsMoreThanItsCalls) {
  CallPatternDetector d(policy(3, 600, 64));
  const std::uint64_t early = 919999999999ull;
  EXPECT_EQ(d.observe(early, at(1000)), 1u);
  for (std::uint64_t k = 1; k <= 10'000; ++k) d.observe(910000000000ull + k, at(1000));
  const unsigned n = d.observe(early, at(1001));
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, 2u);
}

// Random traffic over many more callers than the table holds: every answer lies
// between 1 and the caller's true count of calls in the window (capped at max+1).
TEST(CallPatternCapacityTest, CountNeverExceedsTrueCount) {
  const unsigned max_calls = 3;
  const std::int64_t window_s = 600;
  CallPatternDetector d(policy(max_calls, window_s, 64));
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<std::uint64_t> pick(1, 500);
  std::map<std::uint64_t, std::deque<std::int64_t>> truth;
  std::size_t too_high = 0, too_low = 0;
  std::int64_t now = 1'000'000;
  for (int i = 0; i < 50'000; ++i) {
    now += static_cast<std::int64_t>(rng() % 3);  // non-decreasing time
    const std::uint64_t key = 910000000000ull + pick(rng);
    auto& calls = truth[key];
    calls.push_back(now);
    while (now - calls.front() > window_s) calls.pop_front();
    const unsigned expected_max =
        static_cast<unsigned>(std::min<std::size_t>(calls.size(), max_calls + 1));
    const unsigned n = d.observe(key, at(now));
    too_high += n > expected_max;
    too_low += n < 1;
  }
  EXPECT_EQ(too_high, 0u);
  EXPECT_EQ(too_low, 0u);
}

TEST(CallPatternCapacityTest, FewCallersWithinCapacityAreCountedExactly) {
  CallPatternDetector d(policy(3, 600, 64));
  // Four callers in a 64-slot table: nobody needs to be forgotten.
  for (int round = 1; round <= 4; ++round) {
    for (std::uint64_t k = 1; k <= 4; ++k) {
      EXPECT_EQ(d.observe(910000000000ull + k, at(1000 + round)), static_cast<unsigned>(round));
    }
  }
}

}  // namespace
}  // namespace spoofex::screening
