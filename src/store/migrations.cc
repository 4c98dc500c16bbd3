#include "store/migrations.h"

namespace spoofex::store {

std::vector<Migration> migrations(Dialect dialect) {
  const std::string id_column = dialect == Dialect::sqlite ? "id INTEGER PRIMARY KEY AUTOINCREMENT"
                                                           : "id BIGSERIAL PRIMARY KEY";
  std::vector<Migration> list;
  list.push_back(Migration{
      1,
      "spam list with audit trail; operator audit log",
      {
          "CREATE TABLE spam_numbers (" + id_column +
              ", e164 TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
              " added_by TEXT NOT NULL, added_at TEXT NOT NULL,"
              " removed_by TEXT, removed_at TEXT, removed_reason TEXT)",
          // One active row per number; removed rows stay as history.
          "CREATE UNIQUE INDEX spam_numbers_active ON spam_numbers (e164) WHERE removed_at IS NULL",
          "CREATE TABLE audit_log (" + id_column +
              ", at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
              " subject TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')",
          "CREATE INDEX audit_log_at ON audit_log (at)",
      }});
  list.push_back(Migration{
      2,
      "operator feedback (category corrections) for retraining",
      {
          "CREATE TABLE feedback (" + id_column +
              ", at TEXT NOT NULL, actor TEXT NOT NULL, call_sid TEXT NOT NULL DEFAULT '',"
              " text TEXT NOT NULL, category TEXT NOT NULL)",
          "CREATE INDEX feedback_call ON feedback (call_sid)",
      }});
  list.push_back(Migration{
      3,
      "calls, call events, users",
      {
          // revision is what readers see; node_revision is the last revision a writer
          // (spoofex node, journal replay) stored, so operator bumps do not swallow the
          // writer's next revision. started_key is started_at with a fixed-width fraction,
          // so that string order is time order ("...00Z" vs "...00.5Z").
          // Booleans are INTEGER 0/1 on both backends.
          "CREATE TABLE calls (call_sid TEXT PRIMARY KEY, revision BIGINT NOT NULL,"
          " node_revision BIGINT NOT NULL, node TEXT NOT NULL DEFAULT '',"
          " from_raw TEXT NOT NULL DEFAULT '', from_e164 TEXT NOT NULL DEFAULT '',"
          " status TEXT NOT NULL DEFAULT '', category TEXT NOT NULL DEFAULT '',"
          " department TEXT NOT NULL DEFAULT '',"
          " spam_listed INTEGER NOT NULL DEFAULT 0, spoofed INTEGER NOT NULL DEFAULT 0,"
          " system_generated INTEGER NOT NULL DEFAULT 0, blank INTEGER NOT NULL DEFAULT 0,"
          " handled INTEGER NOT NULL DEFAULT 0, corrected_category TEXT NOT NULL DEFAULT '',"
          " purged INTEGER NOT NULL DEFAULT 0, started_at TEXT NOT NULL DEFAULT '',"
          " started_key TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL DEFAULT '',"
          " record_json TEXT NOT NULL DEFAULT '{}')",
          "CREATE INDEX calls_started ON calls (started_key, call_sid)",
          "CREATE INDEX calls_from ON calls (from_e164)",
          // No foreign key to calls: a journal may replay events before their call.
          "CREATE TABLE call_events (call_sid TEXT NOT NULL, seq INTEGER NOT NULL,"
          " at TEXT NOT NULL, kind TEXT NOT NULL, detail_json TEXT NOT NULL DEFAULT '{}',"
          " PRIMARY KEY (call_sid, seq))",
          "CREATE INDEX audit_log_subject ON audit_log (subject)",
          "CREATE TABLE users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL,"
          " role TEXT NOT NULL, created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0)",
      }});
  list.push_back(Migration{4,
                           "index of calls by last change, for nodes following each other's calls",
                           {"CREATE INDEX calls_updated ON calls (updated_at)"}});
  // PostgreSQL tells every node's ChangeListener when calls or the spam list change
  // (LISTEN/NOTIFY); one notification per statement, folded per transaction. SQLite has
  // no such thing: nodes on one SQLite file follow each other by polling alone.
  std::vector<std::string> notify;
  if (dialect == Dialect::postgresql) {
    notify = {
        "CREATE OR REPLACE FUNCTION spoofex_notify_change() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN PERFORM pg_notify('spoofex_changes', TG_TABLE_NAME); RETURN NULL; END $$",
        "CREATE TRIGGER calls_changed AFTER INSERT OR UPDATE ON calls"
        " FOR EACH STATEMENT EXECUTE FUNCTION spoofex_notify_change()",
        "CREATE TRIGGER spam_numbers_changed AFTER INSERT OR UPDATE ON spam_numbers"
        " FOR EACH STATEMENT EXECUTE FUNCTION spoofex_notify_change()",
    };
  }
  list.push_back(
      Migration{5, "notify listening nodes of changed calls and spam list", std::move(notify)});
  return list;
}

}  // namespace spoofex::store
