// What the end-to-end tests share: shell commands, temporary folders, free ports, and a
// `spoofex serve` child process started on loopback and stopped (or killed) by the test.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace spoofex::e2e {

namespace fs = std::filesystem;

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `cmd` with /bin/sh and returns its standard output; `status` gets the exit code.
inline std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = pclose(p);
  if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

inline unsigned short free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(
      ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// Polls `done` every 100 ms until it holds or `limit` passes; its last answer.
inline bool eventually(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

// The last 3,000 characters of a file: a server log for a failure message.
inline std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > 3000 ? all.substr(all.size() - 3000) : all;
}

// A fresh folder under /tmp, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    std::random_device rd;
    path_ = fs::temp_directory_path() / (prefix + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// `spoofex serve` as a child process listening on a free loopback port, its standard
// error appended to `log`. Stopped with SIGTERM when destroyed.
class ServeProcess {
 public:
  ServeProcess() = default;
  ~ServeProcess() { stop(); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Starts `spoofex serve ARGS --listen 127.0.0.1:0 --ready-file F` with this
  // environment plus `env` ("NAME=value"), and waits (up to a minute) for its port.
  // Use with ASSERT_NO_FATAL_FAILURE.
  void start(const std::vector<std::string>& args, const std::vector<std::string>& env,
             const std::string& log, const std::string& ready_file) {
    std::vector<std::string> all = {SPOOFEX_BIN, "serve"};
    all.insert(all.end(), args.begin(), args.end());
    for (std::string a : {"--listen", "127.0.0.1:0", "--ready-file"}) all.push_back(a);
    all.push_back(ready_file);
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) envs.emplace_back(*e);
    envs.insert(envs.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::error_code ec;
    fs::remove(ready_file, ec);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    // None of the test's sockets: a child holding a proxy's socket open would keep a
    // "dead" database alive.
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    const int spawned = posix_spawn(&pid_, SPOOFEX_BIN, &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ASSERT_EQ(spawned, 0) << "cannot start " << SPOOFEX_BIN;
    port_ = 0;
    for (int i = 0; i < 600 && port_ == 0; ++i) {
      std::ifstream in(ready_file);
      if (!(in >> port_)) port_ = 0;
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_NE(port_, 0) << "spoofex serve did not start; see " << log;
  }

  // SIGTERM and wait: the exit code, or -1 when not running or killed by a signal.
  int stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  // SIGKILL: the process gets no chance to flush or clean up.
  void kill_9() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  unsigned short port() const { return port_; }
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

}  // namespace spoofex::e2e
