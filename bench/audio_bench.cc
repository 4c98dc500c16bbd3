// Per-frame cost of the call audio analyzer (the goal: under 5 µs per 20 ms
// frame on one core), and of reading a 60 s µ-law WAV.
//
// One benchmark iteration is one 20 ms frame through AudioAnalyzer::feed: 160 µ-law
// bytes decoded, then the DTMF and fax/modem tone detectors, the level and noise
// floor, the WebRTC VAD and, on frames the VAD calls voice, the pitch gate. The
// analyzer streams through 30 s of input over and over, as on a long call. Inputs are
// built here (no external tools): digital silence, white noise at -30 dBFS, and a
// vowel-like voice (120 Hz harmonics through three formants, 4 Hz syllable rhythm);
// the "voiced_share" counter shows how much of it reached the pitch gate.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <span>
#include <vector>

#include "audio/audio.h"

namespace {

using namespace spoofex::audio;

constexpr int kRate = 8000;
constexpr std::size_t kFrame = 160;  // 20 ms at 8 kHz
constexpr double kSeconds = 30;
constexpr double kPi = std::numbers::pi;

// G.711 µ-law, as spandsp's linear_to_ulaw.
std::uint8_t ulaw(std::int16_t sample) {
  int linear = sample;
  int mask = 0xFF;
  if (linear < 0) {
    linear = 0x84 - linear - 1;
    mask = 0x7F;
  } else {
    linear += 0x84;
  }
  const int seg = std::bit_width(static_cast<unsigned>(linear | 0xFF)) - 8;
  if (seg >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
  return static_cast<std::uint8_t>(((seg << 4) | ((linear >> (seg + 3)) & 0x0F)) ^ mask);
}

std::vector<std::int16_t> to_pcm(const std::vector<double>& x) {
  std::vector<std::int16_t> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    out[i] = static_cast<std::int16_t>(std::clamp(std::lround(x[i]), -32768L, 32767L));
  }
  return out;
}

void scale_to_dbfs(std::vector<double>& x, double dbfs) {
  double sum = 0;
  for (double v : x) sum += v * v;
  const double rms = std::sqrt(sum / static_cast<double>(x.size()));
  if (rms <= 0) return;
  for (double& v : x) v *= 32768.0 * std::pow(10.0, dbfs / 20.0) / rms;
}

std::vector<double> white_noise(double dbfs, double seconds, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> x(static_cast<std::size_t>(seconds * kRate));
  for (double& v : x) v = g(rng);
  scale_to_dbfs(x, dbfs);
  return x;
}

// A sustained vowel /a/ with a moving pitch, spoken in 4 Hz syllables, at -20 dBFS
// over a -60 dBFS noise floor.
std::vector<double> vowel_voice(double seconds) {
  const std::size_t n = static_cast<std::size_t>(seconds * kRate);
  std::vector<double> x(n);
  const double formants[3][2] = {{700, 80}, {1220, 90}, {2600, 120}};  // Hz, bandwidth
  auto gain_at = [&](double hz) {
    double g = 1.0 / (1.0 + hz / 200.0);  // glottal roll-off
    for (const auto& [f, bw] : formants) g *= 1.0 / std::sqrt(1.0 + std::pow((hz - f) / bw, 2));
    return g;
  };
  double phase = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / kRate;
    const double f0 = 120.0 * (1.0 + 0.06 * std::sin(2 * kPi * 0.7 * t));
    phase += 2 * kPi * f0 / kRate;
    double v = 0;
    for (int k = 1; k * f0 < 3400; ++k) v += gain_at(k * f0) * std::sin(k * phase);
    const double syllable = std::sin(2 * kPi * 4.0 * t);
    x[i] = v * (syllable > 0 ? syllable : 0.0);
  }
  scale_to_dbfs(x, -17);  // about -20 dBFS over the syllables, silence between
  const std::vector<double> floor = white_noise(-60, seconds, 99);
  for (std::size_t i = 0; i < n; ++i) x[i] += floor[i];
  return x;
}

enum class Input { silence, noise, voice };

const std::vector<std::int16_t>& linear(Input in) {
  static const std::vector<std::int16_t> kSilence(static_cast<std::size_t>(kSeconds * kRate), 0);
  static const std::vector<std::int16_t> kNoise = to_pcm(white_noise(-30, kSeconds, 7));
  static const std::vector<std::int16_t> kVoice = to_pcm(vowel_voice(kSeconds));
  switch (in) {
    case Input::silence:
      return kSilence;
    case Input::noise:
      return kNoise;
    case Input::voice:
      break;
  }
  return kVoice;
}

