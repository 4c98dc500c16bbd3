#include "app/config.h"

#include <toml++/toml.h>

#include <cstdlib>

namespace spoofex::app {

std::string data_dir() {
  if (const char* dir = std::getenv("SPOOFEX_DATA_DIR"); dir && *dir) return dir;
  return SPOOFEX_SOURCE_DATA_DIR;
}

namespace {

// [server], [twilio], [prompts] and [listening].
Status load_server(const toml::table& t, const std::string& path, server::ServerConfig& s) {
  if (auto listen = t["server"]["listen"].value<std::string>()) {
    if (auto st = parse_listen(*listen, s); !st)
      return Error{"config '" + path + "': " + st.error()};
  }
  s.public_url = t["server"]["public_url"].value_or(s.public_url);
  s.node = t["server"]["node"].value_or(s.node);
  s.metrics_token = t["server"]["metrics_token"].value_or(s.metrics_token);
  const auto io = t["server"]["io_threads"].value_or<int64_t>(s.io_threads);
  const auto sp = t["server"]["speech_threads"].value_or<int64_t>(s.speech_threads);
  const auto max_calls = t["server"]["max_calls"].value_or<int64_t>(s.max_calls);
  if (io < 1 || io > 64 || sp < 1 || sp > 64 || max_calls < 1) {
    return Error{"config '" + path +
                 "': server.io_threads and speech_threads must be 1..64, max_calls >= 1"};
  }
  s.io_threads = static_cast<unsigned>(io);
  s.speech_threads = static_cast<unsigned>(sp);
  s.fast_speech_after_s = t["server"]["fast_speech_after_s"].value_or(s.fast_speech_after_s);
  if (!(s.fast_speech_after_s >= 0 && s.fast_speech_after_s <= 600)) {
    return Error{"config '" + path + "': server.fast_speech_after_s must be 0..600 (0: never)"};
  }
  s.max_calls = static_cast<std::size_t>(max_calls);
  auto& tw = s.twilio;
  tw.account_sid = t["twilio"]["account_sid"].value_or(tw.account_sid);
  tw.auth_token = t["twilio"]["auth_token"].value_or(tw.auth_token);
  tw.api_base = t["twilio"]["api_base"].value_or(tw.api_base);
  tw.validate_signatures = t["twilio"]["validate_signatures"].value_or(tw.validate_signatures);
  auto& ss = s.session;
  for (auto [key, field] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"prompt", &ss.prompt},
           {"silent_prompt", &ss.silent_prompt},
           {"hold_prompt", &ss.hold_prompt},
           {"connect_prompt", &ss.connect_prompt},
           {"blank_goodbye", &ss.blank_goodbye},
           {"spam_goodbye", &ss.spam_goodbye},
           {"review_prompt", &ss.review_prompt},
           {"voice", &ss.voice.voice},
           {"language", &ss.voice.language}}) {
    *field = t["prompts"][key].value_or(*field);
  }
  for (auto [key, field] : std::initializer_list<std::pair<const char*, double*>>{
           {"end_of_speech_s", &ss.end_of_speech_s},
           {"max_listen_s", &ss.max_listen_s},
           {"hold_pause_s", &ss.hold_pause_s},
           {"asr_wait_s", &ss.asr_wait_s}}) {
    *field = t["listening"][key].value_or(*field);
    if (*field <= 0 || *field > 600) {
      return Error{"config '" + path + "': listening." + key + " must be in (0, 600]"};
    }
  }
  ss.gather_timeout_s =
      static_cast<int>(t["listening"]["gather_timeout_s"].value_or<int64_t>(ss.gather_timeout_s));
  ss.silent_timeout_s =
      static_cast<int>(t["listening"]["silent_timeout_s"].value_or<int64_t>(ss.silent_timeout_s));
  if (ss.gather_timeout_s < 1 || ss.gather_timeout_s > 60 || ss.silent_timeout_s < 1 ||
      ss.silent_timeout_s > 60) {
    return Error{"config '" + path + "': listening.*_timeout_s must be 1..60"};
  }
  ss.caller_id = t["listening"]["caller_id"].value_or(ss.caller_id);
  const auto keep = t["retention"]["keep_content_days"].value_or<int64_t>(s.keep_content_days);
  if (keep < 0 || keep > 36500) {
    return Error{"config '" + path + "': retention.keep_content_days must be 0..36500"};
  }
  s.keep_content_days = static_cast<int>(keep);
  return Ok{};
}

}  // namespace

