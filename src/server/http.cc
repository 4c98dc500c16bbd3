// The listener, HTTP sessions and WebSocket sessions, in the shape of Beast's
// advanced server example: one object per connection owning its buffers, async
// chains, a fixed pool of threads running one io_context.
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <variant>

#include "server/api.h"
#include "server/calls.h"
#include "server/record_writer.h"
#include "server/server.h"
#include "server/twilio_client.h"

namespace spoofex::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxBodyBytes = 64 * 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(60);

// Everything the sessions share; owned by ServerImpl.
struct Shared {
  const ServerConfig& config;
  CallRegistry& calls;
  RecordWriter& writer;
  Counters& counters;
  Api& api;
  EventHub& hub;
  asio::thread_pool& api_pool;  // the dashboard's database work, off the event loop
};

// One Server-Sent Events connection (GET /api/events): the hub's messages written
// in order on the connection's strand; a comment line every 15 s keeps proxies open.
class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  EventStream(beast::tcp_stream&& stream)
      : stream_(std::move(stream)), ping_(stream_.get_executor()) {}

  void start(EventHub& hub, unsigned version) {
    auto self = shared_from_this();
    std::weak_ptr<EventStream> weak = self;
    hub.subscribe([weak](const std::shared_ptr<const std::string>& message) {
      auto s = weak.lock();
      if (!s || s->closed_) return false;
      asio::post(s->stream_.get_executor(), [s, message] { s->send(message); });
      return true;
    });
    const std::string http_version = version == 10 ? "HTTP/1.0" : "HTTP/1.1";
    send(std::make_shared<const std::string>(
        http_version +
        " 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\nConnection: keep-alive\r\n\r\nretry: 2000\n\n"));
    watch_close();
    schedule_ping();
  }

 private:
  void send(std::shared_ptr<const std::string> message) {
    if (closed_) return;
    if (queue_.size() > 1000) return close();  // a reader that stopped reading
    queue_.push_back(std::move(message));
    if (queue_.size() == 1) write_next();
  }
  void write_next() {
    asio::async_write(stream_.socket(), asio::buffer(*queue_.front()),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        self->queue_.pop_front();
                        if (!self->queue_.empty()) self->write_next();
                      });
  }
  void watch_close() {
    stream_.socket().async_read_some(
        asio::buffer(sink_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) return self->close();
          self->watch_close();
        });
  }
  void schedule_ping() {
    ping_.expires_after(std::chrono::seconds(15));
    ping_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      self->send(std::make_shared<const std::string>(": ping\n\n"));
      self->schedule_ping();
    });
  }
  void close() {
    if (closed_) return;
    closed_ = true;
    queue_.clear();
    ping_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  asio::steady_timer ping_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::array<char, 256> sink_{};
  bool closed_ = false;
};

std::string path_of(std::string_view target) {
  return std::string(target.substr(0, target.find('?')));
}

std::string query_value(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return "";
  auto params = telephony::parse_form(target.substr(q + 1));
  if (!params) return "";
  return std::string(telephony::param(*params, name).value_or(""));
}

// A webhook's answer, which its session serialises into a buffer it reuses: the
// status line and headers of reply(), without a header container per request.
struct PlainReply {
  http::status status = http::status::ok;
  std::string_view type;
  std::string body;
};
using Reply = std::variant<Response, PlainReply>;

