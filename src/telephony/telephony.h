// telephony: Twilio's protocols (../shared/protocols.md) and the call session that
// joins screening, audio, speech and triage into one decision per call. No I/O
// here: the server feeds a CallSession what arrives and carries out what it says.
//
//   auto params = parse_form(body);                          // webhook fields
//   bool ok = signature_valid(url, *params, token, header);  // X-Twilio-Signature
//   CallSession call(setup, ...);
//   std::string twiml = call.answer(screen_verdict);         // TwiML for the webhook
//   call.on_media(frame);  call.on_gather(stage, digits);  call.tick(now);
//   for (auto& a : call.take_actions()) ...                  // REST updates, records
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audio/audio.h"
#include "base/result.h"
#include "screening/screening.h"
#include "triage/triage.h"

namespace spoofex::telephony {

// ---- application/x-www-form-urlencoded ------------------------------------------

// Name/value pairs in the order received (names may repeat).
using Params = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::size_t kMaxFormParams = 256;
// Decodes a form body; bad percent escapes and more than kMaxFormParams are errors.
Result<Params> parse_form(std::string_view body);
// The same into `out`, reusing the memory of the pairs it holds (a connection's buffer).
Status parse_form(std::string_view body, Params& out);
std::string form_encode(const Params& params);
std::string url_encode(std::string_view s);
Result<std::string> url_decode(std::string_view s, bool plus_is_space);
// The first value of `name`, if present.
std::optional<std::string_view> param(const Params& params, std::string_view name);

// ---- X-Twilio-Signature (protocols.md section 4) ----------------------------------

// Base64(HMAC-SHA1(auth_token, url + each param name+value sorted by name)).
std::string twilio_signature(std::string_view url, const Params& params,
                             std::string_view auth_token);
// Compares in constant time; false for an empty header or token.
bool signature_valid(std::string_view url, const Params& params, std::string_view auth_token,
                     std::string_view header);

// The same for one auth token, keyed once and reusing its buffers; one per thread or
// connection (not thread-safe). Throws only if OpenSSL has no HMAC-SHA1.
class SignatureChecker {
 public:
  explicit SignatureChecker(std::string_view auth_token);
  ~SignatureChecker();
  SignatureChecker(const SignatureChecker&) = delete;
  SignatureChecker& operator=(const SignatureChecker&) = delete;
  std::string sign(std::string_view url, const Params& params);
  bool valid(std::string_view url, const Params& params, std::string_view header);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string base64_encode(std::span<const std::uint8_t> bytes);
Result<std::vector<std::uint8_t>> base64_decode(std::string_view text);

// ---- TwiML (protocols.md section 2) ------------------------------------------------

std::string xml_escape(std::string_view text);

struct Voice {
  std::string voice = "Polly.Aditi";  // an Indian-English voice
  std::string language = "en-IN";
};

// Builds a <Response> one verb at a time; every text and attribute is escaped.
// The name spoofex gives its Media Stream, so that TwiML can stop it.
inline constexpr std::string_view kStreamName = "spoofex";

class Twiml {
 public:
  explicit Twiml(Voice voice = {}) : voice_(std::move(voice)) {}
  Twiml& say(std::string_view text);
  Twiml& pause(int seconds);
  Twiml& reject(std::string_view reason = "rejected");
  Twiml& hangup();
  Twiml& redirect(std::string_view url);
  Twiml& dial(std::string_view number, int timeout_s = 20, std::string_view caller_id = {});
  // <Start><Stream name="spoofex" ...>: forks the caller's audio to us.
  Twiml& start_stream(std::string_view url, const Params& parameters);
  // <Stop><Stream name="spoofex"/></Stop>: ends that fork (Twilio sends its stop message).
  Twiml& stop_stream();
  // <Gather input="dtmf" ... actionOnEmptyResult="true"><Say>prompt</Say></Gather>
  Twiml& gather(std::string_view action, int num_digits, int timeout_s, std::string_view prompt);
  std::string str() const;

