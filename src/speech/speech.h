// speech: what the caller said. A `Recognizer` per call, created from an `Engine`
// that loads the model once (design.md, pipeline stage 4). Only voiced audio from
// the audio module should reach it.
//
//   auto engine = make_engine({.engine = "pocketsphinx"});
//   auto rec = (*engine)->recognizer(Effort::full);
//   (*rec)->accept(pcm_8k);                 // as audio arrives, 20 ms at a time
//   Hypothesis h = (*rec)->finish();        // h.text, h.words[i].start_s ...
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace spoofex::speech {

struct Word {
  std::string text;
  double start_s = 0;
  double end_s = 0;
  double confidence = 0;  // posterior probability in [0, 1]
};

struct Hypothesis {
  std::string text;
  std::vector<Word> words;
  bool final = false;
};

// One call's decoding. Not thread-safe; one thread at a time per call.
class Recognizer {
 public:
  virtual ~Recognizer() = default;
  // 16-bit linear PCM at 8 kHz (telephone audio), any number of samples.
  virtual Status accept(std::span<const std::int16_t> pcm) = 0;
  // The best guess so far (cheap enough to call a few times a second).
  virtual Hypothesis partial() = 0;
  // Ends the utterance and returns the final hypothesis; accept() may start another.
  virtual Hypothesis finish() = 0;
};

// How hard a recogniser searches. A server whose speech workers fall behind asks for
// `fast`: the domain LM alone and narrower beams, half the CPU of `full` with about as
// many police-call keywords found, and more words that were never said
// (data/speech/README.md); a late transcript is worth less than a rougher one.
enum class Effort { full, fast };

// The fast search's narrower beams (PocketSphinx's defaults are 1e-48, 7e-29, 1e-48).
inline constexpr const char* kDefaultFastDecoderOptions = "-beam 1e-40 -wbeam 1e-24 -pbeam 1e-40";

struct EngineConfig {
  std::string engine = "pocketsphinx";  // or "vosk"
  std::string model_dir;                // pocketsphinx: acoustic model dir; vosk: model dir
  std::string dictionary;               // pocketsphinx pronunciation dictionary
  std::string language_model;           // pocketsphinx LM (ARPA or binary): general English
  // A domain LM (spoofex lm) interpolated linearly with `language_model`:
  // P(w|h) = domain_weight * P_domain(w|h) + (1 - domain_weight) * P_general(w|h).
  // Empty: `language_model` alone.
  std::string domain_language_model;
  double domain_weight = 0.5;
  std::string mllr;  // pocketsphinx MLLR transform (scripts/adapt-model)
  // Telephone audio has nothing above 4 kHz, where a 16 kHz model expects energy:
  // after upsampling, add faint noise there (dBFS; 0 turns it off).
  double comfort_noise_dbfs = -38;
  // PocketSphinx search settings as "-name value" pairs, over kDefaultDecoderOptions
  // (e.g. "-ds 1 -maxhmmpf 30000" for accuracy at twice the cost); see `pocketsphinx_continuous
  // -h`.
  std::string decoder_options;
  // The search a recogniser asked for Effort::fast uses: the domain LM alone (if there
  // is one), and kDefaultDecoderOptions and decoder_options, then these (beams and
  // -maxhmmpf / -maxwpf only). Empty: Effort::fast decodes as full does.
  std::string fast_decoder_options = kDefaultFastDecoderOptions;
  unsigned pool = 4;         // decoders kept loaded, so a new call starts in milliseconds
  std::string vosk_library;  // libvosk.so (npm package "vosk"); see the README
};

// How much `spoofex lm --keywords` raises the decisive keywords' unigram share: chosen on the
// tuning set (x3: keyword recall 0.739 -> 0.773; x10 found one more but doubled false keywords).
inline constexpr double kDefaultKeywordBoost = 3.0;

// The search settings spoofex decodes with unless told otherwise: PocketSphinx's full
// search without the second (flat-lexicon) pass, a longer phonetic lookahead that prunes
// harder (-pl_weight 5; PocketSphinx's default is 3), and at most 10,000 active HMMs and 20
// word exits per frame. The caps were chosen on the tuning set (scripts/speech-eval dev:
// keyword recall 0.773 -> 0.784 at 0.8 of the CPU). The lookahead weight was chosen on all
// three sets (data/speech/README.md): 5 costs 3 of 190 police-set keywords, keeps
// LibriVox, and takes the CPU from 0.11 to 0.09 of real time; 7 is faster still but lost
// 0.08 of LibriVox WER and, on a voice the model fits badly, every word (speech_test).
// Narrower beams or -topn 2 lose far more keywords for the same CPU.
inline constexpr const char* kDefaultDecoderOptions =
    "-fwdflat no -pl_window 10 -pl_weight 5 -maxhmmpf 10000 -maxwpf 20";

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string_view name() const = 0;
  virtual Result<std::unique_ptr<Recognizer>> recognizer(Effort effort) = 0;
};

// What the PocketSphinx engine hears: 8 kHz telephone audio upsampled to 16 kHz with
// the comfort noise above 4 kHz. For preparing adaptation data the same way.
std::vector<std::int16_t> narrowband_to_wideband(std::span<const std::int16_t> pcm8k,
                                                 double comfort_noise_dbfs);

// Loads the configured engine; fails with a message naming what is missing.
Result<std::unique_ptr<Engine>> make_engine(const EngineConfig& config);

// The words a PocketSphinx pronunciation dictionary (cmudict format) knows.
Result<std::set<std::string>> load_dictionary_words(const std::string& path);
// A bigram ARPA language model of `sentences`, over the `known` words only. The
// unigram probabilities of the `boosted` words are multiplied by `boost` (renormalised).
std::string build_arpa(const std::vector<std::string>& sentences,
                       const std::set<std::string>& known,
                       const std::set<std::string>& boosted = {}, double boost = 1.0);
inline constexpr const char* kDefaultDictionary =
    "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";

// Expands PocketSphinx's quantised "sendump" into SphinxTrain's "mixture_weights"
// (needed by bw for MLLR adaptation; Debian's model ships only the former).
Status sendump_to_mixture_weights(const std::string& sendump_path, const std::string& out_path);

// Whether `path` is a loadable libvosk with the C API spoofex uses.
Status check_vosk_library(const std::string& path);

// Word error rate of `hypothesis` against `reference` (lower-cased word tokens):
// (substitutions + deletions + insertions) / reference words.
double word_error_rate(std::string_view reference, std::string_view hypothesis);

// The decisive keywords (data/speech/keywords.txt): one word a line, '#' starts a note.
Result<std::set<std::string>> load_keywords(const std::string& path);

// How many of the keyword occurrences in `reference` the `hypothesis` also has (each
// keyword counted at most as often as the hypothesis says it): recall = heard / said.
struct KeywordCount {
  std::size_t said = 0;
  std::size_t heard = 0;
  std::size_t false_alarms = 0;  // keyword occurrences in the hypothesis beyond the reference's
};
KeywordCount count_keywords(std::string_view reference, std::string_view hypothesis,
                            const std::set<std::string>& keywords);

}  // namespace spoofex::speech
