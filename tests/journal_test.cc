// Unit tests for store::Journal (the append-only file of call records kept while the
// database is away) and for server::RecordWriter's use of it (issue 7).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "server/record_writer.h"
#include "store/store.h"

namespace spoofex {
namespace {

namespace fs = std::filesystem;
using store::CallEvent;
using store::CallRecord;
using store::Journal;
using namespace std::chrono_literals;

// A directory under /tmp made with mkdtemp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/spoofex-journal-test-XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (made != nullptr) path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

CallRecord record(std::string sid, std::int64_t revision, std::string status = "ringing") {
  CallRecord c;
  c.call_sid = std::move(sid);
  c.revision = revision;
  c.node = "node-1";
  c.from_raw = "+919876543210";
  c.from_e164 = "+919876543210";
  c.status = std::move(status);
  c.started_at = "2026-11-25T14:30:00.123Z";
  c.updated_at = "2026-11-25T14:30:01Z";
  c.record_json = "{\"transcript\":\"\"}";
  return c;
}

CallEvent event(std::string sid, int seq, std::string kind = "webhook") {
  return {std::move(sid), seq, "2026-11-25T14:30:00Z", std::move(kind), "{}"};
}

void expect_same(const CallRecord& a, const CallRecord& b) {
  EXPECT_EQ(a.call_sid, b.call_sid);
  EXPECT_EQ(a.revision, b.revision);
  EXPECT_EQ(a.node, b.node);
  EXPECT_EQ(a.from_raw, b.from_raw);
  EXPECT_EQ(a.from_e164, b.from_e164);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.category, b.category);
  EXPECT_EQ(a.department, b.department);
  EXPECT_EQ(a.spam_listed, b.spam_listed);
  EXPECT_EQ(a.spoofed, b.spoofed);
  EXPECT_EQ(a.system_generated, b.system_generated);
  EXPECT_EQ(a.blank, b.blank);
  EXPECT_EQ(a.handled, b.handled);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.record_json, b.record_json);
}

void expect_same(const CallEvent& a, const CallEvent& b) {
  EXPECT_EQ(a.call_sid, b.call_sid);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.at, b.at);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.detail_json, b.detail_json);
}

std::unique_ptr<Journal> open_journal(const std::string& path) {
  auto j = Journal::open(path);
  EXPECT_TRUE(j.ok()) << (j.ok() ? "" : j.error());
  return j.ok() ? std::move(*j) : nullptr;
}

struct Entry {
  std::vector<CallRecord> calls;
  std::vector<CallEvent> events;
};

std::vector<Entry> read_all(Journal& j) {
  std::vector<Entry> out;
  auto n = j.replay([&](std::vector<CallRecord>& calls, std::vector<CallEvent>& events) -> Status {
    out.push_back({calls, events});
    return Ok{};
  });
  EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error());
  if (n.ok()) {
    EXPECT_EQ(*n, out.size());
  }
  return out;
}

// --- Journal ---------------------------------------------------------------------------

