// webhook_load: a load generator for the voice webhook of a running `spoofex serve`,
// in the manner of wrk (keep-alive connections, one event loop per thread), but each
// request is a distinct call signed as Twilio signs it. Each call is a voice webhook
// followed by its status callback ("completed"), so the server's live-call table stays
// bounded. It shares the machine with the server, so it is kept cheap: each connection
// writes its requests into one reused buffer and keeps its HMAC key state.
//
//   SPOOFEX_TWILIO_AUTH_TOKEN=... webhook_load --url http://127.0.0.1:8080 --seconds 10
//       [--connections 32] [--threads 1]
// Prints one JSON object: requests/s, p50/p99/max latency of the voice webhook, and the
// generator's own CPU time.
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
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
  int threads = 1;
  double seconds = 10;
};

struct Stats {
  std::vector<double> voice_ms;
  std::uint64_t requests = 0, errors = 0, non_200 = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& ioc, const Settings& s, Stats& stats, Clock::time_point end, int id)
      : stream_(ioc),
        s_(s),
        stats_(stats),
        end_(end),
        rng_(static_cast<unsigned>(id) * 7919u),
        signer_(s.token) {}

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
    params_.resize(7);
    params_[0] = {"AccountSid", kAccount};
    params_[1] = {"ApiVersion", "2010-04-01"};
    params_[2] = {"CallSid", sid_};
    params_[3] = {"CallStatus", "ringing"};
    params_[4] = {"Direction", "inbound"};
    params_[5] = {"From", from_};
    params_[6] = {"To", "+911123001100"};
    send("/twilio/voice", true);
  }

  // The request as Twilio sends it, written by hand into a buffer kept for the next.
  void send(std::string_view path, bool voice) {
    url_.assign(s_.base).append(path);
    body_ = spoofex::telephony::form_encode(params_);
    out_.assign("POST ").append(path).append(" HTTP/1.1\r\nHost: ").append(s_.host);
    out_.append("\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: ");
    out_.append(signer_.sign(url_, params_));
    out_.append("\r\nContent-Length: ").append(std::to_string(body_.size()));
    out_.append("\r\n\r\n").append(body_);
    sent_ = Clock::now();
    asio::async_write(stream_, asio::buffer(out_),
                      [self = shared_from_this(), voice](beast::error_code ec, std::size_t) {
                        if (ec) {
                          ++self->stats_.errors;
                          return;
                        }
                        self->parser_.emplace();
                        http::async_read(self->stream_, self->buffer_, *self->parser_,
                                         [self, voice](beast::error_code ec2, std::size_t) {
                                           self->on_response(ec2, voice);
                                         });
                      });
  }

  void on_response(beast::error_code ec, bool voice) {
    if (ec) {
      ++stats_.errors;
      return;
    }
    ++stats_.requests;
    const int status = static_cast<int>(parser_->get().result_int());
    if (voice) {
      stats_.voice_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - sent_).count());
      if (status != 200) ++stats_.non_200;
      params_.resize(6);
      params_[0] = {"AccountSid", kAccount};
      params_[1] = {"CallDuration", "0"};
      params_[2] = {"CallSid", sid_};
      params_[3] = {"CallStatus", "completed"};
      params_[4] = {"From", from_};
      params_[5] = {"To", "+911123001100"};
      send("/twilio/status", false);
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
  static constexpr const char* kAccount = "AC00000000000000000000000000000000";
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  spoofex::telephony::SignatureChecker signer_;
  spoofex::telephony::Params params_;
  std::string url_, body_, out_;
  Clock::time_point sent_;
  std::string sid_, from_;
};

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

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
    } else if (k == "--threads") {
      s.threads = std::max(1, std::stoi(v));
    } else {
      std::cerr << "usage: webhook_load [--url URL] [--connections N] [--seconds S] "
                   "[--threads T]\n";
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

  // One event loop per thread, the connections dealt out between them.
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::vector<Stats> stats(static_cast<std::size_t>(s.threads));
  for (int t = 0; t < s.threads; ++t) loops.push_back(std::make_unique<asio::io_context>(1));
  tcp::resolver resolver(*loops.front());
  const auto endpoints = resolver.resolve(s.host, s.port);
  const double cpu0 = cpu_seconds();
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.seconds));
  for (int i = 0; i < s.connections; ++i) {
    const auto t = static_cast<std::size_t>(i % s.threads);
    std::make_shared<Connection>(*loops[t], s, stats[t], end, i + 1)->start(endpoints);
  }
  std::vector<std::thread> threads;
  for (int t = 1; t < s.threads; ++t) threads.emplace_back([&, t] { loops[t]->run(); });
  loops.front()->run();
  for (auto& t : threads) t.join();
  Stats all;
  for (auto& st : stats) {
    all.voice_ms.insert(all.voice_ms.end(), st.voice_ms.begin(), st.voice_ms.end());
    all.requests += st.requests;
    all.errors += st.errors;
    all.non_200 += st.non_200;
  }
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu0;
  const nlohmann::json out = {
      {"connections", s.connections},
      {"threads", s.threads},
      {"load_cpu_s", cpu},
      {"seconds", wall},
      {"calls", all.voice_ms.size()},
      {"requests", all.requests},
      {"requests_per_s", static_cast<double>(all.requests) / wall},
      {"voice_webhooks_per_s", static_cast<double>(all.voice_ms.size()) / wall},
      {"errors", all.errors},
      {"non_2xx", all.non_200},
      {"voice_ms",
       {{"p50", percentile(all.voice_ms, 0.5)},
        {"p99", percentile(all.voice_ms, 0.99)},
        {"max", percentile(all.voice_ms, 1)}}}};
  std::cout << out.dump() << '\n';
  return all.errors == 0 && all.non_200 == 0 ? 0 : 1;
}
