// The spoofex command: see design.md, "The command-line contract".
#include <iostream>

#include "app/commands.h"

namespace spoofex::app {
namespace {

int run(int argc, char** argv) {
  CLI::App app{"spoofex: screens and triages calls to a police emergency line"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  Context ctx;
  app.add_option("--config", ctx.config_path, "TOML configuration file");
  app.add_option("--db", ctx.db_url,
                 "database URL: sqlite:PATH (default sqlite:spoofex.db) or postgresql://...");
  int exit_code = kExitOk;
  add_screen_command(app, ctx, exit_code);
  add_spam_command(app, ctx, exit_code);
  add_db_command(app, ctx, exit_code);
  add_analyze_command(app, ctx, exit_code);
  add_triage_commands(app, ctx, exit_code);
  add_transcribe_command(app, ctx, exit_code);
  add_export_command(app, ctx, exit_code);
  add_serve_command(app, ctx, exit_code);
  add_user_command(app, ctx, exit_code);
  add_simulate_command(app, ctx, exit_code);
  add_lm_command(app, exit_code);
  add_mixw_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // CLI11 throws help for subcommands as CallForHelp from the subcommand too.
    if (e.get_exit_code() == 0) return kExitOk;
    std::string what = e.what();
    for (char& c : what)
      if (c == '\n') c = ' ';
    return fail(what + " (see 'spoofex --help')");
  }
  return exit_code;
}

}  // namespace
}  // namespace spoofex::app

int main(int argc, char** argv) {
  try {
    return spoofex::app::run(argc, argv);
  } catch (const std::exception& e) {
    return spoofex::app::fail(std::string("internal error: ") + e.what(),
                              spoofex::app::kExitFailure);
  }
}
