#include "server/calls.h"

#include <chrono>
#include <ctime>
#include <iostream>
#include <vector>

namespace spoofex::server {

using telephony::Clock;

std::string utc_now_ms() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

struct CallRegistry::LiveCall {
  LiveCall(std::string sid, const ServerConfig& cfg, const telephony::Endpoints& ep,
           SpeechQueue& speech, std::atomic<std::uint64_t>& decoders_busy)
      : session(std::move(sid), cfg.session, ep, cfg.departments, cfg.fusion, Clock::now()),
        asr(speech.lane()),
        decoders_busy(decoders_busy) {}
  ~LiveCall() { release_recognizer(); }

  // Gives the decoder back to the engine's pool once an utterance is transcribed: a call
  // may stay connected to an officer for many minutes, and a PocketSphinx decoder is
  // about 90 MiB. Used only by jobs in the `asr` lane (or when the last owner goes).
  void release_recognizer() {
    if (!recognizer) return;
    recognizer.reset();
    --decoders_busy;
  }

  std::mutex mu;
  telephony::CallSession session;
  // Pending work, taken under `mu` and carried out after it is released.
  std::vector<store::CallRecord> records;
  std::vector<store::CallEvent> events;
  std::vector<std::string> updates;
  Clock::time_point finished_at{};
  // When the utterance being sent to the recogniser began (its priority in the queue).
  std::optional<Clock::time_point> utterance_start;
  // Used only by jobs in the `asr` lane.
  std::unique_ptr<speech::Recognizer> recognizer;
  bool recognizer_failed = false;
  std::shared_ptr<SpeechQueue::Lane> asr;
  std::atomic<std::uint64_t>& decoders_busy;
};

namespace {

std::string ws_url(const std::string& base) {
  if (base.starts_with("https://")) return "wss://" + base.substr(8);
  if (base.starts_with("http://")) return "ws://" + base.substr(7);
  return base;
}

bool plausible_sid(std::string_view sid) {
  return !sid.empty() && sid.size() <= 64 &&
         sid.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
             std::string_view::npos;
}

}  // namespace

CallRegistry::CallRegistry(const ServerConfig& config, Dependencies& deps, RecordWriter& writer,
                           TwilioClient& twilio, Counters& counters)
    : config_(config),
      deps_(deps),
      writer_(writer),
      twilio_(twilio),
      counters_(counters),
      endpoints_{ws_url(config.public_url) + "/twilio/stream",
                 config.public_url + "/twilio/gather"},
      bursts_(deps.policy.burst),
      screener_(*deps.plan, spam_, bursts_, deps.policy),
      speech_(std::max(1u, config.speech_threads)) {
  if (deps.classifier) classifier_ = std::move(deps.classifier);
  if (auto st = spam_.load(*deps.store); !st) {
    std::cerr << "spoofex: loading the spam list: " << st.error() << '\n';
  }
}

// `speech_` is the last member, so it finishes its queued jobs before anything they use goes.
CallRegistry::~CallRegistry() = default;

void CallRegistry::set_public_url(const std::string& public_url) {
  endpoints_ = {ws_url(public_url) + "/twilio/stream", public_url + "/twilio/gather"};
}

std::size_t CallRegistry::active() const {
  std::lock_guard lock(calls_mu_);
  return calls_.size();
}

bool CallRegistry::spam_add(const std::string& e164, const std::string& reason) {
  std::lock_guard lock(screen_mu_);
  return spam_.add(e164, reason);
}

void CallRegistry::set_classifier(std::shared_ptr<const triage::NaiveBayes> model) {
  std::lock_guard lock(model_mu_);
  classifier_ = std::move(model);
}

bool CallRegistry::spam_remove(const std::string& e164) {
  std::lock_guard lock(screen_mu_);
  return spam_.remove(e164);
}

std::shared_ptr<CallRegistry::LiveCall> CallRegistry::find(const std::string& call_sid) const {
  std::lock_guard lock(calls_mu_);
  auto it = calls_.find(call_sid);
  return it == calls_.end() ? nullptr : it->second;
}

void CallRegistry::collect(LiveCall& call) {
  bool record = false;
  std::string now;  // one clock reading for the events of one step
  for (auto& a : call.session.take_actions()) {
    switch (a.kind) {
      case telephony::Action::Kind::record:
        record = true;
        break;
      case telephony::Action::Kind::event:
        if (a.name == "decision") ++counters_.decisions;
        if (now.empty()) now = utc_now_ms();
        call.events.push_back(
            {call.session.call_sid(), a.seq, now, std::move(a.name), std::move(a.detail)});
        break;
      case telephony::Action::Kind::update_call:
        call.updates.push_back(std::move(a.twiml));
        break;
    }
  }
  // Several revisions in one step are one record: only the newest is stored.
  if (record) call.records.push_back(record_of(call.session));
}

store::CallRecord CallRegistry::record_of(const telephony::CallSession& session) const {
  auto s = session.summary();
  store::CallRecord r;
  r.call_sid = session.call_sid();
  r.revision = session.revision();
  r.node = config_.node;
  r.from_raw = std::move(s.from_raw);
  r.from_e164 = std::move(s.from_e164);
  r.status = std::move(s.status);
  r.category = std::move(s.category);
  r.department = std::move(s.department);
  r.spam_listed = s.spam_listed;
  r.spoofed = s.spoofed;
  r.system_generated = s.system_generated;
  r.blank = s.blank;
  r.started_at = std::move(s.started_at);
  r.updated_at = utc_now_ms();
  r.record_json = session.record_json();
  return r;
}

void CallRegistry::dispatch(const std::shared_ptr<LiveCall>& call) {
  std::vector<store::CallRecord> records;
  std::vector<store::CallEvent> events;
  std::vector<std::string> updates;
  {
    std::lock_guard lock(call->mu);
    records.swap(call->records);
    events.swap(call->events);
    updates.swap(call->updates);
  }
  if (on_record_) {
    for (const auto& r : records) on_record_(r);
  }
  writer_.put(records, events);
  for (auto& twiml : updates) {
    twilio_.update_call(call->session.call_sid(), twiml, [this, call](const RestOutcome& out) {
      if (!out.ok) {
        ++counters_.updates_failed;
        std::cerr << "spoofex: updating call " << call->session.call_sid() << " failed after "
                  << out.attempts << " attempts: " << out.error << '\n';
      }
      {
        std::lock_guard lock(call->mu);
        call->session.on_call_update(
            out.ok, out.ok ? "HTTP " + std::to_string(out.http_status) : out.error, Clock::now());
        collect(*call);
      }
      dispatch(call);
    });
  }
}

std::string CallRegistry::overload_twiml() const {
  // More calls than this node holds: no screening, straight to a human (safety rule 1).
  telephony::Twiml t(config_.session.voice);
  if (!config_.departments.operator_review.number.empty()) {
    t.say(config_.session.connect_prompt)
        .dial(config_.departments.operator_review.number, config_.session.dial_timeout_s);
  } else {
    t.reject("busy");
  }
  return t.str();
}

std::string CallRegistry::on_voice(const telephony::Params& params) {
  ++counters_.webhooks;
  const std::string sid(telephony::param(params, "CallSid").value_or(""));
  const std::string from(telephony::param(params, "From").value_or(""));
  const std::string stir(telephony::param(params, "StirVerstat").value_or(""));
  std::shared_ptr<LiveCall> call;
  {
    std::lock_guard lock(calls_mu_);
    if (auto it = calls_.find(sid); it != calls_.end()) {
      call = it->second;  // Twilio retried the webhook: answer the same way
    } else if (calls_.size() >= config_.max_calls) {
      ++counters_.overload;
      return overload_twiml();
    } else {
      call = std::make_shared<LiveCall>(sid, config_, endpoints_, speech_, counters_.decoders_busy);
      calls_.emplace(sid, call);
    }
  }
  screening::Verdict verdict;
  {
    std::lock_guard lock(screen_mu_);
    // Twilio's FromCountry is derived from the number itself, not the route, so it
    // says nothing about an international route: no origin country is passed.
    verdict = screener_.screen({from, "", stir}, screening::Clock::now());
  }
  std::string twiml;
  {
    std::lock_guard lock(call->mu);
    twiml = call->session.answer(verdict, from, utc_now_ms());
    if (call->session.finished()) {
      ++counters_.rejected;
      call->finished_at = Clock::now();
    }
    collect(*call);
  }
  dispatch(call);
  return twiml;
}

std::string CallRegistry::on_gather(const telephony::Params& params, std::string_view stage) {
  const std::string sid(telephony::param(params, "CallSid").value_or(""));
  const std::string digits(telephony::param(params, "Digits").value_or(""));
  const auto st = telephony::stage_from(stage);
  auto call = find(sid);
  if (!call || !st) {
    // Not a call this node holds (restarted, or another node's): never drop it.
    std::cerr << "spoofex: gather for unknown call " << sid << ": routing to operator review\n";
    return overload_twiml();
  }
  std::string twiml;
  {
    std::lock_guard lock(call->mu);
    twiml = call->session.on_gather(*st, digits, Clock::now());
    collect(*call);
  }
  dispatch(call);
  return twiml;
}

void CallRegistry::on_status(const telephony::Params& params) {
  const std::string sid(telephony::param(params, "CallSid").value_or(""));
  const std::string status(telephony::param(params, "CallStatus").value_or(""));
  double duration = 0;
  if (auto d = telephony::param(params, "CallDuration")) {
    try {
      duration = std::stod(std::string(*d));
    } catch (const std::exception&) {
      duration = 0;
    }
  }
  auto call = find(sid);
  if (!call) return;
  {
    std::lock_guard lock(call->mu);
    call->session.on_status(status, duration, Clock::now());
    if (call->session.finished() && call->finished_at == Clock::time_point{}) {
      call->finished_at = Clock::now();
    }
    collect(*call);
  }
  dispatch(call);
}

void CallRegistry::tick() {
  std::vector<std::shared_ptr<LiveCall>> live;
  {
    std::lock_guard lock(calls_mu_);
    live.reserve(calls_.size());
    for (auto& [sid, call] : calls_) live.push_back(call);
  }
  const auto now = Clock::now();
  std::vector<std::string> done;
  for (auto& call : live) {
    bool forget = false;
    {
      std::lock_guard lock(call->mu);
      call->session.tick(now);
      collect(*call);
      // Finished calls whose stream is still open stay a while for its last messages.
      forget = call->finished_at != Clock::time_point{} &&
               (!call->session.streaming() || now - call->finished_at > kLinger);
      if (!forget && now - call->session.created() > kMaxCallAge) {
        // A call Twilio never reported ending: close it so memory stays bounded.
        call->session.on_status("completed", 0, now);
        call->finished_at = now;
        collect(*call);
      }
    }
    dispatch(call);
    if (forget) done.push_back(call->session.call_sid());
  }
  if (!done.empty()) {
    std::lock_guard lock(calls_mu_);
    for (const auto& sid : done) calls_.erase(sid);
  }
}

std::optional<CallRegistry::Voiced> CallRegistry::take_voiced(LiveCall& call,
                                                              Clock::time_point now) {
  auto audio = call.session.take_voiced();
  if (!audio) return std::nullopt;
  if (!call.utterance_start) call.utterance_start = now;
  Voiced v{{call.session.decided(), *call.utterance_start}, std::move(*audio)};
  if (v.audio.utterance_end) call.utterance_start.reset();
  return v;
}

void CallRegistry::recognise(std::shared_ptr<LiveCall> call, Voiced voiced) {
  auto lane = call->asr;
  speech_.post(lane, voiced.priority,
               [this, call = std::move(call), audio = std::move(voiced.audio)]() mutable {
                 try {
                   recognise_now(call, audio);
                 } catch (const std::exception& e) {
                   std::cerr << "spoofex: speech for call " << call->session.call_sid()
                             << " failed: " << e.what() << '\n';
                 }
               });
}

void CallRegistry::recognise_now(const std::shared_ptr<LiveCall>& call,
                                 telephony::CallSession::Voiced& voiced) {
  {
    std::string failure;
    std::optional<std::string> final_text;
    if (!deps_.speech) {
      failure = "no speech engine is configured";
    } else if (!call->recognizer_failed) {
      if (!call->recognizer) {
        // A new utterance: if the workers are behind, search faster rather than later.
        const double behind = config_.fast_speech_after_s;
        const bool fast = behind > 0 && speech_.backlog().oldest_wait_s >= behind;
        auto r = deps_.speech->recognizer(fast ? speech::Effort::fast : speech::Effort::full);
        if (r) {
          call->recognizer = std::move(*r);
          ++counters_.decoders_busy;
          if (fast) ++counters_.fast_utterances;
        } else {
          call->recognizer_failed = true;
          failure = r.error();
        }
      }
      if (call->recognizer) {
        if (auto st = call->recognizer->accept(voiced.pcm); !st) failure = st.error();
        if (voiced.utterance_end) {
          final_text = call->recognizer->finish().text;
          call->release_recognizer();
          ++counters_.asr_utterances;
        }
      }
    } else {
      failure = "the recogniser could not be created";
    }
    if (!voiced.utterance_end) return;
    std::string transcript;
    bool wants = false;
    {
      std::lock_guard lock(call->mu);
      if (final_text) {
        call->session.on_transcript(*final_text, true, Clock::now());
      } else {
        call->session.on_recognizer_failed(failure, Clock::now());
      }
      transcript = call->session.transcript();
      wants = call->session.wants_triage();
      collect(*call);
    }
    dispatch(call);
    std::shared_ptr<const triage::NaiveBayes> model;
    {
      std::lock_guard lock(model_mu_);
      model = classifier_;
    }
    if (!wants || !model || !deps_.urgency) return;
    telephony::CallSession::Triage t;
    t.prediction = model->predict(transcript, triage::Source::heard);
    std::vector<triage::UrgencyScorer::Hit> hits;
    t.urgency = deps_.urgency->score(transcript, &hits);
    for (const auto& h : hits) t.danger_words += (t.danger_words.empty() ? "" : ", ") + h.phrase;
    {
      std::lock_guard lock(call->mu);
      call->session.on_triage(t, Clock::now());
      collect(*call);
    }
    dispatch(call);
  }
}

CallRegistry::Stream::~Stream() {
  if (!call_sid_.empty() && !stopped_) {
    --registry_.streaming_;
    if (auto call = registry_.find(call_sid_)) {
      // The socket closed without a stop message: the audio has ended all the same, and
      // what the caller was saying still goes to the recogniser.
      std::optional<Voiced> voiced;
      {
        std::lock_guard lock(call->mu);
        call->session.on_stream_stop(Clock::now());
        voiced = registry_.take_voiced(*call, Clock::now());
        registry_.collect(*call);
      }
      registry_.dispatch(call);
      if (voiced) registry_.recognise(call, std::move(*voiced));
    }
  }
}

Status CallRegistry::Stream::on_message(std::string_view text) {
  auto m = telephony::parse_stream_message(text);
  if (!m) return Error{m.error()};
  if (m->event == telephony::StreamEvent::connected) return Ok{};
  if (m->event == telephony::StreamEvent::start) {
    if (!call_sid_.empty()) return Error{"a second start message on one stream"};
    if (!plausible_sid(m->call_sid)) return Error{"start names no valid callSid"};
    if (!m->encoding.empty() && m->encoding != "audio/x-mulaw") {
      return Error{"unsupported media encoding " + m->encoding};
    }
    auto call = registry_.find(m->call_sid);
    if (!call) return Error{"stream for unknown call " + m->call_sid};
    call_sid_ = m->call_sid;
    stream_sid_ = m->stream_sid;
    last_sequence_ = m->sequence;
    ++registry_.streaming_;
    ++registry_.counters_.streams;
    {
      std::lock_guard lock(call->mu);
      call->session.on_stream_start(stream_sid_, Clock::now());
      registry_.collect(*call);
    }
    registry_.dispatch(call);
    return Ok{};
  }
  if (call_sid_.empty()) return Error{"media before the start message"};
  if (m->stream_sid != stream_sid_) return Error{"message for another stream " + m->stream_sid};
  if (stopped_) return Ok{};
  if (m->sequence != last_sequence_ + 1) {
    std::cerr << "spoofex: stream " << stream_sid_ << ": sequence jumped from " << last_sequence_
              << " to " << m->sequence << " (lost messages)\n";
  }
  last_sequence_ = m->sequence;
  auto call = registry_.find(call_sid_);
  if (!call) return Error{"the call has ended"};
  std::optional<Voiced> voiced;
  {
    std::lock_guard lock(call->mu);
    const auto now = Clock::now();
    switch (m->event) {
      case telephony::StreamEvent::media:
        if (m->track != "inbound" && m->track != "inbound_track") break;
        ++registry_.counters_.media_frames;
        call->session.on_media(m->payload, now);
        voiced = registry_.take_voiced(*call, now);
        break;
      case telephony::StreamEvent::dtmf:
        call->session.on_stream_dtmf(m->digit, now);
        break;
      case telephony::StreamEvent::stop:
        stopped_ = true;
        --registry_.streaming_;
        call->session.on_stream_stop(now);
        voiced = registry_.take_voiced(*call, now);
        break;
      default:
        break;
    }
    registry_.collect(*call);
  }
  registry_.dispatch(call);
  if (voiced) registry_.recognise(call, std::move(*voiced));
  return Ok{};
}

}  // namespace spoofex::server