TEST(JournalTest, ReplayReturnsEntriesInOrderWithEveryField) {
  TempDir dir;
  auto j = open_journal(dir.file("j"));
  ASSERT_TRUE(j);
  CallRecord odd = record("CA-unicode", 9'000'000'000'123);
  odd.from_raw = "";
  odd.from_e164 = "";
  odd.category = "emergency";
  odd.department = "control_room";
  odd.spam_listed = true;
  odd.system_generated = true;
  odd.handled = true;
  odd.record_json =
      "{\"transcript\":\"मदद कीजिए, आग लगी है 🔥\",\"note\":\"<Say>a & b</Say> \\\"q\\\" \\\\ \\n\"}";
  CallRecord empty;  // every string empty, every flag false
  empty.call_sid = "CA-empty";
  CallEvent markup = event("CA-unicode", 7, "decision");
  markup.detail_json = "<script>alert('x')</script>\t\r\n\x01 and a NUL: " + std::string(1, '\0');
  ASSERT_TRUE(j->append({record("CA-1", 1)}, {event("CA-1", 1)}).ok());
  ASSERT_TRUE(j->append({odd, empty}, {markup, event("CA-empty", 1, "")}).ok());
  ASSERT_TRUE(j->append({}, {event("CA-1", 2)}).ok());
  EXPECT_EQ(j->entries(), 3u);

  const auto entries = read_all(*j);
  ASSERT_EQ(entries.size(), 3u);
  ASSERT_EQ(entries[0].calls.size(), 1u);
  expect_same(entries[0].calls[0], record("CA-1", 1));
  ASSERT_EQ(entries[1].calls.size(), 2u);
  expect_same(entries[1].calls[0], odd);
  expect_same(entries[1].calls[1], empty);
  ASSERT_EQ(entries[1].events.size(), 2u);
  expect_same(entries[1].events[0], markup);
  expect_same(entries[1].events[1], event("CA-empty", 1, ""));
  EXPECT_TRUE(entries[2].calls.empty());
  ASSERT_EQ(entries[2].events.size(), 1u);
  expect_same(entries[2].events[0], event("CA-1", 2));
}

TEST(JournalTest, InvalidUtf8IsReplacedRatherThanRefused) {
  TempDir dir;
  auto j = open_journal(dir.file("j"));
  ASSERT_TRUE(j);
  CallRecord r = record("CA-bytes", 1);
  r.from_raw = "+91\xff\xfe";
  ASSERT_TRUE(j->append({r}, {}).ok());
  const auto entries = read_all(*j);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].calls[0].from_raw, "+91\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(JournalTest, ReopenedJournalHasTheEntries) {
  TempDir dir;
  {
    auto j = open_journal(dir.file("j"));
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->append({record("CA-1", 1)}, {}).ok());
    ASSERT_TRUE(j->append({record("CA-2", 1)}, {}).ok());
  }
  auto j = open_journal(dir.file("j"));
  ASSERT_TRUE(j);
  EXPECT_EQ(j->entries(), 2u);
  EXPECT_FALSE(j->empty());
  const auto entries = read_all(*j);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].calls[0].call_sid, "CA-2");
}

TEST(JournalTest, TornTailReplaysTheCompleteEntriesAndStops) {
  TempDir dir;
  const std::string path = dir.file("j");
  {
    auto j = open_journal(path);
    ASSERT_TRUE(j);
    for (int i = 1; i <= 3; ++i)
      ASSERT_TRUE(j->append({record("CA-" + std::to_string(i), 1)}, {}).ok());
  }
  const auto full = fs::file_size(path);
  fs::resize_file(path, full - 5);  // a crash in the middle of the third append

  auto j = open_journal(path);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->entries(), 2u);
  EXPECT_NE(j->damage().find("torn"), std::string::npos) << j->damage();
  const auto entries = read_all(*j);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].calls[0].call_sid, "CA-2");
  // The cut-off bytes are kept aside, and new entries follow the good ones.
  EXPECT_GT(fs::file_size(path + ".corrupt"), 0u);
  ASSERT_TRUE(j->append({record("CA-4", 1)}, {}).ok());
  const auto after = read_all(*j);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[2].calls[0].call_sid, "CA-4");
}

TEST(JournalTest, TornTailOfAnOpenJournalStopsItsReplay) {
  TempDir dir;
  const std::string path = dir.file("j");
  auto j = open_journal(path);
  ASSERT_TRUE(j);
  ASSERT_TRUE(j->append({record("CA-1", 1)}, {}).ok());
  ASSERT_TRUE(j->append({record("CA-2", 1)}, {}).ok());
  fs::resize_file(path, fs::file_size(path) - 1);
  const auto entries = read_all(*j);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(j->entries(), 1u);
}

