// Unit tests for store::Store on SQLite (in memory and in a file) and, when
// SPOOFEX_TEST_PG_URL is set, on PostgreSQL.
#include "store/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace spoofex::store {
namespace {

namespace fs = std::filesystem;

// A directory under /tmp made with mkdtemp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/spoofex-store-test-XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (made != nullptr) path_ = made;
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

SpamEntry entry(std::string e164, std::string reason = "fraud", std::string added_by = "ops",
                std::string added_at = "") {
  return {std::move(e164), std::move(reason), std::move(added_by), std::move(added_at)};
}

std::vector<std::string> numbers_of(const std::vector<SpamEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.e164);
  return out;
}

// Renewed as each test starts: a shared PostgreSQL database keeps the rows of earlier
// tests and runs, and they must never match what a test looks for.
std::string& run_id() {
  static std::string id;
  return id;
}

void renew_run_id() {
  run_id() = std::to_string(getpid()) + "-" +
             std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
}

// --- Backends ---------------------------------------------------------------------------

enum class Backend { sqlite_memory, sqlite_file, postgresql };

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  switch (info.param) {
    case Backend::sqlite_memory:
      return "SqliteMemory";
    case Backend::sqlite_file:
      return "SqliteFile";
    case Backend::postgresql:
      return "Postgresql";
  }
  return "Unknown";
}

// Lets ctest and gtest print the backend by name instead of its bytes.
void PrintTo(Backend b, std::ostream* os) {
  *os << (b == Backend::postgresql    ? "postgresql"
          : b == Backend::sqlite_file ? "sqlite-file"
                                      : "sqlite-memory");
}

std::vector<Backend> backends() {
  std::vector<Backend> out = {Backend::sqlite_memory, Backend::sqlite_file};
  const char* pg = std::getenv("SPOOFEX_TEST_PG_URL");
  if (pg != nullptr && *pg != '\0') out.push_back(Backend::postgresql);
  return out;
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    renew_run_id();
    switch (GetParam()) {
      case Backend::sqlite_memory:
        url_ = "sqlite::memory:";
        break;
      case Backend::sqlite_file:
        ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
        url_ = "sqlite:" + (dir_.path() / "spoofex.db").string();
        break;
      case Backend::postgresql:
        url_ = std::getenv("SPOOFEX_TEST_PG_URL");
        break;
    }
    auto opened = Store::open(url_);
    ASSERT_TRUE(opened.ok()) << url_ << ": " << opened.error();
    db_ = std::move(opened).value();
    const Status migrated = db_->migrate();
    ASSERT_TRUE(migrated.ok()) << migrated.error();
    // A shared PostgreSQL database keeps rows between tests: start from an empty list.
    auto listed = db_->list_spam();
    ASSERT_TRUE(listed.ok()) << listed.error();
    for (const auto& e : *listed) ASSERT_TRUE(db_->remove_spam(e.e164, "test", "reset").ok());
  }

  TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> db_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(backends()), backend_name);

TEST_P(StoreTest, BackendNameMatchesUrl) {
  EXPECT_EQ(db_->backend(), GetParam() == Backend::postgresql ? "postgresql" : "sqlite");
}

TEST_P(StoreTest, MigrateTwiceIsFine) {
  const Status again = db_->migrate();
  EXPECT_TRUE(again.ok()) << again.error();
  const Status third = db_->migrate();
  EXPECT_TRUE(third.ok()) << third.error();
}

TEST_P(StoreTest, MigrateReachesTheLatestSchema) {
  ASSERT_TRUE(db_->migrate().ok());
  auto version = db_->schema_version();
  ASSERT_TRUE(version.ok()) << version.error();
  EXPECT_EQ(*version, 5);
}

TEST_P(StoreTest, FeedbackIsStoredInOrderAndAudited) {
  ASSERT_TRUE(db_->add_feedback({"CA1", "bike stolen yesterday", "complaint", "asha", ""}).ok());
  ASSERT_TRUE(
      db_->add_feedback({"", "press 1 for loan", "spam", "ravi", "2026-11-25T10:00:00Z"}).ok());
  auto all = db_->list_feedback();
  ASSERT_TRUE(all.ok()) << all.error();
  // A shared PostgreSQL database may hold rows from earlier tests: look at the last two.
  ASSERT_GE(all->size(), 2u);
  const auto& a = (*all)[all->size() - 2];
  const auto& b = all->back();
  EXPECT_EQ(a.call_sid, "CA1");
  EXPECT_EQ(a.category, "complaint");
  EXPECT_FALSE(a.at.empty());
  EXPECT_EQ(b.text, "press 1 for loan");
  EXPECT_EQ(b.at, "2026-11-25T10:00:00Z");
}

TEST_P(StoreTest, NewListIsEmpty) {
  auto listed = db_->list_spam();
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_TRUE(listed->empty());
}

TEST_P(StoreTest, AddSpamReturnsTrueThenFalseForSameNumber) {
  auto first = db_->add_spam(entry("+919876543210"));
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_TRUE(*first);
  auto second = db_->add_spam(entry("+919876543210", "other reason"));
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_FALSE(*second);
}

TEST_P(StoreTest, DuplicateAddKeepsFirstEntry) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210", "first")).ok());
  ASSERT_TRUE(db_->add_spam(entry("+919876543210", "second")).ok());
  auto found = db_->find_spam("+919876543210");
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->reason, "first");
  auto listed = db_->list_spam();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

TEST_P(StoreTest, FindSpamReturnsStoredFields) {
  ASSERT_TRUE(
      db_->add_spam(entry("+919876543210", "loan fraud", "alice", "2026-11-25T14:30:00Z")).ok());
  auto found = db_->find_spam("+919876543210");
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_TRUE(found->has_value());
  const SpamEntry& e = **found;
  EXPECT_EQ(e.e164, "+919876543210");
  EXPECT_EQ(e.reason, "loan fraud");
  EXPECT_EQ(e.added_by, "alice");
  EXPECT_EQ(e.added_at, "2026-11-25T14:30:00Z");
}

TEST_P(StoreTest, FindSpamStampsAddedAtWhenMissing) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210", "x", "ops", "")).ok());
  auto found = db_->find_spam("+919876543210");
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_TRUE(found->has_value());
  EXPECT_TRUE(
      std::regex_match((*found)->added_at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << (*found)->added_at;
}

TEST_P(StoreTest, FindSpamOfUnlistedNumberIsEmpty) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210")).ok());
  auto found = db_->find_spam("+919876543211");
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_FALSE(found->has_value());
}

