// End to end through `spoofex simulate` against a `spoofex serve` this test starts on
// loopback: the calls of issue 6's "must show", on SQLite and (when
// SPOOFEX_TEST_PG_URL is set) on PostgreSQL. Audio is synthesised here (flite, sox).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "e2e/harness.h"

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using nlohmann::json;
using namespace spoofex::e2e;

constexpr const char* kToken = "e2e-test-token";
constexpr const char* kEmergency = "+911123001101";
constexpr const char* kInquiry = "+911123001102";
constexpr const char* kComplaint = "+911123001103";
constexpr const char* kReview = "+911123001109";

// One server per database backend, shared by the tests of that backend.
struct Server {
  fs::path dir;
  std::string db;
  int port = 0;
  int api_port = 0;
  ServeProcess process;

  std::string env() const {
    return "SPOOFEX_TWILIO_AUTH_TOKEN=" + std::string(kToken) +
           " SPOOFEX_TWILIO_API_BASE=http://127.0.0.1:" + std::to_string(api_port) + " ";
  }
  std::string config() const { return (dir / "serve.toml").string(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  void start() {
    api_port = free_port();
    ASSERT_NO_FATAL_FAILURE(process.start(
        {"--config", config(), "--db", db},
        {"SPOOFEX_TWILIO_AUTH_TOKEN=" + std::string(kToken),
         "SPOOFEX_TWILIO_API_BASE=http://127.0.0.1:" + std::to_string(api_port)},
        (dir / "serve.log").string(), (dir / ("port-" + std::to_string(api_port))).string()));
    port = process.port();
  }
  void stop() { process.stop(); }
};

class ServeTest : public ::testing::TestWithParam<std::string> {
 protected:
  static inline fs::path dir_;
  static inline std::map<std::string, Server> servers_;

  static void SetUpTestSuite() {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("spoofex-serve-" + std::to_string(rd()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "serve.toml")
        << "[screening]\nown_numbers = [\"+911123001100\"]\n"
           "[twilio]\naccount_sid = \"AC"
        << std::string(32, '1')
        << "\"\n"
           "[departments.emergency]\nnumber = \""
        << kEmergency << "\"\n[departments.inquiry]\nnumber = \"" << kInquiry
        << "\"\n[departments.complaint]\nnumber = \"" << kComplaint
        << "\"\n[departments.operator_review]\nnumber = \"" << kReview << "\"\n";
    // The caller listens to the prompt (about 9 s) before speaking, as people do.
    const std::map<std::string, std::string> spoken = {
        {"emergency", "help there is a fire in my house please send the fire brigade"},
        {"inquiry", "i want to know the status of my complaint at the police station"},
        {"complaint", "someone stole my motorcycle from outside my house yesterday"}};
    for (const auto& [name, text] : spoken) {
      const auto raw = (dir_ / (name + "-raw.wav")).string();
      run("flite -voice slt -t " + shell_quote(text) + " -o " + raw);
      run("sox " + raw + " " + (dir_ / (name + ".wav")).string() + " pad 9.5 3");
    }
    // A recorded sales pitch that talks straight over the prompt.
    const auto pitch = (dir_ / "pitch.wav").string();
    run("flite -voice slt -t " +
        shell_quote("congratulations you have won a lottery prize of ten lakh rupees to claim "
                    "your prize press nine now") +
        " -o " + pitch);
    run("sox " + pitch + " " + pitch + " " + pitch + " " + (dir_ / "spam.wav").string());
    run("sox -n -r 8000 -c 1 -b 16 " + (dir_ / "silence.wav").string() + " trim 0 4");
    // Fax calling tone (CNG): 1100 Hz, 0.5 s on, 3 s off.
    run("sox -n -r 8000 -c 1 -b 16 " + (dir_ / "fax.wav").string() +
        " synth 0.5 sine 1100 vol 0.5 pad 0 3 repeat 4");
  }

  static void TearDownTestSuite() {
    for (auto& [name, s] : servers_) s.stop();
    servers_.clear();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Server& server() {
    auto [it, inserted] = servers_.try_emplace(GetParam());
    Server& s = it->second;
    if (inserted) {
      s.dir = dir_;
      s.db = GetParam() == "sqlite" ? "sqlite:" + (dir_ / "calls.db").string()
                                    : std::getenv("SPOOFEX_TEST_PG_URL");
      s.start();
    }
    return s;
  }

  std::string wav(const std::string& name) { return (dir_ / (name + ".wav")).string(); }

  json simulate(const std::string& from, const std::string& wav_path,
                const std::string& extra = "") {
    Server& s = server();
    int status = 0;
    const std::string out = run(s.env() + SPOOFEX_BIN + " simulate --config " + s.config() +
                                    " --db " + shell_quote(s.db) + " --url " + s.url() + " --wav " +
                                    wav_path + " --from " + shell_quote(from) + " " + extra,
                                &status);
    const json j = json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << out;
    EXPECT_EQ(status, 0) << out;
    return j.is_discarded() ? json::object() : j;
  }

  static std::vector<std::string> codes(const json& record) {
    std::vector<std::string> out;
    for (const auto& r : record.value("reasons", json::array())) out.push_back(r.value("code", ""));
    return out;
  }
  static bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  }

  std::string unique_caller() {
    static std::mt19937 rng(std::random_device{}());
    return "+9198" + std::to_string(10000000 + rng() % 89999999);
  }

  // A number from /metrics (-1 if it is missing).
  double metric(const std::string& name) {
    const std::string body = request(http::verb::get, "/metrics", "", {}).body();
    const auto at = body.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 2));
  }

  // A raw HTTP request to the server.
  http::response<http::string_body> request(http::verb verb, const std::string& target,
                                            const std::string& body,
                                            const std::map<std::string, std::string>& headers,
                                            int port = 0) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                 static_cast<unsigned short>(port ? port : server().port)));
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    return res;
  }
};

