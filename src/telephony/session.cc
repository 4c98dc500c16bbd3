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

#include "telephony/json_text.h"
#include "telephony/telephony.h"

namespace spoofex::telephony {
namespace {

// Callers' bytes may be invalid UTF-8: json_text replaces them, never throws.
using json_text::Object;

// screening::caller_json, written directly (telephony_test checks the two agree).
void write_caller(std::string& out, const numbering::CallerId& c) {
  Object o(out);
  if (c.e164) {
    o.str("e164", *c.e164);
  } else {
    o.null("e164");
  }
  if (!c.parse_error.empty()) o.str("error", c.parse_error);
  if (!c.note.empty()) o.str("note", c.note);
  o.str("raw", c.raw).str_or_null("region", c.region);
  o.str("type", numbering::to_string(c.type)).boolean("valid", c.valid);
}

// screening::to_json(verdict), its caller already written.
std::string screened_json(const screening::Verdict& v, std::string_view caller_json) {
  std::string out;
  out.reserve(256 + caller_json.size());
  Object o(out);
  o.str("action", screening::to_string(v.action)).raw("caller", caller_json);
  {
    Object f(o.name("flags"));
    f.boolean("spam_listed", v.spam_listed)
        .boolean("spoofed", v.spoofed)
        .boolean("system_generated", v.system_generated)
        .boolean("withheld", v.withheld);
  }
  auto& list = o.name("reasons");
  list += '[';
  for (std::size_t i = 0; i < v.reasons.size(); ++i) {
    if (i > 0) list += ',';
    const auto& r = v.reasons[i];
    Object(list)
        .str("code", r.code)
        .str("detail", r.detail)
        .str("flag", screening::to_string(r.flag));
  }
  list += ']';
  return out;
}

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
  // The caller's part of the record never changes after this: written once.
  caller_json_.clear();
  write_caller(caller_json_, screen.caller);
  event("screened", screened_json(screen, caller_json_));
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
  std::string detail;
  Object(detail).str("stream_sid", stream_sid_);
  event("stream_start", std::move(detail));
}

void CallSession::on_media(std::span<const std::uint8_t> mulaw, Clock::time_point now) {
  if (stream_ended_ || put_through_) return;
  std::int16_t pcm[320];
  while (!mulaw.empty()) {
    const std::size_t n = std::min<std::size_t>(mulaw.size(), std::size(pcm));
    const auto chunk = mulaw.first(n);
    mulaw = mulaw.subspan(n);
    audio::decode_g711(audio::Encoding::mulaw, chunk, pcm);
    bool started_now = false;
    for (const auto& e : analyzer().feed(chunk)) {
      std::string detail;
      {
        Object o(detail);
        o.num("at_s", e.at_s);
        if (e.kind == audio::EventKind::dtmf) o.str("digit", std::string_view(&e.digit, 1));
      }
      switch (e.kind) {
        case audio::EventKind::speech_start:
          speaking_ = true;
          started_now = true;
          // pre_roll_ ends where this chunk starts.
          pre_roll_.take(e.at_s, analyzer().stats().duration_s - static_cast<double>(n) / 8000.0,
                         voiced_);
          break;
        case audio::EventKind::speech_end:
          speaking_ = false;
          speech_end_at_ = now;
          utterance_end_ = true;
          ++utterances_pending_;
          break;
        case audio::EventKind::dtmf:
          stream_digits_ += e.digit;
          break;
        case audio::EventKind::fax_calling_tone:
        case audio::EventKind::modem_answer_tone:
          break;
      }
      event(std::string(audio::to_string(e.kind)), std::move(detail));
    }
    if (speaking_ || started_now) {
      voiced_.insert(voiced_.end(), pcm, pcm + n);
    } else {
      pre_roll_.push({pcm, n});
    }
  }
}

void CallSession::on_stream_dtmf(char digit, Clock::time_point now) {
  stream_digits_ += digit;
  std::string detail;
  Object(detail).num("at_s", seconds(now - created_)).str("digit", std::string_view(&digit, 1));
  event("dtmf", std::move(detail));
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
    std::string detail;
    Object(detail).str("text", text);
    event("partial_transcript", std::move(detail));
    return;
  }
  if (utterances_pending_ > 0) --utterances_pending_;
  if (!text.empty()) {
    if (!transcript_.empty()) transcript_ += ' ';
    transcript_ += text;
  }
  std::string detail;
  Object(detail)
      .num("at_s", seconds(now - created_))
      .str("text", text)
      .str("transcript", transcript_);
  event("transcript", std::move(detail));
  wants_triage_ = !transcript_.empty() && transcript_ != triaged_transcript_;
  if (!wants_triage_ && !decision_) tick(now);
  record();
}

