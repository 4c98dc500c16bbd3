// store: the system of record. One interface over SQLite (embedded default) and
// PostgreSQL, reached through SOCI with bound parameters only.
//
// URLs: "sqlite:PATH" (PATH may be ":memory:") or "postgresql://user@host:port/db".
// Every method is thread-safe; calls are serialised on one connection.
#pragma once

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
  std::string at;  // ISO 8601 UTC
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

  // Operator corrections, audited; read back in order for training.
  virtual Status add_feedback(const Feedback& feedback) = 0;
  virtual Result<std::vector<Feedback>> list_feedback() = 0;

  // Call records. put_call returns false when the write was ignored (not newer);
  // put_calls applies the same rule to each record in one transaction.
  virtual Result<bool> put_call(const CallRecord& call) = 0;
  virtual Status put_calls(const std::vector<CallRecord>& calls) = 0;
  virtual Result<std::optional<CallRecord>> find_call(std::string_view call_sid) = 0;
  virtual Result<std::vector<CallRecord>> list_calls(const CallQuery& query) = 0;
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

}  // namespace spoofex::store
