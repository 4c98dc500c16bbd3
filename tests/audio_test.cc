// Unit tests for the audio module: the WAV reader, the resampler, DTMF and
// fax/modem tone detection, and the blank-call and talk-over-prompt verdicts on
// noise generated here and on speech synthesised with espeak-ng and band-limited
// to the telephone band with sox.
//
// Levels are RMS relative to full scale (32768), the analyzer's own convention (a
// full-scale sine is -3 dBFS). Speech levels are active-speech levels: the RMS over
// the 20 ms frames within 20 dB of the loudest frame. Noise is seeded, so every run
// sees the same inputs. Speech files are synthesised once per test binary run into a
// mkdtemp directory that the global environment removes at the end.
//
// The worst error is a "blank" verdict on a caller who spoke: every speech test
// asserts blank == false.
#include "audio/audio.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <numbers>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace spoofex::audio {
namespace {

namespace fs = std::filesystem;

constexpr int kRate = 8000;
constexpr double kPi = std::numbers::pi;

using Signal = std::vector<double>;  // linear samples, full scale 32768
using Pcm = std::vector<std::int16_t>;
using Bytes = std::vector<std::uint8_t>;

// ---------------------------------------------------------------------------------
// Signals

// The peak amplitude of a sine whose RMS is `dbfs`.
double sine_amplitude(double dbfs) {
  return 32768.0 * std::sqrt(2.0) * std::pow(10.0, dbfs / 20.0);
}

std::size_t samples_for(double seconds, int rate = kRate) {
  return static_cast<std::size_t>(std::lround(seconds * rate));
}

Signal silence(double seconds, int rate = kRate) { return Signal(samples_for(seconds, rate), 0.0); }

Signal sine(double hz, double dbfs, double seconds, int rate = kRate) {
  Signal x(samples_for(seconds, rate));
  const double a = sine_amplitude(dbfs);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = a * std::sin(2 * kPi * hz * i / rate);
  return x;
}

double rms(std::span<const double> x) {
  double sum = 0;
  for (double v : x) sum += v * v;
  return x.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(x.size()));
}

double rms_dbfs(std::span<const std::int16_t> x) {
  double sum = 0;
  for (std::int16_t v : x) sum += static_cast<double>(v) * v;
  return sum > 0 ? 10 * std::log10(sum / static_cast<double>(x.size()) / (32768.0 * 32768.0))
                 : -200.0;
}

void scale_to_dbfs(Signal& x, double dbfs) {
  const double r = rms(x);
  if (r <= 0) return;
  const double gain = 32768.0 * std::pow(10.0, dbfs / 20.0) / r;
  for (double& v : x) v *= gain;
}

// Active-speech level: the RMS over 20 ms frames within 20 dB of the loudest frame.
double active_level_dbfs(const Signal& x, int rate = kRate) {
  const std::size_t frame = static_cast<std::size_t>(rate / 50);
  std::vector<double> energy;
  for (std::size_t i = 0; i + frame <= x.size(); i += frame) {
    double e = 0;
    for (std::size_t k = 0; k < frame; ++k) e += x[i + k] * x[i + k];
    energy.push_back(e / static_cast<double>(frame));
  }
  if (energy.empty()) return -200.0;
  const double loudest = *std::max_element(energy.begin(), energy.end());
  if (loudest <= 0) return -200.0;
  double sum = 0;
  int n = 0;
  for (double e : energy) {
    if (e >= loudest * 0.01) {  // within 20 dB
      sum += e;
      ++n;
    }
  }
  return 10 * std::log10(sum / n / (32768.0 * 32768.0));
}

void set_active_level(Signal& x, double dbfs, int rate = kRate) {
  const double gain = std::pow(10.0, (dbfs - active_level_dbfs(x, rate)) / 20.0);
  for (double& v : x) v *= gain;
}

// Adds `src` into `dst` starting at `at_s`, growing `dst` if needed.
void mix_at(Signal& dst, const Signal& src, double at_s, int rate = kRate) {
  const std::size_t at = samples_for(at_s, rate);
  if (dst.size() < at + src.size()) dst.resize(at + src.size(), 0.0);
  for (std::size_t i = 0; i < src.size(); ++i) dst[at + i] += src[i];
}

// Adds `src`, repeated as often as needed, over the whole of `dst`.
void mix_looped(Signal& dst, const Signal& src) {
  if (src.empty()) return;
  for (std::size_t i = 0; i < dst.size(); ++i) dst[i] += src[i % src.size()];
}

Signal concat(std::initializer_list<Signal> parts) {
  Signal out;
  for (const Signal& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Pcm to_pcm(const Signal& x) {
  Pcm out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    out[i] = static_cast<std::int16_t>(std::clamp(std::lround(x[i]), -32768L, 32767L));
  }
  return out;
}

Signal to_signal(std::span<const std::int16_t> x) { return Signal(x.begin(), x.end()); }

// Drops leading and trailing samples quieter than -54 dBFS peak.
Signal trim(const Signal& x) {
  auto loud = [](double v) { return std::abs(v) > 64.0; };
  auto first = std::find_if(x.begin(), x.end(), loud);
  auto last = std::find_if(x.rbegin(), x.rend(), loud).base();
  return first < last ? Signal(first, last) : Signal{};
}

// ---------------------------------------------------------------------------------
// Noise (seeded)

Signal white_noise(double dbfs, double seconds, std::uint32_t seed, int rate = kRate) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  Signal x(samples_for(seconds, rate));
  for (double& v : x) v = g(rng);
  scale_to_dbfs(x, dbfs);
  return x;
}

// Paul Kellet's filter: -3 dB/octave within 0.05 dB from 10 Hz up.
Signal pink_noise(double dbfs, double seconds, std::uint32_t seed, int rate = kRate) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  Signal x(samples_for(seconds, rate));
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
  for (double& v : x) {
    const double w = g(rng);
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.96900 * b2 + w * 0.1538520;
    b3 = 0.86650 * b3 + w * 0.3104856;
    b4 = 0.55000 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.0168980;
    v = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  scale_to_dbfs(x, dbfs);
  return x;
}

// Integrated white noise (-6 dB/octave) with a leak at about 3 Hz, DC removed.
Signal brown_noise(double dbfs, double seconds, std::uint32_t seed, int rate = kRate) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  Signal x(samples_for(seconds, rate));
  double b = 0, dc = 0;
  for (double& v : x) {
    b = 0.9975 * b + g(rng);
    dc = 0.999 * dc + 0.001 * b;
    v = b - dc;
  }
  scale_to_dbfs(x, dbfs);
  return x;
}

// RBJ band-pass biquad (constant 0 dB peak gain).
struct BandPass {
  double b0, b2, a1, a2, x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  BandPass(double hz, double q, int rate) {
    const double w0 = 2 * kPi * hz / rate, alpha = std::sin(w0) / (2 * q), a0 = 1 + alpha;
    b0 = alpha / a0;
    b2 = -alpha / a0;
    a1 = -2 * std::cos(w0) / a0;
    a2 = (1 - alpha) / a0;
  }
  double operator()(double x) {
    const double y = b0 * x + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = x;
    y2 = y1;
    y1 = y;
    return y;
  }
};

// Clothes rubbing on the microphone: bursts of band-passed noise 30-150 ms long,
// -25 to -45 dBFS, with gaps of 50-600 ms.
Signal pocket_rustle(double seconds, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::uniform_real_distribution<double> burst_s(0.030, 0.150), gap_s(0.050, 0.600),
      level(-45.0, -25.0), centre(400.0, 3000.0);
  Signal x = silence(seconds);
  double t = gap_s(rng);
  while (true) {
    const std::size_t n = samples_for(burst_s(rng));
    if (samples_for(t) + n > x.size()) break;
    BandPass bp(centre(rng), 0.8, kRate);
    Signal burst(n);
    const std::size_t ramp = samples_for(0.005);
    for (std::size_t i = 0; i < n; ++i) {
      const double edge =
          std::min({1.0, static_cast<double>(i) / ramp, static_cast<double>(n - 1 - i) / ramp});
      burst[i] = bp(g(rng)) * edge;
    }
    scale_to_dbfs(burst, level(rng));
    mix_at(x, burst, t);
    t += static_cast<double>(n) / kRate + gap_s(rng);
  }
  return x;
}

// Mains hum: 50 Hz with its 100 and 150 Hz harmonics.
Signal mains_hum(double dbfs, double seconds) {
  Signal x(samples_for(seconds));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(i) / kRate;
    x[i] = std::sin(2 * kPi * 50 * t) + 0.5 * std::sin(2 * kPi * 100 * t + 0.3) +
           0.3 * std::sin(2 * kPi * 150 * t + 1.1);
  }
  scale_to_dbfs(x, dbfs);
  return x;
}

// ---------------------------------------------------------------------------------
// DTMF (Q.23 frequencies)

Signal dtmf_tone(char key, double dbfs_per_tone, double seconds) {
  static constexpr std::string_view kKeys = "123A456B789C*0#D";
  static constexpr std::array<double, 4> kRows = {697, 770, 852, 941};
  static constexpr std::array<double, 4> kCols = {1209, 1336, 1477, 1633};
  const auto k = kKeys.find(key);
  if (k == std::string_view::npos) throw std::invalid_argument("not a DTMF key");
  Signal low = sine(kRows[k / 4], dbfs_per_tone, seconds);
  const Signal high = sine(kCols[k % 4], dbfs_per_tone, seconds);
  for (std::size_t i = 0; i < low.size(); ++i) low[i] += high[i];
  return low;
}

