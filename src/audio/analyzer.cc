#include <spandsp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "audio/audio.h"
#include "audio/webrtc_vad.h"

namespace spoofex::audio {
namespace {

constexpr int kRate = 8000;
constexpr int kFrame = 160;  // 20 ms at 8 kHz
constexpr double kFrameS = 0.02;
constexpr int kWindowFrames = 30;  // speech start/end decisions look at the last 0.6 s
constexpr std::uint32_t kWindowMask = (1u << kWindowFrames) - 1;
constexpr std::size_t kMaxEvents = 64;
constexpr std::size_t kMaxDigits = 64;
constexpr double kMinSpeechDbfs = -55.0;       // quieter than this is not a caller's voice
constexpr double kAboveFloorDb = 6.0;          // a voiced frame stands out from the noise floor
constexpr double kFloorRiseDb = 0.05;          // per frame: the floor follows rising noise in ~s
constexpr double kMinPeriodicity = 0.40;       // normalised autocorrelation at the pitch lag
constexpr double kWhisperAboveFloorDb = 15.0;  // unvoiced frames that count as whisper ...
constexpr int kWhisperFrames = 18;             // ... when this many of the last 30 are
constexpr double kMaxPeriodicity = 0.97;       // above this a frame is a pure tone
constexpr double kVadLevelDbfs = -20.0;        // level at which frames are shown to the VAD

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

std::string dbfs(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f dBFS", d);
  return buf;
}

}  // namespace

std::string_view to_string(Encoding e) {
  switch (e) {
    case Encoding::mulaw:
      return "mulaw";
    case Encoding::alaw:
      return "alaw";
    case Encoding::pcm16:
      return "pcm16";
  }
  return "pcm16";
}

std::string_view to_string(EventKind k) {
  switch (k) {
    case EventKind::speech_start:
      return "speech_start";
    case EventKind::speech_end:
      return "speech_end";
    case EventKind::dtmf:
      return "dtmf";
    case EventKind::fax_calling_tone:
      return "fax_calling_tone";
    case EventKind::modem_answer_tone:
      return "modem_answer_tone";
  }
  return "unknown";
}

struct AudioAnalyzer::State {
  AnalyzerConfig cfg;
  dtmf_rx_state_t* dtmf = nullptr;
  modem_connect_tones_rx_state_t* cng = nullptr;
  modem_connect_tones_rx_state_t* ans = nullptr;
  VadInst* vad = nullptr;
  std::unique_ptr<Resampler> down;  // 16 kHz input only

  std::int16_t frame[kFrame] = {};
  int odd_byte = -1;  // pcm16: a low byte waiting for its high byte
  int frame_len = 0;
  std::int64_t frames = 0;

  std::array<Event, kMaxEvents> events{};
  std::size_t n_events = 0;
  std::array<char, kMaxDigits> digits{};
  std::size_t n_digits = 0;

  Stats stats;
  bool cng_heard = false;
  bool ans_heard = false;
  double first_tone_s = -1;

  // Pitch analysis keeps the previous frame, pre-emphasised and decimated to 4 kHz.
  float pitch_buf[kFrame] = {};
  float emphasis_x = 0;   // last input sample
  float emphasis_d = 0;   // last differenced sample
  float emphasis_d2 = 0;  // the one before

  std::uint32_t voiced_mask = 0;
  std::uint32_t whisper_mask = 0;
  bool in_speech = false;
  std::int64_t last_voiced = -1;
  double first_speech_s = -1;
  std::int64_t gap_run = 0;
  std::int64_t max_gap_in_prompt = 0;
  std::int64_t voiced_in_prompt = 0;
  std::int64_t speech_frames_in_prompt = 0;
  bool speaking_at_prompt_end = false;

  ~State() {
    if (dtmf) dtmf_rx_free(dtmf);
    if (cng) modem_connect_tones_rx_free(cng);
    if (ans) modem_connect_tones_rx_free(ans);
    if (vad) WebRtcVad_Free(vad);
  }

