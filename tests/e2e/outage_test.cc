// End to end against the real `spoofex serve` (issue 7: nothing is lost when the
// database is away). Two scenarios, each a burst of signed Twilio calls (voice webhook,
// then its "completed" status callback, as bench/webhook_load.cc sends them):
//  - Outage (PostgreSQL, when SPOOFEX_TEST_PG_URL is set): the server reaches the
//    database through a TCP proxy in this test, which drops every connection and refuses
//    new ones in the middle of the burst, then comes back. Every call must end up in the
//    database, once, in its final state.
//  - kill -9 (SQLite always, PostgreSQL when available): the database is made to fail
//    (SQLite: another process holds its write lock; PostgreSQL: the proxy is down), the
//    server is killed with SIGKILL in the middle of the burst and restarted on the same
//    database and journal. Every call that was in the database or in the journal at the
//    kill must be in the database after the restart, once, none older than journaled.
// What this cannot show: that an fsync'd entry survives a power cut (a killed process
// leaves the page cache intact), or anything about calls still queued in memory at the
// kill, which were never acknowledged and may be lost.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/harness.h"
#include "store/store.h"
#include "telephony/telephony.h"

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;
using namespace std::chrono_literals;
using namespace spoofex::e2e;

constexpr const char* kToken = "outage-test-token";
constexpr int kCalls = 200;
const std::string kAccountSid = "AC" + std::string(32, '1');

