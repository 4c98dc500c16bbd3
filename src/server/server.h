// server: `spoofex serve`. One process, one port, HTTP and WebSocket on
// Boost.Beast/Asio with a fixed number of threads (design.md, Components "web" and
// "telephony"). Twilio's webhooks and Media Streams arrive here; decisions go back
// through Twilio's REST API; call records go to the store off the call path.
//
//   auto server = Server::start(config, deps);   // binds, loads, starts threads
//   (*server)->port();                           // the bound port (config may say 0)
//   (*server)->wait();                           // until stop() or a signal
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "numbering/numbering.h"
#include "screening/screening.h"
#include "speech/speech.h"
#include "store/store.h"
#include "telephony/telephony.h"
#include "triage/triage.h"

namespace spoofex::server {

struct TwilioConfig {
  std::string account_sid;
  std::string auth_token;  // from configuration or the environment, never the repository
  std::string api_base = "https://api.twilio.com";
  // Off only for local development: then forged webhooks are accepted.
  bool validate_signatures = true;
  int rest_attempts = 5;
  std::chrono::milliseconds rest_first_backoff{250};
};

struct ServerConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;  // 0: any free port (tests)
  // How Twilio reaches this node (scheme://host[:port]); signatures are checked
  // against it, so behind a proxy it is the proxy's public URL.
  std::string public_url;  // empty: http://<listen address>
  std::string node = "node-1";
  unsigned io_threads = 2;
  unsigned speech_threads = 2;
  // When the longest-waiting audio chunk has waited this long, the speech workers are
  // behind, and each new utterance is decoded with the engine's fast search: in a burst
  // of 40 callers on 2 cores, 30 are then heard by their words before the decision
  // instead of 20 (scripts/bench-serve), each a little less accurately. 0: never.
  double fast_speech_after_s = 1.0;
  TwilioConfig twilio;
  telephony::SessionConfig session;
  triage::Departments departments = triage::Departments::defaults();
  triage::FusionPolicy fusion;
  std::size_t max_calls = 2000;  // live calls held at once; more go straight to a human
  std::string metrics_token;     // empty: /metrics is open
  // Call records that the database cannot take yet are kept here (fsync'd) and
  // replayed when it answers again; empty: in memory only.
  std::string journal_path;
  std::string web_dir;     // the dashboard's static files (web/)
  std::string chart_js;    // node_modules/chart.js/dist/chart.umd.js
  int session_hours = 12;  // a log-in lasts one shift
  // How often this node reads other nodes' spam-list changes and calls from the
  // database (the system of record shared by every node).
  std::chrono::milliseconds follow_interval{500};
  // Retention: transcripts and audio references of calls older than this many days are
  // purged every hour (the statistics stay); 0 keeps everything.
  int keep_content_days = 0;
};

// "YYYY-MM-DDTHH:MM:SSZ" for `days` days before now (retention cut-offs).
std::string iso_days_ago(int days);

// Passwords for the dashboard: libsodium's Argon2id, encoded with its parameters.
Result<std::string> hash_password(std::string_view password);
bool verify_password(const std::string& hash, std::string_view password);
// 16 random characters from an unambiguous alphabet, for first passwords.
std::string random_password();
// Valid roles, lowest first.
bool valid_role(std::string_view role);

// What the server is built from; it owns all of it.
struct Dependencies {
  std::unique_ptr<numbering::NumberingPlan> plan;
  screening::Policy policy;
  std::unique_ptr<store::Store> store;      // the call path's writes
  std::unique_ptr<store::Store> api_store;  // the dashboard's reads and actions (may be null)
  // Wakes this node when another changed calls or the spam list (PostgreSQL); null:
  // follow by polling every follow_interval alone.
  std::unique_ptr<store::ChangeListener> changes;
  std::unique_ptr<speech::Engine> speech;  // may be null: calls are then not transcribed
  std::unique_ptr<triage::NaiveBayes> classifier;
  std::unique_ptr<triage::UrgencyScorer> urgency;
  // Loads the classifier again (the configured model file, or trained afresh with the
  // operators' corrections) on SIGHUP or POST /api/model/reload; null: no reload.
  std::function<Result<triage::NaiveBayes>()> reload_classifier;
};

// Checks what a deployment needs before any call arrives (forwarding numbers,
// Twilio credentials when signatures are on); the error names the setting.
Status validate(const ServerConfig& config);

class Server {
 public:
  static Result<std::unique_ptr<Server>> start(ServerConfig config, Dependencies deps);
  virtual ~Server() = default;
  virtual std::uint16_t port() const = 0;
  // Blocks until stop() is called or SIGINT/SIGTERM arrives; then drains the store queue.
  virtual void wait() = 0;
  virtual void stop() = 0;
};

}  // namespace spoofex::server
