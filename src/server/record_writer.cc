#include "server/record_writer.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace spoofex::server {
namespace {

// Journaled entries go back to the store in transactions of about this many records.
constexpr std::size_t kReplayBatch = 1000;
// The most records plus events in one store transaction or journal entry.
constexpr std::size_t kMaxBatch = 5000;
// Once stopping, attempts on a failing store (no journal) or journal before giving up.
constexpr int kAttemptsAtShutdown = 10;

std::string aside_path(const std::string& journal_path) { return journal_path + ".replaying"; }

RecordWriter::Options with_journal(std::string path) {
  RecordWriter::Options o;
  o.journal_path = std::move(path);
  return o;
}

}  // namespace

RecordWriter::RecordWriter(store::Store& store) : RecordWriter(store, Options{}) {}

RecordWriter::RecordWriter(store::Store& store, std::string journal_path)
    : RecordWriter(store, with_journal(std::move(journal_path))) {}

RecordWriter::RecordWriter(store::Store& store, Options options)
    : store_(store), opt_(std::move(options)) {
  if (!opt_.journal_path.empty()) open_journals();
  journaling_ = journal_ != nullptr;
  writer_ = std::thread([this] { write_loop(); });
  if (journaling_) journaler_ = std::thread([this] { journal_loop(); });
}

RecordWriter::~RecordWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
  // The writer has written what it could; the journal takes the rest.
  {
    std::lock_guard lock(mu_);
    writer_done_ = true;
  }
  journal_cv_.notify_all();
  if (journaler_.joinable()) journaler_.join();
}

namespace {

bool storable(const store::CallRecord& record) {
  if (!record.call_sid.empty()) return true;
  // The store refuses a batch holding one: it would hold up every record after it.
  std::cerr << "spoofex: dropped a call record without a call_sid (it cannot be stored)\n";
  return false;
}

}  // namespace

void RecordWriter::enqueue(store::CallRecord&& record) {
  if (auto it = queue_.calls.find(record.call_sid); it == queue_.calls.end()) {
    std::string sid = record.call_sid;
    queue_.calls.emplace(std::move(sid), std::move(record));
  } else if (it->second.revision < record.revision) {
    it->second = std::move(record);
  }
}

void RecordWriter::put(store::CallRecord record) {
  if (!storable(record)) return;
  bool to_journal = false;
  {
    std::lock_guard lock(mu_);
    enqueue(std::move(record));
    to_journal = should_journal(Clock::now());
  }
  cv_.notify_one();
  if (to_journal) journal_cv_.notify_one();
}

void RecordWriter::put(store::CallEvent event) {
  bool to_journal = false;
  {
    std::lock_guard lock(mu_);
    queue_.events.push_back(std::move(event));
    to_journal = should_journal(Clock::now());
  }
  cv_.notify_one();
  if (to_journal) journal_cv_.notify_one();
}

void RecordWriter::put(std::vector<store::CallRecord>& records,
                       std::vector<store::CallEvent>& events) {
  if (records.empty() && events.empty()) return;
  bool to_journal = false;
  {
    std::lock_guard lock(mu_);
    for (auto& r : records) {
      if (storable(r)) enqueue(std::move(r));
    }
    for (auto& e : events) queue_.events.push_back(std::move(e));
    to_journal = should_journal(Clock::now());
  }
  records.clear();
  events.clear();
  cv_.notify_one();
  if (to_journal) journal_cv_.notify_one();
}

std::size_t RecordWriter::queued() const {
  std::lock_guard lock(mu_);
  return queue_.calls.size() + queue_.events.size();
}

std::size_t RecordWriter::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

std::size_t RecordWriter::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

std::size_t RecordWriter::journaled() const {
  std::lock_guard lock(mu_);
  return journaled_;
}

std::size_t RecordWriter::replayed() const {
  std::lock_guard lock(mu_);
  return replayed_;
}

