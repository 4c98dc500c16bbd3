#include "app/config.h"

#include <toml++/toml.h>

#include <cstdlib>

namespace spoofex::app {

std::string data_dir() {
  if (const char* dir = std::getenv("SPOOFEX_DATA_DIR"); dir && *dir) return dir;
  return SPOOFEX_SOURCE_DATA_DIR;
}

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
    cfg.fusion.accept_min_confidence =
        t["triage"]["accept_min_confidence"].value_or(cfg.fusion.accept_min_confidence);
    auto& sp = cfg.speech;
    sp.engine = t["speech"]["engine"].value_or(sp.engine);
    sp.model_dir = t["speech"]["model_dir"].value_or(sp.model_dir);
    sp.dictionary = t["speech"]["dictionary"].value_or(sp.dictionary);
    sp.language_model = t["speech"]["language_model"].value_or(sp.language_model);
    sp.mllr = t["speech"]["mllr"].value_or(sp.mllr);
    sp.vosk_library = t["speech"]["vosk_library"].value_or(sp.vosk_library);
    sp.comfort_noise_dbfs = t["speech"]["comfort_noise_dbfs"].value_or(sp.comfort_noise_dbfs);
    sp.pool = static_cast<unsigned>(t["speech"]["pool"].value_or<int64_t>(sp.pool));
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
  return cfg;
}

}  // namespace spoofex::app
