#include <chrono>
#include <ctime>
#include <fstream>
#include <optional>
#include <set>

#include "app/commands.h"
#include "audio/audio.h"
#include "speech/speech.h"

namespace spoofex::app {
namespace {

constexpr std::size_t kFrame = 160;  // 20 ms at 8 kHz

struct TranscribeOptions {
  std::string wav;
  std::optional<double> comfort_noise_dbfs;  // unset: the configuration's
  bool ungated = false;
  std::string frontend_out;
  std::string eval;
  bool each = false;
  std::string keywords;  // empty: data/speech/keywords.txt
  std::optional<std::string> domain_lm;
  std::optional<double> domain_weight;
  std::optional<std::string> decoder;
  bool fast = false;  // the search an overloaded server decodes with
};

speech::Effort effort_of(const TranscribeOptions& opt) {
  return opt.fast ? speech::Effort::fast : speech::Effort::full;
}

// The configured engine settings with this command's overrides.
speech::EngineConfig engine_config(const Config& cfg, const TranscribeOptions& opt) {
  speech::EngineConfig e = speech_config(cfg);
  e.pool = 1;
  if (opt.comfort_noise_dbfs) e.comfort_noise_dbfs = *opt.comfort_noise_dbfs;
  if (opt.domain_lm) e.domain_language_model = *opt.domain_lm;
  if (opt.domain_weight) e.domain_weight = *opt.domain_weight;
  if (opt.decoder) e.decoder_options = *opt.decoder;
  return e;
}

}  // namespace

// Feeds only the voiced parts of a recording to the recogniser, as the live pipeline
// does: the audio analyzer finds speech, and the audio from audio::kSpeechLeadInS before
// its first voiced frame is replayed so the first word is not cut.
Result<std::string> transcribe_recording(speech::Engine& engine, const audio::Recording& rec,
                                         bool gated, speech::Effort effort) {
  const std::vector<std::int16_t> pcm = audio::resample(rec.samples, rec.sample_rate, 8000);
  auto r = engine.recognizer(effort);
  if (!r) return Error{r.error()};
  auto& recognizer = **r;
  std::string transcript;
  auto append = [&](const speech::Hypothesis& h) {
    if (h.text.empty()) return;
    if (!transcript.empty()) transcript += ' ';
    transcript += h.text;
  };
  if (!gated) {
    if (auto st = recognizer.accept(pcm); !st) return Error{st.error()};
    append(recognizer.finish());
    return transcript;
  }
  audio::AnalyzerConfig cfg;
  cfg.encoding = audio::Encoding::pcm16;
  audio::AudioAnalyzer analyzer(cfg);
  audio::PreRoll pre_roll;
  std::vector<std::int16_t> lead;
  bool speaking = false;
  for (std::size_t i = 0; i < pcm.size(); i += kFrame) {
    const std::span<const std::int16_t> frame(pcm.data() + i, std::min(kFrame, pcm.size() - i));
    for (const auto& e : analyzer.feed_pcm(frame)) {
      if (e.kind == audio::EventKind::speech_start) {
        speaking = true;
        lead.clear();
        pre_roll.take(e.at_s, static_cast<double>(i) / 8000.0, lead);  // ends where frame starts
        if (!lead.empty()) {
          if (auto st = recognizer.accept(lead); !st) return Error{st.error()};
        }
      } else if (e.kind == audio::EventKind::speech_end) {
        speaking = false;
        append(recognizer.finish());
      }
    }
    if (speaking) {
      if (auto st = recognizer.accept(frame); !st) return Error{st.error()};
    } else {
      pre_roll.push(frame);
    }
  }
  if (speaking) append(recognizer.finish());
  return transcript;
}

namespace {

// Word error rate and decisive-keyword recall over "path<TAB>reference" lines: the
// figures each step of adaptation is judged by.
int run_eval(speech::Engine& engine, const std::string& list, const std::string& keyword_list,
             bool each, speech::Effort effort) {
  std::ifstream in(list);
  if (!in) return fail("transcribe: cannot open '" + list + "'");
  auto keywords = speech::load_keywords(keyword_list);
  if (!keywords) return fail("transcribe: " + keywords.error());
  std::string line;
  double errors = 0, words = 0, audio_s = 0;
  speech::KeywordCount kw;
  std::size_t n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    auto rec = audio::read_wav(line.substr(0, tab));
    if (!rec) return fail("transcribe: " + rec.error());
    auto text = transcribe_recording(engine, *rec, true, effort);
    if (!text) return fail(text.error(), kExitFailure);
    const std::string ref = line.substr(tab + 1);
    const auto k = speech::count_keywords(ref, *text, *keywords);
    if (each) {
      print_json({{"file", line.substr(0, tab)},
                  {"reference", ref},
                  {"transcript", *text},
                  {"keywords_missed", k.said - k.heard},
                  {"keywords_false", k.false_alarms}});
    }
    const double ref_words = static_cast<double>(triage::tokenize(ref).size());
    errors += speech::word_error_rate(ref, *text) * ref_words;
    words += ref_words;
    kw.said += k.said;
    kw.heard += k.heard;
    kw.false_alarms += k.false_alarms;
    audio_s += rec->duration_s();
    ++n;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // CPU time too: on a shared machine the wall clock measures the neighbours.
  const double cpu_seconds = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  print_json({{"utterances", n},
              {"words", words},
              {"wer", words > 0 ? errors / words : 0.0},
              {"keywords", kw.said},
              {"keyword_recall",
               kw.said > 0 ? static_cast<double>(kw.heard) / static_cast<double>(kw.said) : 1.0},
              {"keyword_false_alarms", kw.false_alarms},
              {"audio_s", audio_s},
              {"rtf", audio_s > 0 ? seconds / audio_s : 0.0},
              {"cpu_rtf", audio_s > 0 ? cpu_seconds / audio_s : 0.0},
              {"engine", engine.name()}});
  return kExitOk;
}

int run_transcribe(const Context& ctx, const TranscribeOptions& opt) {
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  if (!opt.eval.empty()) {
    auto engine = speech::make_engine(engine_config(*cfg, opt));
    if (!engine) return fail(engine.error(), kExitFailure);
    return run_eval(**engine, opt.eval,
                    opt.keywords.empty() ? data_dir() + "/speech/keywords.txt" : opt.keywords,
                    opt.each, effort_of(opt));
  }
  auto rec = audio::read_wav(opt.wav);
  if (!rec) return fail("transcribe: " + rec.error());
  if (!opt.frontend_out.empty()) {
    const auto pcm = audio::resample(rec->samples, rec->sample_rate, 8000);
    const auto wide = speech::narrowband_to_wideband(
        pcm, opt.comfort_noise_dbfs.value_or(cfg->speech.comfort_noise_dbfs));
    if (auto st = audio::write_wav(opt.frontend_out, wide, 16000); !st)
      return fail(st.error(), kExitFailure);
    return kExitOk;
  }
  auto engine = speech::make_engine(engine_config(*cfg, opt));
  if (!engine) return fail(engine.error(), kExitFailure);
  const auto t0 = std::chrono::steady_clock::now();
  auto text = transcribe_recording(**engine, *rec, !opt.ungated, effort_of(opt));
  if (!text) return fail(text.error(), kExitFailure);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double duration = rec->duration_s();
  print_json({{"transcript", *text},
              {"duration_s", duration},
              {"rtf", duration > 0 ? seconds / duration : 0.0},
              {"engine", (*engine)->name()}});
  return kExitOk;
}

}  // namespace

void add_transcribe_command(CLI::App& app, const Context& ctx, int& exit_code) {
  auto opt = std::make_shared<TranscribeOptions>();
  auto* cmd = app.add_subcommand("transcribe", "speech to text for a recording (WAV)");
  auto* file =
      cmd->add_option("file", opt->wav, "the recording: PCM, mu-law or A-law WAV, any rate");
  cmd->add_option("--eval", opt->eval, "word error rate over a list of path<TAB>reference lines")
      ->excludes(file);
  cmd->add_flag("--each", opt->each, "with --eval: also print each file's transcript");
  cmd->add_option(
      "--keywords", opt->keywords,
      "with --eval: decisive keywords whose recall to report (data/speech/keywords.txt)");
  cmd->add_option("--domain-lm", opt->domain_lm,
                  "domain language model (ARPA) to interpolate with the configured one");
  cmd->add_option("--domain-weight", opt->domain_weight, "weight of --domain-lm, 0..1")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--decoder", opt->decoder,
                  "PocketSphinx search settings, '-name value' pairs (e.g. '-ds 2 -topn 2')");
  cmd->add_option("--comfort-noise", opt->comfort_noise_dbfs,
                  "dBFS of the noise added above 4 kHz for the wideband model (0: none)")
      ->check(CLI::Range(-120.0, 0.0));
  cmd->add_flag("--ungated", opt->ungated, "decode all the audio, not only the voiced parts");
  cmd->add_flag("--fast", opt->fast,
                "decode with the fast search an overloaded server uses (fast_decoder_options)");
  cmd->add_option(
      "--frontend-out", opt->frontend_out,
      "write the 16 kHz audio the recogniser hears to this WAV and stop (adaptation data)");
  cmd->callback([&ctx, &exit_code, opt, file] {
    if (opt->eval.empty() && file->count() == 0) {
      exit_code = fail("transcribe: give a WAV file (or --eval LIST)");
      return;
    }
    exit_code = run_transcribe(ctx, *opt);
  });
}

}  // namespace spoofex::app