std::uintmax_t size_of(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

// --- A TCP proxy that can play a database going away -----------------------------------

class Proxy {
 public:
  Proxy(std::string upstream_host, unsigned short upstream_port)
      : upstream_(asio::ip::make_address(upstream_host), upstream_port),
        acceptor_(ioc_),
        work_(asio::make_work_guard(ioc_)),
        thread_([this] { ioc_.run(); }) {}
  ~Proxy() {
    down();
    on_loop([this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    work_.reset();
    ioc_.stop();
    thread_.join();
  }
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  unsigned short port() const { return port_; }

  // Forwards each connection upstream (listening from the first call on).
  void up() {
    on_loop([this] {
      if (!acceptor_.is_open()) {
        acceptor_.open(tcp::v4());
        acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        accept();
      }
      down_ = false;
    });
  }

  // The database host "dies": every connection is reset, and so is every new one. The
  // port stays bound, or another process could take it and answer in the database's place.
  void down() {
    on_loop([this] {
      down_ = true;
      for (auto& weak : links_) {
        if (auto link = weak.lock()) link->reset();
      }
      links_.clear();
    });
  }

 private:
  struct Link : std::enable_shared_from_this<Link> {
    explicit Link(asio::io_context& ioc) : client(ioc), server(ioc) {}
    tcp::socket client, server;
    std::array<char, 16384> up{}, down{};

    void pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buf) {
      from.async_read_some(asio::buffer(buf), [self = shared_from_this(), &from, &to, &buf](
                                                  beast::error_code ec, std::size_t n) {
        if (ec) return self->reset();
        asio::async_write(to, asio::buffer(buf.data(), n),
                          [self, &from, &to, &buf](beast::error_code ec2, std::size_t) {
                            if (ec2) return self->reset();
                            self->pump(from, to, buf);
                          });
      });
    }
    void reset() {
      beast::error_code ec;
      for (tcp::socket* s : {&client, &server}) {
        if (!s->is_open()) continue;
        s->set_option(asio::socket_base::linger(true, 0), ec);  // RST, as a dead host's peer sees
        s->close(ec);
      }
    }
  };

  void accept() {
    auto link = std::make_shared<Link>(ioc_);
    acceptor_.async_accept(link->client, [this, link](beast::error_code ec) {
      if (ec) return;  // closed: the proxy is going away
      accept();
      if (down_) return link->reset();
      links_.push_back(link);
      link->server.async_connect(upstream_, [link](beast::error_code ec2) {
        if (ec2) return link->reset();
        link->pump(link->client, link->server, link->up);
        link->pump(link->server, link->client, link->down);
      });
    });
  }

  template <typename F>
  void on_loop(F f) {
    std::promise<void> done;
    asio::post(ioc_, [&] {
      try {
        f();
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    done.get_future().get();
  }

  tcp::endpoint upstream_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::weak_ptr<Link>> links_;
  bool down_ = false;
  unsigned short port_ = 0;
  std::thread thread_;
};

// "postgresql://user@host:port/db" -> host, port and the same URL through another port.
struct PgUrl {
  std::string host;
  unsigned short port = 5432;
  std::string prefix, suffix;  // around host:port
  std::string via(unsigned short proxy_port) const {
    return prefix + "127.0.0.1:" + std::to_string(proxy_port) + suffix;
  }
};

std::optional<PgUrl> parse_pg_url(const std::string& url) {
  static const std::regex re(R"(^(postgres(?:ql)?://(?:[^@/]*@)?)([^:/?]+)(?::(\d+))?(.*)$)");
  std::smatch m;
  if (!std::regex_match(url, m, re)) return std::nullopt;
  PgUrl u;
  u.prefix = m[1];
  u.host = m[2] == "localhost" ? "127.0.0.1" : std::string(m[2]);
  if (m[3].matched) u.port = static_cast<unsigned short>(std::stoi(m[3]));
  u.suffix = m[4];
  return u;
}

// --- The server ---------------------------------------------------------------------------

struct Serve {
  fs::path dir;
  std::string db;       // the URL the server uses
  std::string journal;  // SPOOFEX_JOURNAL
  unsigned short port = 0;
  int starts = 0;
  ServeProcess process;

  std::string log() const { return (dir / "serve.log").string(); }

  void start() {
    const std::string config = (dir / "serve.toml").string();
    std::ofstream(config) << "[twilio]\naccount_sid = \"" << kAccountSid
                          << "\"\n[departments.emergency]\nnumber = \"+911123001101\"\n"
                             "[departments.inquiry]\nnumber = \"+911123001102\"\n"
                             "[departments.complaint]\nnumber = \"+911123001103\"\n"
                             "[departments.operator_review]\nnumber = \"+911123001109\"\n";
    ASSERT_NO_FATAL_FAILURE(
        process.start({"--config", config, "--db", db, "--no-speech"},
                      {"SPOOFEX_TWILIO_AUTH_TOKEN=" + std::string(kToken),
                       // Nothing listens there: call updates fail, which these calls do not need.
                       "SPOOFEX_TWILIO_API_BASE=http://127.0.0.1:" + std::to_string(free_port()),
                       "SPOOFEX_JOURNAL=" + journal},
                      log(), (dir / ("ready-" + std::to_string(++starts))).string()));
    port = process.port();
  }

  void kill_9() { process.kill_9(); }
  int stop() { return process.stop(); }

  ~Serve() { kill_9(); }
};

// --- Calls, placed as Twilio places them ---------------------------------------------------

std::vector<std::string> make_call_sids(int n) {
  std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::vector<std::string> sids;
  for (int i = 0; i < n; ++i) {
    std::string sid = "CA";
    for (int k = 0; k < 32; ++k) sid += kHex[rng() & 15];
    sids.push_back(sid);
  }
  return sids;
}

// One keep-alive connection; reconnects when the server closes it.
class Caller {
 public:
  explicit Caller(unsigned short port) : port_(port), stream_(ioc_) {}

  // The voice webhook, then the "completed" status callback. True when both were accepted.
  bool call(const std::string& sid, const std::string& from) {
    const int voice = post("/twilio/voice", {{"AccountSid", kAccountSid},
                                             {"ApiVersion", "2010-04-01"},
                                             {"CallSid", sid},
                                             {"CallStatus", "ringing"},
                                             {"Direction", "inbound"},
                                             {"From", from},
                                             {"To", "+911123001100"}});
    if (voice != 200) return false;
    const int status = post("/twilio/status", {{"AccountSid", kAccountSid},
                                               {"CallDuration", "0"},
                                               {"CallSid", sid},
                                               {"CallStatus", "completed"},
                                               {"From", from},
                                               {"To", "+911123001100"}});
    return status >= 200 && status < 300;
  }

 private:
  int post(const std::string& path, const spoofex::telephony::Params& params) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      beast::error_code ec;
      if (!connected_) {
        stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
        if (ec) return -1;
        connected_ = true;
      }
      const std::string base = "http://127.0.0.1:" + std::to_string(port_);
      http::request<http::string_body> req{http::verb::post, path, 11};
      req.set(http::field::host, "127.0.0.1");
      req.set(http::field::content_type, "application/x-www-form-urlencoded");
      req.set("X-Twilio-Signature",
              spoofex::telephony::twilio_signature(base + path, params, kToken));
      req.body() = spoofex::telephony::form_encode(params);
      req.keep_alive(true);
      req.prepare_payload();
      stream_.expires_after(10s);
      http::write(stream_, req, ec);
      beast::flat_buffer buf;
      http::response<http::string_body> res;
      if (!ec) http::read(stream_, buf, res, ec);
      if (!ec) {
        if (!res.keep_alive()) close();
        return static_cast<int>(res.result_int());
      }
      close();
    }
    return -1;
  }
  void close() {
    beast::error_code ec;
    stream_.socket().close(ec);
    connected_ = false;
  }

  unsigned short port_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  bool connected_ = false;
};

// Places calls sids[from, to) from `threads` connections; counts the accepted ones.
// `pace` spaces each connection's calls, so a burst lasts long enough to act in.
int place_calls(unsigned short port, const std::vector<std::string>& sids, int from, int to,
                int threads, std::chrono::milliseconds pace = 0ms,
                std::atomic<int>* progress = nullptr) {
  std::atomic<int> next{from}, accepted{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Caller caller(port);
      std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1u);
      for (int i = next++; i < to; i = next++) {
        const std::string caller_id = "+9198" + std::to_string(10000000 + rng() % 89999999);
        if (caller.call(sids[static_cast<std::size_t>(i)], caller_id)) ++accepted;
        if (progress) ++*progress;
        if (pace > 0ms) std::this_thread::sleep_for(pace);
      }
    });
  }
  for (auto& th : pool) th.join();
  return accepted;
}

