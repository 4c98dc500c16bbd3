// Real-time factor of one speech stream on one core: decoding time / audio time, for
// the PocketSphinx engine on telephone speech (Debian's Asterisk prompts and the
// LibriVox clips of pocketsphinx-testdata, at 8 kHz), fed in 20 ms frames as a live call
// would. Concurrent real-time streams per core is 1 / RTF. Issue 4's goal: RTF under 0.1.
//
// Each decoder setting is run with the configuration spoofex uses on calls: the adapted
// model and the interpolated domain LM of `make model` when they are built (the label
// says which). scripts/speech-eval measures the WER each setting costs.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "audio/audio.h"
#include "speech/speech.h"

namespace {

using namespace spoofex;

// About 40 s of telephone speech, two speakers.
std::vector<std::vector<std::int16_t>> telephone_speech() {
  const std::string ast = "/usr/share/asterisk/sounds/en/";
  const std::string libri = "/usr/share/pocketsphinx/test/data/librivox/";
  std::vector<std::vector<std::int16_t>> out;
  for (const std::string& path :
       {ast + "agent-alreadyon.wav", ast + "conf-thereare.wav", ast + "vm-options.wav",
        ast + "queue-callswaiting.wav", libri + "sense_and_sensibility_01_austen_64kb-0870.wav",
        libri + "sense_and_sensibility_01_austen_64kb-0920.wav"}) {
    auto rec = audio::read_wav(path);
    if (rec) out.push_back(audio::resample(rec->samples, rec->sample_rate, 8000));
  }
  return out;
}

speech::EngineConfig production_config(std::string decoder, std::string& label) {
  const std::string model = SPOOFEX_BUILD_DIR "/model";
  speech::EngineConfig cfg;
  cfg.pool = 1;
  cfg.decoder_options = std::move(decoder);
  label = "packaged model";
  if (std::filesystem::exists(model + "/mllr_matrix") &&
      std::filesystem::exists(model + "/spoofex.dict")) {
    cfg.mllr = model + "/mllr_matrix";
    cfg.dictionary = model + "/spoofex.dict";
    cfg.domain_language_model = model + "/domain.arpa";
    label = "adapted model, domain LM";
  }
  return cfg;
}

void BM_DecodeTelephoneSpeech(benchmark::State& state, std::string decoder) {
  const auto clips = telephone_speech();
  if (clips.size() < 4) {
    state.SkipWithError("install asterisk-core-sounds-en-wav, pocketsphinx-testdata (make setup)");
    return;
  }
  std::string label;
  auto engine = speech::make_engine(production_config(decoder, label));
  if (!engine) {
    state.SkipWithError(engine.error().c_str());
    return;
  }
  double audio_s = 0;
  for (auto _ : state) {
    for (const auto& pcm : clips) {
      auto r = (*engine)->recognizer(speech::Effort::full);
      for (std::size_t i = 0; i < pcm.size(); i += 160) {
        (void)(*r)->accept({pcm.data() + i, std::min<std::size_t>(160, pcm.size() - i)});
      }
      benchmark::DoNotOptimize((*r)->finish());
      audio_s += static_cast<double>(pcm.size()) / 8000.0;
    }
  }
  // CPU time, not wall time: the figure for one core even on a busy machine.
  state.counters["rtf"] = benchmark::Counter(
      audio_s, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);  // s CPU / s audio
  state.counters["streams_per_core"] = benchmark::Counter(audio_s, benchmark::Counter::kIsRate);
  state.SetLabel(label + (decoder.empty() ? "" : ", " + decoder));
}
// The defaults (speech::kDefaultDecoderOptions), PocketSphinx's own full search, and the
// settings traded for speed (scripts/speech-eval measures what each costs in WER).
BENCHMARK_CAPTURE(BM_DecodeTelephoneSpeech, defaults, std::string())
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK_CAPTURE(BM_DecodeTelephoneSpeech, full_search,
                  std::string("-fwdflat yes -pl_window 5 -pl_weight 3 -maxhmmpf 30000 -maxwpf -1"))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
// The stop-12 defaults: 3 more police-set keywords of 190, at 1.2 times the CPU.
BENCHMARK_CAPTURE(BM_DecodeTelephoneSpeech, lookahead_weight_3, std::string("-pl_weight 3"))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK_CAPTURE(BM_DecodeTelephoneSpeech, narrow_beams,
                  std::string("-beam 1e-40 -wbeam 1e-24 -pbeam 1e-40"))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK_CAPTURE(BM_DecodeTelephoneSpeech, fast,
                  std::string("-beam 1e-40 -wbeam 1e-24 -pbeam 1e-40 -topn 2 -maxhmmpf 3000 "
                              "-maxwpf 10 -bestpath no"))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK_CAPTURE(BM_DecodeTelephoneSpeech, frame_downsampling, std::string("-ds 2"))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

// Taking a recogniser for a new call from the engine's pool: what a new call costs.
void BM_NewCallRecognizer(benchmark::State& state) {
  speech::EngineConfig cfg;
  cfg.pool = 1;
  auto engine = speech::make_engine(cfg);
  if (!engine) {
    state.SkipWithError(engine.error().c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize((*engine)->recognizer(speech::Effort::full));
}
BENCHMARK(BM_NewCallRecognizer)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
