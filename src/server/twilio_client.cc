#include "server/twilio_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <thread>

#include "telephony/telephony.h"

namespace spoofex::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Url {
  bool tls = false;
  std::string host, port, path;
};

Result<Url> parse_url(const std::string& url) {
  Url u;
  std::string rest;
  if (url.starts_with("https://")) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return Error{"API base '" + url + "' must start with http:// or https://"};
  }
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  const auto colon = authority.rfind(':');
  u.host = authority.substr(0, colon);
  u.port = colon == std::string::npos ? (u.tls ? "443" : "80") : authority.substr(colon + 1);
  if (u.host.empty()) return Error{"API base '" + url + "' has no host"};
  return u;
}

template <typename Stream>
http::response<http::string_body> exchange(Stream& stream, http::request<http::string_body>& req) {
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  http::read(stream, buffer, parser);
  return parser.release();
}

// One HTTP(S) POST; throws on network errors (the caller retries).
http::response<http::string_body> post(const Url& u, const std::string& target,
                                       const std::string& auth, const std::string& body) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(u.host, u.port);
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::user_agent, "spoofex");
  req.set(http::field::authorization, "Basic " + auth);
  req.set(http::field::content_type, "application/x-www-form-urlencoded");
  req.body() = body;
  req.prepare_payload();
  if (!u.tls) {
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(endpoints);
    auto res = exchange(stream, req);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return res;
  }
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) {
    throw std::runtime_error("cannot set TLS server name");
  }
  stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(stream).connect(endpoints);
  stream.handshake(asio::ssl::stream_base::client);
  auto res = exchange(stream, req);
  beast::error_code ec;
  stream.shutdown(ec);
  return res;
}

}  // namespace

TwilioClient::TwilioClient(const TwilioConfig& config, unsigned threads)
    : config_(config), pool_(threads) {}

TwilioClient::~TwilioClient() { pool_.join(); }

void TwilioClient::update_call(const std::string& call_sid, const std::string& twiml,
                               std::function<void(const RestOutcome&)> done) {
  asio::post(pool_, [this, call_sid, twiml, done = std::move(done)] {
    const std::string path = "/2010-04-01/Accounts/" + telephony::url_encode(config_.account_sid) +
                             "/Calls/" + telephony::url_encode(call_sid) + ".json";
    done(post_form(path, telephony::form_encode({{"Twiml", twiml}})));
  });
}

RestOutcome TwilioClient::post_form(const std::string& path, const std::string& body) {
  RestOutcome out;
  auto url = parse_url(config_.api_base);
  if (!url) {
    out.error = url.error();
    return out;
  }
  const std::string credentials = config_.account_sid + ":" + config_.auth_token;
  const std::string auth = telephony::base64_encode(
      {reinterpret_cast<const std::uint8_t*>(credentials.data()), credentials.size()});
  auto backoff = config_.rest_first_backoff;
  for (out.attempts = 1; out.attempts <= config_.rest_attempts; ++out.attempts) {
    try {
      const auto res = post(*url, url->path + path, auth, body);
      out.http_status = static_cast<int>(res.result_int());
      if (out.http_status >= 200 && out.http_status < 300) {
        out.ok = true;
        out.error.clear();
        return out;
      }
      out.error = "HTTP " + std::to_string(out.http_status) + ": " + res.body().substr(0, 300);
      // 429 and server errors may pass; other client errors will not.
      if (out.http_status != 429 && out.http_status < 500) return out;
    } catch (const std::exception& e) {
      out.http_status = 0;
      out.error = e.what();
    }
    if (out.attempts < config_.rest_attempts) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
  }
  out.attempts = config_.rest_attempts;
  return out;
}

}  // namespace spoofex::server
