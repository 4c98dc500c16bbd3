// Sustained call-record writes (issue 7): batches of records through the store on
// SQLite (a file, WAL, synchronous=FULL) and PostgreSQL ($SPOOFEX_BENCH_PG_URL or
// $SPOOFEX_TEST_PG_URL, e.g. under scripts/with-postgres), and the fsync'd journal that
// takes them while the database is away. items_per_second is records per second.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "store/store.h"

namespace {

using spoofex::store::CallRecord;

std::vector<CallRecord> batch(std::size_t n, std::int64_t& counter) {
  std::vector<CallRecord> out(n);
  for (auto& r : out) {
    const std::int64_t i = counter++;
    r.call_sid = "CAbench" + std::to_string(i);
    r.revision = 1;
    r.node = "bench";
    r.from_raw = r.from_e164 = "+9198" + std::to_string(10000000 + i % 89999999);
    r.status = "completed";
    r.category = "inquiry";
    r.department = "help_desk";
    r.started_at = r.updated_at = "2026-11-25T12:00:00.000Z";
    r.record_json = R"({"transcript":"i want to know the status of my complaint","digits":"2",)"
                    R"("reasons":[{"code":"digit_agrees","detail":"caller pressed 2"}]})";
  }
  return out;
}

void put_calls(benchmark::State& state, const std::string& url) {
  auto db = spoofex::store::Store::open(url);
  if (!db || !(*db)->migrate()) {
    state.SkipWithError("cannot open the database");
    return;
  }
  std::int64_t counter = static_cast<std::int64_t>(std::rand()) << 20;
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    auto records = batch(n, counter);
    state.ResumeTiming();
    if (!(*db)->put_calls(records)) state.SkipWithError("put_calls failed");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_PutCallsSqlite(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() / "spoofex-store-bench.db";
  put_calls(state, "sqlite:" + path.string());
}
BENCHMARK(BM_PutCallsSqlite)->Arg(1)->Arg(100)->Arg(1000)->UseRealTime();

const char* postgres_url() {
  const char* url = std::getenv("SPOOFEX_BENCH_PG_URL");
  if (!url || !*url) url = std::getenv("SPOOFEX_TEST_PG_URL");
  return url && *url ? url : nullptr;
}

void BM_PutCallsPostgres(benchmark::State& state) {
  const char* url = postgres_url();
  if (!url) {
    state.SkipWithError("set SPOOFEX_BENCH_PG_URL (or run under scripts/with-postgres)");
    return;
  }
  put_calls(state, url);
}
BENCHMARK(BM_PutCallsPostgres)->Arg(1)->Arg(100)->Arg(1000)->UseRealTime();

// How long another node takes to hear of a change: one call record committed on one
// connection until a ChangeListener on another wakes (LISTEN/NOTIFY round trip).
void BM_ChangeNotificationPostgres(benchmark::State& state) {
  const char* url = postgres_url();
  auto db = url ? spoofex::store::Store::open(url) : spoofex::Error{"no PostgreSQL"};
  if (!db || !(*db)->migrate()) {
    state.SkipWithError("set SPOOFEX_BENCH_PG_URL (or run under scripts/with-postgres)");
    return;
  }
  auto listener = spoofex::store::ChangeListener::open(url);
  if (!listener || !*listener) {
    state.SkipWithError("cannot listen");
    return;
  }
  while ((*listener)->wait(std::chrono::milliseconds(20))) {
  }
  std::int64_t counter = static_cast<std::int64_t>(std::rand()) << 20;
  for (auto _ : state) {
    state.PauseTiming();
    auto records = batch(1, counter);
    state.ResumeTiming();
    if (!(*db)->put_calls(records)) state.SkipWithError("put_calls failed");
    if (!(*listener)->wait(std::chrono::seconds(2))) state.SkipWithError("no notification");
  }
}
BENCHMARK(BM_ChangeNotificationPostgres)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_JournalAppend(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() / "spoofex-bench.journal";
  std::filesystem::remove(path);
  auto journal = spoofex::store::Journal::open(path.string());
  if (!journal) {
    state.SkipWithError("cannot open the journal");
    return;
  }
  std::int64_t counter = 0;
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    auto records = batch(n, counter);
    state.ResumeTiming();
    if (!(*journal)->append(records, {})) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  std::filesystem::remove(path);
}
BENCHMARK(BM_JournalAppend)->Arg(1)->Arg(100)->Arg(1000)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
