// Private to server: call records and events go to the store on their own thread,
// so a slow or absent database never blocks a call. While the database fails, or a
// write to it runs longer than `slow_store`, they go to a local journal instead
// (fsync'd), which is replayed into the store, oldest first, when it answers again
// (design.md rule 3, issue 7). A record is acknowledged once it is in the store or in
// the journal: a crash, even kill -9, loses none of those; only what is still queued.
//
// Files: the journal at PATH; PATH.replaying while a replay runs (new entries go to a
// fresh PATH meanwhile); PATH.corrupt for damaged bytes cut off a journal.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/store.h"

namespace spoofex::server {

class RecordWriter {
 public:
  struct Options {
    std::string journal_path;  // "": no journal, records wait in memory (tests, bench)
    // A store write running longer than this is slow: what is queued meanwhile is journaled.
    std::chrono::milliseconds slow_store{2000};
    std::chrono::milliseconds first_backoff{100};  // between attempts on a failing store,
    std::chrono::milliseconds max_backoff{5000};   // doubling up to this
    // Store writes start at most this often: what queues meanwhile is one transaction, and
    // a call's revisions within it are one row write (the newest). Idle, a record goes at once.
    std::chrono::milliseconds group_window{20};
  };

  explicit RecordWriter(store::Store& store);  // no journal
  RecordWriter(store::Store& store, std::string journal_path);
  RecordWriter(store::Store& store, Options options);
  // Writes what is queued to the store, or to the journal when the store fails; then stops.
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Never wait on I/O: they queue and return.
  void put(store::CallRecord record);
  void put(store::CallEvent event);
  // A call's step at once: one lock and one wake-up; takes the vectors' contents.
  void put(std::vector<store::CallRecord>& records, std::vector<store::CallEvent>& events);

  // Counts of records plus events.
  std::size_t queued() const;
  std::size_t failures() const;   // store writes that failed (and were retried or journaled)
  std::size_t written() const;    // written to the store from the queue
  std::size_t journaled() const;  // appended to the journal
  std::size_t replayed() const;   // written to the store from the journal
  // Whether a journal is open: false when none was asked for or it could not be opened.
  bool journaling() const { return journaling_; }

 private:
  using Clock = std::chrono::steady_clock;
  // What put() fills: only the newest revision of a call needs writing.
  struct Queue {
    std::unordered_map<std::string, store::CallRecord> calls;
    std::deque<store::CallEvent> events;
    bool empty() const { return calls.empty() && events.empty(); }
  };
  struct Batch {
    std::vector<store::CallRecord> calls;
    std::vector<store::CallEvent> events;
    std::size_t size() const { return calls.size() + events.size(); }
    bool empty() const { return calls.empty() && events.empty(); }
  };
  enum class Replay { done, store_failed, journal_failed };

  void open_journals();
  void write_loop();
  void journal_loop();
  Queue take();                              // the queue's contents; the caller holds mu_
  void enqueue(store::CallRecord&& record);  // the caller holds mu_
  static Batch batch_of(Queue& queue);
  void requeue(Batch& batch);
  bool should_journal(Clock::time_point now) const;  // the caller holds mu_
  bool write_to_store(Batch& batch, std::size_t& stored);
  void keep(Batch& batch);  // after a failed store write: to the journal, else back in memory
  bool journal_pending();
  Replay replay_journal();
  Status set_journal_aside();  // the caller holds journal_mu_
  Replay replay_aside();

  store::Store& store_;
  const Options opt_;
  bool journaling_ = false;  // set before the threads start

  // Both threads append to journal_, under journal_mu_ (always taken before mu_). The
  // writer thread alone swaps it and owns aside_, the journal being replayed.
  std::mutex journal_mu_;
  std::unique_ptr<store::Journal> journal_;
  std::unique_ptr<store::Journal> aside_;

  mutable std::mutex mu_;
  std::condition_variable cv_;          // wakes the writer thread
  std::condition_variable journal_cv_;  // wakes the journal thread
  Queue queue_;
  bool stopping_ = false;
  bool writer_done_ = false;
  bool store_down_ = false;                            // the journal takes what is queued
  std::optional<Clock::time_point> store_call_since_;  // a store write is running
  std::size_t failures_ = 0, written_ = 0, journaled_ = 0, replayed_ = 0;
  std::thread writer_;
  std::thread journaler_;
};

}  // namespace spoofex::server
