#include "numbering/numbering.h"

#include <phonenumbers/phonenumberutil.h>
#include <phonenumbers/shortnumberinfo.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <fstream>
#include <sstream>

namespace spoofex::numbering {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;
using i18n::phonenumbers::ShortNumberInfo;

constexpr std::array<std::string_view, 17> kTypeNames = {
    "fixed_line",  "mobile",  "fixed_line_or_mobile", "toll_free", "premium_rate",
    "shared_cost", "voip",    "personal_number",      "pager",     "uan",
    "voicemail",   "unknown", "telemarketer",         "service",   "emergency",
    "short_code",  "withheld"};

NumberType from_libphonenumber(PhoneNumberUtil::PhoneNumberType t) {
  switch (t) {
    case PhoneNumberUtil::FIXED_LINE:
      return NumberType::fixed_line;
    case PhoneNumberUtil::MOBILE:
      return NumberType::mobile;
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
      return NumberType::fixed_line_or_mobile;
    case PhoneNumberUtil::TOLL_FREE:
      return NumberType::toll_free;
    case PhoneNumberUtil::PREMIUM_RATE:
      return NumberType::premium_rate;
    case PhoneNumberUtil::SHARED_COST:
      return NumberType::shared_cost;
    case PhoneNumberUtil::VOIP:
      return NumberType::voip;
    case PhoneNumberUtil::PERSONAL_NUMBER:
      return NumberType::personal_number;
    case PhoneNumberUtil::PAGER:
      return NumberType::pager;
    case PhoneNumberUtil::UAN:
      return NumberType::uan;
    case PhoneNumberUtil::VOICEMAIL:
      return NumberType::voicemail;
    default:
      return NumberType::unknown;
  }
}

std::optional<NumberType> type_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<NumberType>(i);
  }
  return std::nullopt;
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string lower_trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Words and placeholder numbers networks use when the caller withholds their ID.
// The numbers are Twilio's keypad spellings of ANONYMOUS, RESTRICTED, UNAVAILABLE
// and BLOCKED (Twilio voice webhook docs, "From" for anonymous callers).
bool is_withheld(std::string_view raw) {
  static constexpr std::array<std::string_view, 14> kWithheld = {
      "",         "anonymous", "restricted",   "unavailable", "unknown",     "private",
      "withheld", "blocked",   "no caller id", "+266696687",  "+7378742833", "+86282452253",
      "+2562533", "266696687"};
  const std::string s = lower_trimmed(raw);
  return std::find(kWithheld.begin(), kWithheld.end(), s) != kWithheld.end();
}

std::string_view error_text(PhoneNumberUtil::ErrorType e) {
  switch (e) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return "invalid country code";
    case PhoneNumberUtil::NOT_A_NUMBER:
      return "not a phone number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
      return "too short after the international prefix";
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN:
      return "too long";
    default:
      return "unparseable";
  }
}

// Remembers the classification of number ranges of the home country. Numbering
// plans allocate numbers in blocks, and libphonenumber's patterns for India never
// look past the 6th of 10 digits (checked exhaustively over all 6-digit prefixes
// when this was written, and against random numbers by numbering_test), so one
// entry per 6-digit prefix decides type and validity. 900 000 16-bit atomics
// (1.8 MB): bounded, lock-free, filled lazily.
class RangeCache {
 public:
  struct Entry {
    NumberType type;
    bool valid;
    bool can_originate;
    int overlay_rule;  // index into the overlay, -1 for none
  };
  static constexpr std::uint64_t kDroppedDigits = 10'000;
  static constexpr std::uint64_t kFirstRange = 100'000;  // NSNs start 1-9
  static constexpr std::size_t kRanges = 900'000;

  RangeCache() : slots_(std::make_unique<std::atomic<std::uint16_t>[]>(kRanges)) {}

  std::optional<Entry> find(std::uint64_t nsn) const {
    const std::uint16_t v = slots_[index(nsn)].load(std::memory_order_relaxed);
    if ((v & 1) == 0) return std::nullopt;
    return Entry{static_cast<NumberType>((v >> 1) & 0x1f), ((v >> 6) & 1) != 0, ((v >> 7) & 1) != 0,
                 static_cast<int>(v >> 8) - 1};
  }

  void store(std::uint64_t nsn, const Entry& e) const {
    if (e.overlay_rule >= 0xfe) return;  // not packable; recompute each time
    const auto v = static_cast<std::uint16_t>(
        (static_cast<unsigned>(e.overlay_rule + 1) << 8) | (unsigned{e.can_originate} << 7) |
        (unsigned{e.valid} << 6) | (static_cast<unsigned>(e.type) << 1) | 1u);
    slots_[index(nsn)].store(v, std::memory_order_relaxed);
  }

 private:
  // Callers pass 10-digit NSNs starting 1-9, so the index is always in range.
  static std::size_t index(std::uint64_t nsn) {
    return static_cast<std::size_t>(nsn / kDroppedDigits - kFirstRange);
  }
  std::unique_ptr<std::atomic<std::uint16_t>[]> slots_;
};

}  // namespace

