#include <algorithm>
#include <iostream>
#include <optional>

#include "app/commands.h"
#include "audio/audio.h"
#include "screening/screening.h"
#include "speech/speech.h"

namespace spoofex::app {
namespace {

struct AnalyzeOptions {
  std::string wav;
  std::string from;
  std::string digit;
  std::string origin_country;
  std::string stir;
  double prompt_end_s = 0;
  bool events = false;
};

std::string_view audio_flag(std::string_view code) {
  if (code == "no_speech") return "blank";
  if (code == "silent_solution") return "emergency";
  return "system_generated";
}

int run_analyze(const Context& ctx, const AnalyzeOptions& opt) {
  if (opt.digit.size() > 8 || opt.digit.find_first_not_of("0123456789*#") != std::string::npos) {
    return fail("analyze: --digit must be keypad keys (0-9, *, #)");
  }
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  auto rec = audio::read_wav(opt.wav);
  if (!rec) return fail("analyze: " + rec.error());

  nlohmann::json caller = nullptr;
  screening::Verdict screen;
  if (!opt.from.empty()) {
    auto plan = Context::plan(*cfg);
    if (!plan) return fail(plan.error());
    auto db = Context::open_store(*cfg);
    if (!db) return fail(db.error(), kExitFailure);
    screening::SpamList spam;
    if (auto c = plan->parse(opt.from); c.e164) {
      auto hit = (*db)->find_spam(*c.e164);
      if (!hit) return fail(hit.error(), kExitFailure);
      if (*hit) spam.add((*hit)->e164, (*hit)->reason);
    }
    screening::CallPatternDetector bursts(cfg->policy.burst);
    screening::Screener screener(*plan, spam, bursts, cfg->policy);
    screen = screener.screen({opt.from, opt.origin_country, opt.stir}, screening::Clock::now());
    caller = screening::caller_json(screen.caller);
  }

  audio::AnalyzerConfig acfg;
  acfg.prompt_end_s = opt.prompt_end_s;
  std::vector<audio::Event> events;
  audio::Stats stats;
  const audio::Verdict heard = audio::analyze_recording(*rec, acfg, &events, &stats);

  nlohmann::json reasons = screening::reasons_json(screen.reasons);
  for (const auto& f : heard.findings) {
    reasons.push_back({{"code", f.code}, {"flag", audio_flag(f.code)}, {"detail", f.detail}});
  }
  nlohmann::json digit = nullptr;
  if (!opt.digit.empty()) {
    digit = opt.digit;
  } else if (!heard.digits.empty()) {
    digit = heard.digits.substr(0, 1);
  }
  // The words, when there were any: speech recognition on the voiced parts, then
  // the classifier and the urgency score.
  std::string transcript;
  std::optional<triage::Prediction> prediction;
  triage::Signals signals;
  if (heard.speech) {
    speech::EngineConfig ecfg = speech_config(*cfg);
    ecfg.pool = 1;  // one call, one decoder
    auto engine = speech::make_engine(ecfg);
    if (!engine) return fail(engine.error(), kExitFailure);
    auto text = transcribe_recording(**engine, *rec, true);
    if (!text) return fail(text.error(), kExitFailure);
    transcript = *text;
  }
  if (!transcript.empty()) {
    auto model = Context::classifier(*cfg);
    if (!model) return fail(model.error(), kExitFailure);
    auto urgency = Context::urgency(*cfg);
    if (!urgency) return fail(urgency.error(), kExitFailure);
    prediction = model->predict(transcript, triage::Source::heard);
    std::vector<triage::UrgencyScorer::Hit> hits;
    signals.urgency = urgency->score(transcript, &hits);
    for (const auto& h : hits)
      signals.danger_words += (signals.danger_words.empty() ? "" : ", ") + h.phrase;
    signals.prediction = &*prediction;
  }
  signals.digits = opt.digit.empty() ? heard.digits : opt.digit;
  signals.silent_solution = heard.silent_solution;
  signals.machine_evidence =
      screen.spam_listed || screen.system_generated || heard.system_generated;
  signals.blank = heard.blank && opt.digit.empty();
  const triage::Decision decision = triage::decide(signals, cfg->departments, cfg->fusion);
  for (const auto& r : decision.reasons) {
    const bool said = std::any_of(reasons.begin(), reasons.end(),
                                  [&](const auto& j) { return j["code"] == r.code; });
    if (!said) reasons.push_back({{"code", r.code}, {"flag", "triage"}, {"detail", r.detail}});
  }
  nlohmann::json out = {
      {"caller", caller},
      {"flags",
       {{"spam_listed", screen.spam_listed},
        {"spoofed", screen.spoofed},
        {"system_generated", screen.system_generated || heard.system_generated},
        {"blank", heard.blank && opt.digit.empty()}}},
      {"digits", heard.digits},
      {"transcript", transcript},
      {"prediction", prediction
                         ? nlohmann::json{{"category", triage::to_string(prediction->category)},
                                          {"confidence", prediction->confidence}}
                         : nlohmann::json(nullptr)},
      {"urgency", signals.urgency},
      {"digit", digit},
      {"category",
       decision.category.empty() ? nlohmann::json(nullptr) : nlohmann::json(decision.category)},
      {"department", decision.department.id},
      {"instructions", decision.department.instructions},
      {"forward_to", decision.department.number.empty()
                         ? nlohmann::json(nullptr)
                         : nlohmann::json(decision.department.number)},
      {"reasons", reasons},
      {"audio",
       {{"duration_s", stats.duration_s},
        {"voiced_s", stats.voiced_s},
        {"speech_segments", stats.speech_segments},
        {"level_dbfs", stats.level_dbfs},
        {"noise_floor_dbfs", stats.noise_floor_dbfs},
        {"sample_rate", rec->sample_rate},
        {"format", rec->format}}}};
  if (opt.events) {
    nlohmann::json ev = nlohmann::json::array();
    for (const auto& e : events) {
      nlohmann::json j = {{"event", audio::to_string(e.kind)}, {"at_s", e.at_s}};
      if (e.kind == audio::EventKind::dtmf) j["digit"] = std::string(1, e.digit);
      ev.push_back(j);
    }
    out["events"] = ev;
  }
  print_json(out);
  return kExitOk;
}

}  // namespace

void add_analyze_command(CLI::App& app, const Context& ctx, int& exit_code) {
  auto opt = std::make_shared<AnalyzeOptions>();
  auto* cmd = app.add_subcommand("analyze", "run the pipeline on a recorded call (WAV)");
  cmd->add_option("file", opt->wav, "the recording: PCM, mu-law or A-law WAV, any rate")
      ->required();
  cmd->add_option("--from", opt->from, "caller ID, to screen it as well");
  cmd->add_option("--digit", opt->digit, "the key(s) the caller pressed, if known");
  cmd->add_option("--origin-country", opt->origin_country, "network-reported origin country");
  cmd->add_option("--stir", opt->stir, "STIR/SHAKEN StirVerstat value");
  cmd->add_option("--prompt-end", opt->prompt_end_s,
                  "seconds into the recording at which the IVR prompt ended (robocall check)")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_flag("--events", opt->events, "include the audio events (speech, DTMF, tones)");
  cmd->callback([&ctx, &exit_code, opt] { exit_code = run_analyze(ctx, *opt); });
}

}  // namespace spoofex::app
