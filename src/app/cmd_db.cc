#include "app/commands.h"
#include "server/server.h"

namespace spoofex::app {

void add_db_command(CLI::App& app, const Context& ctx, int& exit_code) {
  auto* db = app.add_subcommand("db", "database administration");
  db->require_subcommand(1);
  auto* migrate = db->add_subcommand("migrate", "apply schema migrations");
  migrate->callback([&ctx, &exit_code] {
    auto cfg = ctx.config();
    if (!cfg) {
      exit_code = fail(cfg.error());
      return;
    }
    auto store = Context::open_store(*cfg);
    if (!store) {
      exit_code = fail(store.error(), kExitFailure);
      return;
    }
    auto version = (*store)->schema_version();
    if (!version) {
      exit_code = fail(version.error(), kExitFailure);
      return;
    }
    print_json({{"backend", (*store)->backend()}, {"schema_version", *version}});
  });
  // Retention by hand (serve also runs it hourly when [retention] keep_content_days is set).
  auto days = std::make_shared<int>(0);
  auto* purge = db->add_subcommand(
      "purge",
      "blank transcripts and audio references of calls older than N days; statistics stay");
  purge->add_option("--older-than-days", *days, "keep this many days of call content")
      ->required()
      ->check(CLI::Range(1, 36500));
  purge->callback([&ctx, &exit_code, days] {
    auto cfg = ctx.config();
    if (!cfg) {
      exit_code = fail(cfg.error());
      return;
    }
    auto store = Context::open_store(*cfg);
    if (!store) {
      exit_code = fail(store.error(), kExitFailure);
      return;
    }
    const std::string before = server::iso_days_ago(*days);
    auto purged = (*store)->purge_call_content(before, default_actor());
    if (!purged) {
      exit_code = fail(purged.error(), kExitFailure);
      return;
    }
    print_json({{"purged", *purged}, {"before", before}});
  });
}

}  // namespace spoofex::app
