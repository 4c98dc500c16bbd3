// store: the system of record. One interface over SQLite (embedded default) and
// PostgreSQL, reached through SOCI with bound parameters only.
//
// URLs: "sqlite:PATH" (PATH may be ":memory:") or "postgresql://user@host:port/db".
// Every method is thread-safe; calls are serialised on one connection.
#pragma once

#include <cstddef>
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
};

}  // namespace spoofex::store
