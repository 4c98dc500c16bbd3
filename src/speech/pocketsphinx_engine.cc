#include <cmn.h>
#include <fe.h>
#include <feat.h>
#include <pocketsphinx.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include "audio/audio.h"
#include "speech/engines.h"

namespace spoofex::speech {
namespace {

constexpr double kFrameRate = 100.0;  // PocketSphinx frames per second (-frate 100)
constexpr const char* kFullSearch = "spoofex";
constexpr const char* kFastSearch = "spoofex-fast";
// PocketSphinx 5prealpha's histogram pruning (-maxhmmpf) divides by the main beam's width
// in bins: a -beam wider than this is zero bins wide and the decoder dies of SIGFPE.
constexpr double kWidestBeam = 1e-12;

// One setting of the fast search: a beam (a probability) or a per-frame cap (a count).
struct SearchSetting {
  std::string name;
  double value = 0;
  bool count = false;
};

// The fast search may change only what PocketSphinx reads when it makes a search: the
// beams and the per-frame caps. Anything else would silently apply to both searches.
Result<std::vector<SearchSetting>> parse_fast_options(const std::string& options) {
  static const std::set<std::string> beams = {
      "-beam", "-wbeam", "-pbeam", "-lpbeam", "-lponlybeam", "-fwdflatbeam", "-fwdflatwbeam"};
  static const std::set<std::string> counts = {"-maxhmmpf", "-maxwpf"};
  std::vector<SearchSetting> out;
  std::istringstream in(options);
  std::string name, value;
  while (in >> name) {
    const bool beam = beams.contains(name), count = counts.contains(name);
    double v = 0;
    std::size_t used = 0;
    const bool number = (in >> value) && [&] {
      try {
        v = std::stod(value, &used);
      } catch (const std::exception&) {
        return false;
      }
      return used == value.size();
    }();
    if (!(beam || count) || !number || (beam && !(v > 0 && v <= 1)) ||
        (name == "-beam" && v > kWidestBeam) ||
        (count && !(v >= 1 && v <= 1e7 && v == std::floor(v)))) {
      return Error{
          "pocketsphinx: fast_decoder_options must be '-name value' pairs of beams "
          "(0 < p <= 1, -beam at most 1e-12) and -maxhmmpf / -maxwpf counts, not '" +
          options + "'"};
    }
    out.push_back({name, v, count});
  }
  return out;
}

struct DecoderDeleter {
  void operator()(ps_decoder_t* ps) const { ps_free(ps); }
};
using Decoder = std::unique_ptr<ps_decoder_t, DecoderDeleter>;

class PocketSphinxEngine;

// Upsamples 8 kHz telephone audio to the model's 16 kHz and fills the empty band
// above 4 kHz with faint noise, so the model's upper filters see what they saw in
// training (silence there is what makes a wideband model fail on narrowband audio).
class NarrowbandFrontEnd {
 public:
  explicit NarrowbandFrontEnd(double noise_dbfs)
      : up_(8000, 16000),
        noise_up_(8000, 16000),
        noise_(noise_dbfs < 0 ? 32768.0 * std::pow(10.0, noise_dbfs / 20.0) : 0) {}

  std::span<const std::int16_t> process(std::span<const std::int16_t> in) {
    out_.resize(in.size() * 2 + 32);
    out_.resize(up_.process(in, out_));
    if (noise_ > 0) {
      // Band-limited noise for 4-8 kHz only: white noise at 8 kHz, upsampled (which
      // leaves it in 0-4 kHz), then every other sample negated, which mirrors the
      // spectrum about 4 kHz. The speech band stays untouched.
      white_.resize(in.size());
      for (auto& w : white_)
        w = static_cast<std::int16_t>(std::clamp(dist_(rng_) * noise_, -32768.0, 32767.0));
      band_.resize(out_.size() + 32);
      band_.resize(noise_up_.process(white_, band_));
      for (std::size_t i = 0; i < out_.size() && i < band_.size(); ++i, ++phase_) {
        const int mirrored = (phase_ & 1) ? -band_[i] : band_[i];
        out_[i] = static_cast<std::int16_t>(std::clamp(out_[i] + mirrored, -32768, 32767));
      }
    }
    return out_;
  }

