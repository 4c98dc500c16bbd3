#include <cstdlib>
#include <iostream>

#include "app/commands.h"

namespace spoofex::app {

Result<Config> Context::config() const {
  auto cfg = load_config(config_path);
  if (!cfg) return cfg;
  if (!db_url.empty()) cfg->db_url = db_url;
  return cfg;
}

Result<numbering::NumberingPlan> Context::plan(const Config& cfg) {
  const std::string path =
      cfg.overlay_path.empty() ? data_dir() + "/numbering/in_overlay.tsv" : cfg.overlay_path;
  auto overlay = numbering::load_overlay(path);
  if (!overlay) return Error{overlay.error()};
  return numbering::NumberingPlan(std::move(*overlay), cfg.default_region);
}

Result<std::unique_ptr<store::Store>> Context::open_store(const Config& cfg) {
  auto db = store::Store::open(cfg.db_url);
  if (!db) return db;
  if (auto st = (*db)->migrate(); !st) return Error{st.error()};
  return db;
}

void print_json(const nlohmann::json& j) {
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

int fail(std::string_view message, int code) {
  std::cerr << "spoofex: " << message << '\n';
  return code;
}

std::string default_actor() {
  if (const char* user = std::getenv("USER"); user && *user) return user;
  return "cli";
}

}  // namespace spoofex::app