std::vector<std::string> backends() {
  std::vector<std::string> b = {"sqlite"};
  if (const char* pg = std::getenv("SPOOFEX_TEST_PG_URL"); pg && *pg) b.push_back("postgresql");
  return b;
}

INSTANTIATE_TEST_SUITE_P(Backends, ServeTest, ::testing::ValuesIn(backends()),
                         [](const auto& info) { return info.param; });

TEST_P(ServeTest, SpamListedCallerIsRejectedBeforeAnswer) {
  Server& s = server();
  const std::string caller = unique_caller();
  int status = 0;
  run(std::string(SPOOFEX_BIN) + " spam add " + caller + " --reason 'loan scam robocalls' --db " +
          shell_quote(s.db),
      &status);
  ASSERT_EQ(status, 0);
  // The running server follows the database's spam-list changes within a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const json r = simulate(caller, wav("silence"));
  EXPECT_EQ(r["simulation"]["outcome"], "rejected");
  EXPECT_EQ(r["simulation"]["gathers"], 0);
  EXPECT_EQ(r["status"], "rejected");
  EXPECT_EQ(r["category"], "spam") << r.dump();
  EXPECT_TRUE(r["flags"]["spam_listed"].get<bool>());
  EXPECT_TRUE(has(codes(r), "spam_listed"));
}

TEST_P(ServeTest, BlankCallHearsTheSilentSolutionPromptBeforeHangUp) {
  const json r = simulate(unique_caller(), wav("silence"));
  EXPECT_EQ(r["category"], "blank") << r.dump();
  EXPECT_EQ(r["department"], "callback_queue");
  EXPECT_EQ(r["simulation"]["outcome"], "hung_up");
  EXPECT_TRUE(r["silent_prompted"].get<bool>());
  bool heard_prompt = false;
  for (const auto& said : r["simulation"]["said"]) {
    heard_prompt |= said.get<std::string>().find("press 5 5") != std::string::npos;
  }
  EXPECT_TRUE(heard_prompt) << r["simulation"]["said"];
  EXPECT_TRUE(has(codes(r), "blank_call"));
}

TEST_P(ServeTest, BlankCallerPressing55IsRoutedAsAnEmergency) {
  const json r = simulate(unique_caller(), wav("silence"), "--digit 55 --press-at 2");
  EXPECT_EQ(r["category"], "emergency") << r.dump();
  EXPECT_EQ(r["simulation"]["dialed"], kEmergency);
  EXPECT_EQ(r["simulation"]["gathers"], 2);
  EXPECT_TRUE(has(codes(r), "silent_solution"));
}