  double now_s() const { return static_cast<double>(frames) * kFrameS; }

  void push(EventKind kind, double at, char digit = 0) {
    if (n_events < events.size()) events[n_events++] = Event{kind, at, digit};
  }

  static void on_digits(void* user, const char* d, int len) {
    auto* s = static_cast<State*>(user);
    for (int i = 0; i < len; ++i) {
      if (s->n_digits < s->digits.size()) s->digits[s->n_digits++] = d[i];
      s->push(EventKind::dtmf, s->now_s(), d[i]);
    }
  }
  static void on_cng(void* user, int code, int, int) {
    auto* s = static_cast<State*>(user);
    if (code == MODEM_CONNECT_TONES_NONE) return;
    if (!s->cng_heard) s->push(EventKind::fax_calling_tone, s->now_s());
    if (s->first_tone_s < 0) s->first_tone_s = s->now_s();
    s->cng_heard = true;
  }
  static void on_ans(void* user, int code, int, int) {
    auto* s = static_cast<State*>(user);
    if (code == MODEM_CONNECT_TONES_NONE) return;
    if (!s->ans_heard) s->push(EventKind::modem_answer_tone, s->now_s());
    if (s->first_tone_s < 0) s->first_tone_s = s->now_s();
    s->ans_heard = true;
  }

  // Appends the frame to the pitch history: differenced (so low-frequency noise,
  // which dominates brown noise and rumble, cannot pass for a pitch period) and
  // decimated to 4 kHz (so the search is cheap).
  void append_pitch_history(const std::int16_t* x) {
    constexpr int kHalf = kFrame / 2;
    std::copy(pitch_buf + kHalf, pitch_buf + kFrame, pitch_buf);
    for (int i = 0; i < kFrame; ++i) {
      // A plain difference (a zero at DC, +6 dB/octave) whitens brown noise and rumble.
      const float in = static_cast<float>(x[i]);
      const float d = in - emphasis_x;
      emphasis_x = in;
      // [1 2 1]/4 low-pass (a zero at 4 kHz) before keeping every second sample,
      // so the upper band does not fold back over the harmonics.
      const float smoothed = 0.25f * (emphasis_d2 + 2.0f * emphasis_d + d);
      emphasis_d2 = emphasis_d;
      emphasis_d = d;
      if (i & 1) pitch_buf[kHalf + i / 2] = smoothed;
    }
  }

  // Strength of a pitch period between 80 and 400 Hz: the peak normalised
  // autocorrelation of the last 40 ms of the pitch history.
  float periodicity() const {
    float prefix[kFrame + 1];
    prefix[0] = 0;
    for (int i = 0; i < kFrame; ++i) prefix[i + 1] = prefix[i] + pitch_buf[i] * pitch_buf[i];
    float best = 0;
    for (int lag = 10; lag <= 50; ++lag) {
      // Four partial sums: independent chains the compiler can keep in vector lanes.
      float acc[4] = {0, 0, 0, 0};
      const int len = kFrame - lag;
      int n = 0;
      for (; n + 4 <= len; n += 4) {
        for (int k = 0; k < 4; ++k) acc[k] += pitch_buf[n + k] * pitch_buf[n + k + lag];
      }
      for (; n < len; ++n) acc[0] += pitch_buf[n] * pitch_buf[n + lag];
      const float dot = (acc[0] + acc[1]) + (acc[2] + acc[3]);
      const float e0 = prefix[kFrame - lag], e1 = prefix[kFrame] - prefix[lag];
      if (dot > 0 && e0 > 0 && e1 > 0) best = std::max(best, dot / std::sqrt(e0 * e1));
    }
    return best;
  }

