// Private to server: the dashboard's JSON API (design.md, "The HTTP API"), its
// static files, and the live event feed's fan-out.
#pragma once

#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/auth.h"
#include "server/calls.h"
#include "server/server.h"

namespace spoofex::server {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

Response reply(const Request& req, boost::beast::http::status status, std::string body,
               std::string_view type = "text/plain; charset=utf-8");

// The JSON the API and the live feed give for a call: the stored record plus the
// columns operators change.
std::string call_json(const store::CallRecord& call);

// Live-feed subscribers (Server-Sent Events connections).
class EventHub {
 public:
  using Subscriber = std::function<bool(const std::shared_ptr<const std::string>&)>;
  // `deliver` returns false once its connection is gone; it is then dropped.
  void subscribe(Subscriber deliver);
  void publish(const std::string& event_name, const std::string& data);
  std::size_t subscribers() const;

 private:
  mutable std::mutex mu_;
  std::vector<Subscriber> subscribers_;
};

class Api {
 public:
  Api(const ServerConfig& config, store::Store& store, CallRegistry& calls,
      const numbering::NumberingPlan& plan, Sessions& sessions, EventHub& hub,
      std::int64_t audit_start, std::function<Result<triage::NaiveBayes>()> reload_classifier);

  // Everything under /api/ except the event feed, and the static files.
  Response handle(const Request& req);
  // The session behind a request's cookie, if any (for the event feed).
  std::optional<Session> session_of(const Request& req);
  // Applies other nodes' (and the CLI's) spam-list changes to this node's list;
  // `audit_start` is the audit row read before the list was loaded.
  void follow_spam_changes();
  // Publishes calls that other nodes wrote since the last look to this node's feed.
  void follow_other_nodes();
  // Reloads the classifier (see Dependencies::reload_classifier); the error says why not.
  Status reload_model(const std::string& actor);

 private:
  Response route(const Request& req, const Session& s, const std::string& path);
  Response login(const Request& req);
  Response calls(const Request& req, const std::string& path, const Session& s);
  Response spam(const Request& req, const std::string& path, const Session& s);
  Response stats(const Request& req);
  Response users(const Request& req, const Session& s);
  Response static_file(const Request& req, const std::string& path);

  const ServerConfig& config_;
  store::Store& store_;
  CallRegistry& calls_;
  const numbering::NumberingPlan& plan_;
  Sessions& sessions_;
  EventHub& hub_;
  std::mutex follow_mu_;
  std::int64_t last_audit_id_;  // the newest spam-list change applied here
  std::string last_update_seen_;
  std::function<Result<triage::NaiveBayes>()> reload_classifier_;
  std::mutex reload_mu_;  // updated_at of the newest other-node call published
};

}  // namespace spoofex::server
