// Private to server: call records and events go to the store on their own thread,
// so a slow or absent database never blocks a call.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/store.h"

namespace spoofex::server {

class RecordWriter {
 public:
  explicit RecordWriter(store::Store& store);
  ~RecordWriter();  // drains what is queued (while the store answers), then stops
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  void put(store::CallRecord record);
  void put(store::CallEvent event);

  std::size_t queued() const;
  std::size_t failures() const;  // store writes that failed (and were retried)
  std::size_t written() const;

 private:
  void run();
  bool flush(std::vector<store::CallRecord>& calls, std::vector<store::CallEvent>& events);

  store::Store& store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Only the newest revision of a call needs writing: later ones replace it here.
  std::unordered_map<std::string, store::CallRecord> calls_;
  std::deque<store::CallEvent> events_;
  bool stopping_ = false;
  std::size_t failures_ = 0, written_ = 0;
  std::thread thread_;
};

}  // namespace spoofex::server