 private:
  audio::Resampler up_;
  audio::Resampler noise_up_;
  double noise_;
  std::vector<std::int16_t> out_, white_, band_;
  std::uint64_t phase_ = 0;
  std::mt19937 rng_{20261125};
  std::normal_distribution<double> dist_{0.0, 1.0};
};

class PocketSphinxRecognizer final : public Recognizer {
 public:
  PocketSphinxRecognizer(PocketSphinxEngine& engine, Decoder decoder, double noise_dbfs,
                         std::string search);
  ~PocketSphinxRecognizer() override;

  Status accept(std::span<const std::int16_t> pcm) override {
    if (!started_) {
      if (auto st = start(); !st) return st;
    }
    const auto wide = front_.process(pcm);
    if (ps_process_raw(ps_.get(), wide.data(), wide.size(), 0, 0) < 0) {
      return Error{"pocketsphinx: decoding failed"};
    }
    return Ok{};
  }

  Hypothesis partial() override {
    Hypothesis h;
    if (!started_) return h;
    int32 score = 0;
    if (const char* hyp = ps_get_hyp(ps_.get(), &score)) h.text = hyp;
    return h;
  }

  Hypothesis finish() override {
    Hypothesis h;
    h.final = true;
    if (!started_) return h;
    ps_end_utt(ps_.get());
    started_ = false;
    int32 score = 0;
    if (const char* hyp = ps_get_hyp(ps_.get(), &score)) h.text = hyp;
    for (ps_seg_t* seg = ps_seg_iter(ps_.get()); seg; seg = ps_seg_next(seg)) {
      const std::string w = ps_seg_word(seg);
      // Fillers (<s>, </s>, <sil>, [NOISE]) are not words the caller said.
      if (w.empty() || w[0] == '<' || w[0] == '[') continue;
      int sf = 0, ef = 0;
      ps_seg_frames(seg, &sf, &ef);
      int32 ascr = 0, lscr = 0, lback = 0;
      const int32 post = ps_seg_prob(seg, &ascr, &lscr, &lback);
      const auto paren = w.find('(');  // alternate pronunciations: "read(2)"
      h.words.push_back(
          {w.substr(0, paren), sf / kFrameRate, (ef + 1) / kFrameRate,
           std::exp(static_cast<double>(logmath_log_to_ln(ps_get_logmath(ps_.get()), post)))});
    }
    return h;
  }

 private:
  // Opens an utterance on a fresh stream (defined after the engine).
  Status start();

  PocketSphinxEngine& engine_;
  Decoder ps_;
  NarrowbandFrontEnd front_;
  std::string search_;  // the decoder's search this recogniser decodes with
  bool started_ = false;
};

class PocketSphinxEngine final : public Engine {
 public:
  PocketSphinxEngine(EngineConfig cfg, std::vector<SearchSetting> fast)
      : cfg_(std::move(cfg)), fast_(std::move(fast)) {}

  std::string_view name() const override { return "pocketsphinx"; }

  Result<Decoder> load() {
    auto args = arguments();
    if (!args) return Error{args.error()};
    std::vector<char*> argv;
    for (auto& a : *args) argv.push_back(a.data());
    cmd_ln_t* config =
        cmd_ln_parse_r(nullptr, ps_args(), static_cast<int32>(argv.size()), argv.data(), TRUE);
    if (!config) return Error{"pocketsphinx: bad decoder options '" + cfg_.decoder_options + "'"};
    ps_decoder_t* ps = ps_init(config);
    cmd_ln_free_r(config);  // the decoder holds its own reference
    if (!ps) {
      return Error{"pocketsphinx: cannot load the model from " + cfg_.model_dir + " (dictionary " +
                   cfg_.dictionary + ", language model " + cfg_.language_model + ")"};
    }
    Decoder d(ps);
    if (!cfg_.domain_language_model.empty()) {
      if (auto st = use_interpolated_lm(ps); !st) return Error{st.error()};
    }
    // ps_init names the search it makes from -lm "_default"; use_interpolated_lm names its
    // own. (ps_get_search() would say, but it leaks a hash-table iterator on every call.)
    const char* full = cfg_.domain_language_model.empty() ? "_default" : kFullSearch;
    if (!ps_get_lm(ps, full))
      return Error{"pocketsphinx: no search named '" + std::string(full) + "'"};
    std::call_once(search_once_, [&] { full_search_ = full; });
    if (!fast_.empty()) {
      if (auto st = add_fast_search(ps); !st) return Error{st.error()};
    }
    std::call_once(cmn_once_, [&] {
      const cmn_t* cmn = ps_get_feat(ps)->cmn_struct;
      if (cmn) initial_cmn_.assign(cmn->cmn_mean, cmn->cmn_mean + cmn->veclen);
    });
    return d;
  }

