// The call session: one call from the webhook to the end, as a state machine that
// joins the screening verdict, the Gather digits, the audio verdicts, the transcript
// and the triage into one decision (design.md, pipeline stages 2-6).
//
// The flow: answer with the prompt, a <Start><Stream> and a <Gather>. When the Gather
// reports:
//   - key 1 or the silent-solution keys: an emergency, routed at once;
//   - another key, or speech heard: hold the caller while listening ends, then
//     decide and update the call through the REST API (the hold TwiML ends in a
//     <Redirect> back here, so the call is routed even if that update fails);
//   - nothing at all: a blank call. The caller first hears the silent-solution
//     prompt (safety rule 2); 5 5 makes it an emergency, silence ends the call and
//     leaves it in the call-back queue.
// A fax or modem tone with no keys and no speech is hung up as soon as it is heard.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "telephony/telephony.h"

namespace spoofex::telephony {
namespace {

constexpr std::size_t kPreRollSamples = 8000 * 3 / 10;  // 300 ms before speech starts

// Callers' bytes may be invalid UTF-8: replaced in JSON, never an exception.
constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string with_stage(const std::string& url, Stage stage) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "stage=" + std::string(to_string(stage));
}

std::string_view finding_flag(std::string_view code) {
  if (code == "no_speech") return "blank";
  if (code == "silent_solution") return "emergency";
  return "system_generated";
}

}  // namespace

double spoken_seconds(std::string_view text) {
  std::size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\t' || c == '\n';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return 0.5 + static_cast<double>(words) / 2.5;
}

std::string_view to_string(Stage s) {
  switch (s) {
    case Stage::main:
      return "main";
    case Stage::silent:
      return "silent";
    case Stage::hold:
      return "hold";
  }
  return "main";
}

std::optional<Stage> stage_from(std::string_view name) {
  if (name == "main" || name.empty()) return Stage::main;
  if (name == "silent") return Stage::silent;
  if (name == "hold") return Stage::hold;
  return std::nullopt;
}

CallSession::CallSession(std::string call_sid, const SessionConfig& config,
                         const Endpoints& endpoints, const triage::Departments& departments,
                         const triage::FusionPolicy& fusion, Clock::time_point now)
    : call_sid_(std::move(call_sid)),
      config_(config),
      endpoints_(endpoints),
      departments_(departments),
      fusion_(fusion),
      created_(now) {}

audio::Verdict CallSession::heard() const {
  return analyzer_ ? analyzer_->verdict() : audio::Verdict{};
}

audio::AudioAnalyzer& CallSession::analyzer() {
  // Made when audio first arrives: rejected calls and webhook floods never pay for it.
  if (!analyzer_) {
    audio::AnalyzerConfig a;
    a.encoding = audio::Encoding::mulaw;
    a.silent_solution = config_.silent_solution;
    a.prompt_end_s = config_.prompt_s > 0 ? config_.prompt_s : spoken_seconds(config_.prompt);
    analyzer_ = std::make_unique<audio::AudioAnalyzer>(a);
    pre_roll_.reserve(kPreRollSamples + 320);
  }
  return *analyzer_;
}

void CallSession::event(std::string name, std::string detail_json) {
  Action a{Action::Kind::event, ++event_seq_, "", std::move(name), std::move(detail_json)};
  actions_.push_back(std::move(a));
}

void CallSession::record() {
  ++revision_;
  actions_.push_back(Action{Action::Kind::record, 0, "", "", ""});
}

std::vector<Action> CallSession::take_actions() { return std::exchange(actions_, {}); }

std::string CallSession::answer(const screening::Verdict& screen, std::string_view from_raw,
                                const std::string& started_at) {
  screen_ = screen;
  from_raw_ = std::string(from_raw);
  started_at_ = started_at;
  event("screened", screening::to_json(screen).dump(-1, ' ', false, kReplace));
  if (screen.action == screening::Action::reject) {
    status_ = "rejected";
    triage::Decision d;
    d.category = "spam";
    d.department = departments_.for_category("spam");
    d.reasons.push_back(
        {"rejected_before_answer", "refused before answering: the caller is on the spam list"});
    decision_ = std::move(d);
    decided_because_ = "screening";
    action_taken_ = "rejected";
    timings_.emplace_back("decided_s", 0.0);
    finished_ = true;
    record();
    return Twiml(config_.voice).reject("rejected").str();
  }
  status_ = "in-progress";
  record();
  return Twiml(config_.voice)
      .start_stream(endpoints_.stream_url, {{"call_sid", call_sid_}})
      .gather(with_stage(endpoints_.gather_url, Stage::main), 1, config_.gather_timeout_s,
              config_.prompt)
      .str();
}

