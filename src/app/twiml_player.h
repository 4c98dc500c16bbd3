// Private to app: what `spoofex simulate` needs to play Twilio's part. TwiML parsed
// with expat, plain HTTP and WebSocket clients on Boost.Beast, and a small server
// standing in for Twilio's REST API.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "telephony/telephony.h"

namespace spoofex::app {

struct TwimlNode {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::string text;
  std::vector<TwimlNode> children;
  std::string attribute(const std::string& key, std::string fallback = {}) const;
};

// The verbs inside <Response>; malformed XML or another root is an error.
Result<std::vector<TwimlNode>> parse_twiml(std::string_view xml);

struct HttpUrl {
  std::string host, port, target;  // target: path and query
};
Result<HttpUrl> parse_http_url(std::string_view url);  // http:// or ws://

struct HttpReply {
  int status = 0;
  std::string body;
};
// One request on a fresh connection; network errors are errors.
Result<HttpReply> http_post(const std::string& url, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers);

// Serves POST /2010-04-01/Accounts/{sid}/Calls/{call}.json with HTTP Basic auth,
// handing each update to `on_update(call_sid, form)`; its return value is whether
// the call exists (404 otherwise).
class FakeTwilioApi {
 public:
  using Handler = std::function<bool(const std::string& call_sid, const telephony::Params& form)>;
  static Result<std::unique_ptr<FakeTwilioApi>> start(const std::string& base_url,
                                                      std::string account_sid,
                                                      std::string auth_token, Handler on_update);
  ~FakeTwilioApi();

 private:
  FakeTwilioApi() = default;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace spoofex::app
