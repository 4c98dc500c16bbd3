// Private to server: the live calls. Each has one CallSession behind its own mutex
// (held for microseconds), a recogniser driven by the speech queue in the call's
// own lane, and actions carried out off the lock: records to the writer,
// updates to Twilio.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/record_writer.h"
#include "server/server.h"
#include "server/speech_queue.h"
#include "server/twilio_client.h"

namespace spoofex::server {

struct Counters {
  std::atomic<std::uint64_t> webhooks{0}, rejected{0}, forged{0}, bad_requests{0}, streams{0},
      stream_errors{0}, media_frames{0}, updates_failed{0}, decisions{0}, asr_utterances{0},
      fast_utterances{0}, overload{0};
  std::atomic<std::uint64_t> decoders_busy{0};  // a gauge: recognisers held by calls now
};

// Milliseconds-precision UTC time, e.g. "2026-11-25T14:30:00.123Z": orders call records.
std::string utc_now_ms();

class CallRegistry {
 public:
  CallRegistry(const ServerConfig& config, Dependencies& deps, RecordWriter& writer,
               TwilioClient& twilio, Counters& counters);
  ~CallRegistry();

  // The voice webhook: TwiML for Twilio.
  std::string on_voice(const telephony::Params& params);
  // The Gather action: TwiML for Twilio (a safe routing even for unknown calls).
  std::string on_gather(const telephony::Params& params, std::string_view stage);
  void on_status(const telephony::Params& params);
  void tick();

  // One Media Stream (one WebSocket). Errors close that stream only.
  class Stream {
   public:
    explicit Stream(CallRegistry& registry) : registry_(registry) {}
    ~Stream();
    Status on_message(std::string_view text);

   private:
    CallRegistry& registry_;
    std::string call_sid_, stream_sid_;
    std::int64_t last_sequence_ = 0;
    bool stopped_ = false;
  };

  // Where Twilio reaches this node, known once the port is bound.
  void set_public_url(const std::string& public_url);
  std::size_t active() const;
  std::size_t streaming() const { return streaming_.load(); }
  bool spam_add(const std::string& e164, const std::string& reason);
  bool spam_remove(const std::string& e164);
  SpeechQueue::Backlog speech_backlog() const { return speech_.backlog(); }
  // Swaps in a new classifier; calls being classified finish with the old one.
  void set_classifier(std::shared_ptr<const triage::NaiveBayes> model);
  // Called with every call record written (for the live feed), off the call's lock.
  void on_record(std::function<void(const store::CallRecord&)> hook) {
    on_record_ = std::move(hook);
  }

 private:
  struct LiveCall;
  std::shared_ptr<LiveCall> find(const std::string& call_sid) const;
  // Carries out what a session asked for; call with the call's mutex held.
  void collect(LiveCall& call);
  store::CallRecord record_of(const telephony::CallSession& session) const;
  // Hands what collect() gathered to the writer and to Twilio. Takes the lock itself.
  void dispatch(const std::shared_ptr<LiveCall>& call);
  // Audio for the recogniser, with its place in the speech queue.
  struct Voiced {
    SpeechQueue::Priority priority;
    telephony::CallSession::Voiced audio;
  };
  // Call with the call's mutex held.
  std::optional<Voiced> take_voiced(LiveCall& call, telephony::Clock::time_point now);
  void recognise(std::shared_ptr<LiveCall> call, Voiced voiced);
  void recognise_now(const std::shared_ptr<LiveCall>& call, telephony::CallSession::Voiced& voiced);
  std::string overload_twiml() const;

  static constexpr auto kLinger = std::chrono::seconds(30);
  static constexpr auto kMaxCallAge = std::chrono::hours(4);

  const ServerConfig& config_;
  Dependencies& deps_;
  RecordWriter& writer_;
  TwilioClient& twilio_;
  Counters& counters_;
  telephony::Endpoints endpoints_;

  std::mutex screen_mu_;  // the burst table and spam list are shared by all calls
  screening::SpamList spam_;
  screening::CallPatternDetector bursts_;
  screening::Screener screener_;

  mutable std::mutex calls_mu_;
  std::unordered_map<std::string, std::shared_ptr<LiveCall>> calls_;
  std::atomic<std::size_t> streaming_{0};
  std::function<void(const store::CallRecord&)> on_record_;
  mutable std::mutex model_mu_;
  std::shared_ptr<const triage::NaiveBayes> classifier_;
  SpeechQueue speech_;
};

}  // namespace spoofex::server