namespace spoofex::app {
namespace {

struct LmOptions {
  std::string data;
  std::string out;
  std::string dictionary = speech::kDefaultDictionary;
  std::string keywords;  // boosted by keyword_boost
  double keyword_boost = speech::kDefaultKeywordBoost;
};

int run_lm(const LmOptions& opt) {
  auto examples = triage::load_examples(opt.data);
  if (!examples) return fail("lm: " + examples.error());
  auto known = speech::load_dictionary_words(opt.dictionary);
  if (!known) return fail(known.error(), kExitFailure);
  std::vector<std::string> sentences;
  for (const auto& e : *examples) sentences.push_back(e.text);
  std::set<std::string> boosted;
  if (!opt.keywords.empty()) {
    auto kw = speech::load_keywords(opt.keywords);
    if (!kw) return fail("lm: " + kw.error());
    boosted.insert(kw->begin(), kw->end());
  }
  const std::string arpa = speech::build_arpa(sentences, *known, boosted, opt.keyword_boost);
  std::ofstream f(opt.out, std::ios::binary | std::ios::trunc);
  if (!(f << arpa)) return fail("lm: cannot write '" + opt.out + "'", kExitFailure);
  print_json({{"out", opt.out}, {"sentences", sentences.size()}, {"bytes", arpa.size()}});
  return kExitOk;
}

}  // namespace

void add_mixw_command(CLI::App& app, int& exit_code) {
  auto paths = std::make_shared<std::pair<std::string, std::string>>();
  auto* cmd =
      app.add_subcommand("mixw", "expand a PocketSphinx sendump into SphinxTrain mixture_weights");
  cmd->add_option("sendump", paths->first, "the model's sendump")->required();
  cmd->add_option("out", paths->second, "the mixture_weights file to write")->required();
  cmd->group("");  // a build step of scripts/adapt-model, not an operator's command
  cmd->callback([&exit_code, paths] {
    auto st = speech::sendump_to_mixture_weights(paths->first, paths->second);
    exit_code = st ? kExitOk : fail(st.error(), kExitFailure);
  });
}

void add_lm_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<LmOptions>();
  auto* cmd =
      app.add_subcommand("lm", "build a domain language model (ARPA) from labelled utterances");
  cmd->add_option("--data", opt->data, "label<TAB>text lines, e.g. data/triage/train.tsv")
      ->required();
  cmd->add_option("--out", opt->out, "the ARPA file to write")->required();
  cmd->add_option("--dictionary", opt->dictionary, "pronunciation dictionary (cmudict format)");
  cmd->add_option("--keywords", opt->keywords,
                  "words to boost, one a line (data/speech/keywords.txt)");
  cmd->add_option("--keyword-boost", opt->keyword_boost,
                  "multiply the keywords' unigram probability by this (default 3; 1: no boost)")
      ->check(CLI::Range(1.0, 1000.0));
  cmd->callback([&exit_code, opt] { exit_code = run_lm(*opt); });
}

}  // namespace spoofex::app
