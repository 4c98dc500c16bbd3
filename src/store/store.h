// store: the system of record. One interface over SQLite (embedded default) and
// PostgreSQL, reached through SOCI with bound parameters only.
//
// URLs: "sqlite:PATH" (PATH may be ":memory:") or "postgresql://user@host:port/db".
// Every method is thread-safe; calls are serialised on one connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace spoofex::store {

struct SpamEntry {
  std::string e164;
  std::string reason;
  std::string added_by;
  std::string added_at;  // ISO 8601 UTC, e.g. "2026-11-25T14:30:00Z"
};

// An operator's correction of a call's category: training data for the next model.
struct Feedback {
  std::string call_sid;  // may be empty for corrections not tied to a call
  std::string text;      // what the caller said (the transcript the model saw)
  std::string category;  // the correct category
  std::string actor;
  std::string at;  // ISO 8601 UTC; filled in when empty
};

// One row of the audit trail: who did what to which number, call or user.
struct AuditEntry {
  std::int64_t id = 0;  // increasing: spam_changes_since() resumes from it
  std::string at;       // ISO 8601 UTC
  std::string actor;
  std::string action;   // "spam_add", "call_handled", "user_add", "retention_purge", ...
  std::string subject;  // e164, call_sid, username, or the purge's cut-off time
  std::string detail;
};

// One call as spoofex saw it, from the first webhook to the end. Written many times
// as the call progresses; `revision` increases with each write, and a write whose
// revision is not newer than the last one its writer stored is ignored (so a journal can
// be replayed any number of times without duplicates or going back in time).
// What operators do (mark_handled, correct_call_category, purge_call_content) survives
// later writes: it bumps the stored revision, yet the writer's next revision still lands.
struct CallRecord {
  std::string call_sid;  // primary key (Twilio CallSid, or any unique id)
  std::int64_t revision = 0;
  std::string node;        // which spoofex node handled it
  std::string from_raw;    // caller ID as received
  std::string from_e164;   // empty when unparseable/withheld
  std::string status;      // "ringing", "rejected", "in-progress", "completed", ...
  std::string category;    // final category: emergency|inquiry|complaint|spam|blank or ""
  std::string department;  // department id or ""
  bool spam_listed = false, spoofed = false, system_generated = false, blank = false;
  bool handled = false;     // an operator marked it handled
  std::string started_at;   // ISO 8601 UTC, "2026-11-25T14:30:00Z" or "2026-11-25T14:30:00.123Z"
  std::string updated_at;   // ISO 8601 UTC of this revision
  std::string record_json;  // the whole record as JSON text (transcript, digits, reasons, ...)
};

struct CallEvent {
  std::string call_sid;
  int seq = 0;              // 1, 2, 3 ... per call; (call_sid, seq) is unique
  std::string at;           // ISO 8601 UTC; filled in when empty
  std::string kind;         // "webhook", "screened", "speech_start", "digits", "decision", ...
  std::string detail_json;  // JSON text
};

struct User {
  std::string username;
  std::string password_hash;  // opaque (libsodium argon2id "$argon2id$..." encoded hash)
  std::string role;           // "operator" | "supervisor" | "admin"
  std::string created_at;     // ISO 8601 UTC; filled in when empty
  bool disabled = false;
};

// Times compare in time order whether or not they carry fractional seconds; a bare
// date "2026-11-25" means its midnight.
struct CallQuery {
  std::size_t limit = 100;  // newest first by started_at, then call_sid
  std::string since;        // lower bound on started_at (inclusive); "" = all
  std::string category;     // "" = all
};

// The current time as the store writes it ("2026-11-25T14:30:00Z").
std::string utc_now_iso8601();

class Store {
 public:
  static Result<std::unique_ptr<Store>> open(const std::string& url);
  virtual ~Store() = default;