void serialise(const PlainReply& r, unsigned version, bool keep_alive, std::string& out) {
  const auto code = static_cast<unsigned>(r.status);
  out.clear();
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(code);
  out += ' ';
  out += http::obsolete_reason(r.status);
  out += "\r\nServer: spoofex\r\nContent-Type: ";
  out += r.type;
  out +=
      "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
      "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n";
  if (version >= 11 && !keep_alive) out += "Connection: close\r\n";
  if (version < 11 && keep_alive) out += "Connection: keep-alive\r\n";
  // As Beast's prepare_payload: no length on 1xx, 204 and 304 replies.
  if (!(code < 200 || code == 204 || code == 304)) {
    out += "Content-Length: ";
    out += std::to_string(r.body.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += r.body;
}

// What a connection keeps between webhooks so that each one allocates little.
struct WebhookScratch {
  explicit WebhookScratch(const ServerConfig& config) : signer(config.twilio.auth_token) {}
  telephony::Params params;
  std::string url;
  telephony::SignatureChecker signer;
};

// Twilio's form webhooks: parsed, signature-checked, then handled.
Reply twilio_webhook(Shared& sh, const Request& req, const std::string& path,
                     WebhookScratch& scratch) {
  if (req.method() != http::verb::post) {
    return reply(req, http::status::method_not_allowed, "POST only\n");
  }
  const auto type = req[http::field::content_type];
  if (!type.starts_with("application/x-www-form-urlencoded")) {
    ++sh.counters.bad_requests;
    return reply(req, http::status::unsupported_media_type,
                 "expected application/x-www-form-urlencoded\n");
  }
  auto& params = scratch.params;
  if (auto st = telephony::parse_form(req.body(), params); !st) {
    ++sh.counters.bad_requests;
    return reply(req, http::status::bad_request, "malformed form body: " + st.error() + "\n");
  }
  const auto& tw = sh.config.twilio;
  if (tw.validate_signatures) {
    auto& url = scratch.url;
    url.assign(sh.config.public_url).append(req.target());
    if (!scratch.signer.valid(url, params, req["X-Twilio-Signature"])) {
      ++sh.counters.forged;
      std::cerr << "spoofex: rejected " << path << " with a missing or wrong signature\n";
      return reply(req, http::status::forbidden, "invalid X-Twilio-Signature\n");
    }
  }
  const auto sid = telephony::param(params, "CallSid");
  if (!sid || sid->empty() || sid->size() > 64 ||
      sid->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") !=
          std::string_view::npos) {
    ++sh.counters.bad_requests;
    return reply(req, http::status::bad_request, "missing or malformed CallSid\n");
  }
  constexpr std::string_view kXml = "text/xml; charset=utf-8";
  if (path == "/twilio/voice") return PlainReply{http::status::ok, kXml, sh.calls.on_voice(params)};
  if (path == "/twilio/gather") {
    return PlainReply{http::status::ok, kXml,
                      sh.calls.on_gather(params, query_value(req.target(), "stage"))};
  }
  sh.calls.on_status(params);
  return PlainReply{http::status::no_content, "text/plain; charset=utf-8", ""};
}

std::string metrics_text(Shared& sh) {
  const auto& c = sh.counters;
  std::string out;
  auto line = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    out += std::string("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n' +
           name + ' ' + std::to_string(v) + '\n';
  };
  line("spoofex_webhooks_total", "counter", "Voice webhooks answered.", c.webhooks.load());
  line("spoofex_calls_rejected_total", "counter", "Calls rejected before answer.",
       c.rejected.load());
  line("spoofex_forged_requests_total", "counter", "Requests with a bad Twilio signature.",
       c.forged.load());
  line("spoofex_bad_requests_total", "counter", "Malformed requests.", c.bad_requests.load());
  line("spoofex_streams_total", "counter", "Media streams started.", c.streams.load());
  line("spoofex_stream_errors_total", "counter", "Media streams closed for bad input.",
       c.stream_errors.load());
  line("spoofex_media_frames_total", "counter", "Media messages analysed.", c.media_frames.load());
  line("spoofex_decisions_total", "counter", "Calls decided.", c.decisions.load());
  line("spoofex_call_updates_failed_total", "counter", "REST call updates that failed.",
       c.updates_failed.load());
  line("spoofex_utterances_recognised_total", "counter", "Utterances transcribed.",
       c.asr_utterances.load());
  line("spoofex_utterances_fast_total", "counter",
       "Utterances decoded with the fast search because the speech workers were behind.",
       c.fast_utterances.load());
  line("spoofex_overload_total", "counter", "Calls sent straight to a human: node full.",
       c.overload.load());
  line("spoofex_calls_active", "gauge", "Calls held in memory.", sh.calls.active());
  line("spoofex_streams_active", "gauge", "Media streams open.", sh.calls.streaming());
  line("spoofex_store_queue", "gauge", "Records waiting for the database.", sh.writer.queued());
  line("spoofex_speech_decoders_busy", "gauge", "Recognisers decoding a caller's utterance now.",
       c.decoders_busy.load());
  const auto speech = sh.calls.speech_backlog();
  line("spoofex_speech_queue", "gauge", "Audio chunks waiting for a speech worker.", speech.jobs);
  out +=
      "# HELP spoofex_speech_wait_seconds How long the longest-waiting audio chunk has waited.\n"
      "# TYPE spoofex_speech_wait_seconds gauge\nspoofex_speech_wait_seconds " +
      std::to_string(speech.oldest_wait_s) + '\n';
  line("spoofex_store_failures_total", "counter", "Failed database writes (retried).",
       sh.writer.failures());
  return out;
}

Reply handle(Shared& sh, const Request& req, WebhookScratch& scratch) {
  const std::string path = path_of(req.target());
  if (path == "/healthz") {
    const nlohmann::json j = {{"status", "ok"},
                              {"node", sh.config.node},
                              {"calls_active", sh.calls.active()},
                              {"store_queue", sh.writer.queued()}};
    return reply(req, http::status::ok, j.dump() + "\n", "application/json");
  }
  if (path == "/metrics") {
    if (!sh.config.metrics_token.empty() &&
        req[http::field::authorization] != "Bearer " + sh.config.metrics_token) {
      return reply(req, http::status::unauthorized, "bearer token required\n");
    }
    return reply(req, http::status::ok, metrics_text(sh), "text/plain; version=0.0.4");
  }
  if (path == "/twilio/voice" || path == "/twilio/gather" || path == "/twilio/status") {
    return twilio_webhook(sh, req, path, scratch);
  }
  return reply(req, http::status::not_found, "not found\n");
}

// The dashboard's requests run on the API pool: they read and write the database.
bool is_api(const std::string& path) {
  return path.starts_with("/api/") || path == "/" || path == "/index.html" ||
         path.starts_with("/static/") || path.starts_with("/vendor/");
}

class StreamSession : public std::enable_shared_from_this<StreamSession> {
 public:
  StreamSession(tcp::socket&& socket, Shared& sh)
      : ws_(std::move(socket)), sh_(sh), stream_(sh.calls) {}

  void run(Request req) {
    ws_.read_message_max(telephony::kMaxStreamMessageBytes);
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.async_accept(req, beast::bind_front_handler(&StreamSession::on_accept, shared_from_this()));
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return;
    read();
  }
  void read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&StreamSession::on_read, shared_from_this()));
  }
  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      if (ec == websocket::error::message_too_big) {
        ++sh_.counters.stream_errors;
        std::cerr << "spoofex: closed a media stream: message larger than 64 KiB\n";
      }
      return;
    }
    const std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!ws_.got_text()) return close("binary frames are not Media Streams messages");
    Status st = Ok{};
    try {
      st = stream_.on_message(text);
    } catch (const std::exception& e) {
      st = Error{std::string("internal error: ") + e.what()};
    }
    if (!st) return close(st.error());
    read();
  }
  void close(const std::string& why) {
    ++sh_.counters.stream_errors;
    std::cerr << "spoofex: closed a media stream: " << why << '\n';
    websocket::close_reason reason(websocket::close_code::policy_error,
                                   why.substr(0, 120));  // a close reason fits in 123 bytes
    ws_.async_close(reason, [self = shared_from_this()](beast::error_code) {});
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  Shared& sh_;
  CallRegistry::Stream stream_;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, Shared& sh)
      : stream_(std::move(socket)), sh_(sh), scratch_(sh.config) {}
  void run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&HttpSession::read, shared_from_this()));
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }
  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return shutdown();
    if (ec) {
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        ++sh_.counters.bad_requests;
        Request req;
        req.version(11);
        return write(reply(req, http::status::payload_too_large, "request too large\n"), true);
      }
      return;
    }
    Request req = parser_->release();
    if (websocket::is_upgrade(req)) {
      if (path_of(req.target()) != "/twilio/stream") {
        return write(reply(req, http::status::not_found, "no WebSocket here\n"), true);
      }
      const auto& tw = sh_.config.twilio;
      // The upgrade is signed over the URL alone (protocols.md section 4). That URL is
      // the wss:// one Twilio requested; Twilio's pages do not say so outright, so the
      // https:// form of the same URL is accepted too (same secret, same path).
      const std::string target(req.target());
      const std::string& base = sh_.config.public_url;
      const std::string ws_base = base.starts_with("https://")  ? "wss://" + base.substr(8)
                                  : base.starts_with("http://") ? "ws://" + base.substr(7)
                                                                : base;
      const auto header = req["X-Twilio-Signature"];
      if (tw.validate_signatures &&
          !telephony::signature_valid(ws_base + target, {}, tw.auth_token, header) &&
          !telephony::signature_valid(base + target, {}, tw.auth_token, header)) {
        ++sh_.counters.forged;
        return write(reply(req, http::status::forbidden, "invalid X-Twilio-Signature\n"), true);
      }
      stream_.expires_never();
      std::make_shared<StreamSession>(stream_.release_socket(), sh_)->run(std::move(req));
      return;
    }
    const std::string path = path_of(req.target());
    if (path == "/api/events" && req.method() == http::verb::get) {
      if (!sh_.api.session_of(req)) {
        return write(reply(req, http::status::unauthorized, "{\"error\":\"log in first\"}\n",
                           "application/json"),
                     true);
      }
      std::make_shared<EventStream>(std::move(stream_))->start(sh_.hub, req.version());
      return;
    }
    if (is_api(path)) {
      auto sp = std::make_shared<Request>(std::move(req));
      asio::post(sh_.api_pool, [self = shared_from_this(), sp] {
        Response res = self->sh_.api.handle(*sp);
        asio::post(self->stream_.get_executor(), [self, sp, res = std::move(res)]() mutable {
          self->write(std::move(res), !sp->keep_alive());
        });
      });
      return;
    }
    Reply res;
    try {
      res = handle(sh_, req, scratch_);
    } catch (const std::exception& e) {
      std::cerr << "spoofex: internal error on " << req.target() << ": " << e.what() << '\n';
      res = reply(req, http::status::internal_server_error, "internal error\n");
    }
    if (auto* plain = std::get_if<PlainReply>(&res)) {
      serialise(*plain, req.version(), req.keep_alive(), out_);
      return write_out(!req.keep_alive());
    }
    write(std::get<Response>(std::move(res)), !req.keep_alive());
  }
  void write_out(bool close) {
    asio::async_write(stream_, asio::buffer(out_),
                      [self = shared_from_this(), close](beast::error_code ec, std::size_t) {
                        if (ec || close) return self->shutdown();
                        self->read();
                      });
  }
  void write(Response res, bool close) {
    auto sp = std::make_shared<Response>(std::move(res));
    http::async_write(stream_, *sp,
                      [self = shared_from_this(), sp, close](beast::error_code ec, std::size_t) {
                        if (ec || close) return self->shutdown();
                        self->read();
                      });
  }
  void shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  Shared& sh_;
  std::optional<http::request_parser<http::string_body>> parser_;
  WebhookScratch scratch_;
  std::string out_;  // a serialised reply, reused by every request on this connection
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& ioc, tcp::acceptor&& acceptor, Shared& sh)
      : ioc_(ioc), acceptor_(std::move(acceptor)), sh_(sh) {}
  void run() { accept(); }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_),
                           beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
  }
  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<HttpSession>(std::move(socket), sh_)->run();
    }
    accept();
  }
  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  Shared& sh_;
};