void CallSession::on_recognizer_failed(std::string_view why, Clock::time_point now) {
  if (utterances_pending_ > 0) --utterances_pending_;
  asr_error_ = std::string(why);
  std::string detail;
  Object(detail).str("error", why);
  event("recognizer_failed", std::move(detail));
  tick(now);
}

void CallSession::on_triage(const Triage& t, Clock::time_point now) {
  triage_ = t;
  triaged_transcript_ = transcript_;
  wants_triage_ = false;
  std::string detail;
  Object(detail)
      .str("category", triage::to_string(t.prediction.category))
      .num("confidence", t.prediction.confidence)
      .num("urgency", t.urgency);
  event("triage", std::move(detail));
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
  std::string detail;
  Object(detail).str("digits", digits).str("stage", to_string(stage));
  event("gather", std::move(detail));
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
  std::string detail;
  Object(detail).num("duration_s", duration_s).str("status", status);
  event("status", std::move(detail));
  if (terminal) {
    on_stream_stop(now);
    if (!decision_) decide(now, "the caller hung up");
    timings_.emplace_back("ended_s", seconds(now - created_));
    finished_ = true;
  }
  record();
}

void CallSession::on_call_update(bool ok, std::string_view detail, Clock::time_point now) {
  event(ok ? "call_updated" : "call_update_failed", [&] {
    std::string j;
    Object(j).num("at_s", seconds(now - created_)).str("detail", detail);
    return j;
  }());
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
  // Routed on the key alone although the caller spoke: the operator should know the words
  // were not weighed (a busy recogniser, or a key pressed mid-sentence).
  words_pending_at_decision_ = speaking_ || utterances_pending_ > 0 || wants_triage_;
  timings_.emplace_back("decided_s", seconds(now - created_));
  std::string detail;
  Object(detail)
      .str("because", why)
      .str("category", decision_->category)
      .str("department", decision_->department.id);
  event("decision", std::move(detail));
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
  // The conversation with the officer is theirs: what the caller was saying still goes to
  // the recogniser, nothing after it. The TwiML stops the fork; until Twilio does, audio
  // that still arrives is dropped here (the speech workers serve routed calls last, so
  // their audio would otherwise queue).
  put_through_ = true;
  if (speaking_) {
    speaking_ = false;
    utterance_end_ = true;
    ++utterances_pending_;
  }
  return t.stop_stream()
      .say(config_.connect_prompt)
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
  const std::string& digits = gather_digits_.empty() ? stream_digits_ : gather_digits_;
  std::string out;
  out.reserve(1536 + transcript_.size() + caller_json_.size());
  // Keys in sorted order, as nlohmann::json (a std::map) wrote them before this was hand-written.
  Object j(out);
  j.str_or_null("action", action_taken_);
  {
    Object a(j.name("audio"));
    a.num("duration_s", stats.duration_s)
        .integer("speech_segments", stats.speech_segments)
        .num("voiced_s", stats.voiced_s);
  }
  j.str("call_sid", call_sid_);
  if (caller_json_.empty()) {  // not screened yet
    write_caller(j.name("caller"), screen_.caller);
  } else {
    j.raw("caller", caller_json_);
  }
  j.str_or_null("category", sum.category);
  j.str("decided_because", decided_because_);
  j.str_or_null("department", sum.department);
  j.str_or_null("digit", std::string_view(digits).substr(0, 1));
  j.str("digits", digits);
  j.num("duration_s", duration_s_);
  {
    Object f(j.name("flags"));
    f.boolean("blank", sum.blank)
        .boolean("spam_listed", sum.spam_listed)
        .boolean("spoofed", sum.spoofed)
        .boolean("system_generated", sum.system_generated);
  }
  if (decision_ && !decision_->department.number.empty()) {
    j.str("forward_to", decision_->department.number);
  } else {
    j.null("forward_to");
  }
  j.str("from", from_raw_);
  j.str("instructions", decision_ ? std::string_view(decision_->department.instructions) : "");
  j.str("keys_heard_in_audio", stream_digits_);
  if (triage_) {
    Object p(j.name("prediction"));
    p.str("category", triage::to_string(triage_->prediction.category))
        .num("confidence", triage_->prediction.confidence);
  } else {
    j.null("prediction");
  }
  write_reasons(j.name("reasons"), heard, sum.blank);
  j.boolean("silent_prompted", silent_prompted_);
  j.str("started_at", started_at_);
  j.str("status", status_);
  write_timings(j.name("timings"));
  j.str("transcript", transcript_);
  j.num("urgency", triage_ ? triage_->urgency : 0.0);
  return out;
}

