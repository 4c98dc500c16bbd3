// spoofex export [--since DATE] --format csv|jsonl: every stored call, oldest first.
#include <iostream>
#include <regex>

#include "app/commands.h"
#include "screening/screening.h"

namespace spoofex::app {
namespace {

struct ExportOptions {
  std::string since;
  std::string format;
};

// YYYY-MM-DD, or a full UTC timestamp as the store writes them (optionally with a
// fraction): the store compares these as text, so nothing else may pass.
bool valid_since(const std::string& s) {
  static const std::regex shape(R"((\d{4})-(\d\d)-(\d\d)(T(\d\d):(\d\d):(\d\d)(\.\d{1,9})?Z)?)");
  std::smatch m;
  if (!std::regex_match(s, m, shape)) return false;
  const auto field = [&](int i) { return std::stoi(m[i].str()); };
  if (field(2) < 1 || field(2) > 12 || field(3) < 1 || field(3) > 31) return false;
  if (!m[4].matched) return true;
  return field(5) < 24 && field(6) < 60 && field(7) <= 60;  // 60: a leap second
}

// A cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP, "CSV
// injection"); csv_field only quotes. Phone numbers ("+91 98765-43210") hold nothing a
// formula could call, so they stay as they are.
std::string spreadsheet_cell(std::string_view text) {
  const auto first = text.find_first_not_of(' ');
  if (first == std::string_view::npos ||
      std::string_view("=+-@\t\r").find(text[first]) == std::string_view::npos) {
    return screening::csv_field(text);
  }
  if (text.find_first_not_of("+-0123456789 ().") == std::string_view::npos) {
    return screening::csv_field(text);
  }
  return screening::csv_field("'" + std::string(text));
}

// The record's JSON object; text that is not one is kept whole under "record_json".
nlohmann::json record_object(const store::CallRecord& c) {
  nlohmann::json j = nlohmann::json::parse(c.record_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) return j;
  return {{"record_json", c.record_json}};
}

// A record_json key as cell text: strings as they are, other values as JSON.
std::string text_of(const nlohmann::json& record, const char* key) {
  const auto it = record.find(key);
  if (it == record.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write_jsonl(const store::CallRecord& c) {
  nlohmann::json j = record_object(c);
  j["call_sid"] = c.call_sid;
  j["status"] = c.status;
  j["category"] = c.category;
  j["department"] = c.department;
  j["started_at"] = c.started_at;
  print_json(j);
}

constexpr std::string_view kCsvHeader =
    "call_sid,started_at,from,e164,status,category,department,spam_listed,spoofed,"
    "system_generated,blank,handled,digits,transcript\n";

void write_csv(const store::CallRecord& c) {
  const nlohmann::json record = record_object(c);
  const auto flag = [](bool b) { return b ? "true" : "false"; };
  std::string line;
  for (const std::string* cell : {&c.call_sid, &c.started_at, &c.from_raw, &c.from_e164, &c.status,
                                  &c.category, &c.department}) {
    line += spreadsheet_cell(*cell) + ',';
  }
  for (bool b : {c.spam_listed, c.spoofed, c.system_generated, c.blank, c.handled}) {
    line += std::string(flag(b)) + ',';
  }
  line += spreadsheet_cell(text_of(record, "digits")) + ',';
  line += spreadsheet_cell(text_of(record, "transcript")) + '\n';
  std::cout << line;
}

int run_export(const Context& ctx, const ExportOptions& opt) {
  if (opt.format != "csv" && opt.format != "jsonl") {
    return fail("export: --format must be csv or jsonl, not '" + opt.format + "'");
  }
  if (!opt.since.empty() && !valid_since(opt.since)) {
    return fail("export: --since must be a date (2026-11-25) or a UTC time (2026-11-25T14:30:00Z)");
  }
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  auto db = Context::open_store(*cfg);
  if (!db) return fail(db.error(), kExitFailure);
  const bool csv = opt.format == "csv";
  if (csv) std::cout << kCsvHeader;
  auto st = (*db)->for_each_call(opt.since, [&](const store::CallRecord& c) {
    if (csv) {
      write_csv(c);
    } else {
      write_jsonl(c);
    }
  });
  if (!st) return fail(st.error(), kExitFailure);
  std::cout.flush();
  if (!std::cout) return fail("export: could not write to stdout", kExitFailure);
  return kExitOk;
}

}  // namespace

void add_export_command(CLI::App& app, const Context& ctx, int& exit_code) {
  auto opt = std::make_shared<ExportOptions>();
  auto* exp = app.add_subcommand("export", "write stored call records, oldest first");
  exp->add_option("--since", opt->since, "only calls started on or after this date or UTC time");
  exp->add_option("--format", opt->format, "csv or jsonl")->required();
  exp->callback([&ctx, &exit_code, opt] { exit_code = run_export(ctx, *opt); });
}

}  // namespace spoofex::app
