#include "store/store.h"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <chrono>
#include <ctime>
#include <mutex>

#include "store/migrations.h"

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

class SociStore final : public Store {
 public:
  SociStore(Dialect dialect, std::unique_ptr<soci::session> sql)
      : dialect_(dialect), sql_(std::move(sql)) {}

  std::string_view backend() const override {
    return dialect_ == Dialect::sqlite ? "sqlite" : "postgresql";
  }

  Status migrate() override {
    std::lock_guard lock(mu_);
    return guarded("migrating the schema", [&]() -> Status {
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
    return guarded("reading the schema version",
                   [&]() -> Result<int> { return current_version(); });
  }

  Result<bool> add_spam(const SpamEntry& entry) override {
    std::lock_guard lock(mu_);
    return guarded("adding a spam number", [&]() -> Result<bool> {
      soci::transaction tx(*sql_);
      const bool added = insert_spam(entry);
      tx.commit();
      return added;
    });
  }

  Result<std::size_t> add_spam_batch(const std::vector<SpamEntry>& entries) override {
    std::lock_guard lock(mu_);
    return guarded("adding spam numbers", [&]() -> Result<std::size_t> {
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
    return guarded("removing a spam number", [&]() -> Result<bool> {
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
    return guarded("looking up a spam number", [&]() -> Result<std::optional<SpamEntry>> {
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
    return guarded("reading the spam list", [&]() -> Status {
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
    return guarded("storing feedback", [&]() -> Status {
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
    return guarded("reading feedback", [&]() -> Result<std::vector<Feedback>> {
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

 private:
  int current_version() {
    soci::indicator ind = soci::i_ok;
    int version = 0;
    *sql_ << "SELECT MAX(version) FROM schema_migrations", soci::into(version, ind);
    return ind == soci::i_ok ? version : 0;
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

// SOCI 4.0's PostgreSQL backend mangles libpq URIs ("dbname=" appended to the
// database name), so the URI is turned into libpq's keyword=value form by libpq itself.
Result<std::string> libpq_conninfo(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    std::string why = err ? err : "out of memory";
    PQfreemem(err);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Error{"invalid PostgreSQL URL: " + why};
  }
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val || !*o->val) continue;
    std::string value;
    for (const char* c = o->val; *c; ++c) {
      if (*c == '\\' || *c == '\'') value += '\\';
      value += *c;
    }
    out += std::string(o->keyword) + "='" + value + "' ";
  }
  PQconninfoFree(opts);
  return out;
}

// A URL for messages: the password, if any, replaced by "***".
std::string redacted(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
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
