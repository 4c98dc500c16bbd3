#include "server/speech_queue.h"

#include <algorithm>
#include <exception>
#include <iostream>
#include <utility>

namespace spoofex::server {

struct SpeechQueue::Lane {
  struct Job {
    Priority priority;
    Clock::time_point queued_at;
    std::function<void()> run;
  };
  // Guarded by the queue's mutex.
  std::deque<Job> jobs;
  bool running = false;  // a worker has its front job, so it is not in `ready_`
};

SpeechQueue::SpeechQueue(unsigned threads) {
  workers_.reserve(threads);
  for (unsigned i = 0; i < std::max(1u, threads); ++i) workers_.emplace_back([this] { work(); });
}

SpeechQueue::~SpeechQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

std::shared_ptr<SpeechQueue::Lane> SpeechQueue::lane() { return std::make_shared<Lane>(); }

void SpeechQueue::make_ready(const std::shared_ptr<Lane>& lane) {
  ready_.insert(Ready{lane->jobs.front().priority, next_seq_++, lane});
}

void SpeechQueue::post(const std::shared_ptr<Lane>& lane, Priority priority,
                       std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    lane->jobs.push_back(Lane::Job{priority, now, std::move(job)});
    queued_at_.insert(now);
    // A lane waiting in `ready_` keeps its place: its front job has not changed.
    if (lane->running || lane->jobs.size() > 1) return;
    make_ready(lane);
  }
  wake_.notify_one();
}

void SpeechQueue::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
    if (ready_.empty()) return;  // stopping, and nothing is left to run
    auto node = ready_.extract(ready_.begin());
    std::shared_ptr<Lane> lane = std::move(node.value().lane);
    auto job = std::move(lane->jobs.front().run);
    queued_at_.erase(queued_at_.find(lane->jobs.front().queued_at));
    lane->jobs.pop_front();
    lane->running = true;
    lock.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      std::cerr << "spoofex: a speech job failed: " << e.what() << '\n';
    }
    job = nullptr;  // its captures (the call) are released off the lock
    lock.lock();
    lane->running = false;
    if (!lane->jobs.empty()) make_ready(lane);
  }
}

SpeechQueue::Backlog SpeechQueue::backlog() const {
  std::lock_guard lock(mu_);
  Backlog b;
  b.jobs = queued_at_.size();
  if (!queued_at_.empty()) {
    b.oldest_wait_s = std::chrono::duration<double>(Clock::now() - *queued_at_.begin()).count();
  }
  return b;
}

}  // namespace spoofex::server
