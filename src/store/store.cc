#include "store/store.h"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "store/migrations.h"
#include "store/postgres_url.h"

namespace spoofex::store {
namespace {

// Runs `body` and turns a SOCI or other runtime exception into an Error that
// names the operation, so callers see "adding spam number: database is locked".
template <typename F>
auto guarded(std::string_view what, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return Error{std::string(what) + ": " + e.what()};
  }
}

using Json = nlohmann::ordered_json;  // ordered: rewritten records keep their key order
using Prepared = soci::details::prepare_temp_type;

// "...:00Z" sorts after "...:00.5Z" as a string ('.' < 'Z'), so calls are ordered and
// bounded by this key: the same time with exactly nine fraction digits. Anything else
// (a bare date "2026-11-25") is used as it is, which still compares as its midnight.
std::string time_key(std::string_view iso) {
  if (iso.size() < 20 || iso[10] != 'T' || iso.back() != 'Z') return std::string(iso);
  std::string_view fraction = iso.substr(19, iso.size() - 20);  // "" or ".123"
  if (!fraction.empty()) {
    if (fraction[0] != '.' || fraction.size() == 1) return std::string(iso);
    fraction.remove_prefix(1);
    if (!std::all_of(fraction.begin(), fraction.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::string(iso);
  }
  std::string digits(fraction.substr(0, 9));
  digits.resize(9, '0');
  return std::string(iso.substr(0, 19)) + "." + digits + "Z";
}

bool is_category(std::string_view c) {
  return c == "emergency" || c == "inquiry" || c == "complaint" || c == "spam" || c == "blank";
}

bool is_role(std::string_view r) { return r == "operator" || r == "supervisor" || r == "admin"; }

// What operators did to a call; it outlives later writes of the call by its node.
struct OperatorState {
  int handled = 0;
  std::string corrected_category;
  int purged = 0;
  bool any() const { return handled != 0 || !corrected_category.empty() || purged != 0; }
};

// record_json with the operator state written into it. Text that is not a JSON object
// is kept as it is, unless purged: content that cannot be blanked key by key goes.
std::string with_operator_state(const std::string& record_json, const OperatorState& op) {
  Json j = Json::parse(record_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    if (op.purged == 0) return record_json;
    j = Json::object();
  }
  if (op.handled != 0) j["handled"] = true;
  if (!op.corrected_category.empty()) j["corrected_category"] = op.corrected_category;
  if (op.purged != 0) {
    j["transcript"] = "";
    j["audio_ref"] = nullptr;
    j["purged"] = true;
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A CallRecord as bound parameters and result targets: SOCI has no bool or int64_t.
struct CallRow {
  CallRecord r;
  long long revision = 0;
  std::array<int, 5> flags{};  // spam_listed, spoofed, system_generated, blank, handled
  std::string started_key;

  static CallRow of(const CallRecord& c) {
    CallRow row{c, c.revision, {}, time_key(c.started_at)};
    row.flags = {c.spam_listed, c.spoofed, c.system_generated, c.blank, c.handled};
    return row;
  }
  CallRecord record() const {
    CallRecord c = r;
    c.revision = revision;
    c.spam_listed = flags[0] != 0;
    c.spoofed = flags[1] != 0;
    c.system_generated = flags[2] != 0;
    c.blank = flags[3] != 0;
    c.handled = flags[4] != 0;
    return c;
  }
  // The columns of kCallColumns, in order.
  void into(Prepared& p) {
    p, soci::into(r.call_sid), soci::into(revision), soci::into(r.node), soci::into(r.from_raw),
        soci::into(r.from_e164), soci::into(r.status), soci::into(r.category),
        soci::into(r.department);
    for (int& f : flags) p, soci::into(f);
    p, soci::into(r.started_at), soci::into(r.updated_at), soci::into(r.record_json),
        soci::into(started_key);
  }
};

constexpr std::string_view kCallColumns =
    "call_sid, revision, node, from_raw, from_e164, status, category, department, spam_listed,"
    " spoofed, system_generated, blank, handled, started_at, updated_at, record_json, started_key";

// The revision rule is checked against node_revision, the writer's own counter, so a
// write that follows an operator's bump still lands; the stored revision still grows.
// Operator-owned columns (handled, corrected category) are kept.
constexpr std::string_view kInsertCall =
    "INSERT INTO calls (call_sid, revision, node_revision, node, from_raw, from_e164, status,"
    " category, department, spam_listed, spoofed, system_generated, blank, handled, started_at,"
    " started_key, updated_at, record_json) VALUES ";
constexpr std::size_t kInsertCallColumns = 18;

// The revision rule is checked against node_revision, the writer's own counter, so a
// write that follows an operator's bump still lands; the stored revision still grows.
// Operator-owned columns (handled, corrected category) are kept.
constexpr std::string_view kOnCallConflict =
    " ON CONFLICT (call_sid) DO UPDATE SET"
    " revision = CASE WHEN excluded.revision > calls.revision THEN excluded.revision"
    " ELSE calls.revision + 1 END,"
    " node_revision = excluded.node_revision, node = excluded.node,"
    " from_raw = excluded.from_raw, from_e164 = excluded.from_e164, status = excluded.status,"
    " category = CASE WHEN calls.corrected_category <> '' THEN calls.corrected_category"
    " ELSE excluded.category END,"
    " department = excluded.department, spam_listed = excluded.spam_listed,"
    " spoofed = excluded.spoofed, system_generated = excluded.system_generated,"
    " blank = excluded.blank,"
    " handled = CASE WHEN calls.handled = 1 THEN 1 ELSE excluded.handled END,"
    " started_at = excluded.started_at, started_key = excluded.started_key,"
    " updated_at = excluded.updated_at, record_json = excluded.record_json"
    " WHERE calls.node_revision < excluded.node_revision"
    " RETURNING call_sid, handled, corrected_category, purged";

constexpr std::string_view kInsertEvent =
    "INSERT INTO call_events (call_sid, seq, at, kind, detail_json) VALUES ";
constexpr std::size_t kInsertEventColumns = 5;

// Rows per multi-row statement. On PostgreSQL each statement is a network round trip,
// so a batch of 1,000 records costs ten of them rather than a thousand; 100 rows of
// 18 parameters stay far below both backends' parameter limits.
constexpr std::size_t kRowsPerStatement = 100;

// "(:v0_0, :v0_1), (:v1_0, :v1_1)": placeholders only, never data. Each name is unique,
// because SQLite gives one index to every occurrence of a name.
std::string values_placeholders(std::size_t rows, std::size_t columns) {
  std::string out;
  out.reserve(rows * columns * 9);
  for (std::size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ", (";
    for (std::size_t c = 0; c < columns; ++c) {
      if (c != 0) out += ", ";
      out += ":v" + std::to_string(r) + "_" + std::to_string(c);
    }
    out += ")";
  }
  return out;
}

// The newest revision of each call in `calls` (ties: the later one), in first-seen order.
// One statement may not update a row twice (PostgreSQL), and an older revision of a call
// in the same batch would be ignored by the revision rule anyway.
std::vector<const CallRecord*> newest_per_call(const std::vector<CallRecord>& calls) {
  std::vector<const CallRecord*> out;
  std::unordered_map<std::string_view, std::size_t> index;
  index.reserve(calls.size());
  for (const auto& c : calls) {
    auto [it, fresh] = index.try_emplace(c.call_sid, out.size());
    if (fresh) {
      out.push_back(&c);
    } else if (c.revision >= out[it->second]->revision) {
      out[it->second] = &c;
    }
  }
  return out;
}

class SociStore final : public Store {
 public:
  // guarded(), and after a failure on PostgreSQL, a reconnect if the connection is gone
  // (SOCI 4.0 does not reconnect by itself): the next call works once the server is back.
  template <typename F>
  auto run(std::string_view what, F&& body) -> decltype(body()) {
    auto result = guarded(what, std::forward<F>(body));
    if (!result.ok() && dialect_ == Dialect::postgresql) {
      try {
        if (!sql_->is_connected()) sql_->reconnect();
      } catch (const std::exception&) {
        // Still away: the next call tries again.
      }
    }
    return result;
  }

  SociStore(Dialect dialect, std::unique_ptr<soci::session> sql)
      : dialect_(dialect), sql_(std::move(sql)) {}

  std::string_view backend() const override {
    return dialect_ == Dialect::sqlite ? "sqlite" : "postgresql";
  }

  Status migrate() override {
    std::lock_guard lock(mu_);
    return run("migrating the schema", [&]() -> Status {
      *sql_ << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
               " description TEXT NOT NULL, applied_at TEXT NOT NULL)";
      int current = current_version();
      for (const auto& m : migrations(dialect_)) {
        if (m.version <= current) continue;
        soci::transaction tx(*sql_);
        for (const auto& stmt : m.statements) *sql_ << stmt;
        const std::string description(m.description);
        const std::string now = utc_now_iso8601();
        *sql_ << "INSERT INTO schema_migrations (version, description, applied_at)"
                 " VALUES (:v, :d, :t)",
            soci::use(m.version), soci::use(description), soci::use(now);
        tx.commit();
      }
      return Ok{};
    });
  }

  Result<int> schema_version() override {
    std::lock_guard lock(mu_);
    return run("reading the schema version", [&]() -> Result<int> { return current_version(); });
  }

  Result<bool> add_spam(const SpamEntry& entry) override {
    std::lock_guard lock(mu_);
    return run("adding a spam number", [&]() -> Result<bool> {
      soci::transaction tx(*sql_);
      const bool added = insert_spam(entry);
      tx.commit();
      return added;
    });
  }

  Result<std::size_t> add_spam_batch(const std::vector<SpamEntry>& entries) override {
    std::lock_guard lock(mu_);
    return run("adding spam numbers", [&]() -> Result<std::size_t> {
      soci::transaction tx(*sql_);
      std::size_t added = 0;
      for (const auto& e : entries) added += insert_spam(e) ? 1 : 0;
      tx.commit();
      return added;
    });
  }

  Result<bool> remove_spam(std::string_view e164, std::string_view removed_by,
                           std::string_view reason) override {
    std::lock_guard lock(mu_);
    return run("removing a spam number", [&]() -> Result<bool> {
      const std::string number(e164), by(removed_by), why(reason), now = utc_now_iso8601();
      soci::transaction tx(*sql_);
      soci::statement st =
          (sql_->prepare << "UPDATE spam_numbers SET removed_by = :b, removed_at = :t,"
                            " removed_reason = :r WHERE e164 = :n AND removed_at IS NULL",
           soci::use(by), soci::use(now), soci::use(why), soci::use(number));
      st.execute(true);
      const bool removed = st.get_affected_rows() > 0;
      if (removed) audit(now, by, "spam_remove", number, why);
      tx.commit();
      return removed;
    });
  }

  Result<std::optional<SpamEntry>> find_spam(std::string_view e164) override {
    std::lock_guard lock(mu_);
    return run("looking up a spam number", [&]() -> Result<std::optional<SpamEntry>> {
      const std::string number(e164);
      SpamEntry e;
      soci::indicator ind = soci::i_ok;
      *sql_ << "SELECT e164, reason, added_by, added_at FROM spam_numbers"
               " WHERE e164 = :n AND removed_at IS NULL",
          soci::into(e.e164, ind), soci::into(e.reason), soci::into(e.added_by),
          soci::into(e.added_at), soci::use(number);
      if (!sql_->got_data()) return std::optional<SpamEntry>{};
      return std::optional<SpamEntry>{std::move(e)};
    });
  }

  Result<std::vector<SpamEntry>> list_spam() override {
    std::vector<SpamEntry> out;
    auto st = for_each_spam([&](const SpamEntry& e) { out.push_back(e); });
    if (!st) return Error{st.error()};
    return out;
  }

  Status for_each_spam(const std::function<void(const SpamEntry&)>& visit) override {
    std::lock_guard lock(mu_);
    return run("reading the spam list", [&]() -> Status {
      // Bulk fetches of kBatch rows: several times faster than a row-at-a-time rowset.
      constexpr std::size_t kBatch = 10'000;
      std::vector<std::string> e164(kBatch), reason(kBatch), by(kBatch), at(kBatch);
      soci::statement st = (sql_->prepare << "SELECT e164, reason, added_by, added_at"
                                             " FROM spam_numbers WHERE removed_at IS NULL"
                                             " ORDER BY e164",
                            soci::into(e164), soci::into(reason), soci::into(by), soci::into(at));
      st.execute();
      SpamEntry e;
      while (st.fetch()) {
        for (std::size_t i = 0; i < e164.size(); ++i) {
          e.e164 = std::move(e164[i]);
          e.reason = std::move(reason[i]);
          e.added_by = std::move(by[i]);
          e.added_at = std::move(at[i]);
          visit(e);
        }
        for (auto* v : {&e164, &reason, &by, &at}) v->resize(kBatch);
      }
      return Ok{};
    });
  }

  Status add_feedback(const Feedback& f) override {
    std::lock_guard lock(mu_);
    return run("storing feedback", [&]() -> Status {
      const std::string at = f.at.empty() ? utc_now_iso8601() : f.at;
      soci::transaction tx(*sql_);
      *sql_ << "INSERT INTO feedback (at, actor, call_sid, text, category) VALUES (:a, :b, :c, :d, "
               ":e)",
          soci::use(at), soci::use(f.actor), soci::use(f.call_sid), soci::use(f.text),
          soci::use(f.category);
      audit(at, f.actor, "feedback", f.call_sid, f.category);
      tx.commit();
      return Ok{};
    });
  }

  Result<std::vector<Feedback>> list_feedback() override {
    std::lock_guard lock(mu_);
    return run("reading feedback", [&]() -> Result<std::vector<Feedback>> {
      std::vector<Feedback> out;
      soci::rowset<soci::row> rows =
          (sql_->prepare << "SELECT call_sid, text, category, actor, at FROM feedback ORDER BY id");
      for (const auto& r : rows) {
        out.push_back({r.get<std::string>(0), r.get<std::string>(1), r.get<std::string>(2),
                       r.get<std::string>(3), r.get<std::string>(4)});
      }
      return out;
    });
  }

  Result<bool> put_call(const CallRecord& call) override {
    if (call.call_sid.empty()) return Error{"storing a call: the record has no call_sid"};
    std::lock_guard lock(mu_);
    return run("storing call " + call.call_sid, [&]() -> Result<bool> {
      soci::transaction tx(*sql_);
      const std::size_t written = upsert_calls({&call});
      tx.commit();
      return written == 1;
    });
  }

  Status put_calls(const std::vector<CallRecord>& calls) override {
    for (const auto& c : calls) {
      if (c.call_sid.empty()) return Error{"storing calls: a record has no call_sid"};
    }
    if (calls.empty()) return Ok{};
    std::lock_guard lock(mu_);
    return run("storing calls", [&]() -> Status {
      const auto newest = newest_per_call(calls);
      soci::transaction tx(*sql_);
      upsert_calls(newest);
      tx.commit();
      return Ok{};
    });
  }

  Result<std::optional<CallRecord>> find_call(std::string_view call_sid) override {
    std::lock_guard lock(mu_);
    return run("looking up a call", [&]() -> Result<std::optional<CallRecord>> {
      const std::string sid(call_sid);
      auto rows = select_calls("WHERE call_sid = :s", [&](Prepared& p) { p, soci::use(sid); });
      if (rows.empty()) return std::optional<CallRecord>{};
      return std::optional<CallRecord>{std::move(rows.front().r)};
    });
  }

  Result<std::vector<CallRecord>> list_calls(const CallQuery& q) override {
    std::lock_guard lock(mu_);
    return run("listing calls", [&]() -> Result<std::vector<CallRecord>> {
      const std::string since = time_key(q.since);
      const long long limit = static_cast<long long>(
          std::min<std::size_t>(q.limit, std::numeric_limits<long long>::max()));
      const std::string tail = std::string("WHERE started_key >= :since") +
                               (q.category.empty() ? "" : " AND category = :cat") +
                               " ORDER BY started_key DESC, call_sid DESC LIMIT :n";
      auto rows = select_calls(tail, [&](Prepared& p) {
        p, soci::use(since);
        if (!q.category.empty()) p, soci::use(q.category);
        p, soci::use(limit);
      });
      std::vector<CallRecord> out;
      out.reserve(rows.size());
      for (auto& row : rows) out.push_back(std::move(row.r));
      return out;
    });
  }

  Result<std::vector<CallRecord>> calls_updated_since(std::string_view after,
                                                      std::string_view exclude_node,
                                                      std::size_t limit) override {
    std::lock_guard lock(mu_);
    return run("reading changed calls", [&]() -> Result<std::vector<CallRecord>> {
      const std::string from(after), node(exclude_node);
      const long long n = static_cast<long long>(std::min<std::size_t>(limit, 100000));
      auto rows = select_calls(
          "WHERE updated_at > :u AND node <> :n ORDER BY updated_at, call_sid LIMIT :l",
          [&](Prepared& p) { p, soci::use(from), soci::use(node), soci::use(n); });
      std::vector<CallRecord> out;
      out.reserve(rows.size());
      for (auto& row : rows) out.push_back(std::move(row.r));
      return out;
    });
  }

  Status for_each_call(std::string_view since,
                       const std::function<void(const CallRecord&)>& visit) override {
    // Keyset pages: memory stays bounded (SOCI's PostgreSQL backend reads a whole
    // result at once) and live calls are stored between pages.
    constexpr long long kPage = 500;
    const std::string since_key = time_key(since);
    std::string last_key, last_sid;
    for (;;) {
      std::vector<KeyedCall> page;
      {
        std::lock_guard lock(mu_);
        auto read = run("reading calls", [&]() -> Result<std::vector<KeyedCall>> {
          return select_calls(
              "WHERE started_key >= :since AND (started_key, call_sid) > (:k, :s)"
              " ORDER BY started_key, call_sid LIMIT :n",
              [&](Prepared& p) {
                p, soci::use(since_key), soci::use(last_key), soci::use(last_sid), soci::use(kPage);
              });
        });
        if (!read) return Error{read.error()};
        page = std::move(*read);
      }
      for (const auto& row : page) visit(row.r);
      if (page.size() < static_cast<std::size_t>(kPage)) return Ok{};
      last_key = page.back().key;
      last_sid = page.back().r.call_sid;
    }
  }

  Result<bool> add_call_event(const CallEvent& e) override {
    std::lock_guard lock(mu_);
    return run("storing a call event", [&]() -> Result<bool> {
      const std::string at = e.at.empty() ? utc_now_iso8601() : e.at;
      soci::statement st =
          (sql_->prepare << "INSERT INTO call_events (call_sid, seq, at, kind, detail_json)"
                            " VALUES (:s, :q, :a, :k, :d) ON CONFLICT DO NOTHING",
           soci::use(e.call_sid), soci::use(e.seq), soci::use(at), soci::use(e.kind),
           soci::use(e.detail_json));
      st.execute(true);
      return st.get_affected_rows() > 0;
    });
  }

  Status add_call_events(const std::vector<CallEvent>& events) override {
    if (events.empty()) return Ok{};
    std::lock_guard lock(mu_);
    return run("storing call events", [&]() -> Status {
      const std::string now = utc_now_iso8601();
      soci::transaction tx(*sql_);
      insert_events(events, now);
      tx.commit();
      return Ok{};
    });
  }

  Result<std::vector<CallEvent>> list_call_events(std::string_view call_sid) override {
    std::lock_guard lock(mu_);
    return run("reading call events", [&]() -> Result<std::vector<CallEvent>> {
      CallEvent e;
      e.call_sid = call_sid;
      soci::statement st = (sql_->prepare << "SELECT seq, at, kind, detail_json FROM call_events"
                                             " WHERE call_sid = :s ORDER BY seq",
                            soci::into(e.seq), soci::into(e.at), soci::into(e.kind),
                            soci::into(e.detail_json), soci::use(e.call_sid));
      st.execute();
      std::vector<CallEvent> out;
      while (st.fetch()) out.push_back(e);
      return out;
    });
  }

  Result<bool> mark_handled(std::string_view call_sid, std::string_view actor) override {
    std::lock_guard lock(mu_);
    return run("marking a call handled", [&]() -> Result<bool> {
      const std::string sid(call_sid), by(actor), now = utc_now_iso8601();
      soci::transaction tx(*sql_);
      // The write comes first: SQLite then holds the write lock for the whole change.
      soci::statement st = (sql_->prepare << "UPDATE calls SET handled = 1,"
                                             " revision = revision + 1, updated_at = :t"
                                             " WHERE call_sid = :s",
                            soci::use(now), soci::use(sid));
      st.execute(true);
      if (st.get_affected_rows() == 0) return false;
      rewrite_record_json(sid);
      audit(now, by, "call_handled", sid, "");
      tx.commit();
      return true;
    });
  }

  Result<bool> correct_call_category(std::string_view call_sid, std::string_view category,
                                     std::string_view actor) override {
    if (!is_category(category)) {
      return Error{"unknown category '" + std::string(category) +
                   "': use emergency, inquiry, complaint, spam or blank"};
    }
    std::lock_guard lock(mu_);
    return run("correcting a call's category", [&]() -> Result<bool> {
      const std::string sid(call_sid), cat(category), by(actor), now = utc_now_iso8601();
      soci::transaction tx(*sql_);
      soci::statement st =
          (sql_->prepare << "UPDATE calls SET category = :c1, corrected_category = :c2,"
                            " revision = revision + 1, updated_at = :t WHERE call_sid = :s",
           soci::use(cat), soci::use(cat), soci::use(now), soci::use(sid));
      st.execute(true);
      if (st.get_affected_rows() == 0) return false;
      rewrite_record_json(sid);
      audit(now, by, "call_corrected", sid, cat);
      tx.commit();
      return true;
    });
  }

  Status add_user(const User& u, std::string_view actor) override {
    if (u.username.empty()) return Error{"a user needs a name"};
    if (!is_role(u.role)) {
      return Error{"unknown role '" + u.role + "': use operator, supervisor or admin"};
    }
    if (u.password_hash.empty()) return Error{"user '" + u.username + "' needs a password hash"};
    std::lock_guard lock(mu_);
    return run("adding a user", [&]() -> Status {
      const std::string at = u.created_at.empty() ? utc_now_iso8601() : u.created_at;
      const std::string by(actor);
      const int disabled = u.disabled ? 1 : 0;
      soci::transaction tx(*sql_);
      soci::statement st =
          (sql_->prepare << "INSERT INTO users (username, password_hash, role, created_at,"
                            " disabled) VALUES (:u, :h, :r, :t, :d) ON CONFLICT DO NOTHING",
           soci::use(u.username), soci::use(u.password_hash), soci::use(u.role), soci::use(at),
           soci::use(disabled));
      st.execute(true);
      if (st.get_affected_rows() == 0) return Error{"user '" + u.username + "' exists"};
      audit(at, by, "user_add", u.username, u.role);
      tx.commit();
      return Ok{};
    });
  }

  Result<std::optional<User>> find_user(std::string_view username) override {
    std::lock_guard lock(mu_);
    return run("looking up a user", [&]() -> Result<std::optional<User>> {
      const std::string name(username);
      auto users = select_users("WHERE username = :u", &name);
      if (users.empty()) return std::optional<User>{};
      return std::optional<User>{std::move(users.front())};
    });
  }

  Result<std::vector<User>> list_users() override {
    std::lock_guard lock(mu_);
    return run("listing users",
               [&]() -> Result<std::vector<User>> { return select_users("", nullptr); });
  }

  Result<std::size_t> count_users() override {
    std::lock_guard lock(mu_);
    return run("counting users", [&]() -> Result<std::size_t> {
      long long n = 0;
      *sql_ << "SELECT COUNT(*) FROM users", soci::into(n);
      return static_cast<std::size_t>(n);
    });
  }

  Result<std::vector<SpamEntry>> search_spam(std::string_view contains,
                                             std::size_t limit) override {
    std::lock_guard lock(mu_);
    return run("searching the spam list", [&]() -> Result<std::vector<SpamEntry>> {
      // LIKE wildcards in the search text are matched literally.
      std::string pattern = "%";
      for (char c : contains) {
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += c;
      }
      pattern += '%';
      const long long n = static_cast<long long>(std::min<std::size_t>(limit, 100000));
      SpamEntry e;
      soci::statement st =
          (sql_->prepare << "SELECT e164, reason, added_by, added_at FROM spam_numbers"
                            " WHERE removed_at IS NULL AND e164 LIKE :p ESCAPE '\\'"
                            " ORDER BY added_at DESC, e164 LIMIT :n",
           soci::into(e.e164), soci::into(e.reason), soci::into(e.added_by), soci::into(e.added_at),
           soci::use(pattern), soci::use(n));
      st.execute();
      std::vector<SpamEntry> out;
      while (st.fetch()) out.push_back(e);
      return out;
    });
  }

  Result<std::vector<AuditEntry>> spam_changes_since(std::int64_t after_id,
                                                     std::size_t limit) override {
    std::lock_guard lock(mu_);
    return run("reading spam-list changes", [&]() -> Result<std::vector<AuditEntry>> {
      AuditEntry a;
      long long id = 0;
      const long long after = after_id;
      const long long n = static_cast<long long>(std::min<std::size_t>(limit, 100000));
      soci::statement st =
          (sql_->prepare << "SELECT id, at, actor, action, subject, detail FROM audit_log"
                            " WHERE id > :i AND action IN ('spam_add', 'spam_remove')"
                            " ORDER BY id LIMIT :n",
           soci::into(id), soci::into(a.at), soci::into(a.actor), soci::into(a.action),
           soci::into(a.subject), soci::into(a.detail), soci::use(after), soci::use(n));
      st.execute();
      std::vector<AuditEntry> out;
      while (st.fetch()) {
        a.id = id;
        out.push_back(a);
      }
      return out;
    });
  }

  Result<std::int64_t> last_audit_id() override {
    std::lock_guard lock(mu_);
    return run("reading the audit trail", [&]() -> Result<std::int64_t> {
      long long id = 0;
      soci::indicator ind = soci::i_ok;
      *sql_ << "SELECT MAX(id) FROM audit_log", soci::into(id, ind);
      return ind == soci::i_ok ? static_cast<std::int64_t>(id) : 0;
    });
  }

  Result<std::vector<AuditEntry>> list_audit(std::string_view subject) override {
    std::lock_guard lock(mu_);
    return run("reading the audit trail", [&]() -> Result<std::vector<AuditEntry>> {
      AuditEntry a;
      a.subject = subject;
      soci::statement st = (sql_->prepare << "SELECT at, actor, action, detail FROM audit_log"
                                             " WHERE subject = :s ORDER BY id",
                            soci::into(a.at), soci::into(a.actor), soci::into(a.action),
                            soci::into(a.detail), soci::use(a.subject));
      st.execute();
      std::vector<AuditEntry> out;
      while (st.fetch()) out.push_back(a);
      return out;
    });
  }

  Result<std::size_t> purge_call_content(std::string_view before, std::string_view actor) override {
    if (before.empty()) return Error{"purging call content: no cut-off time given"};
    // Batches, each its own transaction, so live calls are stored in between.
    constexpr long long kBatch = 500;
    const std::string bound = time_key(before), by(actor);
    std::size_t purged = 0;
    for (;;) {
      std::lock_guard lock(mu_);
      auto batch = run("purging call content",
                       [&]() -> Result<std::size_t> { return purge_batch(bound, kBatch); });
      if (!batch) return batch;
      purged += *batch;
      if (*batch == 0) break;
    }
    std::lock_guard lock(mu_);
    return run("auditing the purge", [&]() -> Result<std::size_t> {
      audit(utc_now_iso8601(), by, "retention_purge", std::string(before),
            std::to_string(purged) + " calls");
      return purged;
    });
  }

 private:
  int current_version() {
    soci::indicator ind = soci::i_ok;
    int version = 0;
    *sql_ << "SELECT MAX(version) FROM schema_migrations", soci::into(version, ind);
    return ind == soci::i_ok ? version : 0;
  }

  // A call and its sort key (the position of a keyset page).
  struct KeyedCall {
    CallRecord r;
    std::string key;
  };

  // Caller holds mu_. `tail` follows "SELECT <kCallColumns> FROM calls"; `use` binds
  // its parameters in order.
  std::vector<KeyedCall> select_calls(const std::string& tail,
                                      const std::function<void(Prepared&)>& use) {
    CallRow row;
    Prepared p = (sql_->prepare << "SELECT " << kCallColumns << " FROM calls " << tail);
    row.into(p);
    use(p);
    soci::statement st(p);
    st.execute();
    std::vector<KeyedCall> out;
    while (st.fetch()) out.push_back({row.record(), row.started_key});
    return out;
  }

  // Caller holds mu_ and an open transaction. As upsert_calls: multi-row statements on
  // PostgreSQL, one reused single-row statement on SQLite. Existing (call_sid, seq) pairs
  // are skipped; an empty time becomes `now`.
  void insert_events(const std::vector<CallEvent>& events, const std::string& now) {
    if (dialect_ == Dialect::sqlite) {
      CallEvent e;  // bound by address: refilled for each event
      soci::statement st =
          (sql_->prepare << kInsertEvent << values_placeholders(1, kInsertEventColumns)
                         << " ON CONFLICT DO NOTHING",
           soci::use(e.call_sid), soci::use(e.seq), soci::use(e.at), soci::use(e.kind),
           soci::use(e.detail_json));
      for (const auto& event : events) {
        e = event;
        if (e.at.empty()) e.at = now;
        st.execute(true);
      }
      return;
    }
    for (std::size_t begin = 0; begin < events.size(); begin += kRowsPerStatement) {
      const std::size_t n = std::min(events.size() - begin, kRowsPerStatement);
      Prepared p = (sql_->prepare << kInsertEvent << values_placeholders(n, kInsertEventColumns)
                                  << " ON CONFLICT DO NOTHING");
      for (std::size_t i = begin; i < begin + n; ++i) {
        const CallEvent& e = events[i];
        p, soci::use(e.call_sid), soci::use(e.seq), soci::use(e.at.empty() ? now : e.at),
            soci::use(e.kind), soci::use(e.detail_json);
      }
      soci::statement st(p);
      st.execute(true);
    }
  }

  // Caller holds mu_ and an open transaction. Writes `calls` (distinct call_sids) and
  // returns how many were written (the rest were not newer). PostgreSQL gets multi-row
  // statements: each statement is a network round trip. SQLite has no network to save,
  // and a statement of hundreds of named parameters costs more to prepare than it saves,
  // so it gets one single-row statement, prepared once and run for each record.
  std::size_t upsert_calls(const std::vector<const CallRecord*>& calls) {
    if (dialect_ == Dialect::sqlite) return upsert_each(calls);
    std::size_t written = 0;
    for (std::size_t begin = 0; begin < calls.size(); begin += kRowsPerStatement) {
      const std::size_t end = std::min(calls.size(), begin + kRowsPerStatement);
      written += upsert_rows({calls.begin() + static_cast<std::ptrdiff_t>(begin),
                              calls.begin() + static_cast<std::ptrdiff_t>(end)});
    }
    return written;
  }

  static void bind_call(Prepared& p, const CallRow& row) {
    const CallRecord& c = row.r;
    const auto& f = row.flags;
    p, soci::use(c.call_sid), soci::use(row.revision), soci::use(row.revision), soci::use(c.node),
        soci::use(c.from_raw), soci::use(c.from_e164), soci::use(c.status), soci::use(c.category),
        soci::use(c.department), soci::use(f[0]), soci::use(f[1]), soci::use(f[2]), soci::use(f[3]),
        soci::use(f[4]), soci::use(c.started_at), soci::use(row.started_key),
        soci::use(c.updated_at), soci::use(c.record_json);
  }

  // After a write: puts what operators did to the call back into its new record_json.
  void keep_operator_state(const CallRow& row, OperatorState op) {
    if (row.r.handled) op.handled = 0;  // the writer's own flag: its JSON says what it means
    if (op.any()) update_record_json(row.r.call_sid, row.r.record_json, op);
  }

  std::size_t upsert_each(const std::vector<const CallRecord*>& calls) {
    CallRow row;  // bound by address: refilled for each record
    std::string sid;
    OperatorState op;
    Prepared p = (sql_->prepare << kInsertCall << values_placeholders(1, kInsertCallColumns)
                                << kOnCallConflict);
    bind_call(p, row);
    p, soci::into(sid), soci::into(op.handled), soci::into(op.corrected_category),
        soci::into(op.purged);
    soci::statement st(p);
    std::size_t written = 0;
    for (const CallRecord* c : calls) {
      row = CallRow::of(*c);
      // RETURNING yields a row only when the record was inserted or updated.
      if (!st.execute(true)) continue;
      ++written;
      keep_operator_state(row, op);
    }
    return written;
  }

  std::size_t upsert_rows(const std::vector<const CallRecord*>& calls) {
    std::vector<CallRow> rows;
    rows.reserve(calls.size());  // bound by address below: no reallocation after this
    for (const CallRecord* c : calls) rows.push_back(CallRow::of(*c));
    Prepared p =
        (sql_->prepare << kInsertCall << values_placeholders(rows.size(), kInsertCallColumns)
                       << kOnCallConflict);
    for (const CallRow& row : rows) bind_call(p, row);
    std::string sid;
    OperatorState op;
    p, soci::into(sid), soci::into(op.handled), soci::into(op.corrected_category),
        soci::into(op.purged);
    // RETURNING yields a row for each record inserted or updated.
    std::vector<std::pair<std::string, OperatorState>> kept;
    std::size_t written = 0;
    soci::statement st(p);
    if (st.execute(true)) {
      do {
        ++written;
        if (op.any()) kept.emplace_back(sid, op);
      } while (st.fetch());
    }
    for (const auto& [kept_sid, state] : kept) {
      keep_operator_state(*std::find_if(rows.begin(), rows.end(),
                                        [&](const CallRow& r) { return r.r.call_sid == kept_sid; }),
                          state);
    }
    return written;
  }

  // Caller holds mu_ and an open transaction: rewrites the stored record_json with
  // the call's operator state.
  void rewrite_record_json(const std::string& sid) {
    std::string json;
    OperatorState op;
    *sql_ << "SELECT record_json, handled, corrected_category, purged FROM calls"
             " WHERE call_sid = :s",
        soci::into(json), soci::into(op.handled), soci::into(op.corrected_category),
        soci::into(op.purged), soci::use(sid);
    if (sql_->got_data()) update_record_json(sid, json, op);
  }

  void update_record_json(const std::string& sid, const std::string& json,
                          const OperatorState& op) {
    const std::string updated = with_operator_state(json, op);
    if (updated == json) return;
    *sql_ << "UPDATE calls SET record_json = :j WHERE call_sid = :s", soci::use(updated),
        soci::use(sid);
  }

  // Caller holds mu_. Purges up to `limit` calls started before `bound`; returns how many.
  std::size_t purge_batch(const std::string& bound, long long limit) {
    // Read outside the transaction, write inside it, each row only if it is unchanged
    // since the read: the first statement of the transaction is then a write, and
    // SQLite never has to upgrade a read lock that another connection made stale.
    std::vector<std::string> sids(static_cast<std::size_t>(limit)), json(sids.size());
    std::vector<long long> revision(sids.size());
    *sql_ << "SELECT call_sid, record_json, revision FROM calls WHERE started_key <> '' AND"
             " started_key < :b AND purged = 0 ORDER BY started_key, call_sid LIMIT :n",
        soci::into(sids), soci::into(json), soci::into(revision), soci::use(bound),
        soci::use(limit);
    const OperatorState op{0, "", 1};
    std::size_t purged = 0;
    soci::transaction tx(*sql_);
    for (std::size_t i = 0; i < sids.size(); ++i) {
      const std::string blanked = with_operator_state(json[i], op);
      soci::statement st = (sql_->prepare << "UPDATE calls SET purged = 1, record_json = :j"
                                             " WHERE call_sid = :s AND revision = :r",
                            soci::use(blanked), soci::use(sids[i]), soci::use(revision[i]));
      st.execute(true);
      purged += static_cast<std::size_t>(st.get_affected_rows());
    }
    tx.commit();
    return purged;
  }

  // Caller holds mu_. All users, or those matching `where` with one parameter.
  std::vector<User> select_users(const std::string& where, const std::string* param) {
    User u;
    int disabled = 0;
    Prepared p = (sql_->prepare << "SELECT username, password_hash, role, created_at, disabled"
                                   " FROM users "
                                << where << " ORDER BY username");
    p, soci::into(u.username), soci::into(u.password_hash), soci::into(u.role),
        soci::into(u.created_at), soci::into(disabled);
    if (param != nullptr) p, soci::use(*param);
    soci::statement st(p);
    st.execute();
    std::vector<User> out;
    while (st.fetch()) {
      u.disabled = disabled != 0;
      out.push_back(u);
    }
    return out;
  }

  // Caller holds mu_ and an open transaction.
  bool insert_spam(const SpamEntry& e) {
    const std::string at = e.added_at.empty() ? utc_now_iso8601() : e.added_at;
    soci::statement st =
        (sql_->prepare << "INSERT INTO spam_numbers (e164, reason, added_by, added_at)"
                          " VALUES (:n, :r, :b, :t) ON CONFLICT DO NOTHING",
         soci::use(e.e164), soci::use(e.reason), soci::use(e.added_by), soci::use(at));
    st.execute(true);
    const bool added = st.get_affected_rows() > 0;
    if (added) audit(at, e.added_by, "spam_add", e.e164, e.reason);
    return added;
  }

  void audit(const std::string& at, const std::string& actor, const std::string& action,
             const std::string& subject, const std::string& detail) {
    *sql_
        << "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (:a, :b, :c, :d, :e)",
        soci::use(at), soci::use(actor), soci::use(action), soci::use(subject), soci::use(detail);
  }

  Dialect dialect_;
  std::mutex mu_;
  std::unique_ptr<soci::session> sql_;
};

// SOCI's sqlite3 backend reads "db=VALUE"; quoting lets paths hold spaces.
std::string sqlite_connect_string(const std::string& path) {
  std::string quoted;
  for (char c : path) {
    if (c == '"') quoted += '\\';
    quoted += c;
  }
  return "db=\"" + quoted + "\" timeout=10";
}

}  // namespace

std::string utc_now_iso8601() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::unique_ptr<Store>> Store::open(const std::string& url) {
  try {
    if (url.starts_with("sqlite:")) {
      const std::string path = url.substr(7);
      if (path.empty()) return Error{"database URL 'sqlite:' needs a path, e.g. sqlite:spoofex.db"};
      auto sql =
          std::make_unique<soci::session>(*soci::factory_sqlite3(), sqlite_connect_string(path));
      // WAL with full sync: a committed write survives power loss, readers never block writers.
      *sql << "PRAGMA journal_mode=WAL";
      *sql << "PRAGMA synchronous=FULL";
      *sql << "PRAGMA foreign_keys=ON";
      *sql << "PRAGMA cache_size=-65536";
      *sql << "PRAGMA mmap_size=268435456";
      *sql << "PRAGMA wal_autocheckpoint=10000";
      return std::unique_ptr<Store>(std::make_unique<SociStore>(Dialect::sqlite, std::move(sql)));
    }
    if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
      auto conninfo = libpq_conninfo(url);
      if (!conninfo) return Error{conninfo.error()};
      auto sql = std::make_unique<soci::session>(*soci::factory_postgresql(), *conninfo);
      return std::unique_ptr<Store>(
          std::make_unique<SociStore>(Dialect::postgresql, std::move(sql)));
    }
  } catch (const std::exception& e) {
    return Error{"cannot open database '" + redacted(url) + "': " + e.what()};
  }
  return Error{"unsupported database URL '" + redacted(url) +
               "': use sqlite:PATH or postgresql://user@host:port/dbname"};
}

}  // namespace spoofex::store
