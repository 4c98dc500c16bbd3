// spoofex serve: the live server (src/server) built from the configuration.
#include <cstdlib>
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

// Where records wait when the database cannot take them: $SPOOFEX_JOURNAL, else
// beside the SQLite file, else ./spoofex-NODE.journal (nodes started from one folder
// must not share one).
std::string journal_path(const std::string& db_url, const std::string& node) {
  if (const char* j = std::getenv("SPOOFEX_JOURNAL"); j && *j) return j;
  if (db_url.starts_with("sqlite:") && db_url != "sqlite::memory:") {
    return db_url.substr(7) + ".journal";
  }
  return "spoofex-" + node + ".journal";
}

// A fresh installation has no users: make an admin with a random password and
// print it once, so whoever ran `make run` can log in straight away.
Status first_admin(store::Store& db) {
  auto n = db.count_users();
  if (!n) return Error{n.error()};
  if (*n > 0) return Ok{};
  const std::string password = server::random_password();
  auto hash = server::hash_password(password);
  if (!hash) return Error{hash.error()};
  if (auto st = db.add_user({"admin", *hash, "admin", "", false}, "spoofex serve"); !st) {
    return st;
  }
  std::cerr << "spoofex: created the first dashboard user: admin / " << password
            << "\nspoofex: (shown once; add people with `spoofex user add NAME --role ROLE`)\n";
  return Ok{};
}

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
  // A second connection for the dashboard, so its reads never queue behind call writes.
  auto api_db = store::Store::open(cfg->db_url);
  if (!api_db) return fail(api_db.error(), kExitFailure);
  deps.api_store = std::move(*api_db);
  // Not fatal: without it, nodes still follow each other by polling.
  if (auto listener = store::ChangeListener::open(cfg->db_url)) {
    deps.changes = std::move(*listener);
  } else {
    std::cerr << "spoofex: warning: " << listener.error() << "; following other nodes by polling\n";
  }
  if (auto st = first_admin(*deps.store); !st) return fail(st.error(), kExitFailure);
  if (sc.web_dir.empty()) sc.web_dir = data_dir() + "/../web";
  if (sc.chart_js.empty()) sc.chart_js = data_dir() + "/../node_modules/chart.js/dist/chart.umd.js";
  if (sc.journal_path.empty()) sc.journal_path = journal_path(cfg->db_url, sc.node);
  if (!opt.no_speech) {
    auto engine = speech::make_engine(speech_config(*cfg));
    if (!engine) return fail("serve: speech engine: " + engine.error(), kExitFailure);
    deps.speech = std::move(*engine);
  }
  auto model = Context::classifier(*cfg);
  if (!model) return fail(model.error(), kExitFailure);
  deps.classifier = std::make_unique<triage::NaiveBayes>(std::move(*model));
  // Reload: the configured model file as it is now, or the shipped corpus retrained
  // with every operator correction stored so far.
  deps.reload_classifier = [cfg = *cfg]() -> Result<triage::NaiveBayes> {
    if (!cfg.model_path.empty()) return Context::classifier(cfg);
    auto examples = triage::load_examples(data_dir() + "/triage/train.tsv");
    if (!examples) return Error{examples.error()};
    if (auto heard =
            triage::load_examples(data_dir() + "/triage/train_asr.tsv", triage::Source::heard)) {
      examples->insert(examples->end(), heard->begin(), heard->end());
    }
    auto db = store::Store::open(cfg.db_url);
    if (!db) return Error{db.error()};
    auto feedback = (*db)->list_feedback();
    if (!feedback) return Error{feedback.error()};
    for (const auto& f : *feedback) {
      // A correction's text is the call's transcript, as the recogniser heard it.
      if (auto c = triage::category_from(f.category)) {
        examples->push_back({*c, f.text, triage::Source::heard});
      }
    }
    return triage::NaiveBayes::train(*examples);
  };
  auto urgency = Context::urgency(*cfg);
  if (!urgency) return fail(urgency.error(), kExitFailure);
  deps.urgency = std::make_unique<triage::UrgencyScorer>(std::move(*urgency));

  auto server = server::Server::start(sc, std::move(deps));
  if (!server) return fail("serve: " + server.error(), kExitFailure);
  const std::string url = "http://" + sc.listen_host + ":" + std::to_string((*server)->port());
  std::cerr << "spoofex: serving on " << url << " (database " << cfg->db_url << ")\n"
            << "spoofex: Twilio voice webhook: POST " << url << "/twilio/voice\n"
            << "spoofex: place a simulated call with (same token; the simulator serves Twilio's API"
            << " at " << sc.twilio.api_base << "):\n"
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