// Keys pressed one after another, each `on_s` long with `off_s` of silence after it,
// starting after `lead_s` of silence.
Signal dtmf_keys(std::string_view keys, double dbfs_per_tone, double on_s = 0.08,
                 double off_s = 0.08, double lead_s = 0.2) {
  Signal x = silence(lead_s);
  for (char key : keys) {
    const Signal tone = dtmf_tone(key, dbfs_per_tone, on_s);
    x.insert(x.end(), tone.begin(), tone.end());
    x.resize(x.size() + samples_for(off_s), 0.0);
  }
  x.resize(x.size() + samples_for(0.2), 0.0);
  return x;
}

// ---------------------------------------------------------------------------------
// G.711 encoders (the same algorithm as spandsp's linear_to_ulaw/linear_to_alaw)

int top_bit(int v) { return std::bit_width(static_cast<unsigned>(v)) - 1; }

std::uint8_t ulaw(std::int16_t sample) {
  constexpr int kBias = 0x84;
  int linear = sample;
  int mask = 0xFF;
  if (linear < 0) {
    linear = kBias - linear - 1;
    mask = 0x7F;
  } else {
    linear = kBias + linear;
  }
  const int seg = top_bit(linear | 0xFF) - 7;
  if (seg >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
  return static_cast<std::uint8_t>(((seg << 4) | ((linear >> (seg + 3)) & 0x0F)) ^ mask);
}

std::uint8_t alaw(std::int16_t sample) {
  int linear = sample;
  int mask = 0xD5;
  if (linear < 0) {
    linear = -linear - 1;
    mask = 0x55;
  }
  const int seg = top_bit(linear | 0xFF) - 7;
  if (seg >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
  return static_cast<std::uint8_t>(((seg << 4) | ((linear >> (seg ? seg + 3 : 4)) & 0x0F)) ^ mask);
}

Bytes encode(std::span<const std::int16_t> pcm, Encoding enc) {
  Bytes out;
  out.reserve(pcm.size() * 2);
  for (std::int16_t s : pcm) {
    switch (enc) {
      case Encoding::mulaw:
        out.push_back(ulaw(s));
        break;
      case Encoding::alaw:
        out.push_back(alaw(s));
        break;
      case Encoding::pcm16:
        out.push_back(static_cast<std::uint8_t>(s & 0xFF));
        out.push_back(static_cast<std::uint8_t>((s >> 8) & 0xFF));
        break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Running the analyzer

struct Analysis {
  Verdict verdict;
  std::vector<Event> events;
  Stats stats;
};

// Encodes `pcm` (at cfg.sample_rate) as cfg.encoding and feeds it in `chunk` bytes.
Analysis analyze(std::span<const std::int16_t> pcm, const AnalyzerConfig& cfg = {},
                 std::size_t chunk = 160) {
  AudioAnalyzer analyzer(cfg);
  const Bytes bytes = encode(pcm, cfg.encoding);
  Analysis run;
  for (std::size_t i = 0; i < bytes.size(); i += chunk) {
    const std::size_t n = std::min(chunk, bytes.size() - i);
    for (const Event& e : analyzer.feed({bytes.data() + i, n})) run.events.push_back(e);
  }
  run.stats = analyzer.stats();
  run.verdict = analyzer.verdict();
  return run;
}

Analysis analyze(const Signal& x, const AnalyzerConfig& cfg = {}, std::size_t chunk = 160) {
  return analyze(to_pcm(x), cfg, chunk);
}

// Linear samples through feed_pcm, 160 at a time.
Analysis analyze_linear(const Signal& x, const AnalyzerConfig& cfg = {}) {
  AudioAnalyzer analyzer(cfg);
  const Pcm pcm = to_pcm(x);
  Analysis run;
  for (std::size_t i = 0; i < pcm.size(); i += 160) {
    const std::size_t n = std::min<std::size_t>(160, pcm.size() - i);
    for (const Event& e : analyzer.feed_pcm({pcm.data() + i, n})) run.events.push_back(e);
  }
  run.stats = analyzer.stats();
  run.verdict = analyzer.verdict();
  return run;
}

bool has_finding(const Verdict& v, std::string_view code) {
  return std::any_of(v.findings.begin(), v.findings.end(),
                     [&](const Finding& f) { return f.code == code; });
}

std::size_t count_events(const Analysis& r, EventKind kind) {
  return static_cast<std::size_t>(std::count_if(r.events.begin(), r.events.end(),
                                                [&](const Event& e) { return e.kind == kind; }));
}

std::string describe(const Analysis& r) {
  const Verdict& v = r.verdict;
  std::string s = "blank=" + std::to_string(v.blank) + " speech=" + std::to_string(v.speech) +
                  " system_generated=" + std::to_string(v.system_generated) +
                  " silent_solution=" + std::to_string(v.silent_solution) + " digits='" + v.digits +
                  "' voiced_s=" + std::to_string(r.stats.voiced_s) +
                  " segments=" + std::to_string(r.stats.speech_segments) + " findings=[";
  for (const Finding& f : v.findings) s += f.code + ": " + f.detail + "; ";
  return s + "]";
}

// ---------------------------------------------------------------------------------
// Workspace: one temp directory per test binary run, and the external tools

class Workspace : public ::testing::Environment {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/spoofex-audio-test-XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = made;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
    dir_.clear();
  }
  static const fs::path& dir() {
    if (dir_.empty()) throw std::runtime_error("the audio test workspace was not set up");
    return dir_;
  }

 private:
  static inline fs::path dir_;
};

[[maybe_unused]] ::testing::Environment* const kWorkspace =
    ::testing::AddGlobalTestEnvironment(new Workspace);

void require_tool(const std::string& tool) {
  static std::map<std::string, bool> found;
  auto it = found.find(tool);
  if (it == found.end()) {
    const int rc = std::system(("command -v " + tool + " >/dev/null 2>&1").c_str());
    it = found.emplace(tool, rc == 0).first;
  }
  if (!it->second) {
    throw std::runtime_error(tool +
                             " is not installed (or not on PATH); the audio tests need espeak-ng "
                             "and sox to synthesise speech: apt-get install espeak-ng sox");
  }
}

void run_command(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    throw std::runtime_error("command failed (wait status " + std::to_string(rc) + "): " + cmd);
  }
}

// Speech from espeak-ng, band-limited to 300-3400 Hz by sox and, at 8 kHz, stored
// as µ-law (as a telephone line carries it); no dither, so every run sees the same
// samples. Leading and trailing silence trimmed.
// Cached for the run.
const Signal& speech(const std::string& voice, const std::string& text, int rate = kRate,
                     int words_per_minute = 160) {
  static std::map<std::string, Signal> cache;
  const std::string key =
      voice + "|" + std::to_string(words_per_minute) + "|" + std::to_string(rate) + "|" + text;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  require_tool("espeak-ng");
  require_tool("sox");
  const fs::path base = Workspace::dir() / ("speech" + std::to_string(cache.size()));
  const fs::path txt = base.string() + ".txt", raw = base.string() + "-raw.wav",
                 tel = base.string() + "-tel.wav";
  {
    std::ofstream f(txt);
    f << text << "\n";
    if (!f) throw std::runtime_error("cannot write " + txt.string());
  }
  run_command("espeak-ng -v " + voice + " -s " + std::to_string(words_per_minute) + " -f '" +
              txt.string() + "' -w '" + raw.string() + "'");
  const std::string encoding = rate == kRate ? "-e mu-law" : "-b 16 -e signed-integer";
  run_command("sox -V1 -G -R -D '" + raw.string() + "' -r " + std::to_string(rate) + " " +
              encoding + " '" + tel.string() + "' sinc 300-3400");
  auto rec = read_wav(tel.string());
  if (!rec) throw std::runtime_error("cannot read sox output: " + rec.error());
  if (rec->sample_rate != rate || rec->samples.empty()) {
    throw std::runtime_error("unexpected sox output for '" + text + "' (" + voice + ")");
  }
  Signal x = trim(to_signal(rec->samples));
  if (x.size() < samples_for(0.2, rate)) {
    throw std::runtime_error("espeak-ng produced almost no audio for '" + text + "'");
  }
  return cache.emplace(key, std::move(x)).first->second;
}

// The raw espeak-ng output (22050 Hz, full band), for analyze_recording.
std::string raw_speech_file(const std::string& voice, const std::string& text) {
  require_tool("espeak-ng");
  static int n = 0;
  const fs::path base = Workspace::dir() / ("raw" + std::to_string(n++));
  const fs::path txt = base.string() + ".txt", wav = base.string() + ".wav";
  {
    std::ofstream f(txt);
    f << text << "\n";
  }
  run_command("espeak-ng -v " + voice + " -f '" + txt.string() + "' -w '" + wav.string() + "'");
  return wav.string();
}

// ---------------------------------------------------------------------------------
// The corpora

struct Utterance {
  std::string name;
  std::string voice;
  std::string text;
};

// What a caller to 112 might say: three English voices and one Hindi.
const std::vector<Utterance>& caller_utterances() {
  static const std::vector<Utterance> kUtterances = [] {
    const std::vector<std::pair<std::string, std::string>> sentences = {
        {"burglary", "Hello, police? Please help me, someone is breaking into my house right now."},
        {"accident",
         "There has been a bad accident near the toll plaza on the highway, please send an "
         "ambulance."},
        {"domestic",
         "My husband is beating me. Please come quickly, I am in sector twelve, Dwarka."},
        {"stalker", "A man is following me near the railway station, I am very scared."},
    };
    std::vector<Utterance> out;
    for (const std::string voice : {"en-us", "en-gb", "en+f3"}) {
      for (const auto& [name, text] : sentences) out.push_back({voice + "/" + name, voice, text});
    }
    out.push_back({"hi/chor", "hi", "मदद कीजिए, मेरे घर में चोर घुस आया है, जल्दी पुलिस भेजिए।"});
    return out;
  }();
  return kUtterances;
}

// A television in the room: another voice reading the news.
const Signal& tv_speech() {
  return speech("en-029",
                "In other news, the weather department has forecast heavy rain over the coast for "
                "the next three days, and fishermen have been advised not to venture into the sea.",
                kRate, 170);
}

enum class Noise { none, white_snr15, white_snr10, brown_snr10, tv_10db_down };

std::string to_string(Noise n) {
  switch (n) {
    case Noise::none:
      return "clean";
    case Noise::white_snr15:
      return "white_snr15";
    case Noise::white_snr10:
      return "white_snr10";
    case Noise::brown_snr10:
      return "brown_traffic_snr10";
    case Noise::tv_10db_down:
      return "tv_10dB_down";
  }
  return "?";
}

constexpr std::array kSpeechLevels = {-10.0, -20.0, -30.0, -35.0};
constexpr std::array kNoises = {Noise::none, Noise::white_snr15, Noise::white_snr10,
                                Noise::brown_snr10, Noise::tv_10db_down};

std::string level_name(double dbfs) {
  return "minus" + std::to_string(static_cast<int>(std::lround(-dbfs))) + "dBFS";
}

// 1 s of (noisy) line, the utterance at `level` active-speech level, then 0.5 s more.
Signal speech_item(const Utterance& u, double level, Noise noise, std::uint32_t seed) {
  Signal x = concat({silence(1.0), speech(u.voice, u.text), silence(0.5)});
  set_active_level(x, level);
  const double seconds = static_cast<double>(x.size()) / kRate;
  Signal n;
  switch (noise) {
    case Noise::none:
      break;
    case Noise::white_snr15:
      n = white_noise(level - 15, seconds, seed);
      break;
    case Noise::white_snr10:
      n = white_noise(level - 10, seconds, seed);
      break;
    case Noise::brown_snr10:
      n = brown_noise(level - 10, seconds, seed);
      break;
    case Noise::tv_10db_down:
      n = tv_speech();
      set_active_level(n, level - 10);
      break;
  }
  if (noise == Noise::tv_10db_down) {
    mix_looped(x, n);
  } else if (!n.empty()) {
    mix_at(x, n, 0.0);
  }
  return x;
}

struct Item {
  std::string name;
  Pcm pcm;  // 8 kHz
};

// One word at -30 dBFS between 4 s of silence.
const std::vector<Utterance>& short_cries() {
  static const std::vector<Utterance> kCries = {{"help en-us", "en-us", "Help!"},
                                                {"help en+f3", "en+f3", "Help!"},
                                                {"bachao en-gb", "en-gb", "Bachao!"},
                                                {"bachao hi", "hi", "बचाओ!"}};
  return kCries;
}

Signal short_cry_item(const Utterance& u) {
  Signal cry = speech(u.voice, u.text);
  set_active_level(cry, -30);
  return concat({silence(4.0), cry, silence(4.0)});
}

// Every sentence at every level in every noise condition, and the short cries.
const std::vector<Item>& speech_set() {
  static const std::vector<Item> kSet = [] {
    std::vector<Item> out;
    std::uint32_t seed = 1000;
    for (Noise noise : kNoises) {
      for (double level : kSpeechLevels) {
        for (const Utterance& u : caller_utterances()) {
          out.push_back({u.name + " " + level_name(level) + " " + to_string(noise),
                         to_pcm(speech_item(u, level, noise, seed++))});
        }
      }
    }
    for (const Utterance& u : short_cries()) {
      out.push_back({u.name + " minus30dBFS between silences", to_pcm(short_cry_item(u))});
    }
    return out;
  }();
  return kSet;
}

constexpr double kBlankSeconds = 9.0;
constexpr std::array kNoiseLevels = {-20.0, -30.0, -40.0, -50.0};

const std::vector<Item>& blank_set() {
  static const std::vector<Item> kSet = [] {
    std::vector<Item> out;
    out.push_back({"digital silence", to_pcm(silence(kBlankSeconds))});
    std::uint32_t seed = 1;
    for (double level : kNoiseLevels) {
      out.push_back(
          {"white noise " + level_name(level), to_pcm(white_noise(level, kBlankSeconds, seed++))});
      out.push_back(
          {"pink noise " + level_name(level), to_pcm(pink_noise(level, kBlankSeconds, seed++))});
      out.push_back(
          {"brown noise " + level_name(level), to_pcm(brown_noise(level, kBlankSeconds, seed++))});
    }
    out.push_back({"50 Hz hum minus20dBFS", to_pcm(mains_hum(-20, kBlankSeconds))});
    out.push_back({"line hiss minus60dBFS", to_pcm(white_noise(-60, kBlankSeconds, 77))});
    out.push_back({"pocket rustle", to_pcm(pocket_rustle(kBlankSeconds, 78))});
    out.push_back({"comfort noise minus55dBFS", to_pcm(pink_noise(-55, kBlankSeconds, 79))});
    return out;
  }();
  return kSet;
}

void expect_blank(const Signal& x, const std::string& name) {
  const Analysis r = analyze(x);
  EXPECT_TRUE(r.verdict.blank) << name << ": " << describe(r);
  EXPECT_TRUE(has_finding(r.verdict, "no_speech")) << name << ": " << describe(r);
  EXPECT_FALSE(r.verdict.speech) << name << ": " << describe(r);
}

void expect_speech(std::span<const std::int16_t> pcm, const std::string& name,
                   const AnalyzerConfig& cfg = {}) {
  const Analysis r = analyze(pcm, cfg);
  EXPECT_FALSE(r.verdict.blank) << "FALSE BLANK on " << name << ": " << describe(r);
  EXPECT_TRUE(r.verdict.speech) << name << ": " << describe(r);
}

// ---------------------------------------------------------------------------------
// WAV bytes

void put16(Bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put24(Bytes& b, std::uint32_t v) {
  put16(b, v);
  b.push_back(static_cast<std::uint8_t>(v >> 16));
}
void put32(Bytes& b, std::uint32_t v) {
  put16(b, v);
  put16(b, v >> 16);
}
void put_float(Bytes& b, float f) { put32(b, std::bit_cast<std::uint32_t>(f)); }

constexpr std::uint16_t kPcm = 1, kFloat = 3, kAlaw = 6, kMulaw = 7, kExtensible = 0xFFFE;

// A chunk: id, size, body and the pad byte that keeps odd-sized chunks word-aligned.
Bytes chunk(std::string_view id, const Bytes& body, bool pad = true) {
  Bytes b(id.begin(), id.end());
  put32(b, static_cast<std::uint32_t>(body.size()));
  b.insert(b.end(), body.begin(), body.end());
  if (pad && (body.size() & 1)) b.push_back(0);
  return b;
}

Bytes fmt_body(std::uint16_t tag, int channels, int rate, int bits, int block_align = -1) {
  if (block_align < 0) block_align = channels * bits / 8;
  Bytes b;
  put16(b, tag);
  put16(b, static_cast<std::uint32_t>(channels));
  put32(b, static_cast<std::uint32_t>(rate));
  put32(b, static_cast<std::uint32_t>(rate * block_align));
  put16(b, static_cast<std::uint32_t>(block_align));
  put16(b, static_cast<std::uint32_t>(bits));
  return b;
}

// WAVEFORMATEXTENSIBLE: cbSize 22, valid bits, channel mask, and the sub-format
// GUID {0000xxxx-0000-0010-8000-00AA00389B71} whose first two bytes are the tag.
Bytes extensible_fmt_body(std::uint16_t sub_format, int channels, int rate, int bits,
                          int valid_bits) {
  Bytes b = fmt_body(kExtensible, channels, rate, bits);
  put16(b, 22);
  put16(b, static_cast<std::uint32_t>(valid_bits));
  put32(b, channels == 1 ? 0x4 : 0x3);
  put32(b, sub_format);
  for (std::uint8_t g : {0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}) {
    b.push_back(g);
  }
  return b;
}

Bytes riff(const std::vector<Bytes>& chunks, std::string_view form = "WAVE",
           std::uint32_t riff_size = 0) {
  Bytes body(form.begin(), form.end());
  for (const Bytes& c : chunks) body.insert(body.end(), c.begin(), c.end());
  Bytes b = {'R', 'I', 'F', 'F'};
  put32(b, riff_size != 0 ? riff_size : static_cast<std::uint32_t>(body.size()));
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

Bytes wav(std::uint16_t tag, int channels, int rate, int bits, const Bytes& data) {
  return riff({chunk("fmt ", fmt_body(tag, channels, rate, bits)), chunk("data", data)});
}

Bytes pcm16_bytes(std::span<const std::int16_t> samples) {
  return encode(samples, Encoding::pcm16);
}

Result<Recording> parse(const Bytes& b) { return parse_wav(std::span<const std::uint8_t>(b)); }

::testing::AssertionResult fails_with(const Bytes& b, std::string_view needle) {
  const auto r = parse(b);
  if (r.ok()) {
    return ::testing::AssertionFailure()
           << "parsed without error (" << r->samples.size() << " samples at " << r->sample_rate
           << " Hz); expected an error containing \"" << needle << "\"";
  }
  if (r.error().find(needle) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "error \"" << r.error() << "\" does not contain \"" << needle << "\"";
  }
  return ::testing::AssertionSuccess() << r.error();
}

// =================================================================================
// WAV

TEST(WavTest, Pcm16MonoKeepsEverySample) {
  const Pcm samples = {0, 1, -1, 32767, -32768, 1234, -4321};
  const auto rec = parse(wav(kPcm, 1, 8000, 16, pcm16_bytes(samples)));
  ASSERT_TRUE(rec.ok()) << rec.error();
  EXPECT_EQ(rec->samples, samples);
  EXPECT_EQ(rec->sample_rate, 8000);
  EXPECT_EQ(rec->channels, 1);
  EXPECT_EQ(rec->format, "pcm16");
}

TEST(WavTest, Pcm8IsUnsignedWithMidpoint128) {
  const auto rec = parse(wav(kPcm, 1, 8000, 8, {0x80, 0xFF, 0x00, 0xC0, 0x7F}));
  ASSERT_TRUE(rec.ok()) << rec.error();
  EXPECT_EQ(rec->samples, (Pcm{0, 32512, -32768, 16384, -256}));
  EXPECT_EQ(rec->format, "pcm8");
}

TEST(WavTest, Pcm24KeepsTheTop16Bits) {
  Bytes data;
  for (std::uint32_t v : {0x123456u, 0xFEDCBAu, 0x7FFFFFu, 0x800000u, 0x000000u}) put24(data, v);
  const auto rec = parse(wav(kPcm, 1, 16000, 24, data));
  ASSERT_TRUE(rec.ok()) << rec.error();
  EXPECT_EQ(rec->samples, (Pcm{0x1234, -292, 32767, -32768, 0}));
  EXPECT_EQ(rec->format, "pcm24");
}

TEST(WavTest, Pcm32KeepsTheTop16Bits) {
  Bytes data;
  for (std::uint32_t v : {0x12345678u, 0x80000000u, 0xFFFFFFFFu, 0x7FFFFFFFu}) put32(data, v);
  const auto rec = parse(wav(kPcm, 1, 22050, 32, data));
  ASSERT_TRUE(rec.ok()) << rec.error();
  EXPECT_EQ(rec->samples, (Pcm{0x1234, -32768, -1, 32767}));
  EXPECT_EQ(rec->format, "pcm32");
}

TEST(WavTest, Float32IsScaledAndClampedAndNanIsSilence) {
  Bytes data;
  for (float f : {0.0f, 0.5f, -1.0f, 1.5f, -7.0f, std::numeric_limits<float>::quiet_NaN()}) {
    put_float(data, f);
  }
  const auto rec = parse(wav(kFloat, 1, 44100, 32, data));
  ASSERT_TRUE(rec.ok()) << rec.error();
  ASSERT_EQ(rec->samples.size(), 6u);
  EXPECT_EQ(rec->samples[0], 0);
  EXPECT_NEAR(rec->samples[1], 16384, 1);
  EXPECT_NEAR(rec->samples[2], -32767, 1);
  EXPECT_EQ(rec->samples[3], 32767);
  EXPECT_NEAR(rec->samples[4], -32767, 1);
  EXPECT_EQ(rec->samples[5], 0);
  EXPECT_EQ(rec->format, "float32");
}

TEST(WavTest, MulawDecodesG711Values) {
  const auto rec = parse(wav(kMulaw, 1, 8000, 8, {0xFF, 0x7F, 0x80, 0x00, 0xFE}));
  ASSERT_TRUE(rec.ok()) << rec.error();
  EXPECT_EQ(rec->samples, (Pcm{0, 0, 32124, -32124, 8}));
  EXPECT_EQ(rec->format, "mulaw");
}

TEST(WavTest, AlawDecodesG711Values) {
  const auto rec = parse(wav(kAlaw, 1, 8000, 8, {0xD5, 0x55, 0xAA, 0x2A}));
  ASSERT_TRUE(rec.ok()) << rec.error();
  EXPECT_EQ(rec->samples, (Pcm{8, -8, 32256, -32256}));
  EXPECT_EQ(rec->format, "alaw");
}

// The test's own G.711 encoders feed most analyzer tests; check them against the
// library's decoders.
TEST(WavTest, TestEncodersRoundTripThroughTheDecoder) {
  const Pcm tone = to_pcm(sine(1000, -10, 0.1));
  for (auto [tag, enc] : {std::pair{kMulaw, Encoding::mulaw}, std::pair{kAlaw, Encoding::alaw}}) {
    const auto rec = parse(wav(tag, 1, 8000, 8, encode(tone, enc)));
    ASSERT_TRUE(rec.ok()) << rec.error();
    ASSERT_EQ(rec->samples.size(), tone.size());
    double err = 0, sig = 0;
    for (std::size_t i = 0; i < tone.size(); ++i) {
      err += std::pow(rec->samples[i] - tone[i], 2);
      sig += std::pow(tone[i], 2);
    }
    EXPECT_GT(10 * std::log10(sig / err), 33.0) << to_string(enc) << " SNR too low";
  }
}

TEST(WavTest, StereoIsMixedToMono) {
  Bytes data;
  for (std::int16_t v : {1000, 3000, -32768, -32768, 32767, -32768, -100, 100}) {
    put16(data, static_cast<std::uint16_t>(v));
  }
  const auto rec = parse(wav(kPcm, 2, 48000, 16, data));
  ASSERT_TRUE(rec.ok()) << rec.error();
  EXPECT_EQ(rec->channels, 2);
  EXPECT_EQ(rec->samples, (Pcm{2000, -32768, 0, 0}));

  const auto mu = parse(wav(kMulaw, 2, 8000, 8, {0x80, 0xFF, 0x00, 0x00}));
  ASSERT_TRUE(mu.ok()) << mu.error();
  EXPECT_EQ(mu->samples, (Pcm{16062, -32124}));

  Bytes d24;
  for (std::uint32_t v : {0x100000u, 0x300000u}) put24(d24, v);
  const auto s24 = parse(wav(kPcm, 2, 44100, 24, d24));
  ASSERT_TRUE(s24.ok()) << s24.error();
  EXPECT_EQ(s24->samples, (Pcm{0x2000}));
}

TEST(WavTest, CommonRatesAreReportedWithTheirDuration) {
  for (int rate : {8000, 16000, 22050, 44100, 48000}) {
    const Pcm samples(static_cast<std::size_t>(rate / 2), 7);
    const auto rec = parse(wav(kPcm, 1, rate, 16, pcm16_bytes(samples)));
    ASSERT_TRUE(rec.ok()) << rate << ": " << rec.error();
    EXPECT_EQ(rec->sample_rate, rate);
    EXPECT_DOUBLE_EQ(rec->duration_s(), 0.5);
  }
}

TEST(WavTest, ExtensiblePcmAndFloatAreRead) {
  const Pcm samples = {100, -200, 300};
  const auto pcm = parse(riff({chunk("fmt ", extensible_fmt_body(kPcm, 1, 16000, 16, 16)),
                               chunk("data", pcm16_bytes(samples))}));
  ASSERT_TRUE(pcm.ok()) << pcm.error();
  EXPECT_EQ(pcm->samples, samples);
  EXPECT_EQ(pcm->format, "pcm16");

  Bytes data;
  put_float(data, 0.25f);
  put_float(data, -0.25f);
  const auto flt = parse(
      riff({chunk("fmt ", extensible_fmt_body(kFloat, 2, 48000, 32, 32)), chunk("data", data)}));
  ASSERT_TRUE(flt.ok()) << flt.error();
  EXPECT_EQ(flt->format, "float32");
  EXPECT_EQ(flt->samples, (Pcm{0}));
}

TEST(WavTest, ExtensibleFmtIs40Bytes) {
  EXPECT_EQ(extensible_fmt_body(kPcm, 1, 8000, 16, 16).size(), 40u);
}

TEST(WavTest, OddSizedChunksBeforeDataAreWordAligned) {
  const Pcm samples = {11, 22, 33};
  const Bytes list = {'I', 'N', 'F', 'O', 'x'};  // 5 bytes: one pad byte follows
  const auto rec = parse(riff({chunk("LIST", list), chunk("fmt ", fmt_body(kPcm, 1, 8000, 16)),
                               chunk("junk", {1, 2, 3}), chunk("data", pcm16_bytes(samples))}));
  ASSERT_TRUE(rec.ok()) << rec.error();
  EXPECT_EQ(rec->samples, samples);
}

TEST(WavTest, StreamedDataSizeTakesTheRestOfTheFile) {
  const Pcm samples = {5, 6, 7, 8};
  Bytes data_chunk = {'d', 'a', 't', 'a'};
  put32(data_chunk, 0xFFFFFFFFu);
  const Bytes body = pcm16_bytes(samples);
  data_chunk.insert(data_chunk.end(), body.begin(), body.end());
  const auto rec =
      parse(riff({chunk("fmt ", fmt_body(kPcm, 1, 8000, 16)), data_chunk}, "WAVE", 0xFFFFFFFFu));
  ASSERT_TRUE(rec.ok()) << rec.error();
  EXPECT_EQ(rec->samples, samples);
}

TEST(WavTest, EmptyFileIsAnError) { EXPECT_TRUE(fails_with({}, "not a WAV file")); }

TEST(WavTest, NonRiffIsAnError) {
  Bytes b = wav(kPcm, 1, 8000, 16, {0, 0});
  b[3] = 'X';  // RIFX
  EXPECT_TRUE(fails_with(b, "not a WAV file"));
}

TEST(WavTest, RiffThatIsNotWaveIsAnError) {
  EXPECT_TRUE(
      fails_with(riff({chunk("fmt ", fmt_body(kPcm, 1, 8000, 16))}, "AVI "), "not a WAV file"));
}

TEST(WavTest, MissingFmtIsAnError) {
  EXPECT_TRUE(fails_with(riff({chunk("LIST", {1, 2, 3, 4})}), "no 'fmt ' chunk"));
}

TEST(WavTest, DataBeforeFmtIsAnError) {
  EXPECT_TRUE(
      fails_with(riff({chunk("data", {1, 2, 3, 4}), chunk("fmt ", fmt_body(kPcm, 1, 8000, 16))}),
                 "before its 'fmt ' chunk"));
}

TEST(WavTest, MissingDataIsAnError) {
  EXPECT_TRUE(fails_with(riff({chunk("fmt ", fmt_body(kPcm, 1, 8000, 16))}), "no 'data' chunk"));
}

TEST(WavTest, TruncatedDataChunkIsAnError) {
  Bytes b = wav(kPcm, 1, 8000, 16, Bytes(100, 0));
  b.resize(b.size() - 10);
  EXPECT_TRUE(fails_with(b, "truncated"));
}

TEST(WavTest, ThreeChannelsIsAnError) {
  EXPECT_TRUE(fails_with(wav(kPcm, 3, 8000, 16, Bytes(12, 0)), "3 channels"));
}

TEST(WavTest, ZeroChannelsIsAnError) {
  EXPECT_TRUE(fails_with(wav(kPcm, 0, 8000, 16, Bytes(12, 0)), "0 channels"));
}

TEST(WavTest, RateZeroIsAnError) {
  EXPECT_TRUE(fails_with(wav(kPcm, 1, 0, 16, Bytes(4, 0)), "sample rate 0 Hz"));
}

TEST(WavTest, TwelveBitPcmIsAnError) {
  EXPECT_TRUE(
      fails_with(riff({chunk("fmt ", fmt_body(kPcm, 1, 8000, 12, 2)), chunk("data", Bytes(4, 0))}),
                 "unsupported WAV encoding"));
}

TEST(WavTest, UnknownFormatTagIsAnError) {
  EXPECT_TRUE(fails_with(wav(0x0011 /* IMA ADPCM */, 1, 8000, 4, Bytes(4, 0)), "format tag 17"));
}

TEST(WavTest, BlockAlignMismatchIsAnError) {
  EXPECT_TRUE(
      fails_with(riff({chunk("fmt ", fmt_body(kPcm, 2, 8000, 16, 2)), chunk("data", Bytes(8, 0))}),
                 "block alignment 2"));
}

TEST(WavTest, ShortFmtIsAnError) {
  EXPECT_TRUE(fails_with(riff({chunk("fmt ", Bytes(14, 0)), chunk("data", Bytes(4, 0))}),
                         "shorter than 16 bytes"));
}

TEST(WavTest, TruncatedExtensibleFmtIsAnError) {
  EXPECT_TRUE(fails_with(
      riff({chunk("fmt ", fmt_body(kExtensible, 1, 8000, 16)), chunk("data", Bytes(4, 0))}),
      "extensible"));
}

TEST(WavTest, MissingFileIsAnErrorNamingThePath) {
  const auto rec = read_wav("/nonexistent/dir/call-0001.wav");
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.error().find("/nonexistent/dir/call-0001.wav"), std::string::npos) << rec.error();
}

TEST(WavTest, DirectoryIsAnErrorNotACrash) {
  const auto rec = read_wav(Workspace::dir().string());
  EXPECT_FALSE(rec.ok());
}

TEST(WavTest, CorruptFileErrorNamesThePath) {
  const fs::path path = Workspace::dir() / "corrupt.wav";
  {
    std::ofstream f(path, std::ios::binary);
    const Bytes b = riff({});
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  const auto rec = read_wav(path.string());
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.error().find(path.string()), std::string::npos) << rec.error();
  EXPECT_NE(rec.error().find("no 'fmt ' chunk"), std::string::npos) << rec.error();
}

TEST(WavTest, WriteWavRoundTrips) {
  const Pcm samples = to_pcm(white_noise(-12, 0.25, 5, 16000));
  const fs::path path = Workspace::dir() / "roundtrip.wav";
  const Status written = write_wav(path.string(), samples, 16000);
  ASSERT_TRUE(written.ok()) << written.error();
  EXPECT_EQ(fs::file_size(path), 44 + samples.size() * 2);
  const auto rec = read_wav(path.string());
  ASSERT_TRUE(rec.ok()) << rec.error();
  EXPECT_EQ(rec->samples, samples);
  EXPECT_EQ(rec->sample_rate, 16000);
  EXPECT_EQ(rec->channels, 1);
  EXPECT_EQ(rec->format, "pcm16");
}

TEST(WavTest, WriteWavToAMissingDirectoryIsAnError) {
  const Pcm samples(10, 0);
  EXPECT_FALSE(write_wav("/nonexistent/dir/out.wav", samples, 8000).ok());
}

// Random bytes, and valid files with corrupted bytes, sizes and lengths: every
// buffer either parses into something sane or gives an error; never a crash or an
// out-of-bounds read (each buffer is its own exactly-sized allocation, for ASan).
TEST(WavTest, RandomAndCorruptedBuffersNeverCrash) {
  std::mt19937 rng(20240611);
  auto uniform = [&](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  struct Shape {
    std::uint16_t tag;
    int bits;
  };
  const std::array<Shape, 7> shapes = {Shape{kPcm, 8},  Shape{kPcm, 16},   Shape{kPcm, 24},
                                       Shape{kPcm, 32}, Shape{kFloat, 32}, Shape{kMulaw, 8},
                                       Shape{kAlaw, 8}};
  int parsed = 0, rejected = 0;
  for (int i = 0; i < 2000; ++i) {
    Bytes b;
    if (i % 2 == 0) {
      b.resize(uniform(0, 300));
      for (auto& v : b) v = static_cast<std::uint8_t>(uniform(0, 255));
      if (i % 4 == 0 && b.size() >= 12) std::copy_n("RIFF\0\0\0\0WAVE", 12, b.begin());
    } else {
      const Shape s = shapes[uniform(0, shapes.size() - 1)];
      const int channels = static_cast<int>(uniform(1, 2));
      Bytes data(uniform(0, 200));
      for (auto& v : data) v = static_cast<std::uint8_t>(uniform(0, 255));
      b = (i % 3 == 0)
              ? riff({chunk("fmt ", extensible_fmt_body(s.tag, channels, 8000, s.bits, s.bits)),
                      chunk("data", data)})
              : wav(s.tag, channels, 8000, s.bits, data);
      const std::size_t flips = uniform(1, 6);
      for (std::size_t f = 0; f < flips; ++f) {
        const std::size_t at =
            uniform(0, uniform(0, 1) ? std::min<std::size_t>(b.size() - 1, 60) : b.size() - 1);
        b[at] = static_cast<std::uint8_t>(uniform(0, 255));
      }
      if (uniform(0, 3) == 0) {  // a random chunk size
        const std::size_t at = uniform(0, std::min<std::size_t>(b.size() - 4, 60));
        for (int k = 0; k < 4; ++k) b[at + k] = static_cast<std::uint8_t>(uniform(0, 255));
      }
      if (uniform(0, 2) == 0) b.resize(uniform(0, b.size()));
    }
    const std::size_t n = b.size();
    const std::unique_ptr<std::uint8_t[]> exact(new std::uint8_t[n]);
    std::copy(b.begin(), b.end(), exact.get());
    const auto rec = parse_wav(std::span<const std::uint8_t>(exact.get(), n));
    if (rec.ok()) {
      ++parsed;
      EXPECT_TRUE(rec->channels == 1 || rec->channels == 2) << "buffer " << i;
      EXPECT_GE(rec->sample_rate, 4000) << "buffer " << i;
      EXPECT_LE(rec->sample_rate, 192000) << "buffer " << i;
      EXPECT_LE(rec->samples.size(), n) << "buffer " << i;
      EXPECT_FALSE(rec->format.empty()) << "buffer " << i;
    } else {
      ++rejected;
      EXPECT_FALSE(rec.error().empty()) << "buffer " << i;
    }
  }
  EXPECT_GT(parsed, 0);
  EXPECT_GT(rejected, 0);
}

// =================================================================================
// Resampler

// Frequency by counting zero crossings over the middle half of the signal.
double zero_crossing_hz(std::span<const std::int16_t> x, int rate) {
  const std::size_t from = x.size() / 4, to = 3 * x.size() / 4;
  int crossings = 0;
  for (std::size_t i = from + 1; i < to; ++i) {
    if ((x[i - 1] < 0) != (x[i] < 0)) ++crossings;
  }
  return crossings / 2.0 / (static_cast<double>(to - from) / rate);
}

double middle_rms_dbfs(std::span<const std::int16_t> x) {
  return rms_dbfs(x.subspan(x.size() / 4, x.size() / 2));
}

TEST(ResamplerTest, UpAndDownKeepsA1kHzSinesFrequencyAndLevel) {
  const Pcm tone = to_pcm(sine(1000, -10, 1.0));
  const Pcm up = resample(tone, 8000, 16000);
  EXPECT_NEAR(static_cast<double>(up.size()), 16000.0, 80.0);
  EXPECT_NEAR(zero_crossing_hz(up, 16000), 1000.0, 5.0);
  EXPECT_NEAR(middle_rms_dbfs(up), -10.0, 0.3);
  const Pcm back = resample(up, 16000, 8000);
  EXPECT_NEAR(static_cast<double>(back.size()), 8000.0, 80.0);
  EXPECT_NEAR(zero_crossing_hz(back, 8000), 1000.0, 5.0);
  EXPECT_NEAR(middle_rms_dbfs(back), -10.0, 0.3);
}

TEST(ResamplerTest, From44100To8000HasTheRightLength) {
  const Pcm tone = to_pcm(sine(440, -20, 2.0, 44100));
  const Pcm out = resample(tone, 44100, 8000);
  // The filter's tail is not flushed; allow 0.5% (80 samples, 10 ms).
  EXPECT_NEAR(static_cast<double>(out.size()), 16000.0, 80.0);
  EXPECT_NEAR(zero_crossing_hz(out, 8000), 440.0, 5.0);
  EXPECT_NEAR(middle_rms_dbfs(out), -20.0, 0.3);
}

TEST(ResamplerTest, SameRateIsACopy) {
  const Pcm x = {1, 2, 3};
  EXPECT_EQ(resample(x, 8000, 8000), x);
}

TEST(ResamplerTest, StreamingInFramesMatchesOneCall) {
  const Pcm x = to_pcm(white_noise(-20, 0.5, 9, 16000));
  Resampler whole(16000, 8000), framed(16000, 8000);
  Pcm a(x.size() / 2 + 1), b;
  a.resize(whole.process(x, a));
  for (std::size_t i = 0; i < x.size(); i += 320) {
    std::array<std::int16_t, 161> out{};
    const std::size_t n =
        framed.process(std::span(x).subspan(i, std::min<std::size_t>(320, x.size() - i)), out);
    b.insert(b.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
  }
  EXPECT_EQ(a, b);
}

// =================================================================================
// DTMF

constexpr std::string_view kAllKeys = "0123456789*#ABCD";

TEST(DtmfTest, EveryKeyIsDetectedOncePerPressAtSeveralLevels) {
  for (double level : {-10.0, -20.0, -30.0}) {
    for (char key : kAllKeys) {
      const std::string presses(3, key);
      const Analysis r = analyze(dtmf_keys(presses, level, 0.05, 0.05));
      EXPECT_EQ(r.verdict.digits, presses) << "key " << key << " at " << level << " dBFS per tone";
      EXPECT_EQ(count_events(r, EventKind::dtmf), 3u) << "key " << key << " at " << level;
      EXPECT_FALSE(r.verdict.blank) << "key " << key << " at " << level;
    }
  }
}

TEST(DtmfTest, LongPressIsOneKey) {
  const Analysis r = analyze(dtmf_keys("7", -20, 1.5, 0.2));
  EXPECT_EQ(r.verdict.digits, "7");
}

TEST(DtmfTest, SequenceIsReportedInOrder) {
  const Analysis r = analyze(dtmf_keys("19#5*0", -15, 0.07, 0.06));
  EXPECT_EQ(r.verdict.digits, "19#5*0");
  std::string from_events;
  double last = -1;
  for (const Event& e : r.events) {
    if (e.kind != EventKind::dtmf) continue;
    from_events += e.digit;
    EXPECT_GT(e.at_s, last);
    last = e.at_s;
  }
  EXPECT_EQ(from_events, "19#5*0");
}

TEST(DtmfTest, SilentSolutionKeysAreReported) {
  const Analysis r = analyze(dtmf_keys("55", -20, 0.1, 0.3));
  EXPECT_EQ(r.verdict.digits, "55");
  EXPECT_TRUE(r.verdict.silent_solution);
  EXPECT_TRUE(has_finding(r.verdict, "silent_solution")) << describe(r);
  EXPECT_FALSE(r.verdict.blank);
  EXPECT_FALSE(r.verdict.system_generated);
}

TEST(DtmfTest, OtherKeysAreNotTheSilentSolution) {
  const Analysis r = analyze(dtmf_keys("5195", -20));
  EXPECT_EQ(r.verdict.digits, "5195");
  EXPECT_FALSE(r.verdict.silent_solution);
  EXPECT_FALSE(has_finding(r.verdict, "silent_solution"));
}

TEST(DtmfTest, KeysOverSpeechAreStillDetected) {
  // Speech 10 dB below each tone, the keys pressed in the middle of the sentence.
  Signal x = concat({silence(0.5), speech("en-us", caller_utterances()[0].text), silence(0.5)});
  set_active_level(x, -30);
  mix_at(x, dtmf_tone('5', -20, 0.1), 1.5);
  mix_at(x, dtmf_tone('5', -20, 0.1), 1.8);
  const Analysis r = analyze(x);
  EXPECT_EQ(r.verdict.digits, "55") << describe(r);
  EXPECT_TRUE(r.verdict.silent_solution);
  EXPECT_FALSE(r.verdict.blank);
}

TEST(DtmfTest, TwentyMillisecondBlipIsNotAKey) {
  for (double level : {-10.0, -20.0}) {
    for (char key : std::string_view("159#")) {
      const Analysis r = analyze(dtmf_keys(std::string(1, key), level, 0.02, 0.3));
      EXPECT_EQ(r.verdict.digits, "") << "key " << key << " at " << level << " dBFS";
    }
  }
}

TEST(DtmfTest, SpeechAloneYieldsNoDigits) {
  for (const Utterance& u : caller_utterances()) {
    for (double level : {-10.0, -20.0}) {
      Signal x = concat({silence(0.3), speech(u.voice, u.text), silence(0.3)});
      set_active_level(x, level);
      const Analysis r = analyze(x);
      EXPECT_EQ(r.verdict.digits, "") << u.name << " at " << level << " dBFS";
      EXPECT_FALSE(r.verdict.silent_solution) << u.name;
    }
  }
}

// =================================================================================
// Fax and modem tones

Signal cng_tone() {
  Signal x = silence(0.3);
  for (int cycle = 0; cycle < 3; ++cycle) {
    x = concat({x, sine(1100, -20, 0.5), silence(3.0)});
  }
  return x;
}

Signal ans_tone() { return concat({silence(0.3), sine(2100, -15, 3.0), silence(0.5)}); }

void expect_fax_tone(const Analysis& r, EventKind kind, const std::string& how) {
  EXPECT_EQ(count_events(r, kind), 1u) << how << ": " << describe(r);
  EXPECT_TRUE(r.verdict.system_generated) << how << ": " << describe(r);
  EXPECT_TRUE(has_finding(r.verdict, "fax_modem_tone")) << how << ": " << describe(r);
  EXPECT_FALSE(r.verdict.blank) << how;
  EXPECT_FALSE(r.verdict.speech) << how << ": a tone is not a voice";
  EXPECT_EQ(r.verdict.digits, "") << how;
}

TEST(ToneTest, FaxCallingToneIsSystemGenerated) {
  expect_fax_tone(analyze_linear(cng_tone()), EventKind::fax_calling_tone, "linear");
  expect_fax_tone(analyze(cng_tone(), {.encoding = Encoding::mulaw}), EventKind::fax_calling_tone,
                  "mu-law");
}

TEST(ToneTest, ModemAnswerToneIsSystemGenerated) {
  expect_fax_tone(analyze_linear(ans_tone()), EventKind::modem_answer_tone, "linear");
  expect_fax_tone(analyze(ans_tone(), {.encoding = Encoding::mulaw}), EventKind::modem_answer_tone,
                  "mu-law");
}

// A caller's line may carry a 2100 Hz tone (echo-canceller disabling, a modem
// handshake on a shared line) before a person speaks. The tone is reported, but the
// speech after it must still be heard.
TEST(ToneTest, SpeechAfterAnAnswerToneIsStillHeard) {
  Signal voice = speech("en-us", caller_utterances()[0].text);
  set_active_level(voice, -20);
  const Analysis r = analyze(concat({ans_tone(), silence(0.5), voice, silence(0.5)}));
  EXPECT_EQ(count_events(r, EventKind::modem_answer_tone), 1u) << describe(r);
  EXPECT_TRUE(r.verdict.speech) << describe(r);
  EXPECT_GE(count_events(r, EventKind::speech_start), 1u) << describe(r);
}

// =================================================================================
// Blank calls

TEST(BlankCallTest, DigitalSilenceIsBlank) {
  expect_blank(silence(kBlankSeconds), "digital silence");
  const Analysis r = analyze(silence(kBlankSeconds));
  EXPECT_NEAR(r.stats.duration_s, kBlankSeconds, 0.021);
  EXPECT_TRUE(r.events.empty());
}

TEST(BlankCallTest, WhiteNoiseIsBlank) {
  std::uint32_t seed = 101;
  for (double level : kNoiseLevels) {
    expect_blank(white_noise(level, kBlankSeconds, seed++), "white noise " + level_name(level));
  }
}

TEST(BlankCallTest, PinkNoiseIsBlank) {
  std::uint32_t seed = 201;
  for (double level : kNoiseLevels) {
    expect_blank(pink_noise(level, kBlankSeconds, seed++), "pink noise " + level_name(level));
  }
}

TEST(BlankCallTest, BrownNoiseIsBlank) {
  std::uint32_t seed = 301;
  for (double level : kNoiseLevels) {
    expect_blank(brown_noise(level, kBlankSeconds, seed++), "brown noise " + level_name(level));
  }
}

TEST(BlankCallTest, MainsHumIsBlank) { expect_blank(mains_hum(-20, kBlankSeconds), "50 Hz hum"); }

TEST(BlankCallTest, LineHissIsBlank) {
  expect_blank(white_noise(-60, kBlankSeconds, 401), "line hiss at -60 dBFS");
}

TEST(BlankCallTest, PocketRustleIsBlank) {
  for (std::uint32_t seed : {501u, 502u, 503u}) {
    expect_blank(pocket_rustle(kBlankSeconds, seed), "pocket rustle seed " + std::to_string(seed));
  }
}

TEST(BlankCallTest, MobileComfortNoiseIsBlank) {
  expect_blank(pink_noise(-55, kBlankSeconds, 601), "comfort noise at -55 dBFS");
}

TEST(BlankCallTest, LevelsAndFloorAreReported) {
  const Analysis r = analyze(white_noise(-30, kBlankSeconds, 701));
  EXPECT_NEAR(r.stats.level_dbfs, -30, 1.5);
  EXPECT_NEAR(r.stats.noise_floor_dbfs, -30, 3.0);
  EXPECT_NEAR(r.stats.peak_dbfs, -30, 2.0);
  EXPECT_EQ(r.stats.voiced_s, 0.0);
}

// =================================================================================
// Speech: never blank

class SpeechSetTest : public ::testing::TestWithParam<std::tuple<Noise, double>> {};

TEST_P(SpeechSetTest, CallerSpeechIsNeverBlank) {
  const auto [noise, level] = GetParam();
  std::uint32_t seed = 5000;
  for (const Utterance& u : caller_utterances()) {
    const std::string name = u.name + " " + level_name(level) + " " + to_string(noise);
    expect_speech(to_pcm(speech_item(u, level, noise, seed++)), name);
  }
}

INSTANTIATE_TEST_SUITE_P(AllConditions, SpeechSetTest,
                         ::testing::Combine(::testing::ValuesIn(kNoises),
                                            ::testing::ValuesIn(kSpeechLevels)),
                         [](const auto& info) {
                           return to_string(std::get<0>(info.param)) + "_" +
                                  level_name(std::get<1>(info.param));
                         });

TEST(SpeechTest, ShortCryForHelpBetweenSilencesIsNotBlank) {
  for (const Utterance& u : short_cries()) {
    expect_speech(to_pcm(short_cry_item(u)), u.name + " at -30 dBFS between 4 s silences");
  }
}

// A caller who cannot speak aloud may whisper. Whispered speech has no pitch, but
// it is a caller on the line, not a blank call.
TEST(SpeechTest, WhisperedPleaIsNotBlank) {
  Signal whisper =
      speech("en-us+whisper", "Please help me, he is inside the house, I cannot talk.", kRate, 150);
  set_active_level(whisper, -30);
  expect_speech(to_pcm(concat({silence(1.0), whisper, silence(1.0)})), "whisper at -30 dBFS");
}

TEST(SpeechTest, SpeechEventsBracketTheUtterance) {
  Signal voice = speech("en-gb", caller_utterances()[1].text);
  const double length_s = static_cast<double>(voice.size()) / kRate;
  set_active_level(voice, -20);
  const Analysis r = analyze(concat({silence(2.0), voice, silence(2.0)}));
  ASSERT_GE(count_events(r, EventKind::speech_start), 1u) << describe(r);
  ASSERT_GE(count_events(r, EventKind::speech_end), 1u) << describe(r);
  const auto first = std::find_if(r.events.begin(), r.events.end(),
                                  [](const Event& e) { return e.kind == EventKind::speech_start; });
  const auto last = std::find_if(r.events.rbegin(), r.events.rend(),
                                 [](const Event& e) { return e.kind == EventKind::speech_end; });
  EXPECT_NEAR(first->at_s, 2.0, 0.3);
  EXPECT_NEAR(last->at_s, 2.0 + length_s, 0.5);
}

TEST(SpeechTest, AlawGivesTheSameVerdictAsMulaw) {
  const Pcm pcm = to_pcm(speech_item(caller_utterances()[2], -25, Noise::white_snr15, 42));
  const Analysis mu = analyze(pcm, {.encoding = Encoding::mulaw});
  const Analysis a = analyze(pcm, {.encoding = Encoding::alaw});
  EXPECT_EQ(a.verdict.blank, mu.verdict.blank);
  EXPECT_EQ(a.verdict.speech, mu.verdict.speech);
  EXPECT_TRUE(a.verdict.speech) << describe(a);
  EXPECT_NEAR(a.stats.voiced_s, mu.stats.voiced_s, 0.2);
}

TEST(SpeechTest, AnalyzeRecordingHearsSpeechInA22kHzFile) {
  const auto rec = read_wav(raw_speech_file("en-us", caller_utterances()[3].text));
  ASSERT_TRUE(rec.ok()) << rec.error();
  ASSERT_EQ(rec->sample_rate, 22050);
  std::vector<Event> events;
  Stats stats;
  const Verdict v = analyze_recording(*rec, {}, &events, &stats);
  EXPECT_TRUE(v.speech);
  EXPECT_FALSE(v.blank);
  EXPECT_NEAR(stats.duration_s, rec->duration_s(), 0.05);
  EXPECT_FALSE(events.empty());

  Recording quiet{
      .sample_rate = 44100, .channels = 1, .format = "pcm16", .samples = Pcm(44100 * 5)};
  EXPECT_TRUE(analyze_recording(quiet, {}).blank);
}

TEST(AnalyzerTest, UnsupportedSampleRateThrows) {
  EXPECT_THROW({ AudioAnalyzer a(AnalyzerConfig{.sample_rate = 44100}); }, std::invalid_argument);
}

// =================================================================================
// Talk over the prompt (robocalls)

const std::string kRobocallText =
    "Congratulations! Your mobile number has been selected for a free holiday package and a "
    "cash reward. To claim your reward, stay on the line, and our executive will speak to you "
    "shortly.";

Signal robocall_message() {
  Signal msg = speech("en-us", kRobocallText);
  set_active_level(msg, -20);
  return concat({silence(0.2), msg, silence(0.5)});
}

TEST(TalkOverPromptTest, ContinuousMessageThroughThePromptIsSystemGenerated) {
  const Signal x = robocall_message();
  ASSERT_GT(static_cast<double>(x.size()) / kRate, 10.0) << "the message should run ~12 s";
  const Analysis r = analyze(x, {.prompt_end_s = 5});
  EXPECT_TRUE(r.verdict.system_generated) << describe(r);
  EXPECT_TRUE(has_finding(r.verdict, "talk_over_prompt")) << describe(r);
  EXPECT_FALSE(r.verdict.blank);
  EXPECT_TRUE(r.verdict.speech);
}

TEST(TalkOverPromptTest, WithoutAPromptNothingIsTalkedOver) {
  const Analysis r = analyze(robocall_message());
  EXPECT_FALSE(has_finding(r.verdict, "talk_over_prompt")) << describe(r);
  EXPECT_FALSE(r.verdict.system_generated);
}

TEST(TalkOverPromptTest, CallerWhoWaitsForThePromptIsHuman) {
  Signal hello = speech("en-us", "Hello? Hello?", kRate, 190);
  ASSERT_LE(static_cast<double>(hello.size()) / kRate, 1.25);
  set_active_level(hello, -20);
  Signal sentence = speech("en-gb", caller_utterances()[1].text);
  set_active_level(sentence, -20);
  Signal x = silence(0.3);
  mix_at(x, hello, 0.3);
  mix_at(x, sentence, 6.0);
  x.resize(x.size() + samples_for(0.5), 0.0);
  const Analysis r = analyze(x, {.prompt_end_s = 5});
  EXPECT_FALSE(has_finding(r.verdict, "talk_over_prompt")) << describe(r);
  EXPECT_FALSE(r.verdict.system_generated) << describe(r);
  EXPECT_TRUE(r.verdict.speech) << describe(r);
  EXPECT_FALSE(r.verdict.blank);
}

TEST(TalkOverPromptTest, MessageWithKeysPressedIsNotTalkOver) {
  Signal x = robocall_message();
  mix_at(x, dtmf_tone('1', -10, 0.1), 2.0);
  mix_at(x, dtmf_tone('2', -10, 0.1), 2.4);
  const Analysis r = analyze(x, {.prompt_end_s = 5});
  EXPECT_FALSE(r.verdict.digits.empty()) << describe(r);
  EXPECT_FALSE(has_finding(r.verdict, "talk_over_prompt")) << describe(r);
}

// =================================================================================
// Input formats and framing

bool same_verdict(const Verdict& a, const Verdict& b) {
  auto codes = [](const Verdict& v) {
    std::vector<std::string> c;
    for (const Finding& f : v.findings) c.push_back(f.code);
    return c;
  };
  return a.blank == b.blank && a.speech == b.speech && a.system_generated == b.system_generated &&
         a.silent_solution == b.silent_solution && a.digits == b.digits && codes(a) == codes(b);
}

TEST(InputFormatTest, SixteenKilohertzPcmGivesTheSameVerdictsAsEightKilohertzMulaw) {
  const Utterance& u = caller_utterances()[0];
  Signal wide = concat({silence(1.0, 16000), speech(u.voice, u.text, 16000), silence(0.5, 16000)});
  set_active_level(wide, -22, 16000);
  Signal narrow = concat({silence(1.0), speech(u.voice, u.text), silence(0.5)});
  set_active_level(narrow, -22);
  const Analysis r16 = analyze(to_pcm(wide), {.encoding = Encoding::pcm16, .sample_rate = 16000});
  const Analysis r8 = analyze(to_pcm(narrow), {.encoding = Encoding::mulaw, .sample_rate = 8000});
  EXPECT_TRUE(same_verdict(r16.verdict, r8.verdict))
      << "16 kHz: " << describe(r16) << "\n8 kHz: " << describe(r8);
  EXPECT_TRUE(r16.verdict.speech) << describe(r16);
  EXPECT_NEAR(r16.stats.duration_s, r8.stats.duration_s, 0.05);

  const Analysis s16 =
      analyze(to_pcm(silence(8.0, 16000)), {.encoding = Encoding::pcm16, .sample_rate = 16000});
  const Analysis s8 = analyze(to_pcm(silence(8.0)), {.encoding = Encoding::mulaw});
  EXPECT_TRUE(same_verdict(s16.verdict, s8.verdict))
      << "16 kHz: " << describe(s16) << "\n8 kHz: " << describe(s8);
  EXPECT_TRUE(s16.verdict.blank);
  EXPECT_NEAR(s16.stats.duration_s, 8.0, 0.05);
}

void expect_same_runs(const Analysis& framed, const Analysis& reference, const std::string& how) {
  EXPECT_TRUE(same_verdict(framed.verdict, reference.verdict))
      << how << ": " << describe(framed) << "\nwith 160-byte frames: " << describe(reference);
  EXPECT_DOUBLE_EQ(framed.stats.voiced_s, reference.stats.voiced_s) << how;
  EXPECT_DOUBLE_EQ(framed.stats.duration_s, reference.stats.duration_s) << how;
  EXPECT_EQ(framed.events.size(), reference.events.size()) << how;
}

Signal framing_input() {
  Signal x = speech_item(caller_utterances()[4], -25, Noise::white_snr15, 77);
  mix_at(x, dtmf_tone('5', -15, 0.1), 0.2);
  mix_at(x, dtmf_tone('5', -15, 0.1), 0.5);
  return x;
}

TEST(InputFormatTest, MulawFramesOfAnySizeGiveTheSameVerdict) {
  const Pcm pcm = to_pcm(framing_input());
  const Analysis reference = analyze(pcm, {.encoding = Encoding::mulaw}, 160);
  EXPECT_TRUE(reference.verdict.speech) << describe(reference);
  EXPECT_EQ(reference.verdict.digits, "55") << describe(reference);
  for (std::size_t chunk : {1u, 7u, 161u, 333u, 4096u}) {
    expect_same_runs(analyze(pcm, {.encoding = Encoding::mulaw}, chunk), reference,
                     "mu-law in " + std::to_string(chunk) + "-byte frames");
  }
}

// pcm16 arrives as bytes; a frame boundary may split a sample (RTP payloads and
// socket reads do not respect sample boundaries).
TEST(InputFormatTest, Pcm16FramesWithOddByteCountsGiveTheSameVerdict) {
  const Pcm pcm = to_pcm(framing_input());
  const Analysis reference = analyze(pcm, {.encoding = Encoding::pcm16}, 160);
  EXPECT_TRUE(reference.verdict.speech) << describe(reference);
  for (std::size_t chunk : {1u, 3u, 161u}) {
    expect_same_runs(analyze(pcm, {.encoding = Encoding::pcm16}, chunk), reference,
                     "pcm16 in " + std::to_string(chunk) + "-byte frames");
  }
}

TEST(InputFormatTest, EmptyFeedIsHarmless) {
  AudioAnalyzer a;
  EXPECT_TRUE(a.feed({}).empty());
  EXPECT_TRUE(a.feed_pcm({}).empty());
  EXPECT_TRUE(a.verdict().blank);
  EXPECT_EQ(a.stats().duration_s, 0.0);
}

// =================================================================================
// Blank-call precision and recall over both sets (positives: the blank files)

TEST(BlankCallMetricsTest, NoSpeechFileIsEverCalledBlank) {
  int tp = 0, fn = 0, fp = 0, tn = 0;
  std::vector<std::string> false_blanks, missed_blanks;
  for (const Item& item : blank_set()) {
    if (analyze(item.pcm).verdict.blank) {
      ++tp;
    } else {
      ++fn;
      missed_blanks.push_back(item.name);
    }
  }
  std::string least_voiced;
  double least_voiced_s = 1e9;
  for (const Item& item : speech_set()) {
    const Analysis a = analyze(item.pcm);
    if (!a.verdict.blank && a.stats.voiced_s < least_voiced_s) {
      least_voiced_s = a.stats.voiced_s;
      least_voiced = item.name;
    }
    if (a.verdict.blank) {
      ++fp;
      false_blanks.push_back(item.name);
    } else {
      ++tn;
    }
  }
  const double precision = tp + fp > 0 ? static_cast<double>(tp) / (tp + fp) : 1.0;
  const double recall = static_cast<double>(tp) / (tp + fn);
  std::printf(
      "blank-call detection: precision %.3f, recall %.3f (blank files %d: %d called blank; "
      "speech files %d: %d called blank)\n",
      precision, recall, tp + fn, tp, fp + tn, fp);
  std::printf("  least voiced time on a speech file heard as speech: %.2f s (%s)\n", least_voiced_s,
              least_voiced.c_str());
  for (const std::string& n : missed_blanks)
    std::printf("  blank file not called blank: %s\n", n.c_str());
  for (const std::string& n : false_blanks) std::printf("  FALSE BLANK on speech: %s\n", n.c_str());
  std::fflush(stdout);
  EXPECT_EQ(fp, 0) << "speech files called blank (a caller would be hung up on)";
  EXPECT_DOUBLE_EQ(precision, 1.0);
}

}  // namespace
}  // namespace spoofex::audio

namespace spoofex::audio {
namespace {

// Sample k of a test stream holds k % 30000, so a sample names its own position.
std::vector<std::int16_t> positions(std::size_t from, std::size_t count) {
  std::vector<std::int16_t> v;
  for (std::size_t k = from; k < from + count; ++k)
    v.push_back(static_cast<std::int16_t>(k % 30000));
  return v;
}

TEST(PreRollTest, KeepsFromTheLeadInBeforeTheOnset) {
  PreRoll pre;
  for (std::size_t k = 0; k < 12000; k += 160) pre.push(positions(k, 160));  // 1.5 s
  std::vector<std::int16_t> out;
  pre.take(1.2, 1.5, out);  // speech from 1.2 s, declared at 1.5 s
  ASSERT_EQ(out.size(), static_cast<std::size_t>((1.5 - 1.2 + kSpeechLeadInS) * 8000));
  EXPECT_EQ(out.front(), static_cast<std::int16_t>(12000 - out.size()));
  EXPECT_EQ(out.back(), 11999);
  out.clear();
  pre.take(1.2, 1.5, out);  // taken once only
  EXPECT_TRUE(out.empty());
}

TEST(PreRollTest, KeepsAtMostOneSecondAndNothingBeforeItsFirstPush) {
  PreRoll pre;
  std::vector<std::int16_t> out;
  pre.take(0.0, 0.0, out);
  EXPECT_TRUE(out.empty());
  pre.push(positions(0, 24000));  // 3 s
  pre.take(0.5, 3.0, out);
  ASSERT_EQ(out.size(), 8000u);
  EXPECT_EQ(out.front(), 16000);
  pre.push(positions(24000, 800));
  out.clear();
  pre.take(3.05, 3.1, out);  // only what came after the last take
  ASSERT_EQ(out.size(), 800u);
  EXPECT_EQ(out.front(), 24000);
}

}  // namespace
}  // namespace spoofex::audio