  // The WebRTC VAD's models expect a telephone-level signal and miss quiet voices,
  // so it judges a copy of the frame brought to a fixed level: the level gates
  // around it decide loudness, the VAD only the spectral shape.
  bool vad_says_voice(const std::int16_t* x, double db) {
    std::int16_t scaled[kFrame];
    const double gain = std::min(std::pow(10.0, (kVadLevelDbfs - db) / 20.0), 200.0);
    for (int i = 0; i < kFrame; ++i) {
      scaled[i] = static_cast<std::int16_t>(std::clamp(x[i] * gain, -32768.0, 32767.0));
    }
    return WebRtcVad_Process(vad, kRate, scaled, kFrame) == 1;
  }

  void process_frame(std::int16_t* x) {
    dtmf_rx(dtmf, x, kFrame);
    modem_connect_tones_rx(cng, x, kFrame);
    modem_connect_tones_rx(ans, x, kFrame);

    double sum = 0;
    for (int i = 0; i < kFrame; ++i) sum += static_cast<double>(x[i]) * x[i];
    const double db = sum > 0 ? 10.0 * std::log10(sum / kFrame / (32768.0 * 32768.0)) : -100.0;
    auto& st = stats;
    if (frames == 0) {
      st.noise_floor_dbfs = db;
      st.level_dbfs = db;
    }
    st.noise_floor_dbfs = db < st.noise_floor_dbfs ? db : st.noise_floor_dbfs + kFloorRiseDb;
    st.level_dbfs = 0.9 * st.level_dbfs + 0.1 * db;
    st.peak_dbfs = std::max(st.peak_dbfs, db);

    // A key being pressed is not speech; tone frames are excluded by their purity below
    // (a detector's "heard" flag stays set, and speech after a fax tone is still speech).
    const bool tone = dtmf_rx_status(dtmf) != 0;
    append_pitch_history(x);
    // The pitch search is the costliest step: run it at most once, and only for
    // frames the cheaper gates let through.
    float pitch = -1;
    auto periodic = [&] { return pitch >= 0 ? pitch : (pitch = periodicity()); };
    bool voiced = !tone && db > kMinSpeechDbfs && db > st.noise_floor_dbfs + kAboveFloorDb &&
                  vad_says_voice(x, db);
    if (voiced) {
      // Voices are periodic, but never as purely as a tone (fax, modem, a stuck key).
      voiced = periodic() >= kMinPeriodicity && periodic() <= kMaxPeriodicity;
    }
    // Whispered speech has no pitch. It still stands well clear of the background for
    // most of a sustained stretch, which hiss, hum and short rustles do not.
    const bool breathy = !tone && !voiced && db > kMinSpeechDbfs &&
                         db > st.noise_floor_dbfs + kWhisperAboveFloorDb &&
                         periodic() <= kMaxPeriodicity;
    whisper_mask = ((whisper_mask << 1) | (breathy ? 1u : 0u)) & kWindowMask;
    if (breathy) voiced = std::popcount(whisper_mask) >= kWhisperFrames;
    update_speech(voiced);
    ++frames;
    st.duration_s = now_s();
  }

  void update_speech(bool voiced) {
    voiced_mask = ((voiced_mask << 1) | (voiced ? 1u : 0u)) & kWindowMask;
    if (voiced) {
      stats.voiced_s += kFrameS;
      last_voiced = frames;
      gap_run = 0;
    } else {
      ++gap_run;
    }
    const auto min_frames = static_cast<int>(std::lround(cfg.min_speech_s / kFrameS));
    if (!in_speech && std::popcount(voiced_mask) >= std::max(1, min_frames)) {
      in_speech = true;
      ++stats.speech_segments;
      const int oldest = 31 - std::countl_zero(voiced_mask);
      const double start = static_cast<double>(frames - oldest) * kFrameS;
      if (first_speech_s < 0) first_speech_s = start;
      push(EventKind::speech_start, start);
    } else if (in_speech && voiced_mask == 0) {
      in_speech = false;
      push(EventKind::speech_end, static_cast<double>(last_voiced + 1) * kFrameS);
    }
    // Robocall evidence: how the caller behaved while the prompt was playing.
    const double t = now_s();
    if (cfg.prompt_end_s > 0 && first_speech_s >= 0 && t < cfg.prompt_end_s) {
      max_gap_in_prompt = std::max(max_gap_in_prompt, gap_run);
      ++speech_frames_in_prompt;
      if (voiced) ++voiced_in_prompt;
    }
    if (cfg.prompt_end_s > 0 && t < cfg.prompt_end_s && t + kFrameS >= cfg.prompt_end_s) {
      speaking_at_prompt_end = in_speech && gap_run * kFrameS <= cfg.talk_over_max_gap_s;
    }
  }