TEST(JournalTest, CorruptChecksumStopsTheReplayThere) {
  TempDir dir;
  const std::string path = dir.file("j");
  std::uintmax_t first_entry = 0;
  {
    auto j = open_journal(path);
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->append({record("CA-1", 1)}, {}).ok());
    first_entry = fs::file_size(path);
    ASSERT_TRUE(j->append({record("CA-2", 1)}, {}).ok());
    ASSERT_TRUE(j->append({record("CA-3", 1)}, {}).ok());
  }
  const auto full = fs::file_size(path);
  {
    // Flip one byte in the second entry's payload (past its 12-byte header).
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(first_entry + 20));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(first_entry + 20));
    f.put(static_cast<char>(c ^ 0x20));
  }
  auto j = open_journal(path);
  ASSERT_TRUE(j);
  EXPECT_NE(j->damage().find("checksum"), std::string::npos) << j->damage();
  const auto entries = read_all(*j);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].calls[0].call_sid, "CA-1");
  // Nothing is thrown away: the second and third entries' bytes are in PATH.corrupt.
  EXPECT_EQ(fs::file_size(path + ".corrupt"), full - first_entry);
}

TEST(JournalTest, ZeroFilledTailIsNotAnEntry) {
  TempDir dir;
  const std::string path = dir.file("j");
  {
    auto j = open_journal(path);
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->append({record("CA-1", 1)}, {}).ok());
  }
  {
    std::ofstream f(path, std::ios::app | std::ios::binary);
    f << std::string(4096, '\0');  // what a power cut can leave past the last write
  }
  auto j = open_journal(path);
  ASSERT_TRUE(j);
  EXPECT_EQ(read_all(*j).size(), 1u);
}

TEST(JournalTest, ClearEmptiesTheFile) {
  TempDir dir;
  const std::string path = dir.file("j");
  auto j = open_journal(path);
  ASSERT_TRUE(j);
  ASSERT_TRUE(j->append({record("CA-1", 1)}, {event("CA-1", 1)}).ok());
  ASSERT_TRUE(j->clear().ok());
  EXPECT_TRUE(j->empty());
  EXPECT_EQ(fs::file_size(path), 0u);
  EXPECT_TRUE(read_all(*j).empty());
  ASSERT_TRUE(j->append({record("CA-2", 1)}, {}).ok());
  EXPECT_EQ(read_all(*j).size(), 1u);
}

TEST(JournalTest, VisitErrorStopsTheReplayAndKeepsTheEntries) {
  TempDir dir;
  auto j = open_journal(dir.file("j"));
  ASSERT_TRUE(j);
  ASSERT_TRUE(j->append({record("CA-1", 1)}, {}).ok());
  ASSERT_TRUE(j->append({record("CA-2", 1)}, {}).ok());
  int seen = 0;
  auto n = j->replay([&](std::vector<CallRecord>&, std::vector<CallEvent>&) -> Status {
    if (++seen == 2) return Error{"database down"};
    return Ok{};
  });
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error(), "database down");
  EXPECT_EQ(j->entries(), 2u);
  EXPECT_EQ(read_all(*j).size(), 2u);
}