  // The decoder's command line: the model, then kDefaultDecoderOptions overridden by
  // the configured options, each name once (PocketSphinx rejects repeats).
  Result<std::vector<std::string>> arguments() const {
    std::map<std::string, std::string> opts = {{"-hmm", cfg_.model_dir},
                                               {"-dict", cfg_.dictionary},
                                               {"-logfn", "/dev/null"},
                                               {"-samprate", "16000"}};
    if (cfg_.domain_language_model.empty()) opts["-lm"] = cfg_.language_model;
    if (!cfg_.mllr.empty()) opts["-mllr"] = cfg_.mllr;
    for (const std::string* list : {&kDefaultOptions, &cfg_.decoder_options}) {
      std::istringstream in(*list);
      std::string name, value;
      while (in >> name) {
        if (name.size() < 2 || name[0] != '-' || !(in >> value)) {
          return Error{"pocketsphinx: decoder options must be '-name value' pairs, not '" + *list +
                       "'"};
        }
        opts[name] = value;
      }
    }
    if (auto beam = opts.find("-beam"); beam != opts.end()) {
      char* end = nullptr;
      const double v = std::strtod(beam->second.c_str(), &end);
      if (*end != '\0' || !(v > 0 && v <= kWidestBeam)) {
        return Error{"pocketsphinx: -beam must be a probability of at most 1e-12, not '" +
                     beam->second + "' (a wider beam crashes PocketSphinx's pruning)"};
      }
    }
    std::vector<std::string> args;
    for (const auto& [name, value] : opts) {
      args.push_back(name);
      args.push_back(value);
    }
    return args;
  }

  // Linear interpolation of the domain LM with general English: the domain LM knows
  // how callers to a police line talk, the general one every other word they use.
  Status use_interpolated_lm(ps_decoder_t* ps) const {
    cmd_ln_t* config = ps_get_config(ps);
    logmath_t* lmath = ps_get_logmath(ps);
    ngram_model_t* models[2] = {
        ngram_model_read(config, cfg_.language_model.c_str(), NGRAM_AUTO, lmath),
        ngram_model_read(config, cfg_.domain_language_model.c_str(), NGRAM_AUTO, lmath)};
    if (!models[0] || !models[1]) {
      for (auto* m : models)
        if (m) ngram_model_free(m);
      return Error{"pocketsphinx: cannot read the language models " + cfg_.language_model +
                   " and " + cfg_.domain_language_model};
    }
    char general[] = "general", domain[] = "domain";
    char* names[2] = {general, domain};
    const float32 weights[2] = {static_cast<float32>(1.0 - cfg_.domain_weight),
                                static_cast<float32>(cfg_.domain_weight)};
    ngram_model_t* set = ngram_model_set_init(config, models, names, weights, 2);
    // The set holds its own references to the models (LeakSanitizer showed both leaked).
    for (auto* m : models) ngram_model_free(m);
    if (!set) return Error{"pocketsphinx: cannot interpolate the language models"};
    const int rv = ps_set_lm(ps, kFullSearch, set);
    ngram_model_free(set);  // the search holds its own reference
    if (rv < 0 || ps_set_search(ps, kFullSearch) < 0) {
      return Error{"pocketsphinx: cannot search with the interpolated language model"};
    }
    return Ok{};
  }

