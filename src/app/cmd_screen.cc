#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "screening/screening.h"

namespace spoofex::app {
namespace {

using screening::Clock;

struct ScreenOptions {
  std::string from;
  std::string origin_country;
  std::string stir;
  bool json_lines = false;
  bool from_given = false;  // --from "" is a real (withheld) caller ID
};

// "2026-11-25T14:30:00Z" or seconds since the epoch.
Result<Clock::time_point> parse_time(const nlohmann::json& at) {
  if (at.is_number_integer()) return Clock::time_point(std::chrono::seconds(at.get<int64_t>()));
  if (at.is_string()) {
    std::tm tm{};
    std::istringstream in(at.get<std::string>());
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    if (!in.fail()) return Clock::from_time_t(timegm(&tm));
  }
  return Error{"\"at\" must be an ISO 8601 UTC time (2026-11-25T14:30:00Z) or epoch seconds"};
}

std::optional<std::string> string_field(const nlohmann::json& j, const char* name,
                                        std::string& err) {
  if (!j.contains(name) || j[name].is_null()) return std::string();
  if (!j[name].is_string()) {
    err = std::string("\"") + name + "\" must be a string";
    return std::nullopt;
  }
  return j[name].get<std::string>();
}

// Batch mode: one caller record per stdin line; bad lines get an error object and
// do not stop the batch.
int screen_lines(screening::Screener& screener) {
  std::string line;
  std::size_t line_no = 0;
  bool any_bad = false;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto bad = [&](const std::string& why) {
      any_bad = true;
      print_json({{"line", line_no}, {"error", why}});
    };
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      bad("not a JSON object");
      continue;
    }
    std::string err;
    auto from = string_field(j, "from", err);
    auto origin = from ? string_field(j, "origin_country", err) : std::nullopt;
    auto stir = origin ? string_field(j, "stir", err) : std::nullopt;
    if (!stir) {
      bad(err);
      continue;
    }
    if (!j.contains("from")) {
      bad("missing \"from\"");
      continue;
    }
    Clock::time_point at = Clock::now();
    if (j.contains("at")) {
      auto t = parse_time(j["at"]);
      if (!t) {
        bad(t.error());
        continue;
      }
      at = *t;
    }
    print_json(to_json(screener.screen({*from, *origin, *stir}, at)));
  }
  return any_bad ? kExitBadInput : kExitOk;
}

int run_screen(const Context& ctx, const ScreenOptions& opt) {
  if (opt.json_lines == opt.from_given) {
    return fail("screen: give either --from NUMBER or --json-lines");
  }
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  auto plan = Context::plan(*cfg);
  if (!plan) return fail(plan.error());
  screening::Policy policy = cfg->policy;
  for (auto& own : policy.own_numbers) {
    auto e164 = plan->to_e164(own);
    if (!e164) return fail("config: own number " + e164.error());
    own = *e164;
  }
  auto db = Context::open_store(*cfg);
  if (!db) return fail(db.error(), kExitFailure);

  screening::SpamList spam;
  if (opt.json_lines) {
    if (auto st = spam.load(**db); !st) return fail(st.error(), kExitFailure);
  } else if (auto caller = plan->parse(opt.from); caller.e164) {
    // One caller: look it up directly instead of loading the whole list.
    auto hit = (*db)->find_spam(*caller.e164);
    if (!hit) return fail(hit.error(), kExitFailure);
    if (*hit) spam.add((*hit)->e164, (*hit)->reason);
  }
  screening::CallPatternDetector bursts(policy.burst);
  screening::Screener screener(*plan, spam, bursts, policy);
  if (opt.json_lines) return screen_lines(screener);
  print_json(to_json(screener.screen({opt.from, opt.origin_country, opt.stir}, Clock::now())));
  return kExitOk;
}

}  // namespace

void add_screen_command(CLI::App& app, const Context& ctx, int& exit_code) {
  auto opt = std::make_shared<ScreenOptions>();
  auto* cmd = app.add_subcommand("screen", "pre-answer screening of a caller ID");
  auto* from = cmd->add_option("--from", opt->from, "caller ID as the network delivered it");
  cmd->add_option("--origin-country", opt->origin_country,
                  "network-reported origin country (ISO alpha-2)");
  cmd->add_option("--stir", opt->stir, "STIR/SHAKEN StirVerstat value");
  cmd->add_flag(
      "--json-lines", opt->json_lines,
      "read caller records {\"from\",\"origin_country\",\"stir\",\"at\"} from stdin, one per line");
  cmd->callback([&ctx, &exit_code, opt, from] {
    opt->from_given = from->count() > 0;
    exit_code = run_screen(ctx, *opt);
  });
}

}  // namespace spoofex::app
