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
  return list;
}

}  // namespace spoofex::store