  // A second search over the same acoustic model and language model, with narrower
  // beams (Effort::fast): no second decoder, so no second copy of the model in memory.
  // PocketSphinx reads a search's beams from the decoder's configuration when it makes
  // the search, so they are set there for that moment and put back.
  // Its LM is the domain LM alone, when there is one: a vocabulary of a few thousand
  // words is both faster and more accurate than the interpolated LM under the same narrow
  // beams (police set WER 0.27 against 0.41, keyword recall 0.76 against 0.61, at RTF
  // 0.04; data/speech/README.md), and its search tree costs 11 MiB per decoder (the
  // general LM's about 40). Callers who say nothing a police line hears often lose words
  // with it; that is the price of being heard at all in a burst.
  Status add_fast_search(ps_decoder_t* ps) const {
    cmd_ln_t* config = ps_get_config(ps);
    ngram_model_t* lm = nullptr;
    if (!cfg_.domain_language_model.empty()) {
      lm = ngram_model_read(config, cfg_.domain_language_model.c_str(), NGRAM_AUTO,
                            ps_get_logmath(ps));
    } else if ((lm = ps_get_lm(ps, full_search_.c_str()))) {
      ngram_model_retain(lm);
    }
    if (!lm) return Error{"pocketsphinx: no language model to make the fast search with"};
    std::vector<SearchSetting> saved;
    for (const auto& s : fast_) {
      saved.push_back({s.name,
                       s.count ? static_cast<double>(cmd_ln_int_r(config, s.name.c_str()))
                               : cmd_ln_float_r(config, s.name.c_str()),
                       s.count});
    }
    auto apply = [config](const std::vector<SearchSetting>& settings) {
      for (const auto& s : settings) {
        if (s.count) {
          cmd_ln_set_int_r(config, s.name.c_str(), static_cast<long>(s.value));
        } else {
          cmd_ln_set_float_r(config, s.name.c_str(), s.value);
        }
      }
    };
    apply(fast_);
    const int rv = ps_set_lm(ps, kFastSearch, lm);
    apply(saved);
    ngram_model_free(lm);  // the search holds its own reference
    if (rv < 0 || ps_set_search(ps, full_search_.c_str()) < 0) {
      return Error{"pocketsphinx: cannot make the fast search"};
    }
    return Ok{};
  }

  // The search a recogniser of this effort decodes with.
  std::string search(Effort effort) const {
    return effort == Effort::fast && !fast_.empty() ? kFastSearch : full_search_;
  }

  Status warm() {
    std::lock_guard lock(mu_);
    while (idle_.size() < cfg_.pool) {
      auto d = load();
      if (!d) return Error{d.error()};
      idle_.push_back(std::move(*d));
    }
    return Ok{};
  }

  Result<std::unique_ptr<Recognizer>> recognizer(Effort effort) override {
    Decoder d;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        d = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!d) {
      // Pool exhausted: more calls than decoders; load one more (slow, but correct).
      auto loaded = load();
      if (!loaded) return Error{loaded.error()};
      d = std::move(*loaded);
    }
    return std::unique_ptr<Recognizer>(std::make_unique<PocketSphinxRecognizer>(
        *this, std::move(d), cfg_.comfort_noise_dbfs, search(effort)));
  }

  // The noise-removal estimate starts from a quiet telephone line rather than from nothing
  // (which measured worse) or from the last caller (which made decoding depend on who called
  // before): a second of low line noise through the decoder's front end only, no search.
  void prime(ps_decoder_t* ps) {
    std::call_once(primer_once_, [&] {
      std::vector<std::int16_t> line(8000);
      std::mt19937 rng(20261126);
      std::normal_distribution<double> hiss(0.0, 30.0);
      for (auto& x : line) x = static_cast<std::int16_t>(hiss(rng));
      NarrowbandFrontEnd front(cfg_.comfort_noise_dbfs);
      const auto wide = front.process(line);
      primer_.assign(wide.begin(), wide.end());
    });
    fe_t* fe = ps_get_fe(ps);
    if (!fe || fe_start_utt(fe) < 0) return;
    const int ncep = fe_get_output_size(fe);
    const std::int16_t* p = primer_.data();
    std::size_t left = primer_.size();
    std::vector<mfcc_t> cep(static_cast<std::size_t>(ncep) * 16);
    mfcc_t* rows[16];
    for (int i = 0; i < 16; ++i) rows[i] = cep.data() + static_cast<std::size_t>(i) * ncep;
    while (left > 0) {
      int32 nframes = 16;
      const std::size_t before = left;
      if (fe_process_frames(fe, &p, &left, rows, &nframes, nullptr) < 0 || left == before) break;
    }
    int32 last = 0;
    fe_end_utt(fe, cep.data(), &last);
  }