TEST(JournalTest, FileIsPrivateToItsOwner) {
  TempDir dir;
  const std::string path = dir.file("j");
  auto j = open_journal(path);
  ASSERT_TRUE(j);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(JournalTest, SecondOpenOfTheSameFileIsRefused) {
  TempDir dir;
  auto j = open_journal(dir.file("j"));
  ASSERT_TRUE(j);
  auto again = Journal::open(dir.file("j"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("in use"), std::string::npos) << again.error();
}

TEST(JournalTest, OpenInAMissingFolderFailsWithItsPath) {
  auto j = Journal::open("/nonexistent-spoofex-dir/j");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.error().find("/nonexistent-spoofex-dir/j"), std::string::npos) << j.error();
}

// --- RecordWriter ----------------------------------------------------------------------

// A real in-memory SQLite store whose call writes fail, or are slow, on demand; it notes
// the order in which call records reach it.
class FlakyStore final : public store::Store {
 public:
  FlakyStore() {
    auto s = store::Store::open("sqlite::memory:");
    if (!s) throw std::runtime_error(s.error());
    real_ = std::move(*s);
    if (auto st = real_->migrate(); !st) throw std::runtime_error(st.error());
  }

  std::atomic<bool> failing{false};
  std::atomic<int> delay_ms{0};
  std::atomic<std::size_t> largest_event_write{0};

  std::vector<std::string> order() {
    std::lock_guard lock(mu_);
    return order_;
  }

  Status migrate() override { return real_->migrate(); }
  Result<int> schema_version() override { return real_->schema_version(); }
  std::string_view backend() const override { return real_->backend(); }
  Result<bool> add_spam(const store::SpamEntry& e) override { return real_->add_spam(e); }
  Result<bool> remove_spam(std::string_view e164, std::string_view by,
                           std::string_view reason) override {
    return real_->remove_spam(e164, by, reason);
  }
  Result<std::size_t> add_spam_batch(const std::vector<store::SpamEntry>& e) override {
    return real_->add_spam_batch(e);
  }
  Result<std::optional<store::SpamEntry>> find_spam(std::string_view e164) override {
    return real_->find_spam(e164);
  }
  Result<std::vector<store::SpamEntry>> list_spam() override { return real_->list_spam(); }
  Status for_each_spam(const std::function<void(const store::SpamEntry&)>& visit) override {
    return real_->for_each_spam(visit);
  }
  Result<std::vector<store::SpamEntry>> search_spam(std::string_view contains,
                                                    std::size_t limit) override {
    return real_->search_spam(contains, limit);
  }
  Result<std::vector<store::AuditEntry>> spam_changes_since(std::int64_t after_id,
                                                            std::size_t limit) override {
    return real_->spam_changes_since(after_id, limit);
  }
  Result<std::int64_t> last_audit_id() override { return real_->last_audit_id(); }
  Result<std::vector<store::CallRecord>> calls_updated_since(std::string_view after,
                                                             std::string_view exclude_node,
                                                             std::size_t limit) override {
    return real_->calls_updated_since(after, exclude_node, limit);
  }
  Status add_feedback(const store::Feedback& f) override { return real_->add_feedback(f); }
  Result<std::vector<store::Feedback>> list_feedback() override { return real_->list_feedback(); }
  Result<bool> put_call(const CallRecord& c) override {
    if (auto st = enter(); !st) return Error{st.error()};
    note({c});
    return real_->put_call(c);
  }
  Status put_calls(const std::vector<CallRecord>& calls) override {
    if (auto st = enter(); !st) return st;
    note(calls);
    return real_->put_calls(calls);
  }
  Result<std::optional<CallRecord>> find_call(std::string_view sid) override {
    return real_->find_call(sid);
  }
  Result<std::vector<CallRecord>> list_calls(const store::CallQuery& q) override {
    return real_->list_calls(q);
  }
  Status for_each_call(std::string_view since,
                       const std::function<void(const CallRecord&)>& visit) override {
    return real_->for_each_call(since, visit);
  }
  Result<bool> add_call_event(const CallEvent& e) override {
    if (auto st = enter(); !st) return Error{st.error()};
    return real_->add_call_event(e);
  }
  Status add_call_events(const std::vector<CallEvent>& events) override {
    if (auto st = enter(); !st) return st;
    largest_event_write = std::max(largest_event_write.load(), events.size());
    return real_->add_call_events(events);
  }
  Result<std::vector<CallEvent>> list_call_events(std::string_view sid) override {
    return real_->list_call_events(sid);
  }
  Result<bool> mark_handled(std::string_view sid, std::string_view actor) override {
    return real_->mark_handled(sid, actor);
  }
  Result<bool> correct_call_category(std::string_view sid, std::string_view category,
                                     std::string_view actor) override {
    return real_->correct_call_category(sid, category, actor);
  }
  Status add_user(const store::User& u, std::string_view actor) override {
    return real_->add_user(u, actor);
  }
  Result<std::optional<store::User>> find_user(std::string_view name) override {
    return real_->find_user(name);
  }
  Result<std::vector<store::User>> list_users() override { return real_->list_users(); }
  Result<std::size_t> count_users() override { return real_->count_users(); }
  Result<std::vector<store::AuditEntry>> list_audit(std::string_view subject) override {
    return real_->list_audit(subject);
  }
  Result<std::size_t> purge_call_content(std::string_view before, std::string_view actor) override {
    return real_->purge_call_content(before, actor);
  }

 private:
  Status enter() {
    if (const int ms = delay_ms.load(); ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    if (failing) return Error{"connection refused (test)"};
    return Ok{};
  }
  void note(const std::vector<CallRecord>& calls) {
    std::lock_guard lock(mu_);
    for (const auto& c : calls) order_.push_back(c.call_sid);
  }

  std::unique_ptr<store::Store> real_;
  std::mutex mu_;
  std::vector<std::string> order_;
};

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

server::RecordWriter::Options fast(const std::string& journal) {
  server::RecordWriter::Options o;
  o.journal_path = journal;
  o.first_backoff = 10ms;
  o.max_backoff = 50ms;
  return o;
}

// Bytes in the journal and in a replay of it under way (PATH.replaying).
std::uintmax_t journal_bytes(const std::string& path) {
  std::uintmax_t total = 0;
  for (const std::string& p : {path, path + ".replaying"}) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    if (!ec) total += n;
  }
  return total;
}

// Every stored call, by call_sid; fails the test if one appears twice.
std::map<std::string, CallRecord> stored_calls(store::Store& s) {
  store::CallQuery q;
  q.limit = 100000;
  auto calls = s.list_calls(q);
  EXPECT_TRUE(calls.ok());
  std::map<std::string, CallRecord> out;
  if (!calls.ok()) return out;
  for (const auto& c : *calls) EXPECT_TRUE(out.emplace(c.call_sid, c).second) << c.call_sid;
  return out;
}

TEST(RecordWriterTest, RecordsPutWhileTheStoreFailsAreJournaledThenStoredOnce) {
  TempDir dir;
  const std::string path = dir.file("calls.journal");
  FlakyStore db;
  server::RecordWriter writer(db, fast(path));
  ASSERT_TRUE(writer.journaling());
  db.failing = true;
  for (int i = 0; i < 50; ++i) {
    const std::string sid = "CA-" + std::to_string(i);
    writer.put(record(sid, 1, "ringing"));
    writer.put(event(sid, 1));
    writer.put(record(sid, 2, "completed"));
    writer.put(event(sid, 2, "status"));
  }
  ASSERT_TRUE(eventually([&] { return writer.journaled() >= 100 && writer.queued() == 0; }))
      << "journaled " << writer.journaled() << ", queued " << writer.queued();
  EXPECT_GT(journal_bytes(path), 0u);
  EXPECT_GT(writer.failures(), 0u);
  EXPECT_TRUE(stored_calls(db).empty());

  db.failing = false;
  // At least 50 calls and 100 events; a call's two revisions may be in different entries.
  ASSERT_TRUE(eventually([&] { return writer.replayed() >= 150 && journal_bytes(path) == 0; }))
      << "replayed " << writer.replayed();
  const auto calls = stored_calls(db);
  ASSERT_EQ(calls.size(), 50u);
  for (const auto& [sid, c] : calls) {
    EXPECT_EQ(c.revision, 2) << sid;
    EXPECT_EQ(c.status, "completed") << sid;
    auto events = db.list_call_events(sid);
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->size(), 2u) << sid;
  }
}