void RecordWriter::open_journals() {
  auto active = store::Journal::open(opt_.journal_path);
  if (!active) {
    std::cerr << "spoofex: " << active.error()
              << "; without a journal, call records wait in memory while the database is away"
                 " and a crash loses them\n";
    return;
  }
  journal_ = std::move(*active);
  if (!journal_->damage().empty()) std::cerr << "spoofex: " << journal_->damage() << '\n';
  // A replay that a crash cut short: its entries are older than the journal's.
  const std::string aside = aside_path(opt_.journal_path);
  std::error_code ec;
  if (std::filesystem::exists(aside, ec)) {
    auto left = store::Journal::open(aside);
    if (!left) {
      std::cerr << "spoofex: " << left.error() << "; its entries are not replayed\n";
    } else {
      if (!(*left)->damage().empty()) std::cerr << "spoofex: " << (*left)->damage() << '\n';
      if (!(*left)->empty()) aside_ = std::move(*left);
    }
  }
  const std::size_t entries = journal_->entries() + (aside_ ? aside_->entries() : 0);
  if (entries > 0) {
    std::cerr << "spoofex: journal '" << opt_.journal_path << "' holds " << entries
              << " entries from an earlier run; they go to the database first\n";
  }
}

RecordWriter::Queue RecordWriter::take() {
  Queue taken;
  if (queue_.calls.size() + queue_.events.size() <= kMaxBatch) {
    // Swapped out in O(1) so the call path never waits behind a copy.
    taken.calls.swap(queue_.calls);
    taken.events.swap(queue_.events);
    return taken;
  }
  // A backlog (a slow or returning store) goes in bounded transactions and journal
  // entries. Events name their call but need not follow it (call_events has no foreign
  // key), so calls and events can be taken in separate parts.
  while (!queue_.calls.empty() && taken.calls.size() < kMaxBatch / 2) {
    taken.calls.insert(queue_.calls.extract(queue_.calls.begin()));
  }
  const std::size_t events = std::min(queue_.events.size(), kMaxBatch - taken.calls.size());
  taken.events.assign(std::make_move_iterator(queue_.events.begin()),
                      std::make_move_iterator(queue_.events.begin() + events));
  queue_.events.erase(queue_.events.begin(), queue_.events.begin() + events);
  return taken;
}

RecordWriter::Batch RecordWriter::batch_of(Queue& queue) {
  Batch b;
  b.calls.reserve(queue.calls.size());
  for (auto& [sid, rec] : queue.calls) b.calls.push_back(std::move(rec));
  b.events.assign(std::make_move_iterator(queue.events.begin()),
                  std::make_move_iterator(queue.events.end()));
  return b;
}

void RecordWriter::requeue(Batch& batch) {
  {
    std::lock_guard lock(mu_);
    // Newer revisions queued meanwhile win.
    for (auto& rec : batch.calls) {
      auto [it, inserted] = queue_.calls.try_emplace(rec.call_sid, rec);
      if (!inserted && it->second.revision < rec.revision) it->second = std::move(rec);
    }
    for (auto it = batch.events.rbegin(); it != batch.events.rend(); ++it) {
      queue_.events.push_front(std::move(*it));
    }
  }
  batch = {};
}

bool RecordWriter::should_journal(Clock::time_point now) const {
  if (queue_.empty()) return false;
  if (store_down_ || writer_done_) return true;
  return store_call_since_ && now - *store_call_since_ >= opt_.slow_store;
}

bool RecordWriter::write_to_store(Batch& batch, std::size_t& stored) {
  stored = 0;
  {
    std::lock_guard lock(mu_);
    store_call_since_ = Clock::now();
  }
  journal_cv_.notify_one();  // to time how long this takes
  Status st = Ok{};
  if (!batch.calls.empty()) {
    st = store_.put_calls(batch.calls);
    if (st) {
      stored += batch.calls.size();
      batch.calls.clear();  // written: a retry must not write them again
    }
  }
  if (st && !batch.events.empty()) {
    st = store_.add_call_events(batch.events);
    if (st) {
      stored += batch.events.size();
      batch.events.clear();
    }
  }
  {
    std::lock_guard lock(mu_);
    store_call_since_.reset();
    if (!st) ++failures_;
  }
  if (!st) {
    std::cerr << "spoofex: storing " << batch.size() << " call records and events failed ("
              << (journaling_ ? "journaled" : "kept in memory") << ", will retry): " << st.error()
              << '\n';
  }
  return st.ok();
}

