// The speech workers' queue: order within a call, priority across calls.
#include "server/speech_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace spoofex::server {
namespace {

using Clock = SpeechQueue::Clock;
using std::chrono::seconds;

// One worker held busy by a first job until release() is called, so that the
// jobs posted meanwhile are all queued when the worker looks for the next one.
class HeldQueue {
 public:
  HeldQueue() : queue(1), holder(queue.lane()) {
    std::promise<void> holding;
    queue.post(holder, {false, t0}, [this, &holding] {
      holding.set_value();
      gate.get_future().wait();
    });
    holding.get_future().wait();
  }
  void release() { gate.set_value(); }
  void log(std::string what) {
    {
      std::lock_guard lock(mu);
      order.push_back(std::move(what));
    }
    logged.notify_all();
  }
  // The first `n` jobs logged, once that many have run.
  std::vector<std::string> ran(std::size_t n) {
    std::unique_lock lock(mu);
    logged.wait(lock, [&] { return order.size() >= n; });
    return order;
  }

  const Clock::time_point t0 = Clock::now();
  std::promise<void> gate;
  std::mutex mu;
  std::condition_variable logged;
  std::vector<std::string> order;
  SpeechQueue queue;
  std::shared_ptr<SpeechQueue::Lane> holder;
};

TEST(SpeechQueueTest, TheUtteranceThatBeganFirstIsDecodedFirst) {
  HeldQueue h;
  auto late = h.queue.lane(), early = h.queue.lane(), middle = h.queue.lane();
  // Posted newest first: a first-come queue would run them in this order.
  h.queue.post(late, {false, h.t0 + seconds(3)}, [&] { h.log("late"); });
  h.queue.post(middle, {false, h.t0 + seconds(2)}, [&] { h.log("middle"); });
  h.queue.post(early, {false, h.t0 + seconds(1)}, [&] { h.log("early"); });
  h.release();
  EXPECT_EQ(h.ran(3), (std::vector<std::string>{"early", "middle", "late"}));
}

TEST(SpeechQueueTest, CallsStillWaitingForTheirWordsComeBeforeRoutedCalls) {
  HeldQueue h;
  auto routed = h.queue.lane(), waiting = h.queue.lane();
  // The routed call spoke first, but its words no longer change where it goes.
  h.queue.post(routed, {true, h.t0}, [&] { h.log("routed"); });
  h.queue.post(waiting, {false, h.t0 + seconds(5)}, [&] { h.log("waiting"); });
  h.release();
  EXPECT_EQ(h.ran(2), (std::vector<std::string>{"waiting", "routed"}));
}

TEST(SpeechQueueTest, ACallKeepsItsPlaceForAudioThatArrivesWhileItIsDecoded) {
  HeldQueue h;
  auto first = h.queue.lane(), second = h.queue.lane();
  std::promise<void> first_running, more_posted;
  h.queue.post(first, {false, h.t0 + seconds(1)}, [&] {
    h.log("first/1");
    first_running.set_value();
    more_posted.get_future().wait();
  });
  h.release();
  first_running.get_future().wait();
  // While the first call's chunk is decoded, a newer call and the first call's next chunk arrive.
  h.queue.post(second, {false, h.t0 + seconds(2)}, [&] { h.log("second"); });
  h.queue.post(first, {false, h.t0 + seconds(1)}, [&] { h.log("first/2"); });
  more_posted.set_value();
  EXPECT_EQ(h.ran(3), (std::vector<std::string>{"first/1", "first/2", "second"}));
}

TEST(SpeechQueueTest, JobsOfOneCallRunInOrderAndNeverTogether) {
  constexpr int kLanes = 24, kJobs = 200;
  std::vector<std::vector<int>> seen(kLanes);
  std::vector<std::atomic<int>> inside(kLanes);
  std::atomic<int> overlaps{0};
  {
    SpeechQueue queue(4);
    std::vector<std::shared_ptr<SpeechQueue::Lane>> lanes;
    for (int l = 0; l < kLanes; ++l) lanes.push_back(queue.lane());
    const auto t0 = Clock::now();
    for (int j = 0; j < kJobs; ++j) {
      for (int l = 0; l < kLanes; ++l) {
        queue.post(lanes[l], {l % 3 == 0, t0 + std::chrono::milliseconds(kLanes - l)}, [&, l, j] {
          if (inside[l].fetch_add(1) != 0) ++overlaps;
          seen[l].push_back(j);  // safe only if the lane's jobs never overlap
          inside[l].fetch_sub(1);
        });
      }
    }
  }  // the destructor runs everything queued
  EXPECT_EQ(overlaps.load(), 0);
  for (int l = 0; l < kLanes; ++l) {
    ASSERT_EQ(seen[l].size(), static_cast<std::size_t>(kJobs)) << "lane " << l;
    for (int j = 0; j < kJobs; ++j) ASSERT_EQ(seen[l][j], j) << "lane " << l;
  }
}

TEST(SpeechQueueTest, AJobThatThrowsDoesNotStopTheWorkers) {
  std::atomic<int> ran{0};
  {
    SpeechQueue queue(1);
    auto lane = queue.lane();
    queue.post(lane, {}, [] { throw std::runtime_error("decoder fell over"); });
    queue.post(lane, {}, [&] { ++ran; });
    queue.post(queue.lane(), {}, [&] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 2);
}

TEST(SpeechQueueTest, TheBacklogCountsQueuedChunksAndTheirWait) {
  HeldQueue h;
  EXPECT_EQ(h.queue.backlog().jobs, 0u);  // the holder is running, not queued
  auto a = h.queue.lane(), b = h.queue.lane();
  h.queue.post(a, {}, [] {});
  h.queue.post(a, {}, [] {});
  h.queue.post(b, {}, [] {});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto backlog = h.queue.backlog();
  EXPECT_EQ(backlog.jobs, 3u);
  EXPECT_GE(backlog.oldest_wait_s, 0.015);
  h.release();
}

TEST(SpeechQueueTest, TheWaitCountsTheNextChunkOfACallBeingDecoded) {
  // The holder's call is being decoded; its next chunk waits in no ready lane.
  HeldQueue h;
  h.queue.post(h.holder, {}, [] {});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto backlog = h.queue.backlog();
  EXPECT_EQ(backlog.jobs, 1u);
  EXPECT_GE(backlog.oldest_wait_s, 0.015);
  h.release();
}

}  // namespace
}  // namespace spoofex::server
