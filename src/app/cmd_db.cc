#include "app/commands.h"

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
}

}  // namespace spoofex::app