class ServerImpl final : public Server {
 public:
  ServerImpl(ServerConfig config, Dependencies deps)
      : config_(std::move(config)),
        deps_(std::move(deps)),
        ioc_(static_cast<int>(std::max(1u, config_.io_threads))),
        // Read before the spam list is loaded, so no change between the two is missed.
        audit_start_([&] {
          auto id = deps_.store->last_audit_id();
          return id ? *id : std::int64_t{0};
        }()),
        writer_(*deps_.store, config_.journal_path),
        twilio_(config_.twilio),
        calls_(config_, deps_, writer_, twilio_, counters_),
        sessions_(std::chrono::hours(config_.session_hours)),
        api_pool_(2),
        api_(config_, deps_.api_store ? *deps_.api_store : *deps_.store, calls_, *deps_.plan,
             sessions_, hub_, audit_start_, deps_.reload_classifier),
        shared_{config_, calls_, writer_, counters_, api_, hub_, api_pool_},
        ticker_(ioc_),
        follower_(ioc_),
        signals_(ioc_, SIGINT, SIGTERM),
        reload_signal_(ioc_, SIGHUP) {
    calls_.on_record([this](const store::CallRecord& r) {
      if (hub_.subscribers() > 0) hub_.publish("call", call_json(r));
    });
  }