  void reset_cmn(ps_decoder_t* ps) {
    if (cmn_t* cmn = ps_get_feat(ps)->cmn_struct;
        cmn && static_cast<std::size_t>(cmn->veclen) == initial_cmn_.size()) {
      cmn_live_set(cmn, initial_cmn_.data());
    }
  }

  void give_back(Decoder d) {
    std::lock_guard lock(mu_);
    // Live CMN adapts to the channel of the call it decoded; the next call is another
    // caller on another line, so it starts from the model's initial means again.
    reset_cmn(d.get());
    if (idle_.size() < cfg_.pool) idle_.push_back(std::move(d));
  }

 private:
  const std::string kDefaultOptions = kDefaultDecoderOptions;
  EngineConfig cfg_;
  std::vector<SearchSetting> fast_;  // empty: Effort::fast decodes as full does
  std::once_flag search_once_;
  std::string full_search_;  // the decoders' own search (set once, at the first load)
  std::mutex mu_;
  std::vector<Decoder> idle_;
  std::once_flag cmn_once_;
  std::vector<mfcc_t> initial_cmn_;  // the model's starting cepstral means (set once)
  std::once_flag primer_once_;
  std::vector<std::int16_t> primer_;
};

PocketSphinxRecognizer::PocketSphinxRecognizer(PocketSphinxEngine& engine, Decoder decoder,
                                               double noise_dbfs, std::string search)
    : engine_(engine), ps_(std::move(decoder)), front_(noise_dbfs), search_(std::move(search)) {}

Status PocketSphinxRecognizer::start() {
  // A new stream: the front end's noise-removal estimate otherwise carries over from
  // whatever this pooled decoder heard last (another caller, another line), and the
  // same words decoded differently by the order calls came in.
  if (ps_set_search(ps_.get(), search_.c_str()) < 0) {
    return Error{"pocketsphinx: no search named '" + search_ + "'"};
  }
  if (ps_start_stream(ps_.get()) < 0) return Error{"pocketsphinx: cannot start a stream"};
  engine_.prime(ps_.get());
  if (ps_start_utt(ps_.get()) < 0) return Error{"pocketsphinx: cannot start an utterance"};
  started_ = true;
  return Ok{};
}

PocketSphinxRecognizer::~PocketSphinxRecognizer() {
  if (started_) ps_end_utt(ps_.get());
  engine_.give_back(std::move(ps_));
}

}  // namespace

std::vector<std::int16_t> narrowband_to_wideband(std::span<const std::int16_t> pcm8k,
                                                 double comfort_noise_dbfs) {
  NarrowbandFrontEnd front(comfort_noise_dbfs);
  const auto wide = front.process(pcm8k);
  return {wide.begin(), wide.end()};
}

Result<std::unique_ptr<Engine>> make_pocketsphinx(EngineConfig cfg) {
  namespace fs = std::filesystem;
  const std::string base = "/usr/share/pocketsphinx/model/en-us";
  if (cfg.model_dir.empty()) cfg.model_dir = base + "/en-us";
  if (cfg.dictionary.empty()) cfg.dictionary = base + "/cmudict-en-us.dict";
  if (cfg.language_model.empty()) cfg.language_model = base + "/en-us.lm.bin";
  if (cfg.domain_weight < 0 || cfg.domain_weight > 1) {
    return Error{"pocketsphinx: domain_weight must be in [0, 1]"};
  }
  for (const auto& p :
       {cfg.model_dir, cfg.dictionary, cfg.language_model, cfg.mllr, cfg.domain_language_model}) {
    if (p.empty()) continue;
    if (!fs::exists(p)) {
      return Error{"pocketsphinx: '" + p +
                   "' is missing (Debian packages pocketsphinx-en-us; run make setup)"};
    }
  }
  auto fast = parse_fast_options(cfg.fast_decoder_options);
  if (!fast) return Error{fast.error()};
  auto engine = std::make_unique<PocketSphinxEngine>(std::move(cfg), std::move(*fast));
  if (auto st = engine->warm(); !st) return Error{st.error()};
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace spoofex::speech
