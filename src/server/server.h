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
  TwilioConfig twilio;
  telephony::SessionConfig session;
  triage::Departments departments = triage::Departments::defaults();
  triage::FusionPolicy fusion;
  std::size_t max_calls = 2000;  // live calls held at once; more get a busy <Reject>
  std::string metrics_token;     // empty: /metrics is open
};

// What the server is built from; it owns all of it.
struct Dependencies {
  std::unique_ptr<numbering::NumberingPlan> plan;
  screening::Policy policy;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<speech::Engine> speech;  // may be null: calls are then not transcribed
  std::unique_ptr<triage::NaiveBayes> classifier;
  std::unique_ptr<triage::UrgencyScorer> urgency;
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