// --- What the database and the journal hold -------------------------------------------------

struct Seen {
  std::map<std::string, spoofex::store::CallRecord> calls;  // of this test's calls
  std::size_t duplicates = 0;
};

Seen calls_in_store(const std::string& url, const std::set<std::string>& ours) {
  Seen seen;
  auto db = spoofex::store::Store::open(url);
  EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error());
  if (!db.ok()) return seen;
  auto st = (*db)->for_each_call("", [&](const spoofex::store::CallRecord& c) {
    if (!ours.count(c.call_sid)) return;
    if (!seen.calls.emplace(c.call_sid, c).second) ++seen.duplicates;
  });
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error());
  return seen;
}

// `spoofex export --format jsonl`: how many lines each of our calls has.
std::map<std::string, int> exported(const std::string& url, const std::set<std::string>& ours) {
  int status = 0;
  const std::string out =
      run(std::string(SPOOFEX_BIN) + " export --format jsonl --db " + shell_quote(url), &status);
  EXPECT_EQ(status, 0) << "spoofex export failed";
  std::map<std::string, int> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << line;
    if (j.is_discarded()) continue;
    const std::string sid = j.value("call_sid", "");
    if (ours.count(sid)) ++lines[sid];
  }
  return lines;
}

// The newest revision journaled for each call, from the journal and any replay under way.
std::map<std::string, std::int64_t> calls_in_journal(const std::string& path) {
  std::map<std::string, std::int64_t> out;
  for (const std::string& p : {path + ".replaying", path}) {
    if (!fs::exists(p)) continue;
    auto j = spoofex::store::Journal::open(p);
    EXPECT_TRUE(j.ok()) << (j.ok() ? "" : j.error());
    if (!j.ok()) continue;
    auto n = (*j)->replay([&](std::vector<spoofex::store::CallRecord>& calls,
                              std::vector<spoofex::store::CallEvent>&) -> spoofex::Status {
      for (const auto& c : calls) {
        auto [it, inserted] = out.try_emplace(c.call_sid, c.revision);
        if (!inserted) it->second = std::max(it->second, c.revision);
      }
      return spoofex::Ok{};
    });
    EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error());
  }
  return out;
}

