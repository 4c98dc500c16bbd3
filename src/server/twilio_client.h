// Private to server: Twilio's REST API for live-call updates (protocols.md section
// 5), with retries and backoff on its own threads so no call waits on the network.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>

#include "server/server.h"

namespace spoofex::server {

struct RestOutcome {
  bool ok = false;
  int attempts = 0;
  int http_status = 0;  // of the last attempt; 0 when no answer came
  std::string error;    // the last failure, for the call's record
};

class TwilioClient {
 public:
  explicit TwilioClient(const TwilioConfig& config, unsigned threads = 2);
  ~TwilioClient();
  TwilioClient(const TwilioClient&) = delete;
  TwilioClient& operator=(const TwilioClient&) = delete;

  // Replaces what the live call is doing with `twiml`. `done` runs on a client thread.
  void update_call(const std::string& call_sid, const std::string& twiml,
                   std::function<void(const RestOutcome&)> done);

 private:
  RestOutcome post_form(const std::string& path, const std::string& body);

  TwilioConfig config_;
  boost::asio::thread_pool pool_;
};

}  // namespace spoofex::server