  ~ServerImpl() override {
    stop();
    for (auto& t : threads_) t.join();
    if (change_thread_.joinable()) change_thread_.join();
    api_pool_.join();
  }

  Status bind() {
    beast::error_code ec;
    const auto address = asio::ip::make_address(config_.listen_host, ec);
    if (ec) return Error{"listen address '" + config_.listen_host + "' is not an IP address"};
    tcp::acceptor acceptor(ioc_);
    const tcp::endpoint endpoint(address, config_.listen_port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error{"cannot listen on " + config_.listen_host + ":" +
                   std::to_string(config_.listen_port) + ": " + ec.message()};
    }
    port_ = acceptor.local_endpoint().port();
    if (config_.public_url.empty()) {
      config_.public_url = "http://" + config_.listen_host + ":" + std::to_string(port_);
    }
    while (config_.public_url.ends_with('/')) config_.public_url.pop_back();
    calls_.set_public_url(config_.public_url);
    std::make_shared<Listener>(ioc_, std::move(acceptor), shared_)->run();
    return Ok{};
  }

  void start_threads() {
    signals_.async_wait([this](beast::error_code ec, int) {
      if (!ec) stop();
    });
    wait_for_reload();
    schedule_retention(std::chrono::seconds(5));
    schedule_tick();
    schedule_follow();
    if (deps_.changes) change_thread_ = std::thread([this] { listen_for_changes(); });
    for (unsigned i = 0; i < std::max(1u, config_.io_threads); ++i) {
      threads_.emplace_back([this] {
        // A handler's exception must not take the node down: log it and carry on.
        for (;;) {
          try {
            ioc_.run();
            return;
          } catch (const std::exception& e) {
            std::cerr << "spoofex: internal error in the event loop: " << e.what() << '\n';
          }
        }
      });
    }
  }