// Screening's reasons, then what was heard, then the decision's (each code once).
void CallSession::write_reasons(std::string& out, const audio::Verdict& heard, bool blank) const {
  out += '[';
  bool first = true;
  auto reason = [&](std::string_view code, std::string_view flag, std::string_view detail) {
    if (!first) out += ',';
    first = false;
    Object(out).str("code", code).str("detail", detail).str("flag", flag);
  };
  for (const auto& r : screen_.reasons) reason(r.code, screening::to_string(r.flag), r.detail);
  for (const auto& f : heard.findings) {
    if (f.code == "no_speech" && !blank) continue;
    reason(f.code, finding_flag(f.code), f.detail);
  }
  if (decision_) {
    const auto& dr = decision_->reasons;
    for (std::size_t i = 0; i < dr.size(); ++i) {
      const auto& code = dr[i].code;
      const bool said = std::any_of(screen_.reasons.begin(), screen_.reasons.end(),
                                    [&](const auto& r) { return r.code == code; }) ||
                        std::any_of(heard.findings.begin(), heard.findings.end(),
                                    [&](const auto& f) {
                                      return f.code == code && (blank || f.code != "no_speech");
                                    }) ||
                        std::any_of(dr.begin(), dr.begin() + static_cast<std::ptrdiff_t>(i),
                                    [&](const auto& r) { return r.code == code; });
      if (!said) reason(code, "triage", dr[i].detail);
    }
  }
  if (!update_error_.empty()) {
    reason("call_update_failed", "telephony", "Twilio did not take our update: " + update_error_);
  }
  if (!asr_error_.empty()) reason("recognizer_failed", "speech", asr_error_);
  if (words_pending_at_decision_) {
    reason("routed_before_words", "speech",
           "routed before the caller's words were transcribed and weighed; the transcript is "
           "added to this record when it comes");
  }
  out += ']';
}

// Seconds since the call began, to the millisecond; a repeated name keeps its last value.
void CallSession::write_timings(std::string& out) const {
  const std::pair<std::string, double>* sorted[32];
  std::size_t n = 0;
  for (const auto& t : timings_) {
    auto* same =
        std::find_if(sorted, sorted + n, [&](const auto* p) { return p->first == t.first; });
    if (same != sorted + n) {
      *same = &t;
    } else if (n < std::size(sorted)) {
      sorted[n++] = &t;
    }
  }
  std::sort(sorted, sorted + n, [](const auto* a, const auto* b) { return a->first < b->first; });
  Object o(out);
  for (std::size_t i = 0; i < n; ++i) {
    o.num(sorted[i]->first, std::round(sorted[i]->second * 1000) / 1000);
  }
}

}  // namespace spoofex::telephony
