// spoofex simulate: plays Twilio's part against a running `spoofex serve` (design.md).
// A signed voice webhook; the TwiML that comes back parsed and obeyed verb by verb;
// the Media Stream opened and fed from a WAV; the keys sent through the Gather
// action; Twilio's REST API served so the server's call updates interrupt the call
// as they would on Twilio; a status callback at the end. Then the stored record.
#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

#include "app/commands.h"
#include "app/twiml_player.h"

namespace spoofex::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

struct SimOptions {
  std::string url;
  std::string wav;
  std::string from;
  std::string to = "+911123001100";
  std::string digit;
  int press_at = 1;
  bool realtime = false;
  double speed = 5;
  int calls = 1;
  int concurrency = 1;
  double ramp_s = 0;  // the first calls start spread over this long, not all at once
  double max_call_s = 180;
  double talk_s = 2;         // with the officer, after being put through
  double drop_stream_s = 0;  // fault: the media socket dies without a stop message
  double wait_record_s = 20;
  bool records = true;
  std::string stir;
};

std::string random_sid(std::string_view prefix, std::mt19937_64& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(prefix);
  for (int i = 0; i < 32; ++i) s += kHex[rng() & 15];
  return s;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Everything shared by the calls of one run.
struct Run {
  const SimOptions& opt;
  std::string account_sid, auth_token;
  std::vector<std::uint8_t> mulaw;  // the caller's audio, 8 kHz µ-law
  double scale = 1;                 // simulated seconds per wall second
  std::mutex calls_mu;
  std::map<std::string, struct Call*> live;
};

// One simulated call. The call thread runs TwiML; a second thread feeds the stream.
struct Call {
  Run& run;
  std::string sid, from;
  std::mt19937_64 rng;
  // REST updates, delivered by the fake API's threads.
  std::mutex mu;
  std::condition_variable cv;
  std::optional<std::string> update;  // TwiML to run now, or "" to hang up
  bool ended = false;
  std::thread streamer;
  std::atomic<bool> stream_stop{false};
  // what happened
  std::vector<std::string> said;
  std::string dialed, outcome;
  int gathers = 0;
  double webhook_ms = 0;
  std::vector<double> gather_ms;
  SteadyClock::time_point t0 = SteadyClock::now();
  std::optional<double> routed_s;
  std::string error;

  Call(Run& r, std::string call_sid, std::string caller)
      : run(r), sid(std::move(call_sid)), from(std::move(caller)), rng(std::random_device{}()) {}

  std::string sign(const std::string& url, const telephony::Params& params) const {
    return telephony::twilio_signature(url, params, run.auth_token);
  }

  std::string absolute(const std::string& url) const {
    if (url.starts_with("http://") || url.starts_with("https://")) return url;
    return run.opt.url + url;
  }

  telephony::Params base_params() const {
    return {{"AccountSid", run.account_sid},
            {"ApiVersion", "2010-04-01"},
            {"CallSid", sid},
            {"CallStatus", "in-progress"},
            {"Called", run.opt.to},
            {"Caller", from},
            {"Direction", "inbound"},
            {"From", from},
            {"To", run.opt.to}};
  }

  Result<HttpReply> post(const std::string& url, telephony::Params params) {
    const std::string abs = absolute(url);
    const std::string signature = sign(abs, params);
    return http_post(abs, telephony::form_encode(params), {{"X-Twilio-Signature", signature}});
  }

  // Waits `simulated_s` (scaled), unless the server updates the call meanwhile.
  std::optional<std::string> wait(double simulated_s) {
    std::unique_lock lock(mu);
    const auto until =
        SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                 std::chrono::duration<double>(simulated_s / run.scale));
    cv.wait_until(lock, until, [&] { return update.has_value(); });
    if (update) return std::exchange(update, std::nullopt);
    return std::nullopt;
  }

  static double say_seconds(const std::string& text) { return telephony::spoken_seconds(text); }

  void start_stream(const TwimlNode& stream) {
    telephony::Params custom;
    for (const auto& p : stream.children) {
      if (p.name == "Parameter") custom.emplace_back(p.attribute("name"), p.attribute("value"));
    }
    const std::string url = stream.attribute("url");
    streamer = std::thread([this, url, custom] { feed_stream(url, custom); });
  }

  void feed_stream(const std::string& url, const telephony::Params& custom) {
    auto u = parse_http_url(url);
    if (!u) {
      error = "stream: " + u.error();
      return;
    }
    try {
      asio::io_context ioc;
      tcp::resolver resolver(ioc);
      websocket::stream<beast::tcp_stream> ws(ioc);
      beast::get_lowest_layer(ws).connect(resolver.resolve(u->host, u->port));
      const std::string signature = sign(url, {});
      ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
        req.set("X-Twilio-Signature", signature);
        req.set(beast::http::field::user_agent, "Twilio.TmeWs/1.0 (spoofex simulate)");
      }));
      ws.handshake(u->host + ":" + u->port, u->target);
      ws.text(true);
      const std::string stream_sid = random_sid("MZ", rng);
      nlohmann::json params = nlohmann::json::object();
      for (const auto& [k, v] : custom) params[k] = v;
      ws.write(asio::buffer(
          std::string(R"({"event":"connected","protocol":"Call","version":"1.0.0"})")));
      long seq = 1;
      ws.write(asio::buffer(nlohmann::json{
          {"event", "start"},
          {"sequenceNumber", std::to_string(seq++)},
          {"streamSid", stream_sid},
          {"start",
           {{"accountSid", run.account_sid},
            {"callSid", sid},
            {"streamSid", stream_sid},
            {"tracks", {"inbound"}},
            {"customParameters", params},
            {"mediaFormat",
             {{"encoding", "audio/x-mulaw"}, {"sampleRate", 8000}, {"channels", 1}}}}}}
                                .dump()));
      const std::vector<std::uint8_t> silence(160, 0xFF);  // µ-law zero
      const auto start = SteadyClock::now();
      const auto frame = std::chrono::duration<double>(0.02 / run.scale);
      for (long chunk = 1; !stream_stop; ++chunk) {
        const std::size_t off = static_cast<std::size_t>(chunk - 1) * 160;
        const std::span<const std::uint8_t> bytes =
            off < run.mulaw.size() ? std::span<const std::uint8_t>(run.mulaw).subspan(
                                         off, std::min<std::size_t>(160, run.mulaw.size() - off))
                                   : std::span<const std::uint8_t>(silence);
        ws.write(asio::buffer(nlohmann::json{{"event", "media"},
                                             {"sequenceNumber", std::to_string(seq++)},
                                             {"streamSid", stream_sid},
                                             {"media",
                                              {{"track", "inbound"},
                                               {"chunk", std::to_string(chunk)},
                                               {"timestamp", std::to_string(chunk * 20)},
                                               {"payload", telephony::base64_encode(bytes)}}}}
                                  .dump()));
        if (static_cast<double>(chunk) * 0.02 > run.opt.max_call_s) break;
        if (run.opt.drop_stream_s > 0 &&
            static_cast<double>(chunk) * 0.02 >= run.opt.drop_stream_s) {
          beast::get_lowest_layer(ws).socket().close();  // no stop message, no close frame
          return;
        }
        std::this_thread::sleep_until(start + std::chrono::duration_cast<SteadyClock::duration>(
                                                  frame * static_cast<double>(chunk)));
      }
      ws.write(
          asio::buffer(nlohmann::json{{"event", "stop"},
                                      {"sequenceNumber", std::to_string(seq++)},
                                      {"streamSid", stream_sid},
                                      {"stop", {{"accountSid", run.account_sid}, {"callSid", sid}}}}
                           .dump()));
      beast::error_code ec;
      ws.close(websocket::close_code::normal, ec);
    } catch (const std::exception& e) {
      if (!stream_stop) error = std::string("stream: ") + e.what();
    }
  }

  // Runs one TwiML document; returns the next one to run, or nothing when the call ends.
  std::optional<std::string> execute(const std::string& xml) {
    auto verbs = parse_twiml(xml);
    if (!verbs) {
      error = verbs.error();
      outcome = "application_error";
      return std::nullopt;
    }
    for (const auto& v : *verbs) {
      if (v.name == "Reject") {
        outcome = "rejected";
        return std::nullopt;
      }
      if (v.name == "Hangup") {
        outcome = "hung_up";
        return std::nullopt;
      }
      if (v.name == "Say") {
        said.push_back(v.text);
        if (auto u = wait(say_seconds(v.text))) return u;
      } else if (v.name == "Pause") {
        if (auto u = wait(std::stod(v.attribute("length", "1")))) return u;
      } else if (v.name == "Start") {
        for (const auto& s : v.children) {
          if (s.name == "Stream" && !streamer.joinable()) start_stream(s);
        }
      } else if (v.name == "Stop") {
        // <Stop><Stream name=...>: Twilio ends the fork with a stop message.
        for (const auto& st : v.children) {
          if (st.name == "Stream") stream_stop = true;
        }
      } else if (v.name == "Redirect") {
        auto r = post(v.text, base_params());
        if (!r || r->status != 200) return fail_http("Redirect", r);
        return r->body;
      } else if (v.name == "Dial") {
        for (const auto& n : v.children) {
          if (n.name == "Number") dialed = n.text;
        }
        if (dialed.empty()) dialed = v.text;
        routed_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
        outcome = "dialed";
        if (auto u = wait(run.opt.talk_s)) return u;  // the officer answers and talks
        return std::nullopt;
      } else if (v.name == "Gather") {
        if (auto u = gather(v)) return u;
        return last_gather_reply;
      }
    }
    outcome = outcome.empty() ? "twiml_ended" : outcome;
    return std::nullopt;
  }

  std::optional<std::string> last_gather_reply;

  std::optional<std::string> fail_http(const char* what, const Result<HttpReply>& r) {
    error = std::string(what) + ": " +
            (r ? "HTTP " + std::to_string(r->status) + " " + r->body : r.error());
    outcome = "application_error";
    return std::nullopt;
  }

  // Plays the prompt, presses the keys (at the chosen Gather), posts the action.
  // Returns an interrupting update, else leaves the action's TwiML in last_gather_reply.
  std::optional<std::string> gather(const TwimlNode& g) {
    ++gathers;
    last_gather_reply.reset();
    for (const auto& c : g.children) {
      if (c.name == "Say") {
        said.push_back(c.text);
        if (auto u = wait(say_seconds(c.text))) return u;
      }
    }
    std::string keys;
    if (gathers == run.opt.press_at && !run.opt.digit.empty()) {
      keys = run.opt.digit;
      if (auto u = wait(0.3 * static_cast<double>(keys.size()))) return u;
    } else {
      if (auto u = wait(std::stod(g.attribute("timeout", "5")))) return u;
    }
    auto params = base_params();
    params.emplace_back("Digits", keys);
    params.emplace_back("FinishedOnKey", "");
    const auto t = SteadyClock::now();
    auto r = post(g.attribute("action"), params);
    gather_ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count());
    if (!r || r->status != 200) {
      fail_http("Gather action", r);
      return std::nullopt;
    }
    last_gather_reply = r->body;
    return std::nullopt;
  }

  void place() {
    t0 = SteadyClock::now();  // timings count from the call's start, not the run's
    {
      std::lock_guard lock(run.calls_mu);
      run.live[sid] = this;
    }
    auto params = base_params();
    params[3].second = "ringing";
    if (!run.opt.stir.empty()) params.emplace_back("StirVerstat", run.opt.stir);
    const auto t = SteadyClock::now();
    auto r = post(run.opt.url + "/twilio/voice", params);
    webhook_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count();
    std::optional<std::string> doc;
    if (!r || r->status != 200) {
      fail_http("voice webhook", r);
    } else {
      doc = r->body;
    }
    while (doc && outcome.empty()) {
      auto next = execute(*doc);
      if (!next) break;
      if (next->empty()) {  // the server ended the call through the REST API
        outcome = "hung_up_by_api";
        break;
      }
      doc = std::move(next);
    }
    stream_stop = true;
    if (streamer.joinable()) streamer.join();
    const double duration = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    if (outcome != "rejected" && r && r->status == 200) {
      auto status = base_params();
      status[3].second = "completed";
      status.emplace_back("CallDuration", std::to_string(static_cast<int>(duration * run.scale)));
      if (auto sr = post(run.opt.url + "/twilio/status", status); !sr || sr->status >= 300) {
        error = "status callback: " + (sr ? "HTTP " + std::to_string(sr->status) : sr.error());
      }
    }
    std::lock_guard lock(run.calls_mu);
    run.live.erase(sid);
  }

  bool deliver(const telephony::Params& form) {
    std::lock_guard lock(mu);
    if (auto twiml = telephony::param(form, "Twiml")) {
      update = std::string(*twiml);
    } else if (telephony::param(form, "Status") == std::optional<std::string_view>("completed")) {
      update = std::string();
    } else {
      return true;  // Url= updates are not simulated; accepted and ignored
    }
    cv.notify_all();
    return true;
  }
};

