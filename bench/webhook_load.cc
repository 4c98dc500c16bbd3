// webhook_load: a load generator for the voice webhook of a running `spoofex serve`,
// in the manner of wrk (keep-alive connections, one thread), but each request is a
// distinct call signed as Twilio signs it. Each call is a voice webhook followed by
// its status callback ("completed"), so the server's live-call table stays bounded.
//
//   SPOOFEX_TWILIO_AUTH_TOKEN=... webhook_load --url http://127.0.0.1:8080 --seconds 10
// Prints one JSON object: requests/s and p50/p99/max latency of the voice webhook.
#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "telephony/telephony.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::string host = "127.0.0.1", port = "8080", base;
  std::string token;
  int connections = 32;
  double seconds = 10;
};

struct Stats {
  std::vector<double> voice_ms;
  std::uint64_t requests = 0, errors = 0, non_200 = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& ioc, const Settings& s, Stats& stats, Clock::time_point end, int id)
      : stream_(ioc), s_(s), stats_(stats), end_(end), rng_(static_cast<unsigned>(id) * 7919u) {}

  void start(const tcp::resolver::results_type& endpoints) {
    stream_.async_connect(endpoints, [self = shared_from_this()](beast::error_code ec, auto) {
      if (ec) {
        ++self->stats_.errors;
        return;
      }
      self->stream_.socket().set_option(tcp::no_delay(true));
      self->next_call();
    });
  }

 private:
  void next_call() {
    if (Clock::now() >= end_) return;
    static constexpr char kHex[] = "0123456789abcdef";
    sid_ = "CA";
    for (int i = 0; i < 32; ++i) sid_ += kHex[rng_() & 15];
    from_ = "+9198" + std::to_string(10000000 + rng_() % 89999999);
    send("/twilio/voice",
         {{"AccountSid", "AC" + std::string(32, '0')},
          {"ApiVersion", "2010-04-01"},
          {"CallSid", sid_},
          {"CallStatus", "ringing"},
          {"Direction", "inbound"},
          {"From", from_},
          {"To", "+911123001100"}},
         true);
  }

  void send(const std::string& path, const spoofex::telephony::Params& params, bool voice) {
    req_ = {http::verb::post, path, 11};
    req_.set(http::field::host, s_.host);
    req_.set(http::field::content_type, "application/x-www-form-urlencoded");
    req_.set("X-Twilio-Signature",
             spoofex::telephony::twilio_signature(s_.base + path, params, s_.token));
    req_.body() = spoofex::telephony::form_encode(params);
    req_.keep_alive(true);
    req_.prepare_payload();
    sent_ = Clock::now();
    http::async_write(
        stream_, req_, [self = shared_from_this(), voice](beast::error_code ec, std::size_t) {
          if (ec) {
            ++self->stats_.errors;
            return;
          }
          self->res_ = {};
          http::async_read(
              self->stream_, self->buffer_, self->res_,
              [self, voice](beast::error_code ec2, std::size_t) { self->on_response(ec2, voice); });
        });
  }

  void on_response(beast::error_code ec, bool voice) {
    if (ec) {
      ++stats_.errors;
      return;
    }
    ++stats_.requests;
    const int status = static_cast<int>(res_.result_int());
    if (voice) {
      stats_.voice_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - sent_).count());
      if (status != 200) ++stats_.non_200;
      send("/twilio/status",
           {{"AccountSid", "AC" + std::string(32, '0')},
            {"CallDuration", "0"},
            {"CallSid", sid_},
            {"CallStatus", "completed"},
            {"From", from_},
            {"To", "+911123001100"}},
           false);
      return;
    }
    if (status >= 300) ++stats_.non_200;
    next_call();
  }

  beast::tcp_stream stream_;
  const Settings& s_;
  Stats& stats_;
  Clock::time_point end_;
  std::mt19937_64 rng_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  Clock::time_point sent_;
  std::string sid_, from_;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1)))];
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  std::string url = "http://127.0.0.1:8080";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--url") {
      url = v;
    } else if (k == "--connections") {
      s.connections = std::stoi(v);
    } else if (k == "--seconds") {
      s.seconds = std::stod(v);
    } else {
      std::cerr << "usage: webhook_load [--url URL] [--connections N] [--seconds S]\n";
      return 2;
    }
  }
  const char* token = std::getenv("SPOOFEX_TWILIO_AUTH_TOKEN");
  if (!token || !*token) {
    std::cerr << "webhook_load: set SPOOFEX_TWILIO_AUTH_TOKEN to the server's token\n";
    return 2;
  }
  s.token = token;
  if (!url.starts_with("http://")) {
    std::cerr << "webhook_load: --url must be http://HOST:PORT\n";
    return 2;
  }
  s.base = url;
  const std::string authority = url.substr(7);
  const auto colon = authority.rfind(':');
  s.host = authority.substr(0, colon);
  s.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);

  asio::io_context ioc(1);
  tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(s.host, s.port);
  Stats stats;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.seconds));
  for (int i = 0; i < s.connections; ++i) {
    std::make_shared<Connection>(ioc, s, stats, end, i + 1)->start(endpoints);
  }
  ioc.run();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const nlohmann::json out = {
      {"connections", s.connections},
      {"seconds", wall},
      {"calls", stats.voice_ms.size()},
      {"requests", stats.requests},
      {"requests_per_s", static_cast<double>(stats.requests) / wall},
      {"voice_webhooks_per_s", static_cast<double>(stats.voice_ms.size()) / wall},
      {"errors", stats.errors},
      {"non_2xx", stats.non_200},
      {"voice_ms",
       {{"p50", percentile(stats.voice_ms, 0.5)},
        {"p99", percentile(stats.voice_ms, 0.99)},
        {"max", percentile(stats.voice_ms, 1)}}}};
  std::cout << out.dump() << '\n';
  return stats.errors == 0 && stats.non_200 == 0 ? 0 : 1;
}
