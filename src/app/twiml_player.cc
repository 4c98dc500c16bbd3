#include "app/twiml_player.h"

#include <expat.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <iostream>

namespace spoofex::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct ParseState {
  std::vector<TwimlNode> stack;
  std::optional<TwimlNode> root;
  int depth = 0;
};

void XMLCALL on_start(void* data, const XML_Char* name, const XML_Char** attrs) {
  auto* st = static_cast<ParseState*>(data);
  TwimlNode node;
  node.name = name;
  for (int i = 0; attrs[i]; i += 2) node.attributes[attrs[i]] = attrs[i + 1];
  st->stack.push_back(std::move(node));
}

void XMLCALL on_end(void* data, const XML_Char*) {
  auto* st = static_cast<ParseState*>(data);
  TwimlNode node = std::move(st->stack.back());
  st->stack.pop_back();
  if (st->stack.empty()) {
    st->root = std::move(node);
  } else {
    st->stack.back().children.push_back(std::move(node));
  }
}

void XMLCALL on_text(void* data, const XML_Char* s, int len) {
  auto* st = static_cast<ParseState*>(data);
  if (!st->stack.empty()) st->stack.back().text.append(s, static_cast<std::size_t>(len));
}

}  // namespace

std::string TwimlNode::attribute(const std::string& key, std::string fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : it->second;
}

Result<std::vector<TwimlNode>> parse_twiml(std::string_view xml) {
  ParseState st;
  std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(XML_ParserCreate("UTF-8"),
                                                                      &XML_ParserFree);
  XML_SetUserData(parser.get(), &st);
  XML_SetElementHandler(parser.get(), on_start, on_end);
  XML_SetCharacterDataHandler(parser.get(), on_text);
  if (XML_Parse(parser.get(), xml.data(), static_cast<int>(xml.size()), 1) == XML_STATUS_ERROR) {
    return Error{std::string("TwiML is not well-formed XML: ") +
                 XML_ErrorString(XML_GetErrorCode(parser.get())) + " at line " +
                 std::to_string(XML_GetCurrentLineNumber(parser.get()))};
  }
  if (!st.root || st.root->name != "Response") return Error{"TwiML root is not <Response>"};
  return std::move(st.root->children);
}

Result<HttpUrl> parse_http_url(std::string_view url) {
  std::string_view rest;
  std::string default_port = "80";
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("ws://")) {
    rest = url.substr(5);
  } else {
    return Error{"'" + std::string(url) +
                 "': simulate speaks plain http:// and ws:// (put TLS in front of spoofex, not "
                 "between it and the simulator)"};
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  HttpUrl u;
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  const auto colon = authority.rfind(':');
  u.host = std::string(authority.substr(0, colon));
  u.port =
      colon == std::string_view::npos ? default_port : std::string(authority.substr(colon + 1));
  if (u.host.empty()) return Error{"'" + std::string(url) + "' has no host"};
  return u;
}

Result<HttpReply> http_post(const std::string& url, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  auto u = parse_http_url(url);
  if (!u) return Error{u.error()};
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(resolver.resolve(u->host, u->port));
    http::request<http::string_body> req{http::verb::post, u->target, 11};
    req.set(http::field::host, u->host + ":" + u->port);
    req.set(http::field::user_agent, "TwilioProxy/1.1 (spoofex simulate)");
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return HttpReply{static_cast<int>(res.result_int()), std::move(res.body())};
  } catch (const std::exception& e) {
    return Error{"POST " + url + ": " + e.what()};
  }
}

struct FakeTwilioApi::State {
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::string account_sid, expected_auth, prefix;
  Handler on_update;
  std::thread thread;
  std::atomic<bool> stopping{false};

  void serve(tcp::socket socket) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) return;
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.set(http::field::content_type, "application/json");
      const std::string target(req.target());
      const std::string calls = prefix + "/2010-04-01/Accounts/" + account_sid + "/Calls/";
      if (req[http::field::authorization] != expected_auth) {
        res.result(http::status::unauthorized);
        res.body() = R"({"code":20003,"message":"Authenticate","status":401})";
      } else if (req.method() != http::verb::post || !target.starts_with(calls) ||
                 !target.ends_with(".json")) {
        res.result(http::status::not_found);
        res.body() = R"({"code":20404,"message":"not found","status":404})";
      } else {
        const std::string sid =
            target.substr(calls.size(), target.size() - calls.size() - std::string(".json").size());
        auto form = telephony::parse_form(req.body());
        if (!form) {
          res.result(http::status::bad_request);
          res.body() = R"({"code":21100,"message":"bad form","status":400})";
        } else if (!on_update(sid, *form)) {
          res.result(http::status::not_found);
          res.body() = R"({"code":20404,"message":"no such call","status":404})";
        } else {
          res.body() = R"({"sid":")" + sid + R"(","status":"in-progress"})";
        }
      }
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || !req.keep_alive()) return;
    }
  }

  void accept_loop() {
    while (!stopping) {
      beast::error_code ec;
      tcp::socket socket(ioc);
      acceptor->accept(socket, ec);
      if (ec || stopping) return;
      std::thread([this, s = std::move(socket)]() mutable { serve(std::move(s)); }).detach();
    }
  }
};

Result<std::unique_ptr<FakeTwilioApi>> FakeTwilioApi::start(const std::string& base_url,
                                                            std::string account_sid,
                                                            std::string auth_token,
                                                            Handler on_update) {
  auto u = parse_http_url(base_url);
  if (!u) return Error{"SPOOFEX_TWILIO_API_BASE: " + u.error()};
  std::unique_ptr<FakeTwilioApi> api(new FakeTwilioApi());
  api->state_ = std::make_unique<State>();
  auto& st = *api->state_;
  st.account_sid = std::move(account_sid);
  const std::string credentials = st.account_sid + ":" + auth_token;
  st.expected_auth = "Basic " + telephony::base64_encode(
                                    {reinterpret_cast<const std::uint8_t*>(credentials.data()),
                                     credentials.size()});
  st.prefix = u->target == "/" ? "" : u->target;
  while (st.prefix.ends_with('/')) st.prefix.pop_back();
  st.on_update = std::move(on_update);
  try {
    tcp::endpoint ep(asio::ip::make_address(u->host == "localhost" ? "127.0.0.1" : u->host),
                     static_cast<unsigned short>(std::stoi(u->port)));
    st.acceptor.emplace(st.ioc);
    st.acceptor->open(ep.protocol());
    st.acceptor->set_option(asio::socket_base::reuse_address(true));
    st.acceptor->bind(ep);
    st.acceptor->listen();
  } catch (const std::exception& e) {
    return Error{"cannot serve the Twilio API at " + base_url + ": " + e.what()};
  }
  st.thread = std::thread([&st] { st.accept_loop(); });
  return api;
}

FakeTwilioApi::~FakeTwilioApi() {
  if (!state_) return;
  state_->stopping = true;
  beast::error_code ec;
  // Wake the blocking accept with a connection of our own.
  try {
    tcp::socket s(state_->ioc);
    s.connect(state_->acceptor->local_endpoint(), ec);
  } catch (const std::exception&) {
  }
  state_->acceptor->close(ec);
  if (state_->thread.joinable()) state_->thread.join();
}

}  // namespace spoofex::app
