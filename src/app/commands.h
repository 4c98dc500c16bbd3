// Private to app: the subcommands and what they share.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "app/config.h"
#include "audio/audio.h"
#include "numbering/numbering.h"
#include "speech/speech.h"
#include "store/store.h"
#include "triage/triage.h"

namespace spoofex::app {

// Exit codes of the command-line contract (design.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitFailure = 1;

// Global options, and the pieces every command builds from them.
class Context {
 public:
  std::string config_path;
  std::string db_url;  // --db; overrides the config file and SPOOFEX_DB

  Result<Config> config() const;
  static Result<numbering::NumberingPlan> plan(const Config& cfg);
  // Opens the database and brings its schema up to date.
  static Result<std::unique_ptr<store::Store>> open_store(const Config& cfg);
  // The configured model, or one trained now from the shipped corpus.
  static Result<triage::NaiveBayes> classifier(const Config& cfg);
  static Result<triage::UrgencyScorer> urgency(const Config& cfg);
};

// The speech engine settings, with the adapted model of `make model` when one was
// built and the configuration names none.
speech::EngineConfig speech_config(const Config& cfg);
// Decodes the voiced parts of a recording (see cmd_transcribe.cc).
Result<std::string> transcribe_recording(speech::Engine& engine, const audio::Recording& rec,
                                         bool gated, speech::Effort effort = speech::Effort::full);

// One JSON object per line on stdout; invalid UTF-8 from callers is replaced, not fatal.
void print_json(const nlohmann::json& j);
// Prints "spoofex: <message>" on stderr and returns kExitBadInput.
int fail(std::string_view message, int code = kExitBadInput);
// Who is acting, for audit records: --by, else $USER, else "cli".
std::string default_actor();

// Each registers its subcommand; the callback sets `exit_code`.
void add_screen_command(CLI::App& app, const Context& ctx, int& exit_code);
void add_spam_command(CLI::App& app, const Context& ctx, int& exit_code);
void add_db_command(CLI::App& app, const Context& ctx, int& exit_code);
void add_analyze_command(CLI::App& app, const Context& ctx, int& exit_code);
void add_triage_commands(CLI::App& app, const Context& ctx, int& exit_code);
void add_transcribe_command(CLI::App& app, const Context& ctx, int& exit_code);
void add_export_command(CLI::App& app, const Context& ctx, int& exit_code);
void add_user_command(CLI::App& app, const Context& ctx, int& exit_code);
void add_serve_command(CLI::App& app, const Context& ctx, int& exit_code);
void add_simulate_command(CLI::App& app, const Context& ctx, int& exit_code);
void add_lm_command(CLI::App& app, int& exit_code);
void add_mixw_command(CLI::App& app, int& exit_code);

}  // namespace spoofex::app
