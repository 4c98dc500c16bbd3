// numbering: what a caller-ID string is, according to the numbering plan.
//
// Parses any caller-ID a network or Twilio delivers (E.164, national format, trunk
// prefix, punctuation, "anonymous", garbage) with libphonenumber, then applies an
// Indian overlay table (data/numbering/in_overlay.tsv) for series libphonenumber does
// not name: 140 telemarketers, 1600 service callers, 1800/1860 toll-free.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace spoofex::numbering {

// Caller-ID strings longer than this are rejected before parsing; no real
// number comes near it (E.164 allows 15 digits).
inline constexpr std::size_t kMaxCallerIdLength = 64;

// What kind of line a number belongs to. The first group mirrors libphonenumber's
// PhoneNumberType; the second comes from the overlay or ShortNumberInfo.
enum class NumberType {
  fixed_line,
  mobile,
  fixed_line_or_mobile,
  toll_free,
  premium_rate,
  shared_cost,
  voip,
  personal_number,
  pager,
  uan,
  voicemail,
  unknown,
  telemarketer,  // overlay: TRAI 140-series
  service,       // overlay: TRAI 1600-series (banks, transactional)
  emergency,     // ShortNumberInfo: 100, 112, 101, 102, 108 ...
  short_code,    // ShortNumberInfo: other valid short codes
  withheld,      // no caller ID presented
};

std::string_view to_string(NumberType type);

struct CallerId {
  std::string raw;                  // exactly what arrived (truncated for display if huge)
  std::optional<std::string> e164;  // "+919876543210"; empty when unparseable or withheld
  bool valid = false;               // valid in its numbering plan (short codes: valid short code)
  NumberType type = NumberType::unknown;
  std::string region;  // ISO 3166 alpha-2, "" if unknown
  bool withheld = false;
  bool can_originate = true;  // false for series that never place calls (toll-free ...)
  std::string note;           // overlay or parser remark for operators, may be empty
  std::string parse_error;    // why it could not be parsed, empty if it could
};

// Packs an E.164 string ("+" and up to 15 digits) into an integer key for compact
// sets. Returns nullopt for anything else.
std::optional<std::uint64_t> e164_key(std::string_view e164);
std::string e164_from_key(std::uint64_t key);

// One row of the overlay: numbers of `region` whose national significant number
// starts with `prefix` are of `type`.
struct OverlayRule {
  std::string region;
  std::string prefix;
  NumberType type = NumberType::unknown;
  bool can_originate = true;
  std::vector<std::size_t> nsn_lengths;  // a matching number is valid only at these lengths
  std::string note;
};

// Parses the overlay TSV: region, prefix, type, can_originate (yes/no), national
// number lengths (comma-separated), and an optional note.
Result<std::vector<OverlayRule>> parse_overlay(std::string_view tsv);
Result<std::vector<OverlayRule>> load_overlay(const std::string& path);

// Thread-safe after construction; parse() allocates only for its result. Ordinary
// home-country numbers take a fast path (well under a microsecond) that agrees with
// libphonenumber; everything else goes through libphonenumber (~10 µs).
class NumberingPlan {
 public:
  explicit NumberingPlan(std::vector<OverlayRule> overlay, std::string default_region = "IN");
  ~NumberingPlan();
  NumberingPlan(NumberingPlan&&) noexcept;
  NumberingPlan& operator=(NumberingPlan&&) noexcept;

  CallerId parse(std::string_view raw) const;
  // The same answer from libphonenumber alone, skipping the fast path for the home
  // country's ordinary numbers: for tests and benchmarks that compare the two.
  CallerId parse_without_fast_path(std::string_view raw) const;

  // Parses a number an operator typed (spam list, own numbers) into E.164.
  Result<std::string> to_e164(std::string_view raw) const;

  const std::string& default_region() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spoofex::numbering