  bool talked_over_prompt() const {
    if (cfg.prompt_end_s <= 0 || first_speech_s < 0 || n_digits > 0) return false;
    if (first_speech_s > cfg.prompt_end_s - 1.0 || !speaking_at_prompt_end) return false;
    const double gap_s = static_cast<double>(max_gap_in_prompt) * kFrameS;
    const double share =
        speech_frames_in_prompt > 0
            ? static_cast<double>(voiced_in_prompt) / static_cast<double>(speech_frames_in_prompt)
            : 0.0;
    return gap_s <= cfg.talk_over_max_gap_s && share >= 0.4;
  }

  void feed_linear8k(const std::int16_t* x, std::size_t n) {
    while (n > 0) {
      const auto take = std::min<std::size_t>(n, static_cast<std::size_t>(kFrame - frame_len));
      std::copy(x, x + take, frame + frame_len);
      frame_len += static_cast<int>(take);
      x += take;
      n -= take;
      if (frame_len == kFrame) {
        process_frame(frame);
        frame_len = 0;
      }
    }
  }

  void feed_linear(const std::int16_t* x, std::size_t n) {
    if (!down) {
      feed_linear8k(x, n);
      return;
    }
    std::int16_t out[kFrame * 2];
    while (n > 0) {
      const std::size_t take = std::min<std::size_t>(n, kFrame * 2);
      const std::size_t got = down->process({x, take}, out);
      feed_linear8k(out, got);
      x += take;
      n -= take;
    }
  }
};

AudioAnalyzer::AudioAnalyzer(AnalyzerConfig config) : s_(std::make_unique<State>()) {
  if (config.sample_rate != 8000 && config.sample_rate != 16000) {
    throw std::invalid_argument("AudioAnalyzer: sample rate must be 8000 or 16000");
  }
  s_->cfg = std::move(config);
  s_->dtmf = dtmf_rx_init(nullptr, &State::on_digits, s_.get());
  s_->cng =
      modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_FAX_CNG, &State::on_cng, s_.get());
  s_->ans = modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_ANS, &State::on_ans, s_.get());
  s_->vad = WebRtcVad_Create();
  if (!s_->dtmf || !s_->cng || !s_->ans || !s_->vad || WebRtcVad_Init(s_->vad) != 0 ||
      WebRtcVad_set_mode(s_->vad, std::clamp(s_->cfg.vad_mode, 0, 3)) != 0) {
    throw std::runtime_error("AudioAnalyzer: cannot initialise the DSP detectors");
  }
  if (s_->cfg.sample_rate == 16000) s_->down = std::make_unique<Resampler>(16000, 8000);
}

AudioAnalyzer::~AudioAnalyzer() = default;