TEST_P(StoreTest, EmptyReasonIsStoredAsEmpty) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210", "")).ok());
  auto found = db_->find_spam("+919876543210");
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->reason, "");
  auto listed = db_->list_spam();
  ASSERT_TRUE(listed.ok()) << listed.error();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().reason, "");
}

TEST_P(StoreTest, RemoveSpamReturnsTrueThenFalse) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210")).ok());
  auto first = db_->remove_spam("+919876543210", "bob", "false positive");
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_TRUE(*first);
  auto second = db_->remove_spam("+919876543210", "bob", "again");
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_FALSE(*second);
}

TEST_P(StoreTest, RemoveSpamOfUnlistedNumberReturnsFalse) {
  auto removed = db_->remove_spam("+919876543210", "bob", "never listed");
  ASSERT_TRUE(removed.ok()) << removed.error();
  EXPECT_FALSE(*removed);
}

TEST_P(StoreTest, RemovedNumberIsGoneFromListAndFind) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210")).ok());
  ASSERT_TRUE(db_->add_spam(entry("+919876543211")).ok());
  ASSERT_TRUE(db_->remove_spam("+919876543210", "bob", "false positive").ok());
  auto listed = db_->list_spam();
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(numbers_of(*listed), (std::vector<std::string>{"+919876543211"}));
  auto found = db_->find_spam("+919876543210");
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_FALSE(found->has_value());
}

TEST_P(StoreTest, ReAddingAfterRemovalWorks) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210", "old")).ok());
  ASSERT_TRUE(db_->remove_spam("+919876543210", "bob", "false positive").ok());
  auto again = db_->add_spam(entry("+919876543210", "new"));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_TRUE(*again);
  auto found = db_->find_spam("+919876543210");
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->reason, "new");
  auto listed = db_->list_spam();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

TEST_P(StoreTest, RemoveAfterReAddRemovesAgain) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210")).ok());
  ASSERT_TRUE(db_->remove_spam("+919876543210", "bob", "1").ok());
  ASSERT_TRUE(db_->add_spam(entry("+919876543210")).ok());
  auto removed = db_->remove_spam("+919876543210", "bob", "2");
  ASSERT_TRUE(removed.ok()) << removed.error();
  EXPECT_TRUE(*removed);
  auto listed = db_->list_spam();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_P(StoreTest, AddSpamBatchReturnsCountOfNewNumbers) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210")).ok());
  const std::vector<SpamEntry> batch = {entry("+919876543210"), entry("+919876543211"),
                                        entry("+919876543212"), entry("+919876543211")};
  auto added = db_->add_spam_batch(batch);
  ASSERT_TRUE(added.ok()) << added.error();
  EXPECT_EQ(*added, 2u);
  auto listed = db_->list_spam();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 3u);
}

TEST_P(StoreTest, EmptyBatchAddsNothing) {
  auto added = db_->add_spam_batch({});
  ASSERT_TRUE(added.ok()) << added.error();
  EXPECT_EQ(*added, 0u);
}

TEST_P(StoreTest, ForEachSpamStreamsInE164Order) {
  for (const char* n :
       {"+919876543212", "+14155552671", "+919876543210", "+447911123456", "+919876543211"}) {
    ASSERT_TRUE(db_->add_spam(entry(n)).ok());
  }
  std::vector<std::string> seen;
  const Status st = db_->for_each_spam([&](const SpamEntry& e) { seen.push_back(e.e164); });
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(seen, (std::vector<std::string>{"+14155552671", "+447911123456", "+919876543210",
                                            "+919876543211", "+919876543212"}));
}

// More rows than any one fetch is likely to bring: nothing lost, duplicated or reordered
// at batch boundaries.
TEST_P(StoreTest, ForEachSpamStreamsManyRowsInOrder) {
  std::vector<SpamEntry> batch;
  for (int i = 0; i < 25'001; ++i) {
    batch.push_back(entry("+9190000" + std::to_string(100000 + (i * 7919) % 25'001),
                          "reason " + std::to_string(i % 3)));
  }
  auto added = db_->add_spam_batch(batch);
  ASSERT_TRUE(added.ok()) << added.error();
  ASSERT_EQ(*added, 25'001u);
  std::vector<std::string> seen;
  std::size_t empty_reasons = 0;
  const Status st = db_->for_each_spam([&](const SpamEntry& e) {
    seen.push_back(e.e164);
    empty_reasons += e.reason.empty();
  });
  ASSERT_TRUE(st.ok()) << st.error();
  ASSERT_EQ(seen.size(), 25'001u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(seen.front(), "+9190000100000");
  EXPECT_EQ(seen.back(), "+9190000125000");
  EXPECT_EQ(empty_reasons, 0u);
}

TEST_P(StoreTest, ForEachSpamSkipsRemovedNumbers) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210")).ok());
  ASSERT_TRUE(db_->add_spam(entry("+919876543211")).ok());
  ASSERT_TRUE(db_->remove_spam("+919876543211", "bob", "x").ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(db_->for_each_spam([&](const SpamEntry& e) { seen.push_back(e.e164); }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"+919876543210"}));
}

TEST_P(StoreTest, ForEachSpamPassesReasons) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210", "loan fraud", "alice")).ok());
  std::vector<SpamEntry> seen;
  ASSERT_TRUE(db_->for_each_spam([&](const SpamEntry& e) { seen.push_back(e); }).ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].reason, "loan fraud");
  EXPECT_EQ(seen[0].added_by, "alice");
}

TEST_P(StoreTest, SqlInjectionLookingReasonIsStoredVerbatim) {
  const std::string evil = "'); DROP TABLE spam_numbers; --";
  ASSERT_TRUE(db_->add_spam(entry("+919876543210", evil, "x'); DELETE FROM audit_log; --")).ok());
  auto found = db_->find_spam("+919876543210");
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->reason, evil);
  EXPECT_EQ((*found)->added_by, "x'); DELETE FROM audit_log; --");
}

TEST_P(StoreTest, TableSurvivesSqlInjectionLookingInput) {
  ASSERT_TRUE(db_->add_spam(entry("+919876543210", "'); DROP TABLE spam_numbers; --")).ok());
  ASSERT_TRUE(db_->remove_spam("' OR 1=1 --", "'); DROP TABLE spam_numbers; --", "x").ok());
  auto found = db_->find_spam("' OR '1'='1");
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_FALSE(found->has_value());
  auto added = db_->add_spam(entry("+919876543211"));
  ASSERT_TRUE(added.ok()) << added.error();
  EXPECT_TRUE(*added);
  auto listed = db_->list_spam();
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(listed->size(), 2u);
}