 private:
  Voice voice_;
  std::string body_;
};

// ---- Media Streams (protocols.md section 3) ----------------------------------------

inline constexpr std::size_t kMaxStreamMessageBytes = 64 * 1024;

enum class StreamEvent { connected, start, media, dtmf, mark, stop };

struct StreamMessage {
  StreamEvent event = StreamEvent::connected;
  std::int64_t sequence = -1;  // -1 when absent (connected)
  std::string stream_sid;
  // start
  std::string call_sid;
  std::string encoding;
  int sample_rate = 0;
  std::map<std::string, std::string> custom;
  // media
  std::string track;
  std::int64_t timestamp_ms = 0;
  std::vector<std::uint8_t> payload;  // decoded µ-law bytes
  // dtmf
  char digit = 0;
  // mark
  std::string mark;
};

// Parses one text frame; anything malformed is an error naming what is wrong.
Result<StreamMessage> parse_stream_message(std::string_view text);

// ---- the call session ---------------------------------------------------------------

using Clock = std::chrono::steady_clock;

// What the IVR says and how long it listens. Every prompt comes from configuration.
struct SessionConfig {
  Voice voice;
  std::string prompt =
      "Police control room. Please tell us your problem after this message. "
      "Press 1 for an emergency, 2 for an inquiry, 3 for a complaint.";
  std::string silent_prompt = "If you cannot speak, press 5 5 now, and help will be sent.";
  std::string hold_prompt = "Please stay on the line.";
  std::string connect_prompt = "Connecting you now.";
  std::string blank_goodbye =
      "We could not hear you. If you need the police, please call again. Goodbye.";
  std::string spam_goodbye = "This line is for emergencies only. Goodbye.";
  std::string review_prompt = "Please hold, an officer will speak to you.";
  // How long the prompt plays, for the robocall (talk-over-prompt) check; 0: estimated
  // from its words at a text-to-speech pace of 2.5 words a second.
  double prompt_s = 0;
  int gather_timeout_s = 5;      // after the prompt, for the key
  int silent_timeout_s = 8;      // after the silent-solution prompt
  double end_of_speech_s = 1.5;  // silence after speech that ends listening
  double max_listen_s = 25;      // listening never lasts longer than this
  double hold_pause_s = 20;      // how long the hold TwiML waits for our decision
  double asr_wait_s = 4;         // how long a decision waits for the recogniser
  std::string silent_solution = "55";
  int dial_timeout_s = 20;
  std::string caller_id;  // shown on forwarded calls; empty: the caller's own
};

// Where the server can be reached from Twilio (for TwiML URLs).
struct Endpoints {
  std::string stream_url;  // wss://host/twilio/stream
  std::string gather_url;  // https://host/twilio/gather (stage added as ?stage=)
};

enum class Stage { main, silent, hold };
std::string_view to_string(Stage s);
// The seconds a text-to-speech voice takes to say `text` (0.5 s + 2.5 words a second).
double spoken_seconds(std::string_view text);
std::optional<Stage> stage_from(std::string_view name);

// Something the server must do for a session.
struct Action {
  enum class Kind { update_call, record, event } kind;
  int seq = 0;         // event: 1, 2, 3 ... per call
  std::string twiml;   // update_call: the TwiML to run now (a REST update)
  std::string name;    // event: its kind ("speech_start", "decision", ...)
  std::string detail;  // event: JSON text
};

class CallSession {
 public:
  CallSession(std::string call_sid, const SessionConfig& config, const Endpoints& endpoints,
              const triage::Departments& departments, const triage::FusionPolicy& fusion,
              Clock::time_point now);

  const std::string& call_sid() const { return call_sid_; }
  Clock::time_point created() const { return created_; }

  // The webhook: the screening verdict decides between <Reject> and the IVR.
  std::string answer(const screening::Verdict& screen, std::string_view from_raw,
                     const std::string& started_at);

  // Media Streams. `frame` is µ-law; returns the analyzer's events. Voiced audio
  // (with pre-roll) is queued for the recogniser: see take_voiced().
  void on_stream_start(std::string_view stream_sid, Clock::time_point now);
  void on_media(std::span<const std::uint8_t> mulaw, Clock::time_point now);
  void on_stream_dtmf(char digit, Clock::time_point now);
  void on_stream_stop(Clock::time_point now);