std::vector<std::uint8_t> mulaw(Input in) {
  const auto& pcm = linear(in);
  std::vector<std::uint8_t> out(pcm.size());
  std::transform(pcm.begin(), pcm.end(), out.begin(), ulaw);
  return out;
}

void report(benchmark::State& state, const AudioAnalyzer& analyzer) {
  state.SetItemsProcessed(state.iterations());  // items = 20 ms frames
  const Stats& st = analyzer.stats();
  state.counters["voiced_share"] = st.duration_s > 0 ? st.voiced_s / st.duration_s : 0.0;
  state.counters["speech"] = analyzer.speech_heard() ? 1 : 0;
}

// One iteration: one 20 ms frame of 160 µ-law bytes through feed().
void BM_FeedMulawFrame(benchmark::State& state, Input in) {
  const std::vector<std::uint8_t> bytes = mulaw(in);
  const std::size_t frames = bytes.size() / kFrame;
  AudioAnalyzer analyzer({.encoding = Encoding::mulaw, .sample_rate = 8000});
  std::size_t next = 0;
  for (auto _ : state) {
    auto events = analyzer.feed({bytes.data() + next * kFrame, kFrame});
    benchmark::DoNotOptimize(events.data());
    if (++next == frames) next = 0;
  }
  report(state, analyzer);
}
BENCHMARK_CAPTURE(BM_FeedMulawFrame, silence, Input::silence);
BENCHMARK_CAPTURE(BM_FeedMulawFrame, white_noise_minus30dBFS, Input::noise);
BENCHMARK_CAPTURE(BM_FeedMulawFrame, voice, Input::voice);

// One iteration: one 20 ms frame of 16 kHz pcm16 (640 bytes), resampled to 8 kHz first.
void BM_FeedPcm16At16kFrame(benchmark::State& state, Input in) {
  const std::vector<std::int16_t> narrow = linear(in);
  const std::vector<std::int16_t> wide = resample(narrow, 8000, 16000);
  std::vector<std::uint8_t> bytes;
  for (std::int16_t s : wide) {
    bytes.push_back(static_cast<std::uint8_t>(s & 0xFF));
    bytes.push_back(static_cast<std::uint8_t>((s >> 8) & 0xFF));
  }
  constexpr std::size_t kBytes = 640;
  const std::size_t frames = bytes.size() / kBytes;
  AudioAnalyzer analyzer({.encoding = Encoding::pcm16, .sample_rate = 16000});
  std::size_t next = 0;
  for (auto _ : state) {
    auto events = analyzer.feed({bytes.data() + next * kBytes, kBytes});
    benchmark::DoNotOptimize(events.data());
    if (++next == frames) next = 0;
  }
  report(state, analyzer);
}
BENCHMARK_CAPTURE(BM_FeedPcm16At16kFrame, voice, Input::voice);

// parse_wav on a 60 s 8 kHz mono µ-law file held in memory.
void BM_ParseWav60sMulaw(benchmark::State& state) {
  std::vector<std::uint8_t> data = mulaw(Input::voice);
  data.insert(data.end(), data.begin(), data.end());  // 60 s
  auto put = [](std::vector<std::uint8_t>& b, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  std::vector<std::uint8_t> file = {'R', 'I', 'F', 'F'};
  put(file, static_cast<std::uint32_t>(4 + 8 + 16 + 8 + data.size()), 4);
  for (char c : std::string_view("WAVEfmt ")) file.push_back(static_cast<std::uint8_t>(c));
  put(file, 16, 4);
  put(file, 7, 2);  // µ-law
  put(file, 1, 2);
  put(file, kRate, 4);
  put(file, kRate, 4);
  put(file, 1, 2);
  put(file, 8, 2);
  for (char c : std::string_view("data")) file.push_back(static_cast<std::uint8_t>(c));
  put(file, static_cast<std::uint32_t>(data.size()), 4);
  file.insert(file.end(), data.begin(), data.end());
  std::size_t samples = 0;
  for (auto _ : state) {
    auto rec = parse_wav(file);
    if (!rec) {
      state.SkipWithError(rec.error().c_str());
      break;
    }
    samples = rec->samples.size();
    benchmark::DoNotOptimize(rec->samples.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(file.size()));
  state.counters["seconds_of_audio"] = static_cast<double>(samples) / kRate;
}
BENCHMARK(BM_ParseWav60sMulaw)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