TEST_P(ServeTest, FaxToneCallIsFlaggedSystemGeneratedAndHungUp) {
  const json r = simulate(unique_caller(), wav("fax"));
  EXPECT_TRUE(r["flags"]["system_generated"].get<bool>());
  EXPECT_TRUE(has(codes(r), "fax_modem_tone"));
  EXPECT_EQ(r["simulation"]["outcome"], "hung_up");
  EXPECT_NE(r["category"], "emergency");
}

TEST_P(ServeTest, SpokenEmergencyGoesToTheControlRoom) {
  const json r = simulate(unique_caller(), wav("emergency"));
  EXPECT_EQ(r["category"], "emergency") << r.dump();
  EXPECT_EQ(r["simulation"]["dialed"], kEmergency);
  EXPECT_NE(r["transcript"], "");
}

TEST_P(ServeTest, SpokenInquiryGoesToTheHelpDesk) {
  const json r = simulate(unique_caller(), wav("inquiry"), "--digit 2");
  EXPECT_EQ(r["category"], "inquiry") << r.dump();
  EXPECT_EQ(r["simulation"]["dialed"], kInquiry);
  EXPECT_EQ(r["digit"], "2");
}

TEST_P(ServeTest, SpokenComplaintGoesToTheComplaintsCell) {
  const json r = simulate(unique_caller(), wav("complaint"), "--digit 3");
  EXPECT_EQ(r["category"], "complaint") << r.dump();
  EXPECT_EQ(r["simulation"]["dialed"], kComplaint);
}