Result<Config> load_config(const std::string& path) {
  Config cfg;
  if (!path.empty()) {
    toml::table t;
    try {
      t = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      return Error{"config '" + path + "': " + std::string(e.description()) + " at line " +
                   std::to_string(e.source().begin.line)};
    }
    cfg.db_url = t["database"]["url"].value_or(cfg.db_url);
    cfg.default_region = t["numbering"]["default_region"].value_or(cfg.default_region);
    cfg.overlay_path = t["numbering"]["overlay"].value_or(cfg.overlay_path);
    auto& p = cfg.policy;
    p.reject_spoofed = t["screening"]["reject_spoofed"].value_or(p.reject_spoofed);
    if (auto* own = t["screening"]["own_numbers"].as_array()) {
      for (const auto& n : *own) {
        auto s = n.value<std::string>();
        if (!s) return Error{"config '" + path + "': screening.own_numbers must be strings"};
        p.own_numbers.push_back(*s);
      }
    }
    const auto max_calls =
        t["screening"]["burst"]["max_calls"].value_or<int64_t>(p.burst.max_calls);
    const auto window =
        t["screening"]["burst"]["window_s"].value_or<int64_t>(p.burst.window.count());
    const auto capacity = t["screening"]["burst"]["capacity"].value_or<int64_t>(p.burst.capacity);
    if (max_calls < 1 || max_calls > 15) {
      return Error{"config '" + path + "': screening.burst.max_calls must be 1..15"};
    }
    if (window < 1 || capacity < 8 || capacity > (int64_t{1} << 24)) {
      return Error{"config '" + path +
                   "': screening.burst.window_s must be >= 1 and capacity 8..16777216"};
    }
    p.burst.max_calls = static_cast<unsigned>(max_calls);
    p.burst.window = std::chrono::seconds(window);
    p.burst.capacity = static_cast<std::size_t>(capacity);
    cfg.model_path = t["triage"]["model"].value_or(cfg.model_path);
    cfg.distress_path = t["triage"]["distress"].value_or(cfg.distress_path);
    cfg.afinn_path = t["triage"]["afinn"].value_or(cfg.afinn_path);
    cfg.fusion.high_urgency = t["triage"]["high_urgency"].value_or(cfg.fusion.high_urgency);
    cfg.fusion.possible_emergency =
        t["triage"]["possible_emergency"].value_or(cfg.fusion.possible_emergency);
    cfg.fusion.accept_min_confidence =
        t["triage"]["accept_min_confidence"].value_or(cfg.fusion.accept_min_confidence);
    for (const double v : {cfg.fusion.high_urgency, cfg.fusion.possible_emergency,
                           cfg.fusion.accept_min_confidence}) {
      if (!(v >= 0.0 && v <= 1.0)) {
        return Error{"config '" + path +
                     "': triage.high_urgency, possible_emergency and accept_min_confidence "
                     "must be 0..1"};
      }
    }
    auto& sp = cfg.speech;
    sp.engine = t["speech"]["engine"].value_or(sp.engine);
    sp.model_dir = t["speech"]["model_dir"].value_or(sp.model_dir);
    sp.dictionary = t["speech"]["dictionary"].value_or(sp.dictionary);
    sp.language_model = t["speech"]["language_model"].value_or(sp.language_model);
    sp.mllr = t["speech"]["mllr"].value_or(sp.mllr);
    sp.domain_language_model =
        t["speech"]["domain_language_model"].value_or(sp.domain_language_model);
    sp.domain_weight = t["speech"]["domain_weight"].value_or(sp.domain_weight);
    sp.decoder_options = t["speech"]["decoder_options"].value_or(sp.decoder_options);
    sp.fast_decoder_options = t["speech"]["fast_decoder_options"].value_or(sp.fast_decoder_options);
    sp.vosk_library = t["speech"]["vosk_library"].value_or(sp.vosk_library);
    sp.comfort_noise_dbfs = t["speech"]["comfort_noise_dbfs"].value_or(sp.comfort_noise_dbfs);
    sp.pool = static_cast<unsigned>(t["speech"]["pool"].value_or<int64_t>(sp.pool));
    if (auto st = load_server(t, path, cfg.server); !st) return Error{st.error()};
    if (auto* deps = t["departments"].as_table()) {
      for (const auto& [key, node] : *deps) {
        const std::string category(key.str());
        triage::Department* d = category == "operator_review"
                                    ? &cfg.departments.operator_review
                                    : &cfg.departments.by_category[category];
        if (d->id.empty()) d->id = category;
        d->name = node.as_table() ? (*node.as_table())["name"].value_or(d->name) : d->name;
        if (auto* tbl = node.as_table()) {
          d->number = (*tbl)["number"].value_or(d->number);
          d->instructions = (*tbl)["instructions"].value_or(d->instructions);
        }
      }
    }
  }
  if (const char* db = std::getenv("SPOOFEX_DB"); db && *db) cfg.db_url = db;
  auto env = [](const char* name, std::string& into) {
    if (const char* v = std::getenv(name); v && *v) into = v;
  };
  env("SPOOFEX_TWILIO_ACCOUNT_SID", cfg.server.twilio.account_sid);
  env("SPOOFEX_TWILIO_AUTH_TOKEN", cfg.server.twilio.auth_token);
  env("SPOOFEX_TWILIO_API_BASE", cfg.server.twilio.api_base);
  env("SPOOFEX_PUBLIC_URL", cfg.server.public_url);
  return cfg;
}

Status parse_listen(std::string_view listen, server::ServerConfig& server) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == listen.size()) {
    return Error{"listen address '" + std::string(listen) + "' must be HOST:PORT"};
  }
  std::string host(listen.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port(listen.substr(colon + 1));
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
      std::stoi(port) > 65535) {
    return Error{"listen port '" + port + "' must be a number 0..65535"};
  }
  server.listen_host = host;
  server.listen_port = static_cast<std::uint16_t>(std::stoi(port));
  return Ok{};
}

}  // namespace spoofex::app
