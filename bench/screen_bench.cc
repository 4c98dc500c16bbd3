// Pre-answer screening against a 10 M-number spam list (issue 2's goal: under 1 µs
// per screen on one core, under 200 MB resident for the list).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "screening/screening.h"

namespace {

using namespace spoofex;

constexpr std::size_t kListSize = 10'000'000;

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      f >> kib;
      return kib;
    }
    f.ignore(1 << 10, '\n');
  }
  return -1;
}

std::string indian_mobile(std::mt19937_64& rng) {
  std::uniform_int_distribution<std::uint64_t> d(6'000'000'000ull, 9'999'999'999ull);
  return "+91" + std::to_string(d(rng));
}

numbering::NumberingPlan make_plan() {
  auto overlay = numbering::load_overlay(SPOOFEX_SOURCE_DATA_DIR "/numbering/in_overlay.tsv");
  return numbering::NumberingPlan(overlay ? std::move(*overlay)
                                          : std::vector<numbering::OverlayRule>{});
}

// The shared fixture: one 10 M list, built once.
struct World {
  numbering::NumberingPlan plan = make_plan();
  screening::SpamList spam;
  std::vector<std::string> listed;
  std::vector<std::string> unlisted;
  double build_seconds = 0;
  long list_kib = 0;

  World() {
    std::mt19937_64 rng(42);
    const long before = rss_kib();
    const auto t0 = std::chrono::steady_clock::now();
    spam.reserve(kListSize);
    std::string number;
    for (std::size_t i = 0; i < kListSize; ++i) {
      number = indian_mobile(rng);
      spam.add(number, i % 3 ? "telemarketing" : "loan scam");
      if (i % 10'000 == 0) listed.push_back(number);
    }
    build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    list_kib = rss_kib() - before;
    for (int i = 0; i < 1000; ++i) unlisted.push_back(indian_mobile(rng));
  }
};

World& world() {
  static World w;
  return w;
}

void BM_SpamListBuild10M(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(world().spam.size());
  state.counters["numbers"] = static_cast<double>(world().spam.size());
  state.counters["build_s"] = world().build_seconds;
  state.counters["list_rss_MiB"] = static_cast<double>(world().list_kib) / 1024.0;
}
BENCHMARK(BM_SpamListBuild10M)->Iterations(1);

void BM_SpamListLookup(benchmark::State& state) {
  auto& w = world();
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& n = (i & 1) ? w.listed[i % w.listed.size()] : w.unlisted[i % w.unlisted.size()];
    benchmark::DoNotOptimize(w.spam.contains(n));
    ++i;
  }
}
BENCHMARK(BM_SpamListLookup);

// The whole pre-answer decision: parse, spoof rules, burst table, spam lookup, verdict.
void BM_ScreenCaller(benchmark::State& state) {
  auto& w = world();
  screening::Policy policy;
  policy.own_numbers = {"+911123001100"};
  screening::CallPatternDetector bursts(policy.burst);
  screening::Screener screener(w.plan, w.spam, bursts, policy);
  const bool listed = state.range(0) == 1;
  std::size_t i = 0;
  auto t = screening::Clock::time_point(std::chrono::seconds(1'700'000'000));
  for (auto _ : state) {
    const auto& n = listed ? w.listed[i % w.listed.size()] : w.unlisted[i % w.unlisted.size()];
    auto v = screener.screen({n, "", ""}, t += std::chrono::seconds(1));
    benchmark::DoNotOptimize(v);
    ++i;
  }
  state.SetLabel(listed ? "spam-listed caller" : "genuine caller");
}
BENCHMARK(BM_ScreenCaller)->Arg(0)->Arg(1);

// A stream of never-seen callers: each screen parses a new number, so the range
// cache fills as it would in the first hours of a real line.
void BM_ScreenFreshCaller(benchmark::State& state) {
  auto& w = world();
  screening::Policy policy;
  screening::CallPatternDetector bursts(policy.burst);
  screening::Screener screener(w.plan, w.spam, bursts, policy);
  std::mt19937_64 rng(7);
  std::vector<std::string> fresh(static_cast<std::size_t>(state.max_iterations));
  for (auto& n : fresh) n = indian_mobile(rng);
  auto t = screening::Clock::time_point(std::chrono::seconds(1'700'000'000));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(screener.screen({fresh[i++], "", ""}, t += std::chrono::seconds(1)));
  }
}
BENCHMARK(BM_ScreenFreshCaller)->Iterations(200'000);

// Start-up: loading the in-memory list from a SQLite store of 1 M numbers.
void BM_SpamListLoadFromSqlite1M(benchmark::State& state) {
  const std::string path = "/tmp/spoofex-bench-" + std::to_string(::getpid()) + ".db";
  auto db = store::Store::open("sqlite:" + path);
  if (!db || !(*db)->migrate()) {
    state.SkipWithError("cannot create the benchmark database");
    return;
  }
  std::mt19937_64 rng(9);
  std::vector<store::SpamEntry> entries(1'000'000);
  for (auto& e : entries)
    e = {indian_mobile(rng), "telemarketing", "bench", "2026-11-25T00:00:00Z"};
  if (!(*db)->add_spam_batch(entries)) state.SkipWithError("cannot fill the benchmark database");
  screening::SpamList list;
  for (auto _ : state) {
    if (!list.load(**db)) state.SkipWithError("load failed");
  }
  state.counters["numbers"] = static_cast<double>(list.size());
  db->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}
BENCHMARK(BM_SpamListLoadFromSqlite1M)->Iterations(1)->Unit(benchmark::kMillisecond);

// Caller-ID parsing alone (libphonenumber + overlay), for several input shapes.
void BM_ParseCallerId(benchmark::State& state) {
  auto& w = world();
  static const std::vector<std::string> inputs = {"+919876543210", "09876543210", "98765 43210",
                                                  "anonymous",     "100",         "1401234567"};
  const std::string& in = inputs[static_cast<std::size_t>(state.range(0))];
  for (auto _ : state) benchmark::DoNotOptimize(w.plan.parse(in));
  state.SetLabel(in);
}
BENCHMARK(BM_ParseCallerId)->DenseRange(0, 5);

// libphonenumber alone, for comparison with the fast path.
void BM_ParseCallerIdLibphonenumber(benchmark::State& state) {
  auto& w = world();
  for (auto _ : state) benchmark::DoNotOptimize(w.plan.parse_without_fast_path("+919876543210"));
}
BENCHMARK(BM_ParseCallerIdLibphonenumber);

}  // namespace

BENCHMARK_MAIN();
