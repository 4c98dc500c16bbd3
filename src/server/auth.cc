#include "server/auth.h"

#include <sodium.h>

#include "server/server.h"

namespace spoofex::server {
namespace {

constexpr int kMaxFailures = 5;
constexpr auto kFailureWindow = std::chrono::minutes(5);
constexpr std::size_t kMaxPasswordBytes = 1024;

}  // namespace

Result<std::string> hash_password(std::string_view password) {
  if (sodium_init() < 0) return Error{"libsodium failed to initialise"};
  if (password.size() < 8) return Error{"the password must have at least 8 characters"};
  if (password.size() > kMaxPasswordBytes) return Error{"the password is too long"};
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Error{"hashing the password failed (out of memory?)"};
  }
  return std::string(out);
}

bool verify_password(const std::string& hash, std::string_view password) {
  if (sodium_init() < 0 || password.size() > kMaxPasswordBytes || hash.empty()) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string random_password() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679";
  std::string out;
  for (int i = 0; i < 16; ++i) out += kAlphabet[randombytes_uniform(sizeof kAlphabet - 1)];
  return out;
}

bool valid_role(std::string_view role) { return role_rank(role) > 0; }

int role_rank(std::string_view role) {
  if (role == "operator") return 1;
  if (role == "supervisor") return 2;
  if (role == "admin") return 3;
  return 0;
}

std::string random_token() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

Session Sessions::create(const std::string& username, const std::string& role) {
  Session s{random_token(), username, role, random_token(),
            std::chrono::steady_clock::now() + lifetime_};
  std::lock_guard lock(mu_);
  // Expired sessions go whenever a new one is made, so the table stays small.
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires < now; });
  sessions_[s.token] = s;
  return s;
}

std::optional<Session> Sessions::find(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires < std::chrono::steady_clock::now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void Sessions::remove(const std::string& token) {
  std::lock_guard lock(mu_);
  sessions_.erase(token);
}

bool Sessions::may_try(const std::string& username) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(username);
  if (it == failures_.end()) return true;
  if (std::chrono::steady_clock::now() - it->second.first > kFailureWindow) {
    failures_.erase(it);
    return true;
  }
  return it->second.count < kMaxFailures;
}

void Sessions::failed(const std::string& username) {
  std::lock_guard lock(mu_);
  if (failures_.size() > 100000) failures_.clear();  // bounded under a flood of names
  auto& f = failures_[username];
  if (f.count == 0) f.first = std::chrono::steady_clock::now();
  ++f.count;
}

void Sessions::succeeded(const std::string& username) {
  std::lock_guard lock(mu_);
  failures_.erase(username);
}

}  // namespace spoofex::server
