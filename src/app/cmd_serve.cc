// spoofex serve: the live server (src/server) built from the configuration.
#include <fstream>
#include <iostream>

#include "app/commands.h"
#include "server/server.h"

namespace spoofex::app {
namespace {

struct ServeOptions {
  std::string listen;
  std::string ready_file;
  bool no_speech = false;
};

int run_serve(const Context& ctx, const ServeOptions& opt) {
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  server::ServerConfig sc = cfg->server;
  if (!opt.listen.empty()) {
    if (auto st = parse_listen(opt.listen, sc); !st) return fail("serve: " + st.error());
  }
  sc.departments = cfg->departments;
  sc.fusion = cfg->fusion;
  sc.session.silent_solution = cfg->fusion.silent_solution;
  if (auto st = server::validate(sc); !st) return fail("serve: " + st.error());

  server::Dependencies deps;
  auto plan = Context::plan(*cfg);
  if (!plan) return fail(plan.error());
  deps.plan = std::make_unique<numbering::NumberingPlan>(std::move(*plan));
  deps.policy = cfg->policy;
  auto db = Context::open_store(*cfg);
  if (!db) return fail(db.error(), kExitFailure);
  deps.store = std::move(*db);
  if (!opt.no_speech) {
    auto engine = speech::make_engine(speech_config(*cfg));
    if (!engine) return fail("serve: speech engine: " + engine.error(), kExitFailure);
    deps.speech = std::move(*engine);
  }
  auto model = Context::classifier(*cfg);
  if (!model) return fail(model.error(), kExitFailure);
  deps.classifier = std::make_unique<triage::NaiveBayes>(std::move(*model));
  auto urgency = Context::urgency(*cfg);
  if (!urgency) return fail(urgency.error(), kExitFailure);
  deps.urgency = std::make_unique<triage::UrgencyScorer>(std::move(*urgency));

  auto server = server::Server::start(sc, std::move(deps));
  if (!server) return fail("serve: " + server.error(), kExitFailure);
  const std::string url = "http://" + sc.listen_host + ":" + std::to_string((*server)->port());
  std::cerr << "spoofex: serving on " << url << " (database " << cfg->db_url << ")\n"
            << "spoofex: Twilio voice webhook: POST " << url << "/twilio/voice\n"
            << "spoofex: place a simulated call with:\n"
            << "  spoofex simulate --url " << url << " --wav CALL.wav --from +919876543210"
            << " --digit 1\n";
  if (!opt.ready_file.empty()) {
    std::ofstream(opt.ready_file) << (*server)->port() << '\n';
  }
  (*server)->wait();
  std::cerr << "spoofex: stopping\n";
  return kExitOk;
}

}  // namespace

void add_serve_command(CLI::App& app, const Context& ctx, int& exit_code) {
  auto opt = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "answer calls: Twilio webhooks and Media Streams");
  cmd->add_option("--listen", opt->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  cmd->add_option("--ready-file", opt->ready_file,
                  "write the bound port here once listening (for scripts and tests)");
  cmd->add_flag("--no-speech", opt->no_speech, "do not load a speech engine (no transcripts)");
  cmd->callback([&ctx, &exit_code, opt] { exit_code = run_serve(ctx, *opt); });
}

}  // namespace spoofex::app
