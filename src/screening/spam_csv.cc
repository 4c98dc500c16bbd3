#include <algorithm>
#include <cctype>

#include "screening/screening.h"

namespace spoofex::screening {
namespace {

constexpr std::size_t kMaxReasonLength = 500;

// Splits one RFC 4180 record. Returns nullopt (with `why`) on an unterminated quote.
std::optional<std::vector<std::string>> split_record(std::string_view line, std::string& why) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  if (quoted) {
    why = "unterminated quoted field";
    return std::nullopt;
  }
  return cells;
}

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

bool has_control_chars(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 && c != '\t'; });
}

}  // namespace

CsvImport parse_spam_csv(std::string_view csv, const numbering::NumberingPlan& plan,
                         std::string_view added_by) {
  CsvImport out;
  if (csv.starts_with("\xEF\xBB\xBF")) csv.remove_prefix(3);  // spreadsheet BOM
  std::size_t line_no = 0;
  std::size_t columns = 2;  // number, reason; a header may name more
  while (!csv.empty()) {
    const std::size_t nl = csv.find('\n');
    std::string_view line = csv.substr(0, nl);
    csv = nl == std::string_view::npos ? std::string_view{} : csv.substr(nl + 1);
    ++line_no;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (trim(std::string(line)).empty()) continue;
    std::string why;
    auto cells = split_record(line, why);
    if (!cells) {
      out.problems.push_back({line_no, why});
      continue;
    }
    std::string number = trim((*cells)[0]);
    std::string lowered = number;
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (out.entries.empty() && out.problems.empty() && (lowered == "number" || lowered == "e164")) {
      // Header row. `spam export` adds added_by and added_at, which import ignores:
      // the importer becomes the one who added them here.
      columns = cells->size();
      continue;
    }
    if (cells->size() > columns) {
      out.problems.push_back({line_no, "expected at most " + std::to_string(columns) +
                                           " columns (number, reason), found " +
                                           std::to_string(cells->size())});
      continue;
    }
    std::string reason = cells->size() > 1 ? trim((*cells)[1]) : std::string();
    if (reason.size() > kMaxReasonLength || has_control_chars(reason)) {
      out.problems.push_back({line_no, "reason is longer than " + std::to_string(kMaxReasonLength) +
                                           " characters or holds control characters"});
      continue;
    }
    auto e164 = plan.to_e164(number);
    if (!e164) {
      out.problems.push_back({line_no, e164.error()});
      continue;
    }
    out.entries.push_back({*e164, std::move(reason), std::string(added_by), ""});
  }
  return out;
}

std::string csv_field(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace spoofex::screening