  // Brings the schema up to date; safe to run any number of times.
  virtual Status migrate() = 0;
  virtual Result<int> schema_version() = 0;
  virtual std::string_view backend() const = 0;  // "sqlite" or "postgresql"

  // Spam list. Adding a listed number is not an error: it returns false. Removal
  // keeps the row with who/when/why, so the list has a full audit trail.
  virtual Result<bool> add_spam(const SpamEntry& entry) = 0;
  virtual Result<bool> remove_spam(std::string_view e164, std::string_view removed_by,
                                   std::string_view reason) = 0;
  // Adds many entries in one transaction: all of them or, on failure, none.
  // Returns how many were new.
  virtual Result<std::size_t> add_spam_batch(const std::vector<SpamEntry>& entries) = 0;
  virtual Result<std::optional<SpamEntry>> find_spam(std::string_view e164) = 0;
  virtual Result<std::vector<SpamEntry>> list_spam() = 0;
  // Streams the active list without materialising it (10 M rows at start-up).
  virtual Status for_each_spam(const std::function<void(const SpamEntry&)>& visit) = 0;

  // Listed numbers containing `contains` (all when empty), newest first.
  virtual Result<std::vector<SpamEntry>> search_spam(std::string_view contains,
                                                     std::size_t limit) = 0;
  // Spam-list additions and removals (audit rows "spam_add"/"spam_remove") after audit
  // row `after_id`, oldest first: how every node keeps its in-memory list current.
  virtual Result<std::vector<AuditEntry>> spam_changes_since(std::int64_t after_id,
                                                             std::size_t limit) = 0;
  // The newest audit row's id (0 when none): where a node starts following changes.
  virtual Result<std::int64_t> last_audit_id() = 0;

  // Operator corrections, audited; read back in order for training.
  virtual Status add_feedback(const Feedback& feedback) = 0;
  virtual Result<std::vector<Feedback>> list_feedback() = 0;

  // Call records. put_call returns false when the write was ignored (not newer);
  // put_calls applies the same rule to each record in one transaction.
  virtual Result<bool> put_call(const CallRecord& call) = 0;
  virtual Status put_calls(const std::vector<CallRecord>& calls) = 0;
  virtual Result<std::optional<CallRecord>> find_call(std::string_view call_sid) = 0;
  virtual Result<std::vector<CallRecord>> list_calls(const CallQuery& query) = 0;
  // Calls written after `after` (an updated_at value) by nodes other than
  // `exclude_node`, oldest change first: how a node's live feed shows other nodes' calls.
  virtual Result<std::vector<CallRecord>> calls_updated_since(std::string_view after,
                                                              std::string_view exclude_node,
                                                              std::size_t limit) = 0;
  // Oldest first, for export; `since` as in CallQuery. Reads in pages without holding
  // the store between them, so `visit` may call the store.
  virtual Status for_each_call(std::string_view since,
                               const std::function<void(const CallRecord&)>& visit) = 0;

  // A call's timeline. Adding an existing (call_sid, seq) returns false; listed by seq.
  virtual Result<bool> add_call_event(const CallEvent& event) = 0;
  // Many events in one transaction; existing (call_sid, seq) pairs are skipped.
  virtual Status add_call_events(const std::vector<CallEvent>& events) = 0;
  virtual Result<std::vector<CallEvent>> list_call_events(std::string_view call_sid) = 0;

  // Operator actions on a call, audited ("call_handled", "call_corrected"): set the
  // column and the matching record_json key ("handled": true, "corrected_category"),
  // bump the revision by one. False when the call does not exist. A corrected
  // category must be emergency, inquiry, complaint, spam or blank.
  virtual Result<bool> mark_handled(std::string_view call_sid, std::string_view actor) = 0;
  virtual Result<bool> correct_call_category(std::string_view call_sid, std::string_view category,
                                             std::string_view actor) = 0;