TEST(RecordWriterTest, WriterDestroyedWhileTheStoreFailsLeavesItsRecordsInTheJournal) {
  TempDir dir;
  const std::string path = dir.file("calls.journal");
  {
    FlakyStore down;
    down.failing = true;
    server::RecordWriter writer(down, fast(path));
    for (int i = 0; i < 20; ++i) {
      writer.put(record("CA-" + std::to_string(i), 1));
      writer.put(event("CA-" + std::to_string(i), 1));
    }
  }
  {
    auto j = open_journal(path);
    ASSERT_TRUE(j);
    std::size_t calls = 0, events = 0;
    for (const auto& e : read_all(*j)) {
      calls += e.calls.size();
      events += e.events.size();
    }
    EXPECT_EQ(calls, 20u);
    EXPECT_EQ(events, 20u);
  }
  FlakyStore up;
  server::RecordWriter writer(up, fast(path));
  ASSERT_TRUE(eventually([&] { return writer.replayed() == 40u && journal_bytes(path) == 0; }))
      << writer.replayed();
  EXPECT_EQ(stored_calls(up).size(), 20u);
  EXPECT_EQ(fs::file_size(path), 0u);
}

TEST(RecordWriterTest, JournalFromAnEarlierRunIsStoredBeforeNewRecords) {
  TempDir dir;
  const std::string path = dir.file("calls.journal");
  {
    auto j = open_journal(path);
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->append({record("CA-old-1", 1)}, {}).ok());
    ASSERT_TRUE(j->append({record("CA-old-2", 1)}, {}).ok());
  }
  FlakyStore db;
  db.delay_ms = 20;  // so the new record is queued before the replay ends
  server::RecordWriter writer(db, fast(path));
  writer.put(record("CA-new", 1));
  ASSERT_TRUE(eventually([&] { return stored_calls(db).size() == 3; }));
  EXPECT_EQ(db.order(), (std::vector<std::string>{"CA-old-1", "CA-old-2", "CA-new"}));
}