Result<nlohmann::json> stored_record(store::Store& db, const std::string& sid, double wait_s) {
  const auto deadline = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                 std::chrono::duration<double>(wait_s));
  std::optional<store::CallRecord> last;
  for (;;) {
    auto rec = db.find_call(sid);
    if (!rec) return Error{rec.error()};
    if (*rec) {
      last = **rec;
      const auto& s = last->status;
      if (s == "completed" || s == "rejected" || s == "busy" || s == "failed" || s == "no-answer" ||
          s == "canceled") {
        break;
      }
    }
    if (SteadyClock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!last) return Error{"the server stored no record of call " + sid};
  auto j = nlohmann::json::parse(last->record_json, nullptr, false);
  if (j.is_discarded()) return Error{"the stored record of " + sid + " is not JSON"};
  j["call_sid"] = last->call_sid;
  j["status"] = last->status;
  return j;
}

int run_simulate(const Context& ctx, SimOptions opt) {
  if (opt.digit.size() > 8 || opt.digit.find_first_not_of("0123456789*#") != std::string::npos) {
    return fail("simulate: --digit must be keypad keys (0-9, *, #)");
  }
  while (opt.url.ends_with('/')) opt.url.pop_back();
  if (auto u = parse_http_url(opt.url); !u) return fail("simulate: --url " + u.error());
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  Run run{opt, cfg->server.twilio.account_sid, cfg->server.twilio.auth_token, {}, 1, {}, {}};
  if (run.account_sid.empty()) run.account_sid = "AC" + std::string(32, '0');
  run.scale = opt.realtime ? 1 : std::max(0.1, opt.speed);
  auto wav = audio::read_wav(opt.wav);
  if (!wav) return fail("simulate: " + wav.error());
  run.mulaw = audio::encode_mulaw(audio::resample(wav->samples, wav->sample_rate, 8000));

  const char* api_base = std::getenv("SPOOFEX_TWILIO_API_BASE");
  if (!api_base || !*api_base) {
    return fail(
        "simulate: set SPOOFEX_TWILIO_API_BASE to the http://HOST:PORT where the server "
        "sends call updates (the simulator serves Twilio's API there)");
  }
  auto api = FakeTwilioApi::start(api_base, run.account_sid, run.auth_token,
                                  [&run](const std::string& sid, const telephony::Params& form) {
                                    std::lock_guard lock(run.calls_mu);
                                    auto it = run.live.find(sid);
                                    return it != run.live.end() && it->second->deliver(form);
                                  });
  if (!api) return fail("simulate: " + api.error(), kExitFailure);

  std::unique_ptr<store::Store> db;
  if (opt.records) {
    auto opened = Context::open_store(*cfg);
    if (!opened) return fail(opened.error(), kExitFailure);
    db = std::move(*opened);
  }
  std::mt19937_64 rng(std::random_device{}());
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < opt.calls; ++i) {
    std::string from = opt.from;
    if (opt.calls > 1 && from.size() > 4 &&
        from.find_first_not_of("+0123456789") == std::string::npos) {
      // Distinct callers, so a load test is not one number calling in a burst.
      const std::string tail = std::to_string(10000 + i % 10000).substr(1);
      from = from.substr(0, from.size() - 4) + tail;
    }
    calls.push_back(std::make_unique<Call>(run, random_sid("CA", rng), from));
  }
  const auto t0 = SteadyClock::now();
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> workers;
  const int slots = std::max(1, opt.concurrency);
  for (int w = 0; w < slots; ++w) {
    workers.emplace_back([&, w] {
      // Callers arrive one by one over the ramp; each slot then redials as its call ends.
      std::this_thread::sleep_until(t0 + std::chrono::duration<double>(opt.ramp_s * w / slots));
      for (std::size_t i = next++; i < calls.size(); i = next++) calls[i]->place();
    });
  }
  for (auto& w : workers) w.join();
  const double wall = std::chrono::duration<double>(SteadyClock::now() - t0).count();

  int exit_code = kExitOk;
  if (opt.calls == 1) {
    Call& c = *calls.front();
    nlohmann::json out;
    if (db) {
      auto rec = stored_record(*db, c.sid, opt.wait_record_s);
      if (!rec) {
        std::cerr << "spoofex: simulate: " << rec.error() << '\n';
        exit_code = kExitFailure;
        out = {{"call_sid", c.sid}, {"status", nullptr}};
      } else {
        out = std::move(*rec);
      }
    } else {
      out = {{"call_sid", c.sid}};
    }
    out["simulation"] = {{"outcome", c.outcome},
                         {"dialed", c.dialed},
                         {"said", c.said},
                         {"gathers", c.gathers},
                         {"webhook_ms", c.webhook_ms},
                         {"gather_ms", c.gather_ms},
                         {"routed_s", c.routed_s ? nlohmann::json(*c.routed_s) : nlohmann::json()},
                         {"error", c.error}};
    print_json(out);
    if (!c.error.empty()) {
      std::cerr << "spoofex: simulate: " << c.error << '\n';
      exit_code = kExitFailure;
    }
    return exit_code;
  }
  std::vector<double> webhook, gather, routed;
  std::map<std::string, int> outcomes;
  int errors = 0;
  for (const auto& c : calls) {
    webhook.push_back(c->webhook_ms);
    gather.insert(gather.end(), c->gather_ms.begin(), c->gather_ms.end());
    if (c->routed_s) routed.push_back(*c->routed_s);
    ++outcomes[c->outcome];
    if (!c->error.empty()) ++errors;
  }
  print_json(
      {{"calls", opt.calls},
       {"concurrency", opt.concurrency},
       {"ramp_s", opt.ramp_s},
       {"speed", run.scale},
       {"wall_s", wall},
       {"calls_per_s", opt.calls / wall},
       {"errors", errors},
       {"outcomes", outcomes},
       {"webhook_ms",
        {{"p50", percentile(webhook, 0.5)},
         {"p99", percentile(webhook, 0.99)},
         {"max", percentile(webhook, 1)}}},
       {"gather_ms",
        {{"p50", percentile(gather, 0.5)},
         {"p99", percentile(gather, 0.99)},
         {"max", percentile(gather, 1)}}},
       {"routed_after_s", {{"p50", percentile(routed, 0.5)}, {"p99", percentile(routed, 0.99)}}}});
  return errors == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void add_simulate_command(CLI::App& app, const Context& ctx, int& exit_code) {
  auto opt = std::make_shared<SimOptions>();
  auto* cmd = app.add_subcommand("simulate", "place a call against spoofex serve, as Twilio would");
  cmd->add_option("--url", opt->url, "the server, e.g. http://127.0.0.1:8080")->required();
  cmd->add_option("--wav", opt->wav, "what the caller's line carries (any WAV)")->required();
  cmd->add_option("--from", opt->from, "the caller ID")->required();
  cmd->add_option("--to", opt->to, "the number called");
  cmd->add_option("--digit", opt->digit, "keys the caller presses (e.g. 1, or 55)");
  cmd->add_option("--press-at", opt->press_at,
                  "which prompt the keys answer: 1 the first, 2 the silent-solution prompt")
      ->check(CLI::Range(1, 10));
  cmd->add_flag("--realtime", opt->realtime, "pace audio and prompts in real time");
  cmd->add_option("--speed", opt->speed, "how much faster than real time otherwise (default 5)")
      ->check(CLI::Range(0.1, 100.0));
  cmd->add_option("--stir", opt->stir, "StirVerstat to send");
  cmd->add_option("--calls", opt->calls, "calls to place (load generator)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--concurrency", opt->concurrency, "calls at once")->check(CLI::Range(1, 5000));
  cmd->add_option(
         "--ramp-s", opt->ramp_s,
         "spread the first calls' starts evenly over this many seconds (default 0: at once)")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--max-call-s", opt->max_call_s, "longest simulated call")
      ->check(CLI::Range(1.0, 3600.0));
  cmd->add_option("--talk-s", opt->talk_s,
                  "how long the caller talks with the officer once put through (default 2)")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--drop-stream-s", opt->drop_stream_s,
                  "fault: the media stream's socket dies after this many seconds, without a stop "
                  "message")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--wait-record-s", opt->wait_record_s,
                  "how long to wait for the server's final record");
  cmd->add_flag("!--no-records", opt->records, "do not read the stored record (load tests)");
  cmd->callback([&ctx, &exit_code, opt] { exit_code = run_simulate(ctx, *opt); });
}

}  // namespace spoofex::app