  // Dashboard users. Adding an existing name is an Error ("user 'x' exists"); audited.
  virtual Status add_user(const User& user, std::string_view actor) = 0;
  virtual Result<std::optional<User>> find_user(std::string_view username) = 0;
  virtual Result<std::vector<User>> list_users() = 0;  // by username
  virtual Result<std::size_t> count_users() = 0;

  // The audit trail of one subject, oldest first.
  virtual Result<std::vector<AuditEntry>> list_audit(std::string_view subject) = 0;

  // Retention: for calls started before `before`, blanks what the caller said
  // (record_json "transcript" = "", "audio_ref" = null, "purged" = true) and keeps
  // every column, so statistics survive. Later writes of a purged call stay blanked;
  // calls without a start time are kept.
  // Returns how many calls were purged by this run; audited ("retention_purge").
  virtual Result<std::size_t> purge_call_content(std::string_view before,
                                                 std::string_view actor) = 0;
};

// Wakes a node within milliseconds when any node changed calls or the spam list, through
// PostgreSQL's LISTEN/NOTIFY on a connection of its own. It only says "look now": the
// node still reads the changes through Store, and keeps polling now and then, which
// catches anything sent while this connection was down.
class ChangeListener {
 public:
  // A listening connection for a PostgreSQL URL; nullptr for SQLite, which cannot notify
  // (nodes sharing a SQLite file follow each other by polling alone).
  static Result<std::unique_ptr<ChangeListener>> open(const std::string& url);
  ~ChangeListener();
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  // Blocks up to `timeout`; true when at least one change was notified (all pending
  // notifications are consumed), or when the connection was lost and remade, since
  // changes may have been missed meanwhile. Never throws; reconnects by itself.
  bool wait(std::chrono::milliseconds timeout);
  // Whether the connection is up and listening (for /healthz and the log).
  bool listening() const;

 private:
  struct Connection;
  explicit ChangeListener(std::unique_ptr<Connection> connection);
  std::unique_ptr<Connection> connection_;
};

// An append-only local file of call records and events: where they go while the database
// is unreachable, to be replayed into it when it returns (design.md, rule 3; issue 7).
// Replaying twice is harmless: the store ignores call revisions that are not newer and
// events it already has. The format is described in journal.cc. One owner at a time: a
// Journal is not thread-safe, and a second process opening the same file is refused.
class Journal {
 public:
  using Visit =
      std::function<Status(std::vector<CallRecord>& calls, std::vector<CallEvent>& events)>;

  // Opens or creates (mode 0600) the file and checks every entry. A torn or corrupt tail
  // (a crash mid-append, a bad block) is copied to PATH.corrupt and cut off, so new
  // entries follow the last good one.
  static Result<std::unique_ptr<Journal>> open(const std::string& path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Writes one entry and fdatasync()s it: once this returns Ok, the entry survives a crash.
  Status append(const std::vector<CallRecord>& calls, const std::vector<CallEvent>& events);
  // Calls `visit` with each entry, oldest first, and returns how many were read. Stops
  // cleanly at a torn or corrupt entry (handled as open() does), or returns the first
  // error `visit` returns.
  Result<std::size_t> replay(const Visit& visit);
  // Empties the file (after a successful replay), durably.
  Status clear();
  // Moves the file (e.g. aside, so a replay runs while new entries go to a fresh file).
  Status rename(const std::string& new_path);

  bool empty() const { return entries_ == 0; }
  std::size_t entries() const { return entries_; }
  std::uint64_t bytes() const { return size_; }
  const std::string& path() const { return path_; }
  // What the last open() or replay() cut off, for the log; "" when nothing was.
  const std::string& damage() const { return damage_; }

 private:
  Journal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Result<std::size_t> scan(const Visit* visit);
  Status cut_tail(std::uint64_t good, std::uint64_t end, const std::string& why);

  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;  // bytes of whole, checked entries
  std::size_t entries_ = 0;
  std::string damage_;
};

}  // namespace spoofex::store