std::string_view to_string(NumberType type) { return kTypeNames[static_cast<std::size_t>(type)]; }

std::optional<std::uint64_t> e164_key(std::string_view e164) {
  if (e164.size() < 2 || e164.size() > 16 || e164.front() != '+') return std::nullopt;
  std::uint64_t key = 0;
  for (char c : e164.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    key = key * 10 + static_cast<std::uint64_t>(c - '0');
  }
  // A leading digit of 0 never starts a country code, so no two strings share a key.
  if (e164[1] == '0') return std::nullopt;
  return key;
}

std::string e164_from_key(std::uint64_t key) {
  // Built by append: GCC 12 at -O3 misreports "+" + to_string() as overlapping (PR 105651).
  std::string out = "+";
  out.append(std::to_string(key));
  return out;
}

Result<std::vector<OverlayRule>> parse_overlay(std::string_view tsv) {
  std::vector<OverlayRule> rules;
  std::istringstream in{std::string(tsv)};
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ls(line);
    std::string col;
    while (std::getline(ls, col, '\t')) cols.push_back(col);
    const std::string where = "overlay line " + std::to_string(line_no) + ": ";
    if (cols.size() < 5 || cols.size() > 6) {
      return Error{
          where +
          "expected region, prefix, type, can_originate, lengths[, note] separated by tabs"};
    }
    OverlayRule rule;
    rule.region = cols[0];
    rule.prefix = cols[1];
    auto type = type_from_name(cols[2]);
    if (!type) return Error{where + "unknown type '" + cols[2] + "'"};
    if (rule.prefix.empty() || !all_digits(rule.prefix))
      return Error{where + "prefix must be digits"};
    if (cols[3] != "yes" && cols[3] != "no")
      return Error{where + "can_originate must be yes or no"};
    std::stringstream lengths(cols[4]);
    for (std::string len; std::getline(lengths, len, ',');) {
      if (len.empty() || len.size() > 2 || !all_digits(len)) {
        return Error{where + "lengths must be digit counts such as 10 or 10,11"};
      }
      rule.nsn_lengths.push_back(static_cast<std::size_t>(std::stoi(len)));
    }
    if (rule.nsn_lengths.empty()) return Error{where + "lengths must not be empty"};
    rule.type = *type;
    rule.can_originate = cols[3] == "yes";
    if (cols.size() > 5) rule.note = cols[5];
    rules.push_back(std::move(rule));
  }
  // Longest prefix first, so the most specific rule wins.
  std::stable_sort(rules.begin(), rules.end(), [](const OverlayRule& a, const OverlayRule& b) {
    return a.prefix.size() > b.prefix.size();
  });
  return rules;
}

Result<std::vector<OverlayRule>> load_overlay(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Error{"cannot open numbering overlay '" + path + "'"};
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_overlay(ss.str());
}

struct NumberingPlan::Impl {
  std::vector<OverlayRule> overlay;
  std::string default_region;
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  ShortNumberInfo short_info;
  RangeCache ranges;

  const OverlayRule* match_overlay(const std::string& region, const std::string& nsn) const {
    for (const auto& rule : overlay) {
      if (rule.region == region && nsn.starts_with(rule.prefix)) return &rule;
    }
    return nullptr;
  }

  // Type, validity and overlay of a parsed number (libphonenumber: ~4 µs).
  void classify(const PhoneNumber& number, const std::string& nsn, CallerId& id) const {
    id.type = from_libphonenumber(util->GetNumberType(number));
    // GetNumberType answers UNKNOWN exactly when IsValidNumber is false, at half the cost.
    id.valid = id.type != NumberType::unknown;
    id.can_originate = id.type != NumberType::toll_free && id.type != NumberType::premium_rate;
    if (const auto* rule = match_overlay(id.region.empty() ? default_region : id.region, nsn)) {
      id.type = rule->type;
      id.can_originate = rule->can_originate;
      id.note = rule->note;
      // The overlay names series libphonenumber lumps together; a number of the
      // series is valid at the series' lengths, not merely for sharing its prefix.
      id.valid = std::find(rule->nsn_lengths.begin(), rule->nsn_lengths.end(), nsn.size()) !=
                 rule->nsn_lengths.end();
    }
  }

  bool parse_home_fast(std::string_view raw, CallerId& id) const;
  void parse_slow(std::string_view raw, CallerId& id) const;
};

// The common shapes of an Indian caller ID, "+91 98765-43210", "09876543210",
// "9876543210", reduced to their 10-digit national significant number without
// libphonenumber's regex-driven Parse (~6 µs). Anything else takes the slow path.
// numbering_test checks that both paths agree.
std::optional<std::uint64_t> home_nsn(std::string_view raw) {
  char digits[16];
  std::size_t n = 0;
  bool plus = false;
  for (char c : raw) {
    if (c >= '0' && c <= '9') {
      if (n == sizeof digits) return std::nullopt;
      digits[n++] = c;
    } else if (c == '+' && n == 0 && !plus) {
      plus = true;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
      return std::nullopt;
    }
  }
  std::string_view d(digits, n);
  if (plus) {
    if (!d.starts_with("91")) return std::nullopt;
    d.remove_prefix(2);
  } else if (d.size() == 11 && d[0] == '0') {
    d.remove_prefix(1);  // trunk prefix
  }
  if (d.size() != 10 || d[0] == '0') return std::nullopt;
  std::uint64_t nsn = 0;
  for (char c : d) nsn = nsn * 10 + static_cast<std::uint64_t>(c - '0');
  return nsn;
}

