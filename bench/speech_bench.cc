// Real-time factor of one speech stream on one core: decoding time / audio time, for
// the PocketSphinx engine on recorded telephone speech (Debian's Asterisk prompts),
// fed in 20 ms frames as a live call would. Concurrent real-time streams per core is
// about 1 / RTF. Issue 4's goal: RTF under 0.1.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "audio/audio.h"
#include "speech/speech.h"

namespace {

using namespace spoofex;

void BM_DecodeTelephonePrompt(benchmark::State& state, std::string mllr) {
  const std::string wav = "/usr/share/asterisk/sounds/en/agent-alreadyon.wav";
  auto rec = audio::read_wav(wav);
  if (!rec) {
    state.SkipWithError("install asterisk-core-sounds-en-wav (make setup)");
    return;
  }
  speech::EngineConfig cfg;
  cfg.pool = 1;
  if (!mllr.empty() && std::filesystem::exists(mllr)) cfg.mllr = mllr;
  auto engine = speech::make_engine(cfg);
  if (!engine) {
    state.SkipWithError(engine.error().c_str());
    return;
  }
  const auto pcm = audio::resample(rec->samples, rec->sample_rate, 8000);
  double audio_s = 0;
  for (auto _ : state) {
    auto r = (*engine)->recognizer();
    for (std::size_t i = 0; i < pcm.size(); i += 160) {
      (void)(*r)->accept({pcm.data() + i, std::min<std::size_t>(160, pcm.size() - i)});
    }
    benchmark::DoNotOptimize((*r)->finish());
    audio_s += static_cast<double>(pcm.size()) / 8000.0;
  }
  state.counters["audio_s_per_s"] = benchmark::Counter(audio_s, benchmark::Counter::kIsRate);
  state.counters["rtf"] =
      benchmark::Counter(audio_s, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(cfg.mllr.empty() ? "packaged model" : "adapted model");
}
BENCHMARK_CAPTURE(BM_DecodeTelephonePrompt, packaged, std::string())->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecodeTelephonePrompt, adapted,
                  std::string(SPOOFEX_BUILD_DIR "/model/mllr_matrix"))
    ->Unit(benchmark::kMillisecond);

// Taking a recogniser for a new call from the engine's pool: what a new call costs.
void BM_NewCallRecognizer(benchmark::State& state) {
  speech::EngineConfig cfg;
  cfg.pool = 1;
  auto engine = speech::make_engine(cfg);
  if (!engine) {
    state.SkipWithError(engine.error().c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize((*engine)->recognizer());
}
BENCHMARK(BM_NewCallRecognizer)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