  std::uint16_t port() const override { return port_; }

  void wait() override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopped_; });
  }

  void stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    stopping_ = true;
    ioc_.stop();
    cv_.notify_all();
  }

 private:
  // Retention, hourly, on the API pool: purges in small batches between live writes.
  void schedule_retention(std::chrono::seconds after) {
    if (config_.keep_content_days <= 0) return;
    retention_.expires_after(after);
    retention_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      asio::post(api_pool_, [this] {
        auto& db = deps_.api_store ? *deps_.api_store : *deps_.store;
        auto n = db.purge_call_content(iso_days_ago(config_.keep_content_days), "retention");
        if (!n)
          std::cerr << "spoofex: retention: " << n.error() << '\n';
        else if (*n > 0)
          std::cerr << "spoofex: retention purged the content of " << *n << " calls\n";
      });
      schedule_retention(std::chrono::hours(1));
    });
  }

  // SIGHUP: a new classifier without a restart (issue 5), trained off the event loop.
  void wait_for_reload() {
    reload_signal_.async_wait([this](beast::error_code ec, int) {
      if (ec) return;
      asio::post(api_pool_, [this] {
        if (auto st = api_.reload_model("SIGHUP"); !st)
          std::cerr << "spoofex: " << st.error() << '\n';
      });
      wait_for_reload();
    });
  }

  // Other nodes' spam-list changes reach this node's list within follow_interval.
  void schedule_follow() {
    follower_.expires_after(config_.follow_interval);
    follower_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      asio::post(api_pool_, [this] {
        api_.follow_spam_changes();
        api_.follow_other_nodes();
        asio::post(ioc_, [this] { schedule_follow(); });
      });
    });
  }

  // Other nodes' changes, heard as they commit (PostgreSQL NOTIFY): the timer's follow,
  // run at once. Notifications that arrive while one is pending fold into it (this
  // node's own writes notify too).
  void listen_for_changes() {
    while (!stopping_) {
      if (!deps_.changes->wait(std::chrono::milliseconds(200))) continue;
      if (follow_pending_.exchange(true)) continue;
      asio::post(api_pool_, [this] {
        follow_pending_ = false;
        api_.follow_spam_changes();
        api_.follow_other_nodes();
      });
    }
  }

  void schedule_tick() {
    ticker_.expires_after(std::chrono::milliseconds(100));
    ticker_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      calls_.tick();
      schedule_tick();
    });
  }

  ServerConfig config_;
  Dependencies deps_;
  asio::io_context ioc_;
  std::int64_t audit_start_;
  Counters counters_;
  RecordWriter writer_;
  TwilioClient twilio_;
  CallRegistry calls_;
  Sessions sessions_;
  EventHub hub_;
  asio::thread_pool api_pool_;
  Api api_;
  Shared shared_;
  asio::steady_timer ticker_;
  asio::steady_timer follower_;
  asio::steady_timer retention_{ioc_};
  asio::signal_set signals_;
  asio::signal_set reload_signal_;
  std::vector<std::thread> threads_;
  std::thread change_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> follow_pending_{false};
  std::uint16_t port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace

