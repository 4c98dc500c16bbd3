// screening: the pre-answer decision. Given a caller ID and what the network says
// about the call, decide in microseconds whether to answer, and say why.
//
//   SpamList spam;                         // in-memory, loaded from the store
//   CallPatternDetector bursts(policy.burst);
//   Screener screener(plan, spam, bursts, policy);
//   Verdict v = screener.screen({.from = "+919876543210", .origin_country = "US"}, now);
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "numbering/numbering.h"
#include "store/store.h"

namespace spoofex::screening {

using Clock = std::chrono::system_clock;

// Which verdict flag a reason supports; `info` explains without flagging.
enum class Flag { spam_listed, spoofed, system_generated, withheld, info };
std::string_view to_string(Flag flag);

struct Reason {
  std::string code;  // machine-readable, stable: "spam_listed", "stir_failed" ...
  Flag flag = Flag::info;
  std::string detail;  // one sentence for the operator
};

// In-memory spam list for constant-time lookup: one 64-bit slot per number
// (50 bits of E.164 digits, 14 bits naming one of up to 16 383 distinct reasons),
// open addressing with linear probing. 10 M numbers take about 130 MB.
// Reads may run concurrently with writes.
class SpamList {
 public:
  SpamList();
  // Returns false if already listed or not a packable E.164 number.
  bool add(std::string_view e164, std::string_view reason = {});
  bool remove(std::string_view e164);
  bool contains(std::string_view e164) const;
  // The listing reason kept in memory ("" when none, or when the distinct-reason
  // table is full: the store still has it). nullopt when not listed.
  std::optional<std::string> lookup(std::string_view e164) const;
  std::size_t size() const;
  void reserve(std::size_t numbers);
  void clear();
  // Loads every active entry from the store, replacing what is held.
  Status load(store::Store& store);

 private:
  std::optional<std::size_t> find_slot(std::uint64_t key) const;
  void grow(std::size_t min_capacity);
  std::uint16_t intern(std::string_view reason);

  mutable std::shared_mutex mu_;
  std::vector<std::uint64_t> slots_;  // 0 = empty
  std::size_t size_ = 0;
  std::vector<std::string> reasons_;  // index 0 = "no reason in memory"
  std::unordered_map<std::string, std::uint16_t> reason_index_;
};

struct BurstPolicy {
  unsigned max_calls = 5;            // more than this many calls ...
  std::chrono::seconds window{600};  // ... within this window is a burst
  std::size_t capacity = 32768;      // numbers tracked at once (memory bound)
};

// Flags a caller ID that calls more than `max_calls` times within `window`.
// O(1) per call, fixed memory: a bounded table of recent callers, each with a ring
// of its last max_calls+1 call times (max_calls is capped at 15). When the table is
// full the caller heard from least recently is forgotten.
class CallPatternDetector {
 public:
  explicit CallPatternDetector(BurstPolicy policy = {});
  // Records a call and returns how many calls this number made within the window,
  // this one included (capped at max_calls + 1).
  unsigned observe(std::uint64_t key, Clock::time_point at);
  const BurstPolicy& policy() const { return policy_; }

 private:
  static constexpr unsigned kRing = 16;
  struct Entry {
    std::uint64_t key = 0;  // 0 = free
    std::int64_t times_ms[kRing] = {};
    std::uint32_t count = 0;  // calls recorded, saturating at kRing
    std::uint32_t head = 0;   // next ring position
  };
  BurstPolicy policy_;
  std::vector<Entry> table_;
};

struct Policy {
  std::vector<std::string> own_numbers;  // the control room's numbers, E.164
  bool reject_spoofed = false;           // also reject spoofs whose evidence is decisive
  BurstPolicy burst;                     // for the CallPatternDetector the Screener is given
};

struct CallAttempt {
  std::string_view from;
  std::string_view origin_country;  // network-reported origin, ISO alpha-2; "" if unknown
  std::string_view stir_verstat;    // Twilio StirVerstat; "" if absent
};

enum class Action { accept, reject };
std::string_view to_string(Action action);

struct Verdict {
  numbering::CallerId caller;
  Action action = Action::accept;
  bool spam_listed = false;
  bool spoofed = false;
  bool system_generated = false;
  bool withheld = false;
  std::vector<Reason> reasons;
};

// Not thread-safe: one Screener per thread, or guard it (the burst table is shared state).
class Screener {
 public:
  Screener(const numbering::NumberingPlan& plan, const SpamList& spam, CallPatternDetector& bursts,
           Policy policy);
  Verdict screen(const CallAttempt& call, Clock::time_point at);

 private:
  void spoof_rules(const CallAttempt& call, Verdict& v) const;
  const numbering::NumberingPlan& plan_;
  const SpamList& spam_;
  CallPatternDetector& bursts_;
  Policy policy_;
};

// The design.md JSON shapes.
nlohmann::json caller_json(const numbering::CallerId& caller);
nlohmann::json reasons_json(const std::vector<Reason>& reasons);
nlohmann::json to_json(const Verdict& verdict);

// Spam-list CSV import. Columns: number[,reason]; an optional header row whose first
// cell is "number" (or "e164") is skipped and may name further columns (as `spam
// export` writes: added_by, added_at), which are ignored. Bad rows are reported and skipped.
struct CsvProblem {
  std::size_t line = 0;
  std::string why;
};
struct CsvImport {
  std::vector<store::SpamEntry> entries;
  std::vector<CsvProblem> problems;
};
CsvImport parse_spam_csv(std::string_view csv, const numbering::NumberingPlan& plan,
                         std::string_view added_by);
std::string csv_field(std::string_view value);  // quotes a field if it needs it

}  // namespace spoofex::screening
