// spoofex user add NAME --role ROLE: dashboard accounts; the password comes on stdin.
#include <iostream>

#include "app/commands.h"
#include "server/server.h"

namespace spoofex::app {
namespace {

int run_user_add(const Context& ctx, const std::string& name, const std::string& role) {
  if (name.empty() || name.size() > 64 ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos) {
    return fail("user add: the name must be 1-64 letters, digits, '.', '_' or '-'");
  }
  if (!server::valid_role(role))
    return fail("user add: --role must be operator, supervisor or admin");
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  auto hash = server::hash_password(password);
  if (!hash) return fail("user add: " + hash.error());
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  auto db = Context::open_store(*cfg);
  if (!db) return fail(db.error(), kExitFailure);
  if (auto st = (*db)->add_user({name, *hash, role, "", false}, default_actor()); !st) {
    return fail("user add: " + st.error());
  }
  print_json({{"username", name}, {"role", role}});
  return kExitOk;
}

}  // namespace

void add_user_command(CLI::App& app, const Context& ctx, int& exit_code) {
  auto* user = app.add_subcommand("user", "dashboard accounts");
  user->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>();
  auto* add = user->add_subcommand("add", "add an account; the password is read from stdin");
  add->add_option("name", *name, "user name")->required();
  add->add_option("--role", *role, "operator, supervisor or admin")->required();
  add->callback([&ctx, &exit_code, name, role] { exit_code = run_user_add(ctx, *name, *role); });
}

}  // namespace spoofex::app