void RecordWriter::keep(Batch& batch) {
  if (batch.empty()) return;
  if (journaling_) {
    std::lock_guard journal_lock(journal_mu_);
    auto st = journal_->append(batch.calls, batch.events);
    if (st) {
      std::lock_guard lock(mu_);
      journaled_ += batch.size();
      batch = {};
      return;
    }
    std::cerr << "spoofex: journaling " << batch.size()
              << " call records and events failed (kept in memory): " << st.error() << '\n';
  }
  requeue(batch);
}

bool RecordWriter::journal_pending() {
  if (!journaling_) return false;
  if (aside_) return true;
  std::lock_guard journal_lock(journal_mu_);
  return !journal_->empty();
}

RecordWriter::Replay RecordWriter::replay_journal() {
  if (!journaling_) return Replay::done;
  for (;;) {
    if (!aside_) {
      std::lock_guard journal_lock(journal_mu_);
      if (journal_->empty()) return Replay::done;
      if (auto st = set_journal_aside(); !st) {
        std::cerr << "spoofex: cannot replay the journal: " << st.error() << '\n';
        return Replay::journal_failed;
      }
    }
    if (const Replay r = replay_aside(); r != Replay::done) return r;
  }
}

// The journal moves to PATH.replaying and a fresh one opens at PATH, so what is journaled
// during a long replay neither waits for it nor is cleared with it.
Status RecordWriter::set_journal_aside() {
  const std::string aside = aside_path(opt_.journal_path);
  std::error_code ec;
  if (std::filesystem::file_size(aside, ec) > 0 && !ec) {
    return Error{"'" + aside + "' holds entries that could not be opened (see the start-up log)"};
  }
  if (auto st = journal_->rename(aside); !st) return st;
  auto fresh = store::Journal::open(opt_.journal_path);
  if (!fresh) {
    // Keep appending to the journal we have, under its own name.
    if (auto back = journal_->rename(opt_.journal_path); !back) {
      return Error{fresh.error() + "; and " + back.error()};
    }
    return Error{fresh.error()};
  }
  aside_ = std::move(journal_);
  journal_ = std::move(*fresh);
  return Ok{};
}

RecordWriter::Replay RecordWriter::replay_aside() {
  Batch pending;
  std::size_t total = 0;
  bool store_failed = false;
  auto flush = [&]() -> Status {
    std::size_t stored = 0;
    const bool ok = write_to_store(pending, stored);
    total += stored;
    {
      std::lock_guard lock(mu_);
      replayed_ += stored;
    }
    if (!ok) {
      store_failed = true;
      return Error{"the database failed"};
    }
    return Ok{};
  };
  auto read = aside_->replay(
      [&](std::vector<store::CallRecord>& calls, std::vector<store::CallEvent>& events) -> Status {
        for (auto& c : calls) pending.calls.push_back(std::move(c));
        for (auto& e : events) pending.events.push_back(std::move(e));
        return pending.size() >= kReplayBatch ? flush() : Status(Ok{});
      });
  if (!aside_->damage().empty()) std::cerr << "spoofex: " << aside_->damage() << '\n';
  if (!read) {
    if (store_failed) return Replay::store_failed;
    std::cerr << "spoofex: cannot replay the journal: " << read.error() << '\n';
    return Replay::journal_failed;
  }
  if (!pending.empty() && !flush()) return Replay::store_failed;
  if (auto st = aside_->clear(); !st) {
    std::cerr << "spoofex: " << st.error() << " (its entries are in the database)\n";
    return Replay::journal_failed;
  }
  std::error_code ec;
  std::filesystem::remove(aside_->path(), ec);  // empty: harmless if it stays
  std::cerr << "spoofex: replayed " << *read << " journal entries (" << total
            << " call records and events) into the database\n";
  aside_.reset();
  return Replay::done;
}