TEST_P(ServeTest, ACallPutThroughToAnOfficerHoldsNoDecoder) {
  const double before = metric("spoofex_utterances_recognised_total");
  ASSERT_GE(before, 0);
  // The caller stays on the line with the officer long after the words are transcribed.
  auto call = std::async(std::launch::async, [&] {
    return simulate(unique_caller(), wav("complaint"), "--digit 3 --talk-s 30");
  });
  bool transcribed = false;
  for (int i = 0; i < 600 && !transcribed; ++i) {
    transcribed = metric("spoofex_utterances_recognised_total") > before;
    if (!transcribed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(transcribed);
  EXPECT_GE(metric("spoofex_calls_active"), 1) << "the call should still be connected";
  // The decoder (about 90 MiB) went back to the pool with the utterance, not with the call.
  EXPECT_EQ(metric("spoofex_speech_decoders_busy"), 0);
  const json r = call.get();
  EXPECT_EQ(r["category"], "complaint") << r.dump();
}

// A node whose speech workers fall behind decodes new utterances with the fast search:
// one speech worker, six callers speaking at once, and any chunk that waited 1 ms counts.
TEST_P(ServeTest, ANodeBehindOnSpeechDecodesNewUtterancesWithTheFastSearch) {
  Server busy;
  busy.dir = dir_ / ("busy-" + GetParam());
  fs::create_directories(busy.dir);
  {
    std::ifstream base(dir_ / "serve.toml");
    std::ofstream(busy.dir / "serve.toml")
        << base.rdbuf() << "[server]\nspeech_threads = 1\nfast_speech_after_s = 0.001\n";
  }
  busy.db = GetParam() == "sqlite" ? "sqlite:" + (busy.dir / "calls.db").string() : server().db;
  ASSERT_NO_FATAL_FAILURE(busy.start());
  // One load generator places the six calls (each simulate serves the Twilio API itself).
  int status = 0;
  const std::string out =
      run(busy.env() + SPOOFEX_BIN + " simulate --config " + busy.config() + " --db " +
              shell_quote(busy.db) + " --url " + busy.url() + " --wav " + wav("complaint") +
              " --digit 3 --from " + shell_quote(unique_caller()) +
              " --calls 6 --concurrency 6 --realtime --no-records",
          &status);
  ASSERT_EQ(status, 0) << out;
  const json r = json::parse(out, nullptr, false);
  ASSERT_FALSE(r.is_discarded()) << out;
  EXPECT_EQ(r["outcomes"]["dialed"], 6) << r.dump();  // every call routed, fast or not
  const std::string body = request(http::verb::get, "/metrics", "", {}, busy.port).body();
  const auto at = body.find("\nspoofex_utterances_fast_total ");
  ASSERT_NE(at, std::string::npos) << body;
  EXPECT_GE(std::stod(body.substr(at + 31)), 1) << body;
  busy.stop();
}

TEST_P(ServeTest, WordsBeforeAStreamDiesWithoutAStopAreStillTranscribed) {
  // The socket dies at 12 s, mid-sentence ("help there is a fire ..." begins at 9.5 s).
  const json r = simulate(unique_caller(), wav("emergency"), "--drop-stream-s 12");
  EXPECT_NE(r["transcript"], "") << r.dump();
  EXPECT_EQ(r["category"], "emergency") << r.dump();
  EXPECT_EQ(r["simulation"]["dialed"], kEmergency) << r.dump();
}

TEST_P(ServeTest, RecordedSalesPitchOverThePromptIsHungUpAsSpam) {
  const json r = simulate(unique_caller(), wav("spam"));
  EXPECT_EQ(r["category"], "spam") << r.dump();
  EXPECT_EQ(r["department"], "spam_filter");
  EXPECT_EQ(r["simulation"]["outcome"], "hung_up");
  EXPECT_TRUE(has(codes(r), "talk_over_prompt"));
}

TEST_P(ServeTest, KeyOneIsAnEmergencyWhateverWasSaid) {
  const json r = simulate(unique_caller(), wav("complaint"), "--digit 1");
  EXPECT_EQ(r["category"], "emergency") << r.dump();
  EXPECT_EQ(r["simulation"]["dialed"], kEmergency);
  // The stored record is what `spoofex export` reports.
  int status = 0;
  const std::string out =
      run(std::string(SPOOFEX_BIN) + " export --format jsonl --db " + shell_quote(server().db),
          &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find(r["call_sid"].get<std::string>()), std::string::npos);
}

TEST_P(ServeTest, ForgedSignatureGets403) {
  const std::string body = "CallSid=CA" + std::string(32, 'a') + "&From=%2B919876543210";
  auto res = request(http::verb::post, "/twilio/voice", body,
                     {{"Content-Type", "application/x-www-form-urlencoded"},
                      {"X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl"}});
  EXPECT_EQ(res.result_int(), 403);
  auto unsigned_res = request(http::verb::post, "/twilio/voice", body,
                              {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(unsigned_res.result_int(), 403);
}

TEST_P(ServeTest, MalformedFormBodyGets400) {
  // Not valid form encoding: refused before the signature is even looked at.
  auto res = request(http::verb::post, "/twilio/voice", "CallSid=%zz",
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(res.result_int(), 400);
}

TEST_P(ServeTest, OversizedBodyGets413AndServerStaysUp) {
  auto res = request(http::verb::post, "/twilio/voice", std::string(200 * 1024, 'a'),
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(request(http::verb::get, "/healthz", "", {}).result_int(), 200);
}

TEST_P(ServeTest, UnsignedStreamUpgradeIsRefused) {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws(ioc);
  beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                                    static_cast<unsigned short>(server().port)));
  beast::error_code ec;
  ws.handshake("127.0.0.1", "/twilio/stream", ec);
  EXPECT_TRUE(ec);
}

TEST_P(ServeTest, MetricsCountForgedRequests) {
  auto res = request(http::verb::get, "/metrics", "", {});
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_NE(res.body().find("spoofex_forged_requests_total"), std::string::npos);
  EXPECT_NE(res.body().find("spoofex_calls_active"), std::string::npos);
  // A supervisor sizing the node watches the speech backlog.
  EXPECT_NE(res.body().find("\nspoofex_speech_queue "), std::string::npos);
  EXPECT_NE(res.body().find("\nspoofex_speech_wait_seconds "), std::string::npos);
}

TEST_P(ServeTest, ApiNeedsALogInAndACsrfToken) {
  Server& s = server();
  int status = 0;
  const std::string user = "sup" + std::to_string(std::random_device{}() % 100000);
  run("echo 'correct horse battery' | " + std::string(SPOOFEX_BIN) + " user add " + user +
          " --role supervisor --db " + shell_quote(s.db),
      &status);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(request(http::verb::get, "/api/calls", "", {}).result_int(), 401);
  auto bad = request(http::verb::post, "/api/login",
                     json{{"username", user}, {"password", "wrong password"}}.dump(), {});
  EXPECT_EQ(bad.result_int(), 401);
  auto ok = request(http::verb::post, "/api/login",
                    json{{"username", user}, {"password", "correct horse battery"}}.dump(), {});
  ASSERT_EQ(ok.result_int(), 200) << ok.body();
  const std::string set_cookie(ok[http::field::set_cookie]);
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = json::parse(ok.body())["csrf_token"];
  EXPECT_EQ(request(http::verb::get, "/api/calls?limit=5", "", {{"Cookie", cookie}}).result_int(),
            200);
  const std::string add = json{{"number", unique_caller()}, {"reason", "test"}}.dump();
  EXPECT_EQ(request(http::verb::post, "/api/spam", add, {{"Cookie", cookie}}).result_int(), 403);
  EXPECT_EQ(request(http::verb::post, "/api/spam", add,
                    {{"Cookie", cookie}, {"X-CSRF-Token", std::string(64, '0')}})
                .result_int(),
            403);
  EXPECT_EQ(
      request(http::verb::post, "/api/spam", add, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}})
          .result_int(),
      200);
  EXPECT_EQ(request(http::verb::post, "/api/spam", R"({"number":"12","reason":""})",
                    {{"Cookie", cookie}, {"X-CSRF-Token", csrf}})
                .result_int(),
            400);
  EXPECT_EQ(request(http::verb::get, "/api/users", "", {{"Cookie", cookie}}).result_int(), 403);
}

// Two nodes on one database: a spam-list change made through node B's dashboard API
// reaches node A's in-memory list within a second, and node B's live feed shows the
// call node A took.
TEST_P(ServeTest, TwoNodesShareTheSpamListAndSeeEachOthersCalls) {
  Server& a = server();
  Server b;
  b.dir = dir_ / ("node-b-" + GetParam());
  fs::create_directories(b.dir);
  {
    std::ifstream in(a.config());
    std::ofstream out(b.config());
    out << in.rdbuf() << "\n[server]\nnode = \"node-b\"\n";
  }
  b.db = a.db;
  b.start();
  const std::string user = "nodeb" + std::to_string(std::random_device{}() % 100000);
  int status = 0;
  run("echo 'correct horse battery' | " + std::string(SPOOFEX_BIN) + " user add " + user +
          " --role supervisor --db " + shell_quote(a.db),
      &status);
  ASSERT_EQ(status, 0);
  auto login =
      request(http::verb::post, "/api/login",
              json{{"username", user}, {"password", "correct horse battery"}}.dump(), {}, b.port);
  ASSERT_EQ(login.result_int(), 200) << login.body();
  const std::string set_cookie(login[http::field::set_cookie]);
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = json::parse(login.body())["csrf_token"];

  // Node B's live feed, read on a thread until node A's call shows up.
  std::string feed;
  std::atomic<bool> seen{false};
  std::string caller = unique_caller();
  std::thread reader([&] {
    asio::io_context ioc;
    tcp::socket sock(ioc);
    sock.connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(b.port)));
    const std::string req = "GET /api/events HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n";
    asio::write(sock, asio::buffer(req));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    char buf[4096];
    while (!seen && std::chrono::steady_clock::now() < deadline) {
      beast::error_code ec;
      if (sock.available(ec) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      const std::size_t n = sock.read_some(asio::buffer(buf), ec);
      if (ec) break;
      feed.append(buf, n);
      if (feed.find(caller) != std::string::npos && feed.find("rejected") != std::string::npos) {
        seen = true;
      }
    }
  });
  auto added = request(http::verb::post, "/api/spam",
                       json{{"number", caller}, {"reason", "reported on node B"}}.dump(),
                       {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, b.port);
  EXPECT_EQ(added.result_int(), 200) << added.body();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  const json r = simulate(caller, wav("silence"));
  EXPECT_EQ(r["simulation"]["outcome"], "rejected") << "node A did not learn of node B's change";
  reader.join();
  EXPECT_TRUE(seen) << "node B's feed never showed node A's call; it got: " << feed.substr(0, 500);
  b.stop();
}

TEST_P(ServeTest, StaticFilesCannotEscapeTheWebFolder) {
  EXPECT_EQ(request(http::verb::get, "/static/..%2F..%2Fetc%2Fpasswd", "", {}).result_int(), 404);
  EXPECT_EQ(request(http::verb::get, "/static/.hidden", "", {}).result_int(), 404);
}

}  // namespace