// A second SQLite connection that holds the write lock until released: to the server, a
// database that stops taking writes (each one fails after its 10 s busy timeout).
class SqliteWriteLock {
 public:
  explicit SqliteWriteLock(const std::string& file) {
    int found = 0;
    run("command -v sqlite3 >/dev/null", &found);
    if (found != 0) return;  // scripts/setup installs it
    pipe_ = popen(("sqlite3 " + shell_quote(file) + " >/dev/null").c_str(), "w");
    if (!pipe_) return;
    std::fputs("PRAGMA busy_timeout=10000;\nBEGIN IMMEDIATE;\n", pipe_);
    std::fflush(pipe_);
  }
  ~SqliteWriteLock() { release(); }
  SqliteWriteLock(const SqliteWriteLock&) = delete;
  SqliteWriteLock& operator=(const SqliteWriteLock&) = delete;
  bool ok() const { return pipe_ != nullptr; }
  void release() {
    if (!pipe_) return;
    std::fputs("ROLLBACK;\n.quit\n", pipe_);
    pclose(pipe_);
    pipe_ = nullptr;
  }

 private:
  FILE* pipe_ = nullptr;
};

std::string pg_url() {
  const char* pg = std::getenv("SPOOFEX_TEST_PG_URL");
  return pg && *pg ? pg : "";
}

// --- Database outage in the middle of a burst (PostgreSQL) --------------------------------

class OutageTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OutageTest, DatabaseOutageMidBurstLosesNoCall) {
  const auto url = parse_pg_url(pg_url());
  ASSERT_TRUE(url) << "cannot parse SPOOFEX_TEST_PG_URL";
  TempDir dir("spoofex-outage-");
  Proxy proxy(url->host, url->port);
  proxy.up();
  Serve serve;
  serve.dir = dir.path();
  serve.db = url->via(proxy.port());
  serve.journal = (dir.path() / "calls.journal").string();
  ASSERT_NO_FATAL_FAILURE(serve.start());

  const auto sids = make_call_sids(kCalls);
  const std::set<std::string> ours(sids.begin(), sids.end());
  int accepted = place_calls(serve.port, sids, 0, 70, 4);
  proxy.down();
  accepted += place_calls(serve.port, sids, 70, 140, 4);
  // The writer finds the database gone and journals what it cannot write.
  const bool journaled = eventually([&] { return size_of(serve.journal) > 0; }, 15s);
  EXPECT_TRUE(journaled) << "nothing was journaled during the outage; see " << serve.log();
  std::this_thread::sleep_for(1s);
  proxy.up();
  accepted += place_calls(serve.port, sids, 140, kCalls, 4);
  EXPECT_EQ(accepted, kCalls) << "the server must answer calls while the database is away";

  const std::string real = pg_url();
  const bool all_there =
      eventually([&] { return calls_in_store(real, ours).calls.size() == ours.size(); }, 120s);
  const Seen seen = calls_in_store(real, ours);
  EXPECT_TRUE(all_there) << seen.calls.size() << " of " << ours.size()
                         << " calls reached the database; server log:\n"
                         << tail_of(serve.log());
  EXPECT_EQ(seen.duplicates, 0u);
  for (const auto& [sid, c] : seen.calls) {
    // Not "completed": its final revision was lost, or an older one overwrote it.
    EXPECT_EQ(c.status, "completed") << sid << " is not in its final state";
  }
  const auto lines = exported(real, ours);
  EXPECT_EQ(lines.size(), seen.calls.size());
  for (const auto& [sid, n] : lines) EXPECT_EQ(n, 1) << sid;
  EXPECT_TRUE(eventually([&] { return size_of(serve.journal) == 0; }, 30s))
      << "the journal was not emptied after the replay";
  EXPECT_EQ(serve.stop(), 0);
  std::cout << "outage: " << accepted << " calls accepted, " << seen.calls.size()
            << " in the database" << std::endl;
}

std::vector<std::string> pg_only() {
  if (pg_url().empty()) {
    std::cerr << "outage_test: SPOOFEX_TEST_PG_URL is not set: the PostgreSQL outage test is "
                 "not run (scripts/with-postgres runs it)\n";
    return {};
  }
  return {"postgresql"};
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OutageTest);
INSTANTIATE_TEST_SUITE_P(Backends, OutageTest, ::testing::ValuesIn(pg_only()),
                         [](const auto& info) { return info.param; });

// --- kill -9 in the middle of a burst, while the database fails -----------------------------

class KillTest : public ::testing::TestWithParam<std::string> {};