void CallSession::on_stream_start(std::string_view stream_sid, Clock::time_point now) {
  stream_sid_ = std::string(stream_sid);
  stream_open_ = true;
  timings_.emplace_back("stream_start_s", seconds(now - created_));
  event("stream_start", nlohmann::json{{"stream_sid", stream_sid_}}.dump(-1, ' ', false, kReplace));
}

void CallSession::on_media(std::span<const std::uint8_t> mulaw, Clock::time_point now) {
  if (stream_ended_) return;
  std::int16_t pcm[320];
  while (!mulaw.empty()) {
    const std::size_t n = std::min<std::size_t>(mulaw.size(), std::size(pcm));
    const auto chunk = mulaw.first(n);
    mulaw = mulaw.subspan(n);
    audio::decode_g711(audio::Encoding::mulaw, chunk, pcm);
    bool started_now = false;
    for (const auto& e : analyzer().feed(chunk)) {
      nlohmann::json detail = {{"at_s", e.at_s}};
      switch (e.kind) {
        case audio::EventKind::speech_start:
          speaking_ = true;
          started_now = true;
          voiced_.insert(voiced_.end(), pre_roll_.begin(), pre_roll_.end());
          pre_roll_.clear();
          break;
        case audio::EventKind::speech_end:
          speaking_ = false;
          speech_end_at_ = now;
          utterance_end_ = true;
          ++utterances_pending_;
          break;
        case audio::EventKind::dtmf:
          stream_digits_ += e.digit;
          detail["digit"] = std::string(1, e.digit);
          break;
        case audio::EventKind::fax_calling_tone:
        case audio::EventKind::modem_answer_tone:
          break;
      }
      event(std::string(audio::to_string(e.kind)), detail.dump(-1, ' ', false, kReplace));
    }
    if (speaking_ || started_now) {
      voiced_.insert(voiced_.end(), pcm, pcm + n);
    } else {
      pre_roll_.insert(pre_roll_.end(), pcm, pcm + n);
      if (pre_roll_.size() > kPreRollSamples) {
        pre_roll_.erase(
            pre_roll_.begin(),
            pre_roll_.begin() + static_cast<std::ptrdiff_t>(pre_roll_.size() - kPreRollSamples));
      }
    }
  }
}

void CallSession::on_stream_dtmf(char digit, Clock::time_point now) {
  stream_digits_ += digit;
  event("dtmf",
        nlohmann::json{{"digit", std::string(1, digit)}, {"at_s", seconds(now - created_)}}.dump(
            -1, ' ', false, kReplace));
}

void CallSession::on_stream_stop(Clock::time_point now) {
  if (stream_ended_) return;
  stream_ended_ = true;
  if (speaking_) {
    speaking_ = false;
    speech_end_at_ = now;
    utterance_end_ = true;
    ++utterances_pending_;
  }
  timings_.emplace_back("stream_stop_s", seconds(now - created_));
  event("stream_stop", "{}");
  record();
}

std::optional<CallSession::Voiced> CallSession::take_voiced() {
  if (voiced_.empty() && !utterance_end_) return std::nullopt;
  Voiced v{std::exchange(voiced_, {}), std::exchange(utterance_end_, false)};
  return v;
}

void CallSession::on_transcript(std::string_view text, bool final_text, Clock::time_point now) {
  if (!final_text) {
    event("partial_transcript", nlohmann::json{{"text", text}}.dump(-1, ' ', false, kReplace));
    return;
  }
  if (utterances_pending_ > 0) --utterances_pending_;
  if (!text.empty()) {
    if (!transcript_.empty()) transcript_ += ' ';
    transcript_ += text;
  }
  event(
      "transcript",
      nlohmann::json{{"text", text}, {"transcript", transcript_}, {"at_s", seconds(now - created_)}}
          .dump(-1, ' ', false, kReplace));
  wants_triage_ = !transcript_.empty() && transcript_ != triaged_transcript_;
  if (!wants_triage_ && !decision_) tick(now);
  record();
}

void CallSession::on_recognizer_failed(std::string_view why, Clock::time_point now) {
  if (utterances_pending_ > 0) --utterances_pending_;
  asr_error_ = std::string(why);
  event("recognizer_failed", nlohmann::json{{"error", why}}.dump(-1, ' ', false, kReplace));
  tick(now);
}

