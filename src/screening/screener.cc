#include <algorithm>
#include <cctype>

#include "screening/screening.h"

namespace spoofex::screening {
namespace {

using numbering::NumberType;

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Reason codes whose evidence is decisive: no genuine caller can present them.
bool is_decisive_spoof(std::string_view code) {
  return code == "emergency_number_caller" || code == "own_number_caller" ||
         code == "stir_failed" || code == "indian_cli_international_route" ||
         code == "toll_free_caller" || code == "short_code_caller" || code == "premium_rate_caller";
}

}  // namespace

std::string_view to_string(Flag flag) {
  switch (flag) {
    case Flag::spam_listed:
      return "spam_listed";
    case Flag::spoofed:
      return "spoofed";
    case Flag::system_generated:
      return "system_generated";
    case Flag::withheld:
      return "withheld";
    case Flag::info:
      return "info";
  }
  return "info";
}

std::string_view to_string(Action action) { return action == Action::reject ? "reject" : "accept"; }

Screener::Screener(const numbering::NumberingPlan& plan, const SpamList& spam,
                   CallPatternDetector& bursts, Policy policy)
    : plan_(plan), spam_(spam), bursts_(bursts), policy_(std::move(policy)) {}

void Screener::spoof_rules(const CallAttempt& call, Verdict& v) const {
  const auto& c = v.caller;
  auto spoof = [&](std::string code, std::string detail) {
    v.spoofed = true;
    v.reasons.push_back({std::move(code), Flag::spoofed, std::move(detail)});
  };
  if (!c.parse_error.empty()) {
    spoof("invalid_number", "caller ID '" + c.raw + "' cannot be parsed: " + c.parse_error);
  } else if (!c.valid) {
    spoof("invalid_number",
          "caller ID " + c.e164.value_or(c.raw) + " is not a valid number in its numbering plan");
  }
  if (c.type == NumberType::emergency) {
    spoof("emergency_number_caller",
          "caller ID is the emergency code " + c.raw + ", which never places calls");
  } else if (c.type == NumberType::short_code) {
    spoof("short_code_caller",
          "caller ID is the short code " + c.raw + ", which never places calls");
  }
  if (c.e164 && std::find(policy_.own_numbers.begin(), policy_.own_numbers.end(), *c.e164) !=
                    policy_.own_numbers.end()) {
    spoof("own_number_caller",
          "caller ID " + *c.e164 + " is one of this control room's own numbers");
  }
  if (c.type == NumberType::toll_free || c.type == NumberType::shared_cost) {
    spoof("toll_free_caller",
          "caller ID " + c.e164.value_or(c.raw) +
              (c.type == NumberType::toll_free ? " is a toll-free" : " is a shared-cost") +
              " number, which cannot place calls");
  } else if (c.type == NumberType::premium_rate) {
    spoof("premium_rate_caller", "caller ID " + c.e164.value_or(c.raw) +
                                     " is a premium-rate number, which cannot place calls");
  }
  const std::string origin = upper(call.origin_country);
  if (c.region == "IN" && c.e164 && !origin.empty() && origin != "IN") {
    spoof("indian_cli_international_route",
          "Indian caller ID " + *c.e164 + " arrived over an international route from " + origin);
  }
  if (call.stir_verstat.starts_with("TN-Validation-Failed")) {
    spoof("stir_failed",
          "STIR/SHAKEN verification failed (" + std::string(call.stir_verstat) + ")");
  }
}

Verdict Screener::screen(const CallAttempt& call, Clock::time_point at) {
  Verdict v;
  v.caller = plan_.parse(call.from);
  const auto& c = v.caller;

  if (c.withheld) {
    // Tourists and people in danger withhold their number too: explain, never flag as spoof.
    v.withheld = true;
    v.reasons.push_back({"withheld", Flag::withheld,
                         "caller ID withheld; answered and screened like any other call"});
    return v;
  }
  spoof_rules(call, v);

  if (c.type == NumberType::telemarketer) {
    v.system_generated = true;
    v.reasons.push_back({"telemarketer_series", Flag::system_generated,
                         "caller ID " + c.e164.value_or(c.raw) +
                             " is in the 140-series of registered telemarketers"});
  }
  if (c.e164) {
    const auto key = numbering::e164_key(*c.e164);
    const unsigned recent = key ? bursts_.observe(*key, at) : 0;
    const auto& bp = bursts_.policy();
    if (recent > bp.max_calls) {
      v.system_generated = true;
      v.reasons.push_back({"burst", Flag::system_generated,
                           "caller ID " + *c.e164 + " called more than " +
                               std::to_string(bp.max_calls) + " times within " +
                               std::to_string(bp.window.count()) + " s"});
    }
    if (auto reason = spam_.lookup(*c.e164)) {
      v.spam_listed = true;
      v.reasons.push_back({"spam_listed", Flag::spam_listed,
                           "caller ID " + *c.e164 + " is on the spam list" +
                               (reason->empty() ? std::string() : " (" + *reason + ")")});
    }
    if (c.valid && !c.region.empty() && c.region != plan_.default_region()) {
      v.reasons.push_back({"foreign_number", Flag::info,
                           "foreign number from " + c.region + "; answered like any other call"});
    }
  }

  const bool decisive_spoof = std::any_of(v.reasons.begin(), v.reasons.end(), [](const Reason& r) {
    return r.flag == Flag::spoofed && is_decisive_spoof(r.code);
  });
  if (v.spam_listed) {
    v.action = Action::reject;
    v.reasons.push_back(
        {"policy_reject_spam", Flag::info, "rejected before answer: spam-listed caller"});
  } else if (policy_.reject_spoofed && decisive_spoof) {
    v.action = Action::reject;
    v.reasons.push_back(
        {"policy_reject_spoofed", Flag::info,
         "rejected before answer: decisive spoof evidence and reject_spoofed is on"});
  }
  return v;
}

nlohmann::json caller_json(const numbering::CallerId& c) {
  nlohmann::json j = {
      {"raw", c.raw},
      {"e164", c.e164 ? nlohmann::json(*c.e164) : nlohmann::json(nullptr)},
      {"valid", c.valid},
      {"type", numbering::to_string(c.type)},
      {"region", c.region.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.region)}};
  if (!c.note.empty()) j["note"] = c.note;
  if (!c.parse_error.empty()) j["error"] = c.parse_error;
  return j;
}

nlohmann::json reasons_json(const std::vector<Reason>& reasons) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : reasons) {
    out.push_back({{"code", r.code}, {"flag", to_string(r.flag)}, {"detail", r.detail}});
  }
  return out;
}

nlohmann::json to_json(const Verdict& v) {
  return {{"caller", caller_json(v.caller)},
          {"action", to_string(v.action)},
          {"flags",
           {{"spam_listed", v.spam_listed},
            {"spoofed", v.spoofed},
            {"system_generated", v.system_generated},
            {"withheld", v.withheld}}},
          {"reasons", reasons_json(v.reasons)}};
}

}  // namespace spoofex::screening
