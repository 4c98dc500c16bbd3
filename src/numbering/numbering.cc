#include "numbering/numbering.h"

#include <phonenumbers/phonenumberutil.h>
#include <phonenumbers/shortnumberinfo.h>

#include <algorithm>
#include <array>
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

std::string e164_from_key(std::uint64_t key) { return "+" + std::to_string(key); }

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
    if (cols.size() < 4) {
      return Error{"overlay line " + std::to_string(line_no) +
                   ": expected region, prefix, type, can_originate[, note] separated by tabs"};
    }
    OverlayRule rule;
    rule.region = cols[0];
    rule.prefix = cols[1];
    auto type = type_from_name(cols[2]);
    if (!type)
      return Error{"overlay line " + std::to_string(line_no) + ": unknown type '" + cols[2] + "'"};
    if (rule.prefix.empty() || !std::all_of(rule.prefix.begin(), rule.prefix.end(),
                                            [](char c) { return c >= '0' && c <= '9'; })) {
      return Error{"overlay line " + std::to_string(line_no) + ": prefix must be digits"};
    }
    if (cols[3] != "yes" && cols[3] != "no") {
      return Error{"overlay line " + std::to_string(line_no) + ": can_originate must be yes or no"};
    }
    rule.type = *type;
    rule.can_originate = cols[3] == "yes";
    if (cols.size() > 4) rule.note = cols[4];
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

  const OverlayRule* match_overlay(const std::string& region, const std::string& nsn) const {
    for (const auto& rule : overlay) {
      if (rule.region == region && nsn.starts_with(rule.prefix)) return &rule;
    }
    return nullptr;
  }
};

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
  const std::string& region = impl_->default_region;
  PhoneNumber number;
  const auto err = impl_->util->Parse(std::string(raw), region, &number);
  if (err != PhoneNumberUtil::NO_PARSING_ERROR) {
    id.parse_error = std::string(error_text(err));
    return id;
  }
  std::string nsn;
  impl_->util->GetNationalSignificantNumber(number, &nsn);
  impl_->util->GetRegionCodeForNumber(number, &id.region);
  if (id.region == "ZZ") id.region.clear();

  // Short codes only exist as dialled inside a region: "100" but not "+91100".
  const bool dialled_short =
      !raw.empty() && raw.find('+') == std::string_view::npos && nsn.size() <= 6;
  if (dialled_short && impl_->short_info.IsValidShortNumberForRegion(number, region)) {
    id.region = region;
    id.valid = true;
    id.can_originate = false;
    id.e164.reset();
    if (impl_->short_info.IsEmergencyNumber(std::string(raw), region)) {
      id.type = NumberType::emergency;
      id.note = "emergency short code " + nsn;
    } else {
      id.type = NumberType::short_code;
      id.note = "short code " + nsn;
    }
    return id;
  }

  std::string e164;
  impl_->util->Format(number, PhoneNumberUtil::E164, &e164);
  if (e164_key(e164)) id.e164 = e164;
  id.valid = impl_->util->IsValidNumber(number);
  id.type = from_libphonenumber(impl_->util->GetNumberType(number));
  if (id.type == NumberType::toll_free || id.type == NumberType::premium_rate) {
    id.can_originate = false;
  }
  if (const auto* rule = impl_->match_overlay(id.region.empty() ? region : id.region, nsn)) {
    id.type = rule->type;
    id.can_originate = rule->can_originate;
    id.note = rule->note;
    id.valid = true;  // the overlay names series libphonenumber lumps together
  }
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