TEST(RecordWriterTest, ReplayCutShortByACrashIsFinishedFirst) {
  TempDir dir;
  const std::string path = dir.file("calls.journal");
  {
    auto aside = open_journal(path + ".replaying");  // older
    ASSERT_TRUE(aside);
    ASSERT_TRUE(aside->append({record("CA-1", 1, "ringing")}, {}).ok());
    auto active = open_journal(path);  // newer
    ASSERT_TRUE(active);
    ASSERT_TRUE(active->append({record("CA-1", 2, "completed")}, {}).ok());
  }
  FlakyStore db;
  server::RecordWriter writer(db, fast(path));
  ASSERT_TRUE(
      eventually([&] { return writer.replayed() == 2u && !fs::exists(path + ".replaying"); }));
  const auto calls = stored_calls(db);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls.at("CA-1").status, "completed");
}

TEST(RecordWriterTest, SlowStoreSendsWhatQueuesMeanwhileToTheJournal) {
  TempDir dir;
  const std::string path = dir.file("calls.journal");
  FlakyStore db;
  auto opt = fast(path);
  opt.slow_store = 50ms;
  server::RecordWriter writer(db, opt);
  db.delay_ms = 400;
  writer.put(record("CA-first", 1));  // the writer is stuck on this one
  std::this_thread::sleep_for(20ms);
  for (int i = 0; i < 10; ++i) writer.put(record("CA-" + std::to_string(i), 1));
  // Journaled while the writer waits, long before the store would have taken them.
  ASSERT_TRUE(eventually([&] { return writer.journaled() >= 1; }, 300ms)) << writer.journaled();
  db.delay_ms = 0;
  ASSERT_TRUE(
      eventually([&] { return stored_calls(db).size() == 11 && journal_bytes(path) == 0; }));
  EXPECT_EQ(writer.written() + writer.replayed(), 11u);
}

