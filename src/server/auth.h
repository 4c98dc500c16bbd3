// Private to server: dashboard log-ins. Sessions live in this node's memory (a
// load balancer in front of several nodes needs sticky sessions), each with its own
// CSRF token; repeated failed log-ins for a name are slowed down.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace spoofex::server {

struct Session {
  std::string token;  // the cookie's value
  std::string username;
  std::string role;
  std::string csrf;
  std::chrono::steady_clock::time_point expires;
};

int role_rank(std::string_view role);  // operator 1, supervisor 2, admin 3, else 0
std::string random_token();            // 32 random bytes, hex

class Sessions {
 public:
  explicit Sessions(std::chrono::hours lifetime) : lifetime_(lifetime) {}
  Session create(const std::string& username, const std::string& role);
  std::optional<Session> find(const std::string& token);
  void remove(const std::string& token);

  // Log-in throttling: false while `username` has failed too often recently.
  bool may_try(const std::string& username);
  void failed(const std::string& username);
  void succeeded(const std::string& username);

 private:
  struct Failures {
    int count = 0;
    std::chrono::steady_clock::time_point first;
  };
  std::chrono::hours lifetime_;
  std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;
  std::unordered_map<std::string, Failures> failures_;
};

}  // namespace spoofex::server
