// Unit tests for store::Store on SQLite (in memory and in a file) and, when
// SPOOFEX_TEST_PG_URL is set, on PostgreSQL.
#include "store/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
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
  EXPECT_EQ(*version, 2);
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

// --- File database: persistence across connections ---------------------------------------

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
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

}  // namespace
}  // namespace spoofex::store