Status validate(const ServerConfig& config) {
  for (const char* category : {"emergency", "inquiry", "complaint"}) {
    const auto& d = config.departments.for_category(category);
    if (d.number.empty()) {
      return Error{std::string("departments.") + category +
                   ".number is not set: calls in that category would have nowhere to go"};
    }
  }
  if (config.departments.operator_review.number.empty()) {
    return Error{"departments.operator_review.number is not set: undecided calls need a human"};
  }
  if (config.twilio.validate_signatures && config.twilio.auth_token.empty()) {
    return Error{
        "no Twilio auth token (SPOOFEX_TWILIO_AUTH_TOKEN or [twilio] auth_token): signatures "
        "cannot be checked. For local development only, set [twilio] validate_signatures = "
        "false"};
  }
  if (config.twilio.account_sid.empty()) {
    return Error{"no Twilio account SID (SPOOFEX_TWILIO_ACCOUNT_SID or [twilio] account_sid)"};
  }
  return Ok{};
}

Result<std::unique_ptr<Server>> Server::start(ServerConfig config, Dependencies deps) {
  if (auto st = validate(config); !st) return Error{st.error()};
  if (!deps.plan || !deps.store) return Error{"the server needs a numbering plan and a store"};
  auto server = std::make_unique<ServerImpl>(std::move(config), std::move(deps));
  if (auto st = server->bind(); !st) return Error{st.error()};
  server->start_threads();
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace spoofex::server
