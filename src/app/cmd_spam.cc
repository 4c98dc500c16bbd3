#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "screening/screening.h"

namespace spoofex::app {
namespace {

constexpr std::size_t kMaxImportBytes = std::size_t{2} << 30;  // 2 GiB: ~50 M rows

struct SpamOptions {
  std::string number;
  std::string reason;
  std::string by;
  std::string file;
  std::string format = "csv";
};

// A reason that a spreadsheet would run as a formula is exported with a leading
// apostrophe (OWASP, "CSV injection").
std::string spreadsheet_safe(const std::string& text) {
  if (!text.empty() && std::string_view("=+-@\t\r").find(text[0]) != std::string_view::npos) {
    return "'" + text;
  }
  return text;
}

nlohmann::json entry_json(const store::SpamEntry& e) {
  return {
      {"e164", e.e164}, {"reason", e.reason}, {"added_by", e.added_by}, {"added_at", e.added_at}};
}

struct Opened {
  numbering::NumberingPlan plan;
  std::unique_ptr<store::Store> db;
};

Result<Opened> open_all(const Context& ctx) {
  auto cfg = ctx.config();
  if (!cfg) return Error{cfg.error()};
  auto plan = Context::plan(*cfg);
  if (!plan) return Error{plan.error()};
  auto db = Context::open_store(*cfg);
  if (!db) return Error{db.error()};
  return Opened{std::move(*plan), std::move(*db)};
}

int spam_add(const Context& ctx, const SpamOptions& opt) {
  if (opt.reason.size() > 500 ||
      std::any_of(opt.reason.begin(), opt.reason.end(), [](unsigned char c) { return c < 0x20; })) {
    return fail("spam add: --reason must be one line of at most 500 characters");
  }
  auto o = open_all(ctx);
  if (!o) return fail(o.error(), kExitFailure);
  auto e164 = o->plan.to_e164(opt.number);
  if (!e164) return fail("spam add: " + e164.error());
  auto added = o->db->add_spam({*e164, opt.reason, opt.by, ""});
  if (!added) return fail(added.error(), kExitFailure);
  print_json({{"e164", *e164}, {"added", *added}, {"reason", opt.reason}});
  if (!*added) std::cerr << "spoofex: " << *e164 << " was already on the spam list\n";
  return kExitOk;
}

int spam_remove(const Context& ctx, const SpamOptions& opt) {
  auto o = open_all(ctx);
  if (!o) return fail(o.error(), kExitFailure);
  auto e164 = o->plan.to_e164(opt.number);
  if (!e164) return fail("spam remove: " + e164.error());
  auto removed = o->db->remove_spam(*e164, opt.by, opt.reason);
  if (!removed) return fail(removed.error(), kExitFailure);
  print_json({{"e164", *e164}, {"removed", *removed}});
  if (!*removed) std::cerr << "spoofex: " << *e164 << " was not on the spam list\n";
  return kExitOk;
}

int spam_list(const Context& ctx, const SpamOptions& opt) {
  auto o = open_all(ctx);
  if (!o) return fail(o.error(), kExitFailure);
  const bool csv = opt.format == "csv";
  if (csv) std::cout << "number,reason,added_by,added_at\n";
  auto st = o->db->for_each_spam([&](const store::SpamEntry& e) {
    if (!csv) {
      print_json(entry_json(e));
      return;
    }
    std::cout << e.e164 << ',' << screening::csv_field(spreadsheet_safe(e.reason)) << ','
              << screening::csv_field(spreadsheet_safe(e.added_by)) << ',' << e.added_at << '\n';
  });
  if (!st) return fail(st.error(), kExitFailure);
  return kExitOk;
}

int spam_import(const Context& ctx, const SpamOptions& opt) {
  std::ifstream f(opt.file, std::ios::binary);
  if (!f) return fail("spam import: cannot open '" + opt.file + "'");
  f.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(std::max<std::streamoff>(f.tellg(), 0));
  if (size > kMaxImportBytes) return fail("spam import: '" + opt.file + "' is larger than 2 GiB");
  f.seekg(0);
  std::string text(size, '\0');
  f.read(text.data(), static_cast<std::streamsize>(size));
  if (text.find('\0') != std::string::npos) {
    return fail("spam import: '" + opt.file + "' is not a text CSV file");
  }
  auto o = open_all(ctx);
  if (!o) return fail(o.error(), kExitFailure);
  auto parsed = screening::parse_spam_csv(text, o->plan, opt.by);
  for (const auto& p : parsed.problems) {
    std::cerr << opt.file << ":" << p.line << ": skipped: " << p.why << '\n';
  }
  // One transaction: a crash leaves either the whole good part or nothing.
  auto added = o->db->add_spam_batch(parsed.entries);
  if (!added) return fail(added.error(), kExitFailure);
  nlohmann::json bad = nlohmann::json::array();
  for (const auto& p : parsed.problems) bad.push_back({{"line", p.line}, {"why", p.why}});
  print_json({{"file", opt.file},
              {"imported", *added},
              {"already_listed", parsed.entries.size() - *added},
              {"bad_rows", bad}});
  std::cerr << "spoofex: imported " << *added << " numbers, " << parsed.entries.size() - *added
            << " already listed, " << parsed.problems.size() << " bad rows skipped\n";
  return kExitOk;
}

}  // namespace

void add_spam_command(CLI::App& app, const Context& ctx, int& exit_code) {
  auto opt = std::make_shared<SpamOptions>();
  opt->by = default_actor();
  auto* spam = app.add_subcommand("spam", "the spam list: add, remove, list, import, export");
  spam->require_subcommand(1);

  auto* add = spam->add_subcommand("add", "add a number to the spam list");
  add->add_option("number", opt->number, "the number, in any common format")->required();
  add->add_option("--reason", opt->reason, "why it is spam (shown to operators)");
  add->add_option("--by", opt->by, "who is adding it (default: $USER)");
  add->callback([&ctx, &exit_code, opt] { exit_code = spam_add(ctx, *opt); });

  auto* remove =
      spam->add_subcommand("remove", "take a number off the spam list (kept in its history)");
  remove->add_option("number", opt->number, "the number")->required();
  remove->add_option("--reason", opt->reason, "why it is removed");
  remove->add_option("--by", opt->by, "who is removing it (default: $USER)");
  remove->callback([&ctx, &exit_code, opt] { exit_code = spam_remove(ctx, *opt); });

  auto* list = spam->add_subcommand("list", "print the active list, one JSON object per line");
  list->callback([&ctx, &exit_code, opt] {
    opt->format = "jsonl";
    exit_code = spam_list(ctx, *opt);
  });

  auto* exp = spam->add_subcommand("export", "write the active list (CSV by default)");
  exp->add_option("--format", opt->format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
  exp->callback([&ctx, &exit_code, opt] { exit_code = spam_list(ctx, *opt); });

  auto* imp = spam->add_subcommand("import", "add numbers from a CSV file (number[,reason])");
  imp->add_option("file", opt->file, "the CSV file")->required();
  imp->add_option("--by", opt->by, "who is importing (default: $USER)");
  imp->callback([&ctx, &exit_code, opt] { exit_code = spam_import(ctx, *opt); });
}

}  // namespace spoofex::app