bool NumberingPlan::Impl::parse_home_fast(std::string_view raw, CallerId& id) const {
  if (default_region != "IN") return false;
  const auto nsn = home_nsn(raw);
  if (!nsn) return false;
  const std::string nsn_text = std::to_string(*nsn);
  id.e164 = "+91" + nsn_text;
  id.region = "IN";
  if (auto hit = ranges.find(*nsn)) {
    id.type = hit->type;
    id.valid = hit->valid;
    id.can_originate = hit->can_originate;
    if (hit->overlay_rule >= 0) id.note = overlay[static_cast<std::size_t>(hit->overlay_rule)].note;
    return true;
  }
  PhoneNumber number;
  number.set_country_code(91);
  number.set_national_number(*nsn);
  classify(number, nsn_text, id);
  int rule = -1;
  for (std::size_t i = 0; i < overlay.size(); ++i) {
    if (overlay[i].region == "IN" && nsn_text.starts_with(overlay[i].prefix)) {
      rule = static_cast<int>(i);
      break;
    }
  }
  ranges.store(*nsn, {id.type, id.valid, id.can_originate, rule});
  return true;
}

void NumberingPlan::Impl::parse_slow(std::string_view raw, CallerId& id) const {
  const std::string& region = default_region;
  PhoneNumber number;
  const auto err = util->Parse(std::string(raw), region, &number);
  if (err != PhoneNumberUtil::NO_PARSING_ERROR) {
    id.parse_error = std::string(error_text(err));
    return;
  }
  std::string nsn;
  util->GetNationalSignificantNumber(number, &nsn);
  util->GetRegionCodeForNumber(number, &id.region);
  if (id.region == "ZZ") id.region.clear();

  // Short codes only exist as dialled inside a region: "100" but not "+91100".
  const bool dialled_short = raw.find('+') == std::string_view::npos && nsn.size() <= 6;
  if (dialled_short && short_info.IsValidShortNumberForRegion(number, region)) {
    id.region = region;
    id.valid = true;
    id.can_originate = false;
    if (short_info.IsEmergencyNumber(std::string(raw), region)) {
      id.type = NumberType::emergency;
      id.note = "emergency short code " + nsn;
    } else {
      id.type = NumberType::short_code;
      id.note = "short code " + nsn;
    }
    return;
  }
  std::string e164;
  util->Format(number, PhoneNumberUtil::E164, &e164);
  if (e164_key(e164)) id.e164 = e164;
  classify(number, nsn, id);
}

NumberingPlan::NumberingPlan(std::vector<OverlayRule> overlay, std::string default_region)
    : impl_(std::make_unique<Impl>()) {
  impl_->overlay = std::move(overlay);
  impl_->default_region = std::move(default_region);
}
NumberingPlan::~NumberingPlan() = default;
NumberingPlan::NumberingPlan(NumberingPlan&&) noexcept = default;
NumberingPlan& NumberingPlan::operator=(NumberingPlan&&) noexcept = default;

const std::string& NumberingPlan::default_region() const { return impl_->default_region; }

CallerId NumberingPlan::parse(std::string_view raw) const {
  CallerId id;
  // Keep what arrived, but never echo kilobytes of garbage into records and logs.
  id.raw = std::string(raw.substr(0, 2 * kMaxCallerIdLength));
  if (is_withheld(raw)) {
    id.withheld = true;
    id.type = NumberType::withheld;
    id.note = "caller ID withheld";
    return id;
  }
  if (raw.size() > kMaxCallerIdLength) {
    id.parse_error = "longer than " + std::to_string(kMaxCallerIdLength) + " characters";
    return id;
  }
  if (!impl_->parse_home_fast(raw, id)) impl_->parse_slow(raw, id);
  return id;
}

CallerId NumberingPlan::parse_without_fast_path(std::string_view raw) const {
  CallerId id;
  id.raw = std::string(raw.substr(0, 2 * kMaxCallerIdLength));
  impl_->parse_slow(raw, id);
  return id;
}

Result<std::string> NumberingPlan::to_e164(std::string_view raw) const {
  CallerId id = parse(raw);
  if (id.withheld) return Error{"'" + id.raw + "' is a withheld caller ID, not a number"};
  if (!id.parse_error.empty())
    return Error{"'" + id.raw + "' is not a phone number: " + id.parse_error};
  if (!id.e164)
    return Error{"'" + id.raw + "' has no E.164 form (" + std::string(to_string(id.type)) + ")"};
  return *id.e164;
}

}  // namespace spoofex::numbering