  // Linear audio the recogniser should hear, and whether an utterance ended
  // (then the server calls finish() and reports the text with on_transcript).
  struct Voiced {
    std::vector<std::int16_t> pcm;
    bool utterance_end = false;
  };
  std::optional<Voiced> take_voiced();
  void on_transcript(std::string_view text, bool final_text, Clock::time_point now);
  void on_recognizer_failed(std::string_view why, Clock::time_point now);

  // The Gather action: returns the TwiML to answer it with.
  std::string on_gather(Stage stage, std::string_view digits, Clock::time_point now);
  // Status callback: "completed", "busy", "failed", "no-answer", "canceled".
  void on_status(std::string_view status, double duration_s, Clock::time_point now);
  // The outcome of a REST update the session asked for (update_call).
  void on_call_update(bool ok, std::string_view detail, Clock::time_point now);
  // Timers: ends listening, decides when evidence is complete.
  void tick(Clock::time_point now);

  // The words and scores the classifier adds, set by the server from the worker pool.
  struct Triage {
    triage::Prediction prediction;
    double urgency = 0;
    std::string danger_words;
  };
  // The transcript so far, for the server to classify when decide_needed() says so.
  const std::string& transcript() const { return transcript_; }
  bool wants_triage() const { return wants_triage_; }
  void on_triage(const Triage& t, Clock::time_point now);

  std::vector<Action> take_actions();
  bool finished() const { return finished_; }
  // Routed: later words are stored for the operator but change nothing.
  bool decided() const { return decision_.has_value(); }
  // A Media Stream is open now (late messages may still come for this call).
  bool streaming() const { return stream_open_ && !stream_ended_; }
  // The call record as JSON (design.md's analyze object plus call_sid and status).
  std::string record_json() const;
  std::int64_t revision() const { return revision_; }
  // Fields for the store's columns.
  struct Summary {
    std::string status, category, department, from_raw, from_e164, started_at;
    bool spam_listed = false, spoofed = false, system_generated = false, blank = false;
  };
  Summary summary() const;

 private:
  void event(std::string name, std::string detail_json);
  void record();
  void decide(Clock::time_point now, std::string_view why);
  std::string act_on_decision();
  std::string twiml_for_blank();
  bool listening_done(Clock::time_point now) const;
  audio::Verdict heard() const;
  audio::AudioAnalyzer& analyzer();
  bool evidence_complete(Clock::time_point now) const;
  void write_reasons(std::string& out, const audio::Verdict& heard, bool blank) const;
  void write_timings(std::string& out) const;

  std::string call_sid_;
  const SessionConfig& config_;
  Endpoints endpoints_;
  const triage::Departments& departments_;
  const triage::FusionPolicy& fusion_;
  Clock::time_point created_;

  // what is known
  screening::Verdict screen_;
  std::string caller_json_;  // screen_.caller as JSON, written once at answer()
  std::string from_raw_, started_at_;
  std::string status_ = "ringing";
  std::unique_ptr<audio::AudioAnalyzer> analyzer_;  // from the first audio on
  std::string stream_sid_;
  bool stream_open_ = false, stream_ended_ = false;
  std::string gather_digits_;  // keys from Gather callbacks
  std::string stream_digits_;  // keys from dtmf stream events
  bool main_gather_done_ = false, silent_prompted_ = false, silent_done_ = false;
  bool on_hold_ = false;
  std::optional<Clock::time_point> speech_end_at_, silent_prompt_at_, hold_at_;
  bool speaking_ = false;
  int utterances_pending_ = 0;
  bool words_pending_at_decision_ = false;
  bool put_through_ = false;  // dialed to a department: listening is over
  std::string transcript_;
  std::string asr_error_;
  std::string update_error_;
  bool wants_triage_ = false;
  std::optional<Triage> triage_;
  std::string triaged_transcript_;

  // voiced audio for the recogniser
  audio::PreRoll pre_roll_;
  std::vector<std::int16_t> voiced_;
  bool utterance_end_ = false;

  // outcome
  std::optional<triage::Decision> decision_;
  std::string decided_because_;
  std::string action_taken_;  // "rejected", "dialed", "hung_up", "held"
  double duration_s_ = 0;
  bool finished_ = false;
  std::vector<Action> actions_;
  std::vector<std::pair<std::string, double>> timings_;  // name -> seconds since created
  std::int64_t revision_ = 0;
  int event_seq_ = 0;
};

}  // namespace spoofex::telephony
