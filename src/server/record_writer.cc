#include "server/record_writer.h"

#include <chrono>
#include <iostream>

namespace spoofex::server {

RecordWriter::RecordWriter(store::Store& store) : store_(store), thread_([this] { run(); }) {}

RecordWriter::~RecordWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RecordWriter::put(store::CallRecord record) {
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = calls_.try_emplace(record.call_sid, record);
    if (!inserted && it->second.revision < record.revision) it->second = std::move(record);
  }
  cv_.notify_one();
}

void RecordWriter::put(store::CallEvent event) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }
  cv_.notify_one();
}

std::size_t RecordWriter::queued() const {
  std::lock_guard lock(mu_);
  return calls_.size() + events_.size();
}

std::size_t RecordWriter::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

std::size_t RecordWriter::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

bool RecordWriter::flush(std::vector<store::CallRecord>& calls,
                         std::vector<store::CallEvent>& events) {
  if (!calls.empty()) {
    if (auto st = store_.put_calls(calls); !st) {
      std::cerr << "spoofex: storing " << calls.size()
                << " call records failed (will retry): " << st.error() << '\n';
      return false;
    }
  }
  if (auto st = store_.add_call_events(events); !st) {
    std::cerr << "spoofex: storing " << events.size()
              << " call events failed (will retry): " << st.error() << '\n';
    calls.clear();  // written already; a retry must not write them twice
    return false;
  }
  return true;
}

void RecordWriter::run() {
  std::vector<store::CallRecord> calls;
  std::vector<store::CallEvent> events;
  std::unordered_map<std::string, store::CallRecord> taken_calls;
  std::deque<store::CallEvent> taken_events;
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !calls_.empty() || !events_.empty(); });
      if (stopping_ && calls_.empty() && events_.empty() && calls.empty() && events.empty()) return;
      // Swap the queues out in O(1) so the call path never waits behind a copy.
      taken_calls.swap(calls_);
      taken_events.swap(events_);
    }
    for (auto& [sid, rec] : taken_calls) calls.push_back(std::move(rec));
    taken_calls.clear();
    for (auto& e : taken_events) events.push_back(std::move(e));
    taken_events.clear();
    const bool ok = flush(calls, events);
    std::unique_lock lock(mu_);
    if (ok) {
      written_ += calls.size() + events.size();
      calls.clear();
      events.clear();
      backoff = std::chrono::milliseconds(100);
      continue;
    }
    ++failures_;
    // Put the unwritten records back (newer revisions queued meanwhile win) and
    // wait before retrying; stopping gives up only after the queue is written.
    for (auto& rec : calls) {
      auto [it, inserted] = calls_.try_emplace(rec.call_sid, rec);
      if (!inserted && it->second.revision < rec.revision) it->second = std::move(rec);
    }
    calls.clear();
    for (auto it = events.rbegin(); it != events.rend(); ++it) events_.push_front(std::move(*it));
    events.clear();
    lock.unlock();
    std::this_thread::sleep_for(backoff);
    lock.lock();
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    if (stopping_ && failures_ > 50) {
      std::cerr << "spoofex: giving up on " << calls_.size() + events_.size()
                << " unwritten records at shutdown\n";
      return;
    }
  }
}

}  // namespace spoofex::server