std::span<const Event> AudioAnalyzer::feed(std::span<const std::uint8_t> encoded) {
  s_->n_events = 0;
  std::int16_t buf[kFrame * 2];
  const auto enc = s_->cfg.encoding;
  const std::size_t width = enc == Encoding::pcm16 ? 2 : 1;
  if (enc == Encoding::pcm16 && s_->odd_byte >= 0 && !encoded.empty()) {
    // The low byte of a sample arrived at the end of the previous call.
    const std::int16_t sample = static_cast<std::int16_t>(s_->odd_byte | (encoded[0] << 8));
    s_->feed_linear(&sample, 1);
    s_->odd_byte = -1;
    encoded = encoded.subspan(1);
  }
  while (encoded.size() >= width) {
    const std::size_t n = std::min<std::size_t>(encoded.size() / width, kFrame * 2);
    for (std::size_t i = 0; i < n; ++i) {
      switch (enc) {
        case Encoding::mulaw:
          buf[i] = ulaw_to_linear(encoded[i]);
          break;
        case Encoding::alaw:
          buf[i] = alaw_to_linear(encoded[i]);
          break;
        case Encoding::pcm16:
          buf[i] = static_cast<std::int16_t>(encoded[2 * i] | (encoded[2 * i + 1] << 8));
          break;
      }
    }
    s_->feed_linear(buf, n);
    encoded = encoded.subspan(n * width);
  }
  if (!encoded.empty()) s_->odd_byte = encoded[0];  // pcm16 split mid-sample
  return {s_->events.data(), s_->n_events};
}

std::span<const Event> AudioAnalyzer::feed_pcm(std::span<const std::int16_t> samples) {
  s_->n_events = 0;
  s_->feed_linear(samples.data(), samples.size());
  return {s_->events.data(), s_->n_events};
}

const Stats& AudioAnalyzer::stats() const { return s_->stats; }
std::string_view AudioAnalyzer::digits() const { return {s_->digits.data(), s_->n_digits}; }
bool AudioAnalyzer::speech_heard() const { return s_->first_speech_s >= 0; }

Verdict AudioAnalyzer::verdict() const {
  const State& s = *s_;
  Verdict v;
  v.digits = std::string(digits());
  v.speech = speech_heard();
  const bool tone = s.cng_heard || s.ans_heard;
  if (tone) {
    v.system_generated = true;
    v.findings.push_back(
        {"fax_modem_tone", std::string(s.cng_heard ? "fax calling tone (CNG, 1100 Hz)"
                                                   : "modem/fax answer tone (ANS/CED, 2100 Hz)") +
                               " heard at " + seconds(s.first_tone_s)});
  }
  if (s.talked_over_prompt()) {
    v.system_generated = true;
    v.findings.push_back({"talk_over_prompt", "speech started at " + seconds(s.first_speech_s) +
                                                  " and ran on through the prompt (ending at " +
                                                  seconds(s.cfg.prompt_end_s) +
                                                  ") without pausing for it"});
  }
  if (!s.cfg.silent_solution.empty() && v.digits.find(s.cfg.silent_solution) != std::string::npos) {
    v.silent_solution = true;
    v.findings.push_back({"silent_solution",
                          "caller keyed " + s.cfg.silent_solution + ": cannot speak, needs help"});
  }
  if (!v.speech && v.digits.empty() && !tone) {
    v.blank = true;
    v.findings.push_back({"no_speech", "no voiced speech and no keypress in " +
                                           seconds(s.stats.duration_s) + " of audio (level " +
                                           dbfs(s.stats.level_dbfs) + ", noise floor " +
                                           dbfs(s.stats.noise_floor_dbfs) + ")"});
  }
  return v;
}

Verdict analyze_recording(const Recording& rec, const AnalyzerConfig& config,
                          std::vector<Event>* events, Stats* stats) {
  AnalyzerConfig cfg = config;
  cfg.sample_rate = 8000;
  cfg.encoding = Encoding::pcm16;
  AudioAnalyzer analyzer(cfg);
  const std::vector<std::int16_t> pcm = resample(rec.samples, rec.sample_rate, 8000);
  for (std::size_t i = 0; i < pcm.size(); i += kFrame) {
    const std::size_t n = std::min<std::size_t>(kFrame, pcm.size() - i);
    for (const Event& e : analyzer.feed_pcm({pcm.data() + i, n})) {
      if (events) events->push_back(e);
    }
  }
  if (stats) *stats = analyzer.stats();
  return analyzer.verdict();
}

}  // namespace spoofex::audio
