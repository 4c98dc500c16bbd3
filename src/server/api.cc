#include "server/api.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace spoofex::server {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;
constexpr auto kReplace = json::error_handler_t::replace;

std::string dump(const json& j) { return j.dump(-1, ' ', false, kReplace); }

Response json_reply(const Request& req, http::status status, const json& body) {
  return reply(req, status, dump(body) + "\n", "application/json");
}

Response error(const Request& req, http::status status, std::string message) {
  return json_reply(req, status, {{"error", std::move(message)}});
}

std::string cookie(const Request& req, std::string_view name) {
  const std::string_view header = req[http::field::cookie];
  std::size_t pos = 0;
  while (pos < header.size()) {
    const auto end = std::min(header.find(';', pos), header.size());
    std::string_view part = header.substr(pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
    pos = end + 1;
  }
  return "";
}

std::string query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return "";
  auto params = telephony::parse_form(target.substr(q + 1));
  if (!params) return "";
  return std::string(telephony::param(*params, name).value_or(""));
}

std::size_t number_param(std::string_view target, std::string_view name, std::size_t fallback,
                         std::size_t max) {
  const std::string v = query_param(target, name);
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
    return fallback;
  }
  return std::clamp<std::size_t>(std::stoul(v), 1, max);
}

bool valid_category(std::string_view c) {
  return c == "emergency" || c == "inquiry" || c == "complaint" || c == "spam" || c == "blank";
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js") || name.ends_with(".mjs")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  if (name.ends_with(".png")) return "image/png";
  if (name.ends_with(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

std::string iso_hours_ago(int hours) {
  const std::time_t t = std::time(nullptr) - static_cast<std::time_t>(hours) * 3600;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Cells a spreadsheet would run as a formula are prefixed with a quote.
std::string csv_cell(std::string_view v) {
  std::string s(v);
  if (!s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos &&
      !(s.front() == '+' && s.find_first_not_of("+0123456789") == std::string::npos)) {
    s.insert(s.begin(), '\'');
  }
  return screening::csv_field(s);
}

}  // namespace

std::string iso_days_ago(int days) { return iso_hours_ago(days * 24); }

Response reply(const Request& req, http::status status, std::string body, std::string_view type) {
  Response res{status, req.version()};
  res.set(http::field::server, "spoofex");
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string call_json(const store::CallRecord& call) {
  json j = json::parse(call.record_json, nullptr, false);
  if (!j.is_object()) j = json::object();
  j["call_sid"] = call.call_sid;
  j["status"] = call.status;
  j["handled"] = call.handled;
  j["node"] = call.node;
  j["revision"] = call.revision;
  j["updated_at"] = call.updated_at;
  if (!j.contains("corrected_category")) j["corrected_category"] = nullptr;
  if (!j.contains("started_at")) j["started_at"] = call.started_at;
  return dump(j);
}

void EventHub::subscribe(Subscriber deliver) {
  std::lock_guard lock(mu_);
  subscribers_.push_back(std::move(deliver));
}

void EventHub::publish(const std::string& event_name, const std::string& data) {
  auto message =
      std::make_shared<const std::string>("event: " + event_name + "\ndata: " + data + "\n\n");
  std::lock_guard lock(mu_);
  std::erase_if(subscribers_, [&](const Subscriber& s) { return !s(message); });
}

std::size_t EventHub::subscribers() const {
  std::lock_guard lock(mu_);
  return subscribers_.size();
}

Api::Api(const ServerConfig& config, store::Store& store, CallRegistry& calls,
         const numbering::NumberingPlan& plan, Sessions& sessions, EventHub& hub,
         std::int64_t audit_start, std::function<Result<triage::NaiveBayes>()> reload_classifier)
    : config_(config),
      store_(store),
      calls_(calls),
      plan_(plan),
      sessions_(sessions),
      hub_(hub),
      last_audit_id_(audit_start),
      reload_classifier_(std::move(reload_classifier)) {}

Status Api::reload_model(const std::string& actor) {
  std::lock_guard lock(reload_mu_);
  if (!reload_classifier_) return Error{"this server was started without a reloadable model"};
  const auto t0 = std::chrono::steady_clock::now();
  auto model = reload_classifier_();
  if (!model) return Error{"reloading the model: " + model.error()};
  calls_.set_classifier(std::make_shared<const triage::NaiveBayes>(std::move(*model)));
  std::cerr << "spoofex: classifier reloaded by " << actor << " in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s\n";
  return Ok{};
}

std::optional<Session> Api::session_of(const Request& req) {
  const std::string token = cookie(req, "spoofex_session");
  if (token.empty() || token.size() > 128) return std::nullopt;
  return sessions_.find(token);
}

Response Api::handle(const Request& req) {
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  if (!path.starts_with("/api/")) return static_file(req, path);
  if (path == "/api/login") return login(req);
  auto s = session_of(req);
  if (!s) return error(req, http::status::unauthorized, "log in first");
  const bool changes = req.method() != http::verb::get && req.method() != http::verb::head;
  if (changes) {
    // CSRF: the token only this session's page knows, compared in constant time.
    const std::string_view sent = req["X-CSRF-Token"];
    if (sent.empty() || sent.size() != s->csrf.size() ||
        sodium_memcmp(sent.data(), s->csrf.data(), sent.size()) != 0) {
      return error(req, http::status::forbidden, "missing or wrong X-CSRF-Token");
    }
  }
  try {
    return route(req, *s, path);
  } catch (const std::exception& e) {
    std::cerr << "spoofex: API error on " << path << ": " << e.what() << '\n';
    return error(req, http::status::internal_server_error, "internal error");
  }
}

Response Api::route(const Request& req, const Session& s, const std::string& path) {
  if (path == "/api/me") {
    return json_reply(req, http::status::ok,
                      {{"username", s.username}, {"role", s.role}, {"csrf_token", s.csrf}});
  }
  if (path == "/api/logout") {
    sessions_.remove(s.token);
    Response res = json_reply(req, http::status::ok, {{"ok", true}});
    res.set(http::field::set_cookie,
            "spoofex_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return res;
  }
  if (path == "/api/calls" || path.starts_with("/api/calls/")) return calls(req, path, s);
  if (path == "/api/spam" || path.starts_with("/api/spam/")) return spam(req, path, s);
  if (path == "/api/stats") {
    if (role_rank(s.role) < role_rank("supervisor")) {
      return error(req, http::status::forbidden, "statistics are for supervisors");
    }
    return stats(req);
  }
  if (path == "/api/users") return users(req, s);
  if (path == "/api/model/reload" && req.method() == http::verb::post) {
    if (role_rank(s.role) < role_rank("admin")) {
      return error(req, http::status::forbidden, "reloading the model is for admins");
    }
    if (auto st = reload_model(s.username); !st) {
      return error(req, http::status::service_unavailable, st.error());
    }
    return json_reply(req, http::status::ok, {{"ok", true}});
  }
  return error(req, http::status::not_found, "no such API");
}

Response Api::login(const Request& req) {
  if (req.method() != http::verb::post) return error(req, http::status::method_not_allowed, "POST");
  const json body = json::parse(req.body(), nullptr, false);
  if (!body.is_object() || !body.contains("username") || !body["username"].is_string() ||
      !body.contains("password") || !body["password"].is_string()) {
    return error(req, http::status::bad_request, "send {\"username\", \"password\"}");
  }
  const std::string username = body["username"];
  const std::string password = body["password"];
  if (username.empty() || username.size() > 64) {
    return error(req, http::status::unauthorized, "wrong user name or password");
  }
  if (!sessions_.may_try(username)) {
    return error(req, http::status::too_many_requests,
                 "too many failed log-ins for this name: wait five minutes");
  }
  auto user = store_.find_user(username);
  if (!user) return error(req, http::status::service_unavailable, "the database is unavailable");
  if (!*user || (*user)->disabled || !verify_password((*user)->password_hash, password)) {
    sessions_.failed(username);
    return error(req, http::status::unauthorized, "wrong user name or password");
  }
  sessions_.succeeded(username);
  const Session s = sessions_.create((*user)->username, (*user)->role);
  Response res = json_reply(req, http::status::ok,
                            {{"username", s.username}, {"role", s.role}, {"csrf_token", s.csrf}});
  const bool tls = config_.public_url.starts_with("https://");
  res.set(http::field::set_cookie,
          "spoofex_session=" + s.token + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
              std::to_string(config_.session_hours * 3600) + (tls ? "; Secure" : ""));
  return res;
}

Response Api::calls(const Request& req, const std::string& path, const Session& s) {
  if (path == "/api/calls") {
    if (req.method() != http::verb::get) return error(req, http::status::method_not_allowed, "GET");
    store::CallQuery q;
    q.limit = number_param(req.target(), "limit", 100, 1000);
    q.category = query_param(req.target(), "category");
    auto rows = store_.list_calls(q);
    if (!rows) return error(req, http::status::service_unavailable, rows.error());
    std::string out = "{\"calls\":[";
    for (std::size_t i = 0; i < rows->size(); ++i) {
      if (i) out += ',';
      out += call_json((*rows)[i]);
    }
    out += "]}\n";
    return reply(req, http::status::ok, std::move(out), "application/json");
  }
  std::string rest = path.substr(std::string("/api/calls/").size());
  std::string action;
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    action = rest.substr(slash + 1);
    rest.resize(slash);
  }
  const std::string sid = rest;
  auto call = store_.find_call(sid);
  if (!call) return error(req, http::status::service_unavailable, call.error());
  if (!*call) return error(req, http::status::not_found, "no call " + sid);
  if (action.empty()) {
    json j = json::parse(call_json(**call));
    auto events = store_.list_call_events(sid);
    json ev = json::array();
    if (events) {
      for (const auto& e : *events) {
        ev.push_back({{"seq", e.seq},
                      {"at", e.at},
                      {"kind", e.kind},
                      {"detail", json::parse(e.detail_json, nullptr, false)}});
      }
    }
    j["events"] = ev;
    return json_reply(req, http::status::ok, j);
  }
  if (req.method() != http::verb::post) return error(req, http::status::method_not_allowed, "POST");
  if (action == "handled") {
    auto done = store_.mark_handled(sid, s.username);
    if (!done) return error(req, http::status::service_unavailable, done.error());
  } else if (action == "feedback") {
    if (role_rank(s.role) < role_rank("supervisor")) {
      return error(req, http::status::forbidden, "corrections are for supervisors");
    }
    const json body = json::parse(req.body(), nullptr, false);
    if (!body.is_object() || !body.contains("category") || !body["category"].is_string() ||
        !valid_category(body["category"].get<std::string>())) {
      return error(req, http::status::bad_request,
                   "send {\"category\"}: emergency, inquiry, complaint, spam or blank");
    }
    const std::string category = body["category"];
    auto done = store_.correct_call_category(sid, category, s.username);
    if (!done) return error(req, http::status::service_unavailable, done.error());
    // The correction is training data for the next model (issue 5).
    const json rec = json::parse((*call)->record_json, nullptr, false);
    const std::string text = rec.is_object() ? rec.value("transcript", "") : "";
    if (!text.empty()) {
      if (auto st = store_.add_feedback({sid, text, category, s.username, ""}); !st) {
        return error(req, http::status::service_unavailable, st.error());
      }
    }
  } else {
    return error(req, http::status::not_found, "no such action");
  }
  if (auto updated = store_.find_call(sid); updated && *updated) {
    hub_.publish("call", call_json(**updated));
  }
  return json_reply(req, http::status::ok, {{"ok", true}});
}

Response Api::spam(const Request& req, const std::string& path, const Session& s) {
  const bool supervisor = role_rank(s.role) >= role_rank("supervisor");
  if (path == "/api/spam" && req.method() == http::verb::get) {
    if (!supervisor) return error(req, http::status::forbidden, "the spam list is for supervisors");
    auto rows = store_.search_spam(query_param(req.target(), "q"),
                                   number_param(req.target(), "limit", 200, 5000));
    if (!rows) return error(req, http::status::service_unavailable, rows.error());
    json list = json::array();
    for (const auto& e : *rows) {
      list.push_back({{"e164", e.e164},
                      {"reason", e.reason},
                      {"added_by", e.added_by},
                      {"added_at", e.added_at}});
    }
    return json_reply(req, http::status::ok, {{"numbers", list}});
  }
  if (path == "/api/spam" && req.method() == http::verb::post) {
    const json body = json::parse(req.body(), nullptr, false);
    if (!body.is_object() || !body.contains("number") || !body["number"].is_string()) {
      return error(req, http::status::bad_request, "send {\"number\", \"reason\"}");
    }
    const std::string reason = body.contains("reason") && body["reason"].is_string()
                                   ? body["reason"].get<std::string>()
                                   : "";
    if (reason.size() > 500) return error(req, http::status::bad_request, "reason too long");
    const auto caller = plan_.parse(body["number"].get<std::string>());
    if (!caller.e164 || !caller.valid) {
      return error(req, http::status::bad_request,
                   "'" + body["number"].get<std::string>() + "' is not a valid phone number");
    }
    auto added = store_.add_spam({*caller.e164, reason, s.username, ""});
    if (!added) return error(req, http::status::service_unavailable, added.error());
    calls_.spam_add(*caller.e164, reason);
    return json_reply(req, http::status::ok, {{"e164", *caller.e164}, {"added", *added}});
  }
  if (path == "/api/spam/export" && req.method() == http::verb::get) {
    if (!supervisor) return error(req, http::status::forbidden, "export is for supervisors");
    std::string csv = "number,reason,added_by,added_at\n";
    auto st = store_.for_each_spam([&](const store::SpamEntry& e) {
      csv += csv_cell(e.e164) + ',' + csv_cell(e.reason) + ',' + csv_cell(e.added_by) + ',' +
             csv_cell(e.added_at) + '\n';
    });
    if (!st) return error(req, http::status::service_unavailable, st.error());
    Response res = reply(req, http::status::ok, std::move(csv), "text/csv; charset=utf-8");
    res.set(http::field::content_disposition, "attachment; filename=\"spam-list.csv\"");
    return res;
  }
  if (path == "/api/spam/import" && req.method() == http::verb::post) {
    if (!supervisor) return error(req, http::status::forbidden, "import is for supervisors");
    const auto parsed = screening::parse_spam_csv(req.body(), plan_, s.username);
    json problems = json::array();
    for (const auto& p : parsed.problems) problems.push_back({{"line", p.line}, {"error", p.why}});
    auto added = store_.add_spam_batch(parsed.entries);
    if (!added) return error(req, http::status::service_unavailable, added.error());
    for (const auto& e : parsed.entries) calls_.spam_add(e.e164, e.reason);
    return json_reply(req, http::status::ok, {{"added", *added}, {"problems", problems}});
  }
  if (path.starts_with("/api/spam/") && req.method() == http::verb::delete_) {
    if (!supervisor) return error(req, http::status::forbidden, "removal is for supervisors");
    auto number = telephony::url_decode(path.substr(std::string("/api/spam/").size()), false);
    if (!number) return error(req, http::status::bad_request, number.error());
    auto removed = store_.remove_spam(*number, s.username, "removed from the dashboard");
    if (!removed) return error(req, http::status::service_unavailable, removed.error());
    calls_.spam_remove(*number);
    return json_reply(req, http::status::ok, {{"removed", *removed}});
  }
  return error(req, http::status::method_not_allowed, "not allowed here");
}

Response Api::stats(const Request& req) {
  const int hours = static_cast<int>(number_param(req.target(), "hours", 24, 24 * 31));
  store::CallQuery q;
  q.since = iso_hours_ago(hours);
  q.limit = 200000;
  auto rows = store_.list_calls(q);
  if (!rows) return error(req, http::status::service_unavailable, rows.error());
  std::map<std::string, std::map<std::string, int>> per_hour;
  std::map<std::string, int> callers;
  int blank = 0, spam = 0, spoofed = 0, machine = 0;
  for (const auto& c : *rows) {
    const std::string hour = c.started_at.substr(0, 13) + ":00Z";
    const std::string cat = valid_category(c.category) ? c.category : "other";
    ++per_hour[hour][cat];
    blank += c.blank || c.category == "blank";
    spam += c.spam_listed || c.category == "spam";
    spoofed += c.spoofed;
    machine += c.system_generated;
    if (!c.from_e164.empty()) ++callers[c.from_e164];
  }
  json hours_json = json::array();
  for (const auto& [hour, counts] : per_hour) {
    json h = {{"hour", hour}};
    for (const char* cat : {"emergency", "inquiry", "complaint", "spam", "blank", "other"}) {
      auto it = counts.find(cat);
      h[cat] = it == counts.end() ? 0 : it->second;
    }
    hours_json.push_back(h);
  }
  std::vector<std::pair<std::string, int>> top(callers.begin(), callers.end());
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  json top_json = json::array();
  for (std::size_t i = 0; i < top.size() && i < 10 && top[i].second > 1; ++i) {
    top_json.push_back({{"number", top[i].first}, {"calls", top[i].second}});
  }
  const double n = rows->empty() ? 1.0 : static_cast<double>(rows->size());
  return json_reply(req, http::status::ok,
                    {{"hours", hours},
                     {"total", rows->size()},
                     {"per_hour", hours_json},
                     {"shares",
                      {{"blank", blank / n},
                       {"spam", spam / n},
                       {"spoofed", spoofed / n},
                       {"machine", machine / n}}},
                     {"top_callers", top_json}});
}

Response Api::users(const Request& req, const Session& s) {
  if (role_rank(s.role) < role_rank("admin")) {
    return error(req, http::status::forbidden, "user management is for admins");
  }
  if (req.method() == http::verb::get) {
    auto list = store_.list_users();
    if (!list) return error(req, http::status::service_unavailable, list.error());
    json out = json::array();
    for (const auto& u : *list) {
      out.push_back({{"username", u.username},
                     {"role", u.role},
                     {"created_at", u.created_at},
                     {"disabled", u.disabled}});
    }
    return json_reply(req, http::status::ok, {{"users", out}});
  }
  const json body = json::parse(req.body(), nullptr, false);
  if (!body.is_object() || !body.value("username", json()).is_string() ||
      !body.value("password", json()).is_string() || !body.value("role", json()).is_string()) {
    return error(req, http::status::bad_request, "send {\"username\", \"password\", \"role\"}");
  }
  const std::string role = body["role"];
  if (!valid_role(role)) {
    return error(req, http::status::bad_request, "role must be operator, supervisor or admin");
  }
  auto hash = hash_password(body["password"].get<std::string>());
  if (!hash) return error(req, http::status::bad_request, hash.error());
  if (auto st = store_.add_user({body["username"], *hash, role, "", false}, s.username); !st) {
    return error(req, http::status::bad_request, st.error());
  }
  return json_reply(req, http::status::ok, {{"ok", true}});
}

Response Api::static_file(const Request& req, const std::string& path) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    return reply(req, http::status::method_not_allowed, "GET only\n");
  }
  std::string file;
  if (path == "/" || path == "/index.html") {
    file = config_.web_dir + "/index.html";
  } else if (path == "/vendor/chart.js") {
    file = config_.chart_js;
  } else if (path.starts_with("/static/")) {
    const std::string name = path.substr(8);
    // Plain file names only: no folders, no "..".
    if (name.empty() || name.front() == '.' ||
        name.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            std::string::npos) {
      return reply(req, http::status::not_found, "not found\n");
    }
    file = config_.web_dir + "/" + name;
  } else {
    return reply(req, http::status::not_found, "not found\n");
  }
  auto body = read_file(file);
  if (!body) return reply(req, http::status::not_found, "not found\n");
  Response res = reply(req, http::status::ok, std::move(*body), content_type(file));
  res.set("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
          "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.set(http::field::cache_control, "no-cache");
  return res;
}

void Api::follow_other_nodes() {
  std::lock_guard lock(follow_mu_);
  if (last_update_seen_.empty()) last_update_seen_ = utc_now_ms();
  auto changed = store_.calls_updated_since(last_update_seen_, config_.node, 2000);
  if (!changed) return;
  const bool listening = hub_.subscribers() > 0;
  // A row stamped in the future (a node's clock gone wrong, imported data) must not
  // carry the watermark past every real call: such rows are left out.
  const std::string horizon = iso_hours_ago(-1);
  for (const auto& c : *changed) {
    if (c.updated_at > horizon) continue;
    if (listening) hub_.publish("call", call_json(c));
    last_update_seen_ = std::max(last_update_seen_, c.updated_at);
  }
}

void Api::follow_spam_changes() {
  std::lock_guard lock(follow_mu_);
  auto changes = store_.spam_changes_since(last_audit_id_, 10000);
  if (!changes) return;  // the database is away; try again next time
  for (const auto& c : *changes) {
    if (c.action == "spam_add") {
      calls_.spam_add(c.subject, c.detail);
    } else {
      calls_.spam_remove(c.subject);
    }
    last_audit_id_ = c.id;
  }
}

}  // namespace spoofex::server