void CallSession::on_triage(const Triage& t, Clock::time_point now) {
  triage_ = t;
  triaged_transcript_ = transcript_;
  wants_triage_ = false;
  event("triage", nlohmann::json{{"category", triage::to_string(t.prediction.category)},
                                 {"confidence", t.prediction.confidence},
                                 {"urgency", t.urgency}}
                      .dump(-1, ' ', false, kReplace));
  if (decision_) {
    record();  // late words: stored for the operator; the routing stands
    return;
  }
  // Early on strong evidence (design.md stage 5): an emergency in the caller's words
  // is routed without waiting for the key.
  const bool strong = (t.prediction.category == triage::Category::emergency &&
                       t.prediction.confidence >= fusion_.emergency_min_confidence) ||
                      t.urgency >= fusion_.high_urgency;
  if (strong) {
    decide(now, "emergency heard in the caller's words");
    actions_.push_back(Action{Action::Kind::update_call, 0, act_on_decision(), "", ""});
    record();
    return;
  }
  tick(now);
  record();
}

bool CallSession::listening_done(Clock::time_point now) const {
  if (stream_ended_ || seconds(now - created_) >= config_.max_listen_s) return true;
  if (speaking_) return false;
  if (!analyzer_ || !analyzer_->speech_heard()) return true;
  return speech_end_at_ && seconds(now - *speech_end_at_) >= config_.end_of_speech_s;
}

bool CallSession::evidence_complete(Clock::time_point now) const {
  if (!listening_done(now)) return false;
  const bool asr_done = utterances_pending_ == 0 && !wants_triage_;
  if (asr_done) return true;
  // The recogniser is late: after asr_wait_s, decide on what there is (a human
  // reviews calls whose speech was never transcribed).
  const auto since = speech_end_at_ ? *speech_end_at_ : created_;
  return seconds(now - since) >= config_.asr_wait_s;
}

std::string CallSession::on_gather(Stage stage, std::string_view digits, Clock::time_point now) {
  gather_digits_ += digits;
  event("gather", nlohmann::json{{"stage", to_string(stage)}, {"digits", digits}}.dump(
                      -1, ' ', false, kReplace));
  timings_.emplace_back(std::string("gather_") + std::string(to_string(stage)) + "_s",
                        seconds(now - created_));
  if (decision_) {
    // Already routed (an update raced this callback): repeat the routing.
    record();
    return act_on_decision();
  }
  const bool silent_keys = !config_.silent_solution.empty() &&
                           gather_digits_.find(config_.silent_solution) != std::string::npos;
  const bool key_one = !gather_digits_.empty() && gather_digits_.front() == '1';
  const audio::Verdict heard = this->heard();
  auto hold = [&] {
    on_hold_ = true;
    hold_at_ = now;
    record();
    return Twiml(config_.voice)
        .say(config_.hold_prompt)
        .pause(static_cast<int>(config_.hold_pause_s))
        .redirect(with_stage(endpoints_.gather_url, Stage::hold))
        .str();
  };
  auto decide_now = [&](std::string_view why) {
    decide(now, why);
    std::string twiml = act_on_decision();
    record();
    return twiml;
  };
  if (silent_keys || key_one) return decide_now("the caller's keys");
  switch (stage) {
    case Stage::main:
      main_gather_done_ = true;
      if (gather_digits_ == config_.silent_solution.substr(0, 1) &&
          config_.silent_solution.size() > 1) {
        // The first key of the silent-solution sequence: wait for the rest.
        silent_prompted_ = true;
        silent_prompt_at_ = now;
        record();
        return Twiml(config_.voice)
            .gather(with_stage(endpoints_.gather_url, Stage::silent),
                    static_cast<int>(config_.silent_solution.size()) - 1, config_.silent_timeout_s,
                    "")
            .str();
      }
      if (!gather_digits_.empty() || heard.speech) {
        if (evidence_complete(now)) return decide_now("keys and words complete");
        return hold();
      }
      if (heard.system_generated) return decide_now("a machine on the line");
      silent_prompted_ = true;
      silent_prompt_at_ = now;
      event("silent_prompt", "{}");
      record();
      return Twiml(config_.voice)
          .gather(with_stage(endpoints_.gather_url, Stage::silent),
                  static_cast<int>(config_.silent_solution.size()), config_.silent_timeout_s,
                  config_.silent_prompt)
          .str();
    case Stage::silent:
      silent_done_ = true;
      if (!gather_digits_.empty() || heard.speech) {
        if (evidence_complete(now)) return decide_now("keys and words complete");
        return hold();
      }
      return decide_now("no answer to the silent-solution prompt");
    case Stage::hold:
      return decide_now("hold time over");
  }
  return decide_now("unknown stage");
}

