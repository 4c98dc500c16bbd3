// Private to server: the speech workers. Each call has a lane whose jobs run in
// order, one at a time. An idle worker takes the lane whose next job is most
// urgent: calls still waiting for their words before calls already routed, then
// the utterance that began first. When more callers speak at once than the
// workers can decode, the first of them are transcribed in time and the last
// wait (their key routes them), instead of every transcript being late together,
// as with a plain first-come queue that interleaves every call's audio.
#pragma once

#include <chrono>
#include <compare>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

namespace spoofex::server {

class SpeechQueue {
 public:
  using Clock = std::chrono::steady_clock;
  struct Priority {
    bool routed = false;  // already routed: the words are for the record, not the decision
    Clock::time_point utterance_start{};
    auto operator<=>(const Priority&) const = default;
  };
  class Lane;

  explicit SpeechQueue(unsigned threads);
  // Runs every job already queued, then joins the workers.
  ~SpeechQueue();
  SpeechQueue(const SpeechQueue&) = delete;
  SpeechQueue& operator=(const SpeechQueue&) = delete;

  // One per call; jobs posted to a lane never run at the same time.
  std::shared_ptr<Lane> lane();
  // Exceptions a job throws are caught and reported on stderr.
  void post(const std::shared_ptr<Lane>& lane, Priority priority, std::function<void()> job);

  struct Backlog {
    std::size_t jobs = 0;      // queued, not running
    double oldest_wait_s = 0;  // how long the longest-waiting queued job has waited
  };
  Backlog backlog() const;

 private:
  struct Ready {
    Priority priority;
    std::uint64_t seq;
    std::shared_ptr<Lane> lane;
    bool operator<(const Ready& o) const {
      return std::tie(priority, seq) < std::tie(o.priority, o.seq);
    }
  };
  void work();
  void make_ready(const std::shared_ptr<Lane>& lane);

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::set<Ready> ready_;
  std::uint64_t next_seq_ = 0;
  // When each queued job was posted: a running call's next chunks are in no ready lane,
  // and under load they are the ones that wait longest.
  std::multiset<Clock::time_point> queued_at_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace spoofex::server