TEST_P(KillTest, KillDashNineLosesNothingThatWasJournaled) {
  TempDir dir("spoofex-outage-");
  const bool pg = GetParam() == "postgresql";
  std::optional<PgUrl> url;
  std::unique_ptr<Proxy> proxy;
  Serve serve;
  serve.dir = dir.path();
  serve.journal = (dir.path() / "calls.journal").string();
  std::string real;  // the database, as the test reads it
  const std::string sqlite_file = (dir.path() / "calls.db").string();
  if (pg) {
    url = parse_pg_url(pg_url());
    ASSERT_TRUE(url) << "cannot parse SPOOFEX_TEST_PG_URL";
    proxy = std::make_unique<Proxy>(url->host, url->port);
    proxy->up();
    serve.db = url->via(proxy->port());
    real = pg_url();
  } else {
    serve.db = real = "sqlite:" + sqlite_file;
  }
  ASSERT_NO_FATAL_FAILURE(serve.start());

  const auto sids = make_call_sids(kCalls);
  const std::set<std::string> ours(sids.begin(), sids.end());
  const std::set<std::string> first(sids.begin(), sids.begin() + 70);
  place_calls(serve.port, sids, 0, 70, 4);
  ASSERT_TRUE(eventually([&] { return calls_in_store(real, first).calls.size() == 70; }, 60s))
      << "the first calls did not reach the database; see " << serve.log();

  // The database stops taking writes.
  std::unique_ptr<SqliteWriteLock> lock;
  if (pg) {
    proxy->down();
  } else {
    lock = std::make_unique<SqliteWriteLock>(sqlite_file);
    ASSERT_TRUE(lock->ok()) << "cannot run the sqlite3 command (scripts/setup installs it)";
  }
  std::atomic<int> progress{0};
  std::thread burst([&] { place_calls(serve.port, sids, 70, kCalls, 2, 40ms, &progress); });
  const bool journaled =
      eventually([&] { return size_of(serve.journal) > 0 && progress >= 40; }, 60s);
  const int placed_at_kill = progress;
  serve.kill_9();
  burst.join();
  ASSERT_TRUE(journaled) << "nothing was journaled before the kill; see " << serve.log();
  EXPECT_LT(placed_at_kill, kCalls - 70) << "the kill came after the burst, not in it";

  const Seen before = calls_in_store(real, ours);
  const auto journal = calls_in_journal(serve.journal);
  EXPECT_FALSE(journal.empty());

  if (pg) {
    proxy->up();
  } else {
    lock->release();
  }
  ASSERT_NO_FATAL_FAILURE(serve.start());
  const bool replayed = eventually(
      [&] { return size_of(serve.journal) == 0 && !fs::exists(serve.journal + ".replaying"); },
      60s);
  EXPECT_TRUE(replayed) << "the journal was not replayed after the restart; see " << serve.log();
  const Seen after = calls_in_store(real, ours);

  EXPECT_EQ(after.duplicates, 0u);
  for (const auto& [sid, c] : before.calls) {
    EXPECT_TRUE(after.calls.count(sid)) << sid << " was in the database before the kill";
  }
  std::size_t journal_only = 0;
  for (const auto& [sid, revision] : journal) {
    const auto it = after.calls.find(sid);
    if (!before.calls.count(sid)) ++journal_only;
    if (it == after.calls.end()) {
      ADD_FAILURE() << sid << " was journaled before the kill but is not in the database";
      continue;
    }
    EXPECT_GE(it->second.revision, revision) << sid << " went back to an older revision";
  }
  EXPECT_GE(after.calls.size(), before.calls.size() + journal_only);
  const auto lines = exported(real, ours);
  EXPECT_EQ(lines.size(), after.calls.size());
  for (const auto& [sid, n] : lines) EXPECT_EQ(n, 1) << sid;
  EXPECT_EQ(serve.stop(), 0);
  std::cout << "kill -9 (" << GetParam() << "): " << placed_at_kill + 70
            << " calls placed before the kill; " << before.calls.size() << " in the database and "
            << journal.size() << " in the journal (" << journal_only << " only there) at the kill; "
            << after.calls.size() << " in the database after the restart" << std::endl;
}

std::vector<std::string> backends() {
  std::vector<std::string> b = {"sqlite"};
  if (!pg_url().empty()) b.push_back("postgresql");
  return b;
}

INSTANTIATE_TEST_SUITE_P(Backends, KillTest, ::testing::ValuesIn(backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