TEST_P(StoreTest, UnicodeReasonRoundTrips) {
  const std::string reason = "फर्जी KYC कॉल — «fraud» 📞";
  ASSERT_TRUE(db_->add_spam(entry("+919876543210", reason)).ok());
  auto found = db_->find_spam("+919876543210");
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->reason, reason);
}

// --- Call records: helpers ---------------------------------------------------------------

using nlohmann::json;

// The call_sid prefix of the running test: "CA<run>-<test name>-".
std::string own_prefix() {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return "CA" + run_id() + "-" + (test != nullptr ? test->name() : "") + "-";
}

std::string sid(const std::string& name) { return own_prefix() + name; }

CallRecord call(const std::string& call_sid, std::int64_t revision, std::string started_at,
                std::string category = "emergency",
                std::string record_json = R"({"transcript":"help","digits":"1"})") {
  CallRecord c;
  c.call_sid = call_sid;
  c.revision = revision;
  c.node = "node-a";
  c.from_raw = "09876543210";
  c.from_e164 = "+919876543210";
  c.status = "completed";
  c.category = std::move(category);
  c.department = "control_room";
  c.started_at = std::move(started_at);
  c.updated_at = c.started_at;
  c.record_json = std::move(record_json);
  return c;
}

// The call_sids of the running test's calls, in the order given.
std::vector<std::string> own_sids(const std::vector<CallRecord>& calls) {
  std::vector<std::string> out;
  const std::string prefix = own_prefix();
  for (const auto& c : calls) {
    if (c.call_sid.starts_with(prefix)) out.push_back(c.call_sid);
  }
  return out;
}

// Microseconds from now, 7000 years on: later than anything an earlier test or run
// stored, so a newest-first listing sees only this test's calls.
std::string future_time(int plus_us) {
  const auto now = std::chrono::system_clock::now() + std::chrono::microseconds(plus_us);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch());
  const std::time_t t = static_cast<std::time_t>(us.count() / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  tm.tm_year += 7000;
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(us.count() % 1'000'000));
  return std::string(buf) + frac;
}

json record_of(const CallRecord& c) { return json::parse(c.record_json); }

// --- Call records -------------------------------------------------------------------------

TEST_P(StoreTest, PutCallThenFindReturnsEveryField) {
  CallRecord c = call(sid("all"), 3, "2026-11-25T14:30:00Z");
  c.from_e164 = "";
  c.status = "rejected";
  c.spam_listed = c.spoofed = c.system_generated = c.blank = c.handled = true;
  c.updated_at = "2026-11-25T14:31:00.250Z";
  auto put = db_->put_call(c);
  ASSERT_TRUE(put.ok()) << put.error();
  EXPECT_TRUE(*put);
  auto found = db_->find_call(c.call_sid);
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_TRUE(found->has_value());
  const CallRecord& f = **found;
  EXPECT_EQ(f.call_sid, c.call_sid);
  EXPECT_EQ(f.revision, 3);
  EXPECT_EQ(f.node, "node-a");
  EXPECT_EQ(f.from_raw, "09876543210");
  EXPECT_EQ(f.from_e164, "");
  EXPECT_EQ(f.status, "rejected");
  EXPECT_EQ(f.category, "emergency");
  EXPECT_EQ(f.department, "control_room");
  EXPECT_TRUE(f.spam_listed && f.spoofed && f.system_generated && f.blank && f.handled);
  EXPECT_EQ(f.started_at, "2026-11-25T14:30:00Z");
  EXPECT_EQ(f.updated_at, "2026-11-25T14:31:00.250Z");
  EXPECT_EQ(f.record_json, c.record_json);
}

TEST_P(StoreTest, FalseFlagsRoundTrip) {
  const CallRecord c = call(sid("flags"), 1, "2026-11-25T14:30:00Z");
  ASSERT_TRUE(db_->put_call(c).ok());
  auto found = db_->find_call(c.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_FALSE((*found)->spam_listed || (*found)->spoofed || (*found)->system_generated ||
               (*found)->blank || (*found)->handled);
}

TEST_P(StoreTest, FindUnknownCallIsEmpty) {
  auto found = db_->find_call(sid("never-stored"));
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_FALSE(found->has_value());
}

TEST_P(StoreTest, CallWithoutSidIsAnError) {
  EXPECT_FALSE(db_->put_call(call("", 1, "2026-11-25T14:30:00Z")).ok());
  EXPECT_FALSE(db_->put_calls({call(sid("ok"), 1, "2026-11-25T14:30:00Z"), call("", 1, "")}).ok());
  auto found = db_->find_call(sid("ok"));
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value()) << "a rejected batch writes nothing";
}

TEST_P(StoreTest, NewerRevisionReplacesTheRecord) {
  CallRecord c = call(sid("newer"), 1, "2026-11-25T14:30:00Z");
  c.status = "ringing";
  ASSERT_TRUE(db_->put_call(c).ok());
  c.revision = 2;
  c.status = "completed";
  c.record_json = R"({"transcript":"my bike was stolen"})";
  auto put = db_->put_call(c);
  ASSERT_TRUE(put.ok()) << put.error();
  EXPECT_TRUE(*put);
  auto found = db_->find_call(c.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->revision, 2);
  EXPECT_EQ((*found)->status, "completed");
  EXPECT_EQ((*found)->record_json, c.record_json);
}

TEST_P(StoreTest, OlderRevisionIsIgnored) {
  CallRecord c = call(sid("older"), 5, "2026-11-25T14:30:00Z");
  c.status = "completed";
  ASSERT_TRUE(db_->put_call(c).ok());
  CallRecord old = c;
  old.revision = 4;
  old.status = "in-progress";
  auto put = db_->put_call(old);
  ASSERT_TRUE(put.ok()) << put.error();
  EXPECT_FALSE(*put);
  auto found = db_->find_call(c.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->revision, 5);
  EXPECT_EQ((*found)->status, "completed");
}