TEST(RecordWriterTest, WithoutAJournalRecordsWaitInMemoryUntilTheStoreAnswers) {
  FlakyStore db;
  server::RecordWriter::Options opt = fast("");
  server::RecordWriter writer(db, opt);
  EXPECT_FALSE(writer.journaling());
  db.failing = true;
  writer.put(record("CA-1", 1));
  ASSERT_TRUE(eventually([&] { return writer.failures() > 0; }));
  EXPECT_EQ(writer.journaled(), 0u);
  db.failing = false;
  ASSERT_TRUE(eventually([&] { return writer.written() == 1; }));
  EXPECT_EQ(stored_calls(db).size(), 1u);
}

TEST(RecordWriterTest, UnopenableJournalStillWritesToTheStore) {
  FlakyStore db;
  server::RecordWriter writer(db, "/nonexistent-spoofex-dir/calls.journal");
  EXPECT_FALSE(writer.journaling());
  writer.put(record("CA-1", 1));
  ASSERT_TRUE(eventually([&] { return writer.written() == 1; }));
}

TEST(RecordWriterTest, StoreWritesGoStraightThroughWhileTheStoreAnswers) {
  TempDir dir;
  const std::string path = dir.file("calls.journal");
  FlakyStore db;
  server::RecordWriter writer(db, fast(path));
  for (int i = 0; i < 5; ++i) writer.put(record("CA-" + std::to_string(i), 1));
  ASSERT_TRUE(eventually([&] { return writer.written() == 5; }));
  EXPECT_EQ(writer.journaled(), 0u);
  EXPECT_EQ(fs::file_size(path), 0u);
}

TEST(RecordWriterTest, RevisionsQueuedWithinTheGroupWindowAreOneRowWrite) {
  FlakyStore db;
  auto opt = fast("");
  opt.group_window = 300ms;
  server::RecordWriter writer(db, opt);
  writer.put(record("CA-1", 1));  // idle: written at once
  ASSERT_TRUE(eventually([&] { return writer.written() == 1; }, 250ms));
  writer.put(record("CA-1", 2));
  std::this_thread::sleep_for(50ms);
  writer.put(record("CA-1", 3, "completed"));
  ASSERT_TRUE(eventually([&] { return writer.written() == 2; }));
  std::this_thread::sleep_for(400ms);  // nothing more comes
  EXPECT_EQ(writer.written(), 2u);
  EXPECT_EQ(db.order().size(), 2u);
  const auto calls = stored_calls(db);
  EXPECT_EQ(calls.at("CA-1").revision, 3);
  EXPECT_EQ(calls.at("CA-1").status, "completed");
}

TEST(RecordWriterTest, ABacklogGoesToTheStoreInBoundedTransactions) {
  FlakyStore db;
  server::RecordWriter writer(db, fast(""));
  db.failing = true;  // the queue builds up, as while a database is away
  std::vector<CallRecord> calls;
  std::vector<CallEvent> events;
  for (int i = 0; i < 12000; ++i) events.push_back(event("CA-" + std::to_string(i % 3000), i));
  for (int i = 0; i < 3000; ++i) calls.push_back(record("CA-" + std::to_string(i), 1));
  writer.put(calls, events);
  ASSERT_TRUE(eventually([&] { return writer.failures() > 0; }));
  db.failing = false;
  ASSERT_TRUE(eventually([&] { return writer.written() == 15000; })) << writer.written();
  EXPECT_EQ(stored_calls(db).size(), 3000u);
  EXPECT_GT(db.largest_event_write.load(), 0u);
  EXPECT_LE(db.largest_event_write.load(), 5000u);
  std::size_t stored_events = 0;
  for (int i = 0; i < 3000; ++i) {
    auto e = db.list_call_events("CA-" + std::to_string(i));
    ASSERT_TRUE(e.ok());
    stored_events += e->size();
  }
  EXPECT_EQ(stored_events, 12000u);
}

}  // namespace
}  // namespace spoofex