void RecordWriter::write_loop() {
  auto backoff = opt_.first_backoff;
  auto next_attempt = Clock::now();  // on the store, while it is down
  auto next_replay = Clock::now();   // of a journal that could not be read
  auto last_write = Clock::now() - opt_.group_window;
  bool down = false;
  int attempts_at_shutdown = 0;
  auto go_down = [&] {
    if (!down && journaling_) {
      std::cerr << "spoofex: the database is failing; call records go to the journal '"
                << opt_.journal_path << "' until it answers\n";
    }
    down = true;
    next_attempt = Clock::now() + backoff;
    backoff = std::min(backoff * 2, opt_.max_backoff);
    {
      std::lock_guard lock(mu_);
      store_down_ = true;
    }
    journal_cv_.notify_one();
  };
  for (;;) {
    if (down) {
      {
        std::unique_lock lock(mu_);
        // With a journal, stopping is immediate: the journal thread takes what is queued.
        cv_.wait_until(lock, next_attempt, [&] { return stopping_ && journaling_; });
        if (stopping_ && (journaling_ || ++attempts_at_shutdown > kAttemptsAtShutdown)) {
          if (!journaling_) {
            std::cerr << "spoofex: giving up on " << queue_.calls.size() + queue_.events.size()
                      << " unwritten call records and events at shutdown\n";
          }
          return;
        }
      }
      // The journal first, then the queue: oldest first.
      if (replay_journal() == Replay::store_failed) {
        go_down();
        continue;
      }
      down = false;
      std::lock_guard lock(mu_);
      store_down_ = false;
      continue;
    }
    if (Clock::now() >= next_replay && journal_pending()) {
      const Replay r = replay_journal();
      if (r == Replay::store_failed) {
        go_down();
        continue;
      }
      if (r == Replay::journal_failed) next_replay = Clock::now() + opt_.max_backoff;
    }
    Batch batch;
    {
      Queue taken;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything is written
        cv_.wait_until(lock, last_write + opt_.group_window, [&] { return stopping_; });
        taken = take();
      }
      last_write = Clock::now();
      batch = batch_of(taken);
    }
    std::size_t stored = 0;
    const bool ok = write_to_store(batch, stored);
    {
      std::lock_guard lock(mu_);
      written_ += stored;
    }
    if (ok) {
      backoff = opt_.first_backoff;
      continue;
    }
    keep(batch);
    go_down();
  }
}

// Group commit: everything queued since the last append goes into one entry.
void RecordWriter::journal_loop() {
  auto backoff = opt_.first_backoff;
  int attempts_at_shutdown = 0;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      for (;;) {
        const auto now = Clock::now();
        if (should_journal(now)) break;
        if (writer_done_) return;  // and nothing is queued
        if (!store_down_ && store_call_since_ && now < *store_call_since_ + opt_.slow_store) {
          journal_cv_.wait_until(lock, *store_call_since_ + opt_.slow_store);
        } else {
          journal_cv_.wait(lock);
        }
      }
    }
    Batch batch;
    Status st = Ok{};
    {
      std::lock_guard journal_lock(journal_mu_);
      Queue taken;
      {
        std::lock_guard lock(mu_);
        if (!should_journal(Clock::now())) continue;  // the writer took it meanwhile
        taken = take();
      }
      batch = batch_of(taken);
      st = journal_->append(batch.calls, batch.events);
      if (st) {
        std::lock_guard lock(mu_);
        journaled_ += batch.size();
      }
    }
    if (st) {
      backoff = opt_.first_backoff;
      continue;
    }
    std::cerr << "spoofex: journaling " << batch.size()
              << " call records and events failed (will retry): " << st.error() << '\n';
    requeue(batch);
    bool give_up = false;
    {
      std::lock_guard lock(mu_);
      give_up = writer_done_ && ++attempts_at_shutdown > kAttemptsAtShutdown;
      if (give_up) {
        std::cerr << "spoofex: giving up on " << queue_.calls.size() + queue_.events.size()
                  << " unwritten call records and events at shutdown\n";
      }
    }
    if (give_up) return;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, opt_.max_backoff);
  }
}

}  // namespace spoofex::server