TEST_P(StoreTest, ReplayingTheSameRecordIsNoDuplicate) {
  const CallRecord c = call(sid("replay"), 1, "2026-10-01T08:00:00Z");
  auto first = db_->put_call(c);
  auto second = db_->put_call(c);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  ASSERT_TRUE(db_->put_calls({c, c}).ok());
  auto listed = db_->list_calls({.limit = 100'000, .since = "2026-10-01", .category = ""});
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(own_sids(*listed), (std::vector<std::string>{c.call_sid}));
}

TEST_P(StoreTest, ListIsNewestFirstAndHonoursLimit) {
  const std::string since = future_time(0);
  std::vector<std::string> sids;
  for (int i = 0; i < 5; ++i) {
    sids.push_back(sid("list-" + std::to_string(i)));
    ASSERT_TRUE(db_->put_call(call(sids.back(), 1, future_time(10 + i * 10))).ok());
  }
  auto listed = db_->list_calls({.limit = 3, .since = since, .category = ""});
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(own_sids(*listed), (std::vector<std::string>{sids[4], sids[3], sids[2]}));
  EXPECT_EQ(listed->size(), 3u);
}

TEST_P(StoreTest, CallsStartedTogetherAreOrderedBySid) {
  const std::string at = future_time(0);
  for (const char* n : {"tie-b", "tie-c", "tie-a"}) {
    ASSERT_TRUE(db_->put_call(call(sid(n), 1, at)).ok());
  }
  auto listed = db_->list_calls({.limit = 3, .since = at, .category = ""});
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(own_sids(*listed),
            (std::vector<std::string>{sid("tie-c"), sid("tie-b"), sid("tie-a")}));
}

TEST_P(StoreTest, ListSinceIsInclusiveAndTakesABareDate) {
  ASSERT_TRUE(db_->put_call(call(sid("d1"), 1, "2026-09-01T23:59:59Z")).ok());
  ASSERT_TRUE(db_->put_call(call(sid("d2"), 1, "2026-09-02T00:00:00Z")).ok());
  ASSERT_TRUE(db_->put_call(call(sid("d3"), 1, "2026-09-02T10:00:00Z")).ok());
  auto by_date = db_->list_calls({.limit = 100'000, .since = "2026-09-02", .category = ""});
  ASSERT_TRUE(by_date.ok()) << by_date.error();
  EXPECT_EQ(own_sids(*by_date), (std::vector<std::string>{sid("d3"), sid("d2")}));
  auto by_time =
      db_->list_calls({.limit = 100'000, .since = "2026-09-02T10:00:00Z", .category = ""});
  ASSERT_TRUE(by_time.ok()) << by_time.error();
  EXPECT_EQ(own_sids(*by_time), (std::vector<std::string>{sid("d3")}));
}

// "...:00Z" and "...:00.5Z" do not compare as plain strings in time order.
TEST_P(StoreTest, FractionalSecondsSortAndBoundInTimeOrder) {
  ASSERT_TRUE(db_->put_call(call(sid("f-half"), 1, "2026-08-01T10:00:00.5Z")).ok());
  ASSERT_TRUE(db_->put_call(call(sid("f-whole"), 1, "2026-08-01T10:00:00Z")).ok());
  ASSERT_TRUE(db_->put_call(call(sid("f-before"), 1, "2026-08-01T09:59:59.999Z")).ok());
  std::vector<CallRecord> seen;
  ASSERT_TRUE(
      db_->for_each_call("2026-08-01", [&](const CallRecord& c) { seen.push_back(c); }).ok());
  EXPECT_EQ(own_sids(seen),
            (std::vector<std::string>{sid("f-before"), sid("f-whole"), sid("f-half")}));
  auto listed =
      db_->list_calls({.limit = 100'000, .since = "2026-08-01T10:00:00Z", .category = ""});
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(own_sids(*listed), (std::vector<std::string>{sid("f-half"), sid("f-whole")}));
}

TEST_P(StoreTest, ListFiltersByCategory) {
  ASSERT_TRUE(db_->put_call(call(sid("c-spam"), 1, "2026-07-01T10:00:00Z", "spam")).ok());
  ASSERT_TRUE(db_->put_call(call(sid("c-emg"), 1, "2026-07-01T11:00:00Z", "emergency")).ok());
  ASSERT_TRUE(db_->put_call(call(sid("c-blank"), 1, "2026-07-01T12:00:00Z", "blank")).ok());
  auto spam = db_->list_calls({.limit = 100'000, .since = "2026-07-01", .category = "spam"});
  ASSERT_TRUE(spam.ok()) << spam.error();
  EXPECT_EQ(own_sids(*spam), (std::vector<std::string>{sid("c-spam")}));
  for (const auto& c : *spam) EXPECT_EQ(c.category, "spam");
  auto all = db_->list_calls({.limit = 100'000, .since = "2026-07-01", .category = ""});
  ASSERT_TRUE(all.ok()) << all.error();
  EXPECT_EQ(own_sids(*all),
            (std::vector<std::string>{sid("c-blank"), sid("c-emg"), sid("c-spam")}));
}

TEST_P(StoreTest, ForEachCallStreamsOldestFirstAcrossPages) {
  std::vector<CallRecord> batch;
  for (int i = 0; i < 1'203; ++i) {
    char at[32];
    std::snprintf(at, sizeof at, "2026-06-01T%02d:%02d:%02dZ", (i * 7) % 24, (i * 13) % 60, i % 60);
    batch.push_back(call(sid("page-" + std::to_string(i)), 1, at));
  }
  ASSERT_TRUE(db_->put_calls(batch).ok());
  std::vector<CallRecord> seen;
  ASSERT_TRUE(
      db_->for_each_call("2026-06-01", [&](const CallRecord& c) { seen.push_back(c); }).ok());
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& c : seen) {
    if (!own_sids({c}).empty()) keys.emplace_back(c.started_at, c.call_sid);
  }
  ASSERT_EQ(keys.size(), 1'203u);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
}

TEST_P(StoreTest, ForEachCallMayCallTheStore) {
  ASSERT_TRUE(db_->put_call(call(sid("reentrant"), 1, "2026-05-01T10:00:00Z")).ok());
  int found = 0;
  const Status st = db_->for_each_call("2026-05-01", [&](const CallRecord& c) {
    auto again = db_->find_call(c.call_sid);
    found += again.ok() && again->has_value();
  });
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_GE(found, 1);
}

TEST_P(StoreTest, PutCallsWritesEveryRecord) {
  std::vector<CallRecord> batch;
  for (int i = 0; i < 50; ++i) {
    batch.push_back(call(sid("batch-" + std::to_string(i)), 1, "2026-04-01T10:00:00Z"));
  }
  ASSERT_TRUE(db_->put_calls(batch).ok());
  for (const auto& c : batch) {
    auto found = db_->find_call(c.call_sid);
    ASSERT_TRUE(found.ok()) << found.error();
    EXPECT_TRUE(found->has_value()) << c.call_sid;
  }
}

TEST_P(StoreTest, PutCallsAppliesTheRevisionRuleToEachRecord) {
  CallRecord newer = call(sid("batch-rule"), 2, "2026-04-01T10:00:00Z");
  newer.status = "completed";
  CallRecord older = newer;
  older.revision = 1;
  older.status = "ringing";
  ASSERT_TRUE(db_->put_calls({newer, older, newer}).ok());
  auto found = db_->find_call(newer.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->revision, 2);
  EXPECT_EQ((*found)->status, "completed");
}

// A batch larger than one multi-row statement, with each call written three times out
// of order across statement boundaries: the newest revision of each wins.
TEST_P(StoreTest, PutCallsKeepsTheNewestRevisionAcrossALargeBatch) {
  std::vector<CallRecord> batch;
  for (int rev : {2, 3, 1}) {
    for (int i = 0; i < 130; ++i) {
      CallRecord c = call(sid("big-" + std::to_string(i)), rev, "2026-04-02T10:00:00Z");
      c.status = "rev" + std::to_string(rev);
      batch.push_back(c);
    }
  }
  ASSERT_TRUE(db_->put_calls(batch).ok());
  for (int i = 0; i < 130; ++i) {
    auto found = db_->find_call(sid("big-" + std::to_string(i)));
    ASSERT_TRUE(found.ok() && found->has_value()) << i;
    EXPECT_EQ((*found)->revision, 3) << i;
    EXPECT_EQ((*found)->status, "rev3") << i;
  }
}

TEST_P(StoreTest, PutCallsKeepsWhatOperatorsDid) {
  const CallRecord first = call(sid("batch-op"), 1, "2026-04-03T10:00:00Z");
  ASSERT_TRUE(db_->put_call(first).ok());
  ASSERT_TRUE(db_->mark_handled(first.call_sid, "asha").ok());
  CallRecord later = first;
  later.revision = 2;
  later.status = "completed";
  std::vector<CallRecord> batch{later};
  for (int i = 0; i < 120; ++i) batch.push_back(call(sid("op-fill-" + std::to_string(i)), 1, ""));
  ASSERT_TRUE(db_->put_calls(batch).ok());
  auto found = db_->find_call(first.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->status, "completed");
  EXPECT_TRUE((*found)->handled);
  EXPECT_NE((*found)->record_json.find("\"handled\":true"), std::string::npos)
      << (*found)->record_json;
}

TEST_P(StoreTest, AddCallEventsStoresALargeBatchOnceEach) {
  const std::string s = sid("events-big");
  std::vector<CallEvent> events;
  for (int seq = 1; seq <= 250; ++seq) events.push_back({s, seq, "", "tick", "{}"});
  events.push_back({s, 7, "", "duplicate", "{}"});  // skipped: (call_sid, seq) exists
  ASSERT_TRUE(db_->add_call_events(events).ok());
  ASSERT_TRUE(db_->add_call_events(events).ok());  // a replay adds nothing
  auto stored = db_->list_call_events(s);
  ASSERT_TRUE(stored.ok()) << stored.error();
  ASSERT_EQ(stored->size(), 250u);
  EXPECT_EQ((*stored)[6].kind, "tick");
  EXPECT_FALSE((*stored)[249].at.empty());
}

TEST_P(StoreTest, EmptyPutCallsIsFine) { EXPECT_TRUE(db_->put_calls({}).ok()); }

TEST_P(StoreTest, ConcurrentWritersLoseNothing) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string name = "thread-" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(db_->put_call(call(sid(name), 1, "2026-03-01T10:00:00Z")).ok());
        EXPECT_TRUE(db_->add_call_event({sid(name), 1, "", "webhook", "{}"}).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto listed = db_->list_calls({.limit = 100'000, .since = "2026-03-01", .category = ""});
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(own_sids(*listed).size(), 100u);
}

// --- Call events ----------------------------------------------------------------------------

TEST_P(StoreTest, CallEventsAreListedBySeq) {
  const std::string s = sid("events");
  for (int seq : {3, 1, 2}) {
    auto added =
        db_->add_call_event({s, seq, "2026-11-25T14:30:0" + std::to_string(seq) + "Z",
                             "kind" + std::to_string(seq), R"({"n":)" + std::to_string(seq) + "}"});
    ASSERT_TRUE(added.ok()) << added.error();
    EXPECT_TRUE(*added);
  }
  ASSERT_TRUE(db_->add_call_event({sid("other"), 1, "", "webhook", "{}"}).ok());
  auto events = db_->list_call_events(s);
  ASSERT_TRUE(events.ok()) << events.error();
  ASSERT_EQ(events->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const CallEvent& e = (*events)[static_cast<std::size_t>(i)];
    EXPECT_EQ(e.call_sid, s);
    EXPECT_EQ(e.seq, i + 1);
    EXPECT_EQ(e.kind, "kind" + std::to_string(i + 1));
    EXPECT_EQ(e.detail_json, R"({"n":)" + std::to_string(i + 1) + "}");
  }
}

TEST_P(StoreTest, ReAddingACallEventIsIgnored) {
  const std::string s = sid("event-dup");
  ASSERT_TRUE(db_->add_call_event({s, 1, "2026-11-25T14:30:00Z", "webhook", R"({"a":1})"}).ok());
  auto again = db_->add_call_event({s, 1, "2026-11-25T14:31:00Z", "digits", R"({"a":2})"});
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_FALSE(*again);
  auto events = db_->list_call_events(s);
  ASSERT_TRUE(events.ok()) << events.error();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().kind, "webhook");
  EXPECT_EQ(events->front().detail_json, R"({"a":1})");
}

TEST_P(StoreTest, CallEventWithoutTimeIsStamped) {
  const std::string s = sid("event-time");
  ASSERT_TRUE(db_->add_call_event({s, 1, "", "webhook", "{}"}).ok());
  auto events = db_->list_call_events(s);
  ASSERT_TRUE(events.ok() && events->size() == 1u);
  EXPECT_TRUE(
      std::regex_match(events->front().at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << events->front().at;
}

TEST_P(StoreTest, EventsOfUnknownCallAreEmpty) {
  auto events = db_->list_call_events(sid("no-events"));
  ASSERT_TRUE(events.ok()) << events.error();
  EXPECT_TRUE(events->empty());
}

// --- Operator actions -----------------------------------------------------------------------

TEST_P(StoreTest, MarkHandledBumpsRevisionSetsFlagAndAudits) {
  const CallRecord c = call(sid("handle"), 4, "2026-11-25T14:30:00Z");
  ASSERT_TRUE(db_->put_call(c).ok());
  auto marked = db_->mark_handled(c.call_sid, "asha");
  ASSERT_TRUE(marked.ok()) << marked.error();
  EXPECT_TRUE(*marked);
  auto found = db_->find_call(c.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->revision, 5);
  EXPECT_TRUE((*found)->handled);
  const json j = record_of(**found);
  EXPECT_EQ(j["handled"], true);
  EXPECT_EQ(j["transcript"], "help") << "the rest of the record is kept";
  auto audit = db_->list_audit(c.call_sid);
  ASSERT_TRUE(audit.ok()) << audit.error();
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ(audit->front().action, "call_handled");
  EXPECT_EQ(audit->front().actor, "asha");
}

TEST_P(StoreTest, MarkHandledOfUnknownCallReturnsFalse) {
  auto marked = db_->mark_handled(sid("nobody"), "asha");
  ASSERT_TRUE(marked.ok()) << marked.error();
  EXPECT_FALSE(*marked);
  auto audit = db_->list_audit(sid("nobody"));
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->empty());
}

// The node does not know an operator acted: its next write must neither be swallowed
// by the operator's bump nor undo what the operator did.
TEST_P(StoreTest, HandledSurvivesTheNodesNextWrite) {
  CallRecord c = call(sid("handle-then-write"), 1, "2026-11-25T14:30:00Z");
  c.status = "in-progress";
  ASSERT_TRUE(db_->put_call(c).ok());
  ASSERT_TRUE(db_->mark_handled(c.call_sid, "asha").ok());
  c.revision = 2;
  c.status = "completed";
  auto put = db_->put_call(c);
  ASSERT_TRUE(put.ok()) << put.error();
  EXPECT_TRUE(*put);
  auto found = db_->find_call(c.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->status, "completed");
  EXPECT_TRUE((*found)->handled);
  EXPECT_EQ(record_of(**found)["handled"], true);
  EXPECT_EQ((*found)->revision, 3) << "every write still moves the revision forward";
  auto replay = db_->put_call(c);
  ASSERT_TRUE(replay.ok());
  EXPECT_FALSE(*replay);
}

TEST_P(StoreTest, CorrectCategoryUpdatesColumnJsonAndAudit) {
  const CallRecord c = call(sid("correct"), 1, "2026-11-25T14:30:00Z", "spam");
  ASSERT_TRUE(db_->put_call(c).ok());
  auto corrected = db_->correct_call_category(c.call_sid, "emergency", "ravi");
  ASSERT_TRUE(corrected.ok()) << corrected.error();
  EXPECT_TRUE(*corrected);
  auto found = db_->find_call(c.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->category, "emergency");
  EXPECT_EQ((*found)->revision, 2);
  EXPECT_EQ(record_of(**found)["corrected_category"], "emergency");
  auto audit = db_->list_audit(c.call_sid);
  ASSERT_TRUE(audit.ok() && audit->size() == 1u);
  EXPECT_EQ(audit->front().action, "call_corrected");
  EXPECT_EQ(audit->front().detail, "emergency");
  // The node's next write keeps the correction.
  CallRecord next = c;
  next.revision = 2;
  ASSERT_TRUE(db_->put_call(next).ok());
  found = db_->find_call(c.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->category, "emergency");
  EXPECT_EQ(record_of(**found)["corrected_category"], "emergency");
}

TEST_P(StoreTest, CorrectingToAnUnknownCategoryIsAnError) {
  ASSERT_TRUE(db_->put_call(call(sid("bad-cat"), 1, "2026-11-25T14:30:00Z")).ok());
  EXPECT_FALSE(db_->correct_call_category(sid("bad-cat"), "'; DROP TABLE calls; --", "x").ok());
  auto unknown = db_->correct_call_category(sid("no-such-call"), "inquiry", "x");
  ASSERT_TRUE(unknown.ok()) << unknown.error();
  EXPECT_FALSE(*unknown);
}

TEST_P(StoreTest, MarkHandledKeepsARecordThatIsNotJson) {
  const CallRecord c = call(sid("not-json"), 1, "2026-11-25T14:30:00Z", "", "not json {");
  ASSERT_TRUE(db_->put_call(c).ok());
  ASSERT_TRUE(db_->mark_handled(c.call_sid, "asha").ok());
  auto found = db_->find_call(c.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_TRUE((*found)->handled);
  EXPECT_EQ((*found)->record_json, "not json {");
}

// --- Users ----------------------------------------------------------------------------------

User user(std::string name, std::string role = "operator") {
  return {std::move(name), "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", std::move(role), "",
          false};
}

TEST_P(StoreTest, AddedUserIsFoundAndAudited) {
  const std::string name = "asha-" + run_id();
  User u = user(name, "supervisor");
  u.disabled = true;
  ASSERT_TRUE(db_->add_user(u, "admin").ok());
  auto found = db_->find_user(name);
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->username, name);
  EXPECT_EQ((*found)->password_hash, u.password_hash);
  EXPECT_EQ((*found)->role, "supervisor");
  EXPECT_TRUE((*found)->disabled);
  EXPECT_FALSE((*found)->created_at.empty());
  auto audit = db_->list_audit(name);
  ASSERT_TRUE(audit.ok() && audit->size() == 1u);
  EXPECT_EQ(audit->front().action, "user_add");
  EXPECT_EQ(audit->front().actor, "admin");
  EXPECT_EQ(audit->front().detail.find("argon2"), std::string::npos) << "no hash in the audit";
}

TEST_P(StoreTest, DuplicateUserIsAnError) {
  const std::string name = "ravi-" + run_id();
  ASSERT_TRUE(db_->add_user(user(name), "admin").ok());
  const Status again = db_->add_user(user(name, "admin"), "admin");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), "user '" + name + "' exists");
  auto found = db_->find_user(name);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->role, "operator") << "the first user is kept";
}

TEST_P(StoreTest, UserWithUnknownRoleOrNoHashIsRefused) {
  EXPECT_FALSE(db_->add_user(user("x-" + run_id(), "root"), "admin").ok());
  User no_hash = user("y-" + run_id());
  no_hash.password_hash.clear();
  EXPECT_FALSE(db_->add_user(no_hash, "admin").ok());
  EXPECT_FALSE(db_->add_user(user(""), "admin").ok());
}

TEST_P(StoreTest, ListUsersIsByNameAndCountMatches) {
  auto before = db_->count_users();
  ASSERT_TRUE(before.ok()) << before.error();
  for (const char* n : {"c", "a", "b"}) {
    ASSERT_TRUE(db_->add_user(user(std::string("list-") + run_id() + "-" + n), "admin").ok());
  }
  auto after = db_->count_users();
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(*after, *before + 3);
  auto users = db_->list_users();
  ASSERT_TRUE(users.ok()) << users.error();
  EXPECT_EQ(users->size(), *after);
  std::vector<std::string> own;
  for (const auto& u : *users) {
    if (u.username.starts_with("list-" + run_id()))
      own.push_back(u.username.substr(u.username.size() - 1));
  }
  EXPECT_EQ(own, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_P(StoreTest, FindUnknownUserIsEmpty) {
  auto found = db_->find_user("' OR '1'='1");
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_FALSE(found->has_value());
}

// --- Retention --------------------------------------------------------------------------------

// Calls of 1990 belong to this test alone: no other test stores calls that old.
TEST_P(StoreTest, PurgeBlanksContentAndKeepsColumns) {
  CallRecord old = call(sid("purge-old"), 1, "1990-06-01T10:00:00Z", "complaint",
                        R"({"transcript":"my neighbour hit me","audio_ref":"s3://a.wav",)"
                        R"("digits":"3","reasons":[{"code":"x"}]})");
  old.spoofed = true;
  CallRecord fractional = call(sid("purge-frac"), 1, "1990-12-31T23:59:59.9Z");
  CallRecord young = call(sid("purge-young"), 1, "1991-01-01T00:00:00Z");
  CallRecord undated = call(sid("purge-undated"), 1, "");
  ASSERT_TRUE(db_->put_calls({old, fractional, young, undated}).ok());
  auto purged = db_->purge_call_content("1991-01-01", "retention-job");
  ASSERT_TRUE(purged.ok()) << purged.error();
  EXPECT_EQ(*purged, 2u);

  auto found = db_->find_call(old.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  const json j = record_of(**found);
  EXPECT_EQ(j["transcript"], "");
  EXPECT_TRUE(j["audio_ref"].is_null());
  EXPECT_EQ(j["purged"], true);
  EXPECT_EQ(j["digits"], "3");
  EXPECT_EQ(j["reasons"][0]["code"], "x");
  EXPECT_EQ((*found)->category, "complaint");
  EXPECT_TRUE((*found)->spoofed);
  EXPECT_EQ((*found)->from_e164, "+919876543210");
  EXPECT_EQ((*found)->started_at, "1990-06-01T10:00:00Z");
  EXPECT_EQ((*found)->revision, 1);

  for (const auto& kept : {young, undated}) {
    auto k = db_->find_call(kept.call_sid);
    ASSERT_TRUE(k.ok() && k->has_value());
    EXPECT_EQ((*k)->record_json, kept.record_json) << kept.call_sid;
  }
  auto again = db_->purge_call_content("1991-01-01", "retention-job");
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(*again, 0u);
  auto audit = db_->list_audit("1991-01-01");
  ASSERT_TRUE(audit.ok()) << audit.error();
  ASSERT_GE(audit->size(), 2u);
  EXPECT_EQ(audit->back().action, "retention_purge");
  EXPECT_EQ(audit->back().actor, "retention-job");
}

TEST_P(StoreTest, PurgedCallStaysBlankWhenWrittenAgain) {
  CallRecord c = call(sid("purge-rewrite"), 1, "1980-01-01T00:00:00Z");
  ASSERT_TRUE(db_->put_call(c).ok());
  ASSERT_TRUE(db_->purge_call_content("1980-01-02", "retention-job").ok());
  c.revision = 2;
  c.status = "completed";
  auto put = db_->put_call(c);
  ASSERT_TRUE(put.ok() && *put);
  auto found = db_->find_call(c.call_sid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->status, "completed");
  EXPECT_EQ(record_of(**found)["transcript"], "");
  EXPECT_EQ(record_of(**found)["purged"], true);
}

TEST_P(StoreTest, PurgeWithoutCutOffIsAnError) {
  EXPECT_FALSE(db_->purge_call_content("", "retention-job").ok());
}

// --- Hostile content ------------------------------------------------------------------------

TEST_P(StoreTest, HostileTranscriptsRoundTripVerbatim) {
  const std::vector<std::string> transcripts = {
      "मेरे घर में आग लगी है — «help» 📞 "
      "\xE2\x80\xAE reversed",
      "<script>alert('x')</script><img src=x onerror=alert(1)>",
      "'); DROP TABLE calls; DELETE FROM users; --",
      "Robert\"); DROP TABLE call_events;-- \\ \\\" \t tab\nnew line\r\n",
      "=HYPERLINK(\"http://evil\",\"click\")",
  };
  for (std::size_t i = 0; i < transcripts.size(); ++i) {
    const json record = {{"transcript", transcripts[i]}, {"digits", "1"}};
    CallRecord c = call(sid("hostile-" + std::to_string(i)) + "'\"; --", 1, "2026-02-01T10:00:00Z",
                        "emergency", record.dump());
    c.from_raw = transcripts[i];
    c.node = transcripts[i];
    ASSERT_TRUE(db_->put_call(c).ok());
    ASSERT_TRUE(db_->add_call_event({c.call_sid, 1, "", transcripts[i], record.dump()}).ok());
    auto found = db_->find_call(c.call_sid);
    ASSERT_TRUE(found.ok()) << found.error();
    ASSERT_TRUE(found->has_value()) << i;
    EXPECT_EQ((*found)->record_json, c.record_json);
    EXPECT_EQ(record_of(**found)["transcript"], transcripts[i]);
    EXPECT_EQ((*found)->from_raw, transcripts[i]);
    EXPECT_EQ((*found)->node, transcripts[i]);
    auto events = db_->list_call_events(c.call_sid);
    ASSERT_TRUE(events.ok() && events->size() == 1u);
    EXPECT_EQ(events->front().kind, transcripts[i]);
    ASSERT_TRUE(db_->mark_handled(c.call_sid, transcripts[i]).ok());
    found = db_->find_call(c.call_sid);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ(record_of(**found)["transcript"], transcripts[i]) << "rewritten, not mangled";
  }
  auto listed = db_->list_calls({.limit = 100'000, .since = "2026-02-01", .category = ""});
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(own_sids(*listed).size(), transcripts.size());
}

// --- File database: persistence across connections ---------------------------------------

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    renew_run_id();
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
    url_ = "sqlite:" + (dir_.path() / "spoofex.db").string();
  }
  std::unique_ptr<Store> open_migrated() {
    auto opened = Store::open(url_);
    EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error());
    if (!opened.ok()) return nullptr;
    std::unique_ptr<Store> db = std::move(opened).value();
    const Status st = db->migrate();
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error());
    return db;
  }

  TempDir dir_;
  std::string url_;
};

TEST_F(FileStoreTest, DataPersistsAcrossReopen) {
  {
    auto db = open_migrated();
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->add_spam(entry("+919876543210", "kept")).ok());
    ASSERT_TRUE(db->add_spam(entry("+919876543211", "removed")).ok());
    ASSERT_TRUE(db->remove_spam("+919876543211", "bob", "x").ok());
  }
  auto db = open_migrated();
  ASSERT_NE(db, nullptr);
  auto listed = db->list_spam();
  ASSERT_TRUE(listed.ok()) << listed.error();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().e164, "+919876543210");
  EXPECT_EQ(listed->front().reason, "kept");
}

TEST_F(FileStoreTest, ReopenedDatabaseKeepsSchemaVersion) {
  ASSERT_NE(open_migrated(), nullptr);
  auto opened = Store::open(url_);
  ASSERT_TRUE(opened.ok()) << opened.error();
  auto version = (*opened)->schema_version();
  ASSERT_TRUE(version.ok()) << version.error();
  EXPECT_GE(*version, 1);
}

TEST_F(FileStoreTest, MigrateOnReopenedDatabaseIsFine) {
  ASSERT_NE(open_migrated(), nullptr);
  auto db = open_migrated();
  ASSERT_NE(db, nullptr);
  auto version = db->schema_version();
  ASSERT_TRUE(version.ok()) << version.error();
  EXPECT_GE(*version, 1);
}

TEST_F(FileStoreTest, CallsPersistAcrossReopen) {
  {
    auto db = open_migrated();
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->put_call(call(sid("kept"), 2, "2026-11-25T14:30:00Z")).ok());
    ASSERT_TRUE(db->add_call_event({sid("kept"), 1, "", "webhook", "{}"}).ok());
  }
  auto db = open_migrated();
  ASSERT_NE(db, nullptr);
  auto found = db->find_call(sid("kept"));
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->revision, 2);
  auto replay = db->put_call(call(sid("kept"), 2, "2026-11-25T14:30:00Z"));
  ASSERT_TRUE(replay.ok());
  EXPECT_FALSE(*replay);
  auto events = db->list_call_events(sid("kept"));
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
}

TEST_F(FileStoreTest, DatabaseFileIsCreated) {
  ASSERT_NE(open_migrated(), nullptr);
  EXPECT_TRUE(fs::exists(dir_.path() / "spoofex.db"));
}

TEST_F(FileStoreTest, PathWithSpacesWorks) {
  url_ = "sqlite:" + (dir_.path() / "with space.db").string();
  auto db = open_migrated();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->add_spam(entry("+919876543210")).ok());
  EXPECT_TRUE(fs::exists(dir_.path() / "with space.db"));
}

// --- Store::open errors -----------------------------------------------------------------

TEST(StoreOpenTest, MysqlUrlIsAnError) {
  auto opened = Store::open("mysql://x");
  ASSERT_FALSE(opened.ok());
  EXPECT_FALSE(opened.error().empty());
}

TEST(StoreOpenTest, SqliteWithoutPathIsAnError) {
  auto opened = Store::open("sqlite:");
  ASSERT_FALSE(opened.ok());
  EXPECT_FALSE(opened.error().empty());
}

TEST(StoreOpenTest, EmptyUrlIsAnError) {
  auto opened = Store::open("");
  ASSERT_FALSE(opened.ok());
  EXPECT_FALSE(opened.error().empty());
}

TEST(StoreOpenTest, SqlitePathInMissingDirectoryIsAnError) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto opened = Store::open("sqlite:" + (dir.path() / "missing" / "deeper" / "t.db").string());
  ASSERT_FALSE(opened.ok());
  EXPECT_FALSE(opened.error().empty());
}

TEST(StoreOpenTest, SqliteMemoryOpens) {
  auto opened = Store::open("sqlite::memory:");
  ASSERT_TRUE(opened.ok()) << opened.error();
  EXPECT_EQ((*opened)->backend(), "sqlite");
}

// --- ChangeListener -----------------------------------------------------------------------

TEST_P(StoreTest, ChangeListenerExistsOnlyWherePostgresCanNotify) {
  auto listener = ChangeListener::open(url_);
  ASSERT_TRUE(listener.ok()) << listener.error();
  EXPECT_EQ(*listener != nullptr, GetParam() == Backend::postgresql);
}

// Only PostgreSQL notifies: this suite runs on it alone, whenever it is configured.
class PostgresStoreTest : public StoreTest {};
std::vector<Backend> postgres_only() {
  auto all = backends();
  std::erase_if(all, [](Backend b) { return b != Backend::postgresql; });
  return all;
}
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PostgresStoreTest);
INSTANTIATE_TEST_SUITE_P(Backends, PostgresStoreTest, ::testing::ValuesIn(postgres_only()),
                         backend_name);

TEST_P(PostgresStoreTest, ChangeListenerHearsCallsAndSpamChanges) {
  auto opened = ChangeListener::open(url_);
  ASSERT_TRUE(opened.ok()) << opened.error();
  auto& listener = **opened;
  EXPECT_TRUE(listener.listening());
  while (listener.wait(std::chrono::milliseconds(50))) {
    // other tests' changes still in flight
  }
  EXPECT_FALSE(listener.wait(std::chrono::milliseconds(100)));  // nothing changed

  ASSERT_TRUE(db_->put_call(call(sid("notified"), 1, "2026-05-05T10:00:00Z")).ok());
  EXPECT_TRUE(listener.wait(std::chrono::seconds(5)));
  auto added = db_->add_spam(entry("+919812300077"));
  ASSERT_TRUE(added.ok() && *added);
  EXPECT_TRUE(listener.wait(std::chrono::seconds(5)));
  auto removed = db_->remove_spam("+919812300077", "ops", "cleared");
  ASSERT_TRUE(removed.ok() && *removed);
  EXPECT_TRUE(listener.wait(std::chrono::seconds(5)));
}

TEST(ChangeListenerErrors, UnknownSchemeIsAnError) {
  auto listener = ChangeListener::open("mysql://x");
  ASSERT_FALSE(listener.ok());
  EXPECT_NE(listener.error().find("unsupported"), std::string::npos) << listener.error();
}

TEST(ChangeListenerErrors, UnreachableServerIsAClearErrorWithoutThePassword) {
  auto listener = ChangeListener::open("postgresql://u:secret@127.0.0.1:1/db?connect_timeout=2");
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.error().find("secret"), std::string::npos) << listener.error();
  EXPECT_NE(listener.error().find("listening for changes"), std::string::npos) << listener.error();
}

}  // namespace
}  // namespace spoofex::store