void CallSession::on_status(std::string_view status, double duration_s, Clock::time_point now) {
  const bool terminal = status == "completed" || status == "busy" || status == "failed" ||
                        status == "no-answer" || status == "canceled";
  if (status_ != "rejected") status_ = std::string(status);
  duration_s_ = duration_s;
  event("status", nlohmann::json{{"status", status}, {"duration_s", duration_s}}.dump(
                      -1, ' ', false, kReplace));
  if (terminal) {
    on_stream_stop(now);
    if (!decision_) decide(now, "the caller hung up");
    timings_.emplace_back("ended_s", seconds(now - created_));
    finished_ = true;
  }
  record();
}

void CallSession::on_call_update(bool ok, std::string_view detail, Clock::time_point now) {
  event(ok ? "call_updated" : "call_update_failed",
        nlohmann::json{{"detail", detail}, {"at_s", seconds(now - created_)}}.dump(-1, ' ', false,
                                                                                   kReplace));
  if (!ok) {
    // The hold TwiML ends in a <Redirect> to us, which routes the call anyway.
    update_error_ = std::string(detail);
    record();
  }
}

void CallSession::tick(Clock::time_point now) {
  if (decision_ || finished_) return;
  const audio::Verdict heard = this->heard();
  // A fax or modem with no keys and no speech: hang up now, no need to wait.
  if (heard.system_generated && !heard.speech && gather_digits_.empty() && stream_digits_.empty()) {
    decide(now, "fax or modem tone");
    actions_.push_back(Action{Action::Kind::update_call, 0, act_on_decision(), "", ""});
    record();
    return;
  }
  if (on_hold_ && evidence_complete(now)) {
    decide(now, "listening ended");
    actions_.push_back(Action{Action::Kind::update_call, 0, act_on_decision(), "", ""});
    record();
  }
}

void CallSession::decide(Clock::time_point now, std::string_view why) {
  const audio::Verdict heard = this->heard();
  triage::Signals s;
  if (triage_) {
    s.prediction = &triage_->prediction;
    s.urgency = triage_->urgency;
    s.danger_words = triage_->danger_words;
  }
  s.digits = gather_digits_.empty() ? stream_digits_ : gather_digits_;
  s.silent_solution = heard.silent_solution;
  s.blank = !heard.speech && s.digits.empty() && transcript_.empty();
  s.machine_evidence = screen_.spam_listed || screen_.system_generated || heard.system_generated;
  triage::Decision d = triage::decide(s, departments_, fusion_);
  if (heard.system_generated && !heard.speech && s.digits.empty()) {
    // A machine, not a silent person: no silent-solution prompt is owed.
    d = triage::Decision{};
    d.category = "spam";
    d.department = departments_.for_category("spam");
    d.reasons.push_back({"machine_hangup", "a fax or modem tone and no human: hung up"});
  }
  decision_ = std::move(d);
  decided_because_ = std::string(why);
  timings_.emplace_back("decided_s", seconds(now - created_));
  event("decision", nlohmann::json{{"category", decision_->category},
                                   {"department", decision_->department.id},
                                   {"because", why}}
                        .dump(-1, ' ', false, kReplace));
}

std::string CallSession::act_on_decision() {
  const triage::Decision& d = *decision_;
  Twiml t(config_.voice);
  if (d.category == "spam" && d.department.id != departments_.operator_review.id) {
    action_taken_ = "hung_up";
    return t.say(config_.spam_goodbye).hangup().str();
  }
  if (d.category == "blank") {
    if (!silent_prompted_) {
      // Safety rule 2: a silent caller hears the silent-solution prompt first.
      silent_prompted_ = true;
      decision_.reset();
      event("silent_prompt", "{}");
      return t
          .gather(with_stage(endpoints_.gather_url, Stage::silent),
                  static_cast<int>(config_.silent_solution.size()), config_.silent_timeout_s,
                  config_.silent_prompt)
          .str();
    }
    action_taken_ = "hung_up";
    return t.say(config_.blank_goodbye).hangup().str();
  }
  if (d.department.number.empty()) {
    // Nowhere to forward (serve refuses to start this way; kept safe regardless).
    action_taken_ = "held";
    return t.say(config_.review_prompt)
        .pause(60)
        .redirect(with_stage(endpoints_.gather_url, Stage::hold))
        .str();
  }
  action_taken_ = "dialed";
  return t.say(config_.connect_prompt)
      .dial(d.department.number, config_.dial_timeout_s, config_.caller_id)
      .str();
}

CallSession::Summary CallSession::summary() const {
  Summary s;
  s.status = status_;
  s.category = decision_ ? decision_->category : "";
  s.department = decision_ ? decision_->department.id : "";
  s.from_raw = from_raw_;
  s.from_e164 = screen_.caller.e164.value_or("");
  s.started_at = started_at_;
  const audio::Verdict heard = this->heard();
  s.spam_listed = screen_.spam_listed;
  s.spoofed = screen_.spoofed;
  s.system_generated = screen_.system_generated || heard.system_generated;
  s.blank = decision_ && decision_->category == "blank";
  return s;
}

std::string CallSession::record_json() const {
  const audio::Verdict heard = this->heard();
  static const audio::Stats kNoAudio;
  const audio::Stats& stats = analyzer_ ? analyzer_->stats() : kNoAudio;
  const Summary sum = summary();
  nlohmann::json reasons = screening::reasons_json(screen_.reasons);
  for (const auto& f : heard.findings) {
    if (f.code == "no_speech" && !sum.blank) continue;
    reasons.push_back({{"code", f.code}, {"flag", finding_flag(f.code)}, {"detail", f.detail}});
  }
  if (decision_) {
    for (const auto& r : decision_->reasons) {
      const bool said = std::any_of(reasons.begin(), reasons.end(),
                                    [&](const auto& j) { return j["code"] == r.code; });
      if (!said) reasons.push_back({{"code", r.code}, {"flag", "triage"}, {"detail", r.detail}});
    }
  }
  if (!update_error_.empty()) {
    reasons.push_back({{"code", "call_update_failed"},
                       {"flag", "telephony"},
                       {"detail", "Twilio did not take our update: " + update_error_}});
  }
  if (!asr_error_.empty()) {
    reasons.push_back({{"code", "recognizer_failed"}, {"flag", "speech"}, {"detail", asr_error_}});
  }
  const std::string digits = gather_digits_.empty() ? stream_digits_ : gather_digits_;
  nlohmann::json timings = nlohmann::json::object();
  for (const auto& [k, v] : timings_) timings[k] = std::round(v * 1000) / 1000;
  nlohmann::json j = {
      {"call_sid", call_sid_},
      {"status", status_},
      {"started_at", started_at_},
      {"from", from_raw_},
      {"caller", screening::caller_json(screen_.caller)},
      {"flags",
       {{"spam_listed", sum.spam_listed},
        {"spoofed", sum.spoofed},
        {"system_generated", sum.system_generated},
        {"blank", sum.blank}}},
      {"digits", digits},
      {"keys_heard_in_audio", stream_digits_},
      {"transcript", transcript_},
      {"prediction",
       triage_ ? nlohmann::json{{"category", triage::to_string(triage_->prediction.category)},
                                {"confidence", triage_->prediction.confidence}}
               : nlohmann::json(nullptr)},
      {"urgency", triage_ ? triage_->urgency : 0.0},
      {"digit", digits.empty() ? nlohmann::json(nullptr) : nlohmann::json(digits.substr(0, 1))},
      {"category", sum.category.empty() ? nlohmann::json(nullptr) : nlohmann::json(sum.category)},
      {"department",
       sum.department.empty() ? nlohmann::json(nullptr) : nlohmann::json(sum.department)},
      {"instructions", decision_ ? decision_->department.instructions : ""},
      {"forward_to", decision_ && !decision_->department.number.empty()
                         ? nlohmann::json(decision_->department.number)
                         : nlohmann::json(nullptr)},
      {"action", action_taken_.empty() ? nlohmann::json(nullptr) : nlohmann::json(action_taken_)},
      {"decided_because", decided_because_},
      {"silent_prompted", silent_prompted_},
      {"reasons", reasons},
      {"audio",
       {{"duration_s", stats.duration_s},
        {"voiced_s", stats.voiced_s},
        {"speech_segments", stats.speech_segments}}},
      {"duration_s", duration_s_},
      {"timings", timings}};
  return j.dump(-1, ' ', false, kReplace);
}

}  // namespace spoofex::telephony
