// audio: what is on the line, frame by frame. G.711 decoding, resampling, voice
// activity, DTMF and fax/modem tones, and the blank-call and robocall verdicts
// that follow from them (design.md, pipeline stage 3).
//
//   AudioAnalyzer analyzer({.encoding = Encoding::mulaw, .sample_rate = 8000});
//   for (each 20 ms frame of 160 µ-law bytes)
//     for (const Event& e : analyzer.feed(frame)) ...   // speech start/end, DTMF, tones
//   Verdict v = analyzer.verdict();                      // blank? machine? keys heard?
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace spoofex::audio {

enum class Encoding { mulaw, alaw, pcm16 };
std::string_view to_string(Encoding e);

// A decoded recording: mono 16-bit linear PCM at its own sample rate.
struct Recording {
  int sample_rate = 0;
  int channels = 0;    // as stored in the file (mixed down to mono here)
  std::string format;  // "pcm16", "pcm8", "pcm24", "pcm32", "float32", "mulaw", "alaw"
  std::vector<std::int16_t> samples;
  double duration_s() const;
};

inline constexpr std::size_t kMaxWavBytes = std::size_t{512} << 20;  // 512 MiB

// Reads RIFF/WAVE: PCM 8/16/24/32-bit, 32-bit float, µ-law, A-law, 1 or 2 channels,
// any rate from 4 to 192 kHz. Corrupt, truncated or unsupported files are errors.
Result<Recording> parse_wav(std::span<const std::uint8_t> bytes);
Result<Recording> read_wav(const std::string& path);
// Writes 16-bit PCM mono; for tests and tools.
Status write_wav(const std::string& path, std::span<const std::int16_t> samples, int sample_rate);

// G.711 (spandsp): `out` must hold in.size() samples.
void decode_g711(Encoding encoding, std::span<const std::uint8_t> in, std::span<std::int16_t> out);
std::vector<std::uint8_t> encode_mulaw(std::span<const std::int16_t> pcm);

// Sample-rate conversion (speexdsp). Allocates at construction only.
class Resampler {
 public:
  Resampler(int in_rate, int out_rate, int quality = 5);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;
  // Converts `in`; returns how many samples were written to `out` (sized by the caller:
  // in.size() * out_rate / in_rate + 1 is enough).
  std::size_t process(std::span<const std::int16_t> in, std::span<std::int16_t> out);

 private:
  struct State;
  std::unique_ptr<State> state_;
};
std::vector<std::int16_t> resample(std::span<const std::int16_t> in, int in_rate, int out_rate);

enum class EventKind { speech_start, speech_end, dtmf, fax_calling_tone, modem_answer_tone };
std::string_view to_string(EventKind k);

// speech_start's at_s is the first voiced frame, but the event comes up to 0.6 s later
// (min_speech_s of voiced frames within 0.6 s). A recogniser should hear the audio from
// this long before at_s: the live pipeline and `spoofex transcribe` both keep it.
inline constexpr double kSpeechLeadInS = 0.3;

// The audio heard before speech is declared (8 kHz), kept so that a recogniser can hear
// from kSpeechLeadInS before the first voiced frame: a ring of the last second, allocated
// at the first push, so pushing never shifts memory.
class PreRoll {
 public:
  void push(std::span<const std::int16_t> pcm);  // audio outside speech, in stream order
  // Appends to `out` what is kept from kSpeechLeadInS before `onset_s` (speech_start's
  // at_s), given that the kept audio ends at stream time `end_s`; then forgets it all.
  void take(double onset_s, double end_s, std::vector<std::int16_t>& out);

 private:
  std::vector<std::int16_t> ring_;
  std::size_t next_ = 0, filled_ = 0;
};

struct Event {
  EventKind kind;
  double at_s = 0;  // from the start of the stream
  char digit = 0;   // for dtmf
};

struct AnalyzerConfig {
  Encoding encoding = Encoding::mulaw;
  int sample_rate = 8000;              // 8000 or 16000
  double prompt_end_s = 0;             // when the IVR prompt stops playing; 0: no prompt
  std::string silent_solution = "55";  // keys that mean "I cannot speak, send help"
  int vad_mode = 3;                    // WebRTC VAD aggressiveness 0..3
  double min_speech_s = 0.16;          // voiced time within 0.6 s that starts speech
  double talk_over_max_gap_s = 0.8;    // a pause longer than this is a pause for the prompt
};

struct Stats {
  double duration_s = 0;
  double voiced_s = 0;
  double level_dbfs = -100;        // smoothed frame level
  double noise_floor_dbfs = -100;  // tracked minimum of the level
  double peak_dbfs = -100;
  int speech_segments = 0;
};

struct Finding {
  std::string code;    // "no_speech", "talk_over_prompt", "fax_modem_tone", "silent_solution"
  std::string detail;  // one sentence for the operator
};

struct Verdict {
  bool blank = false;             // no voiced speech and no keypress
  bool system_generated = false;  // fax/modem tone or talk-over-prompt
  bool silent_solution = false;   // the caller keyed the silent-solution sequence
  bool speech = false;
  std::string digits;  // DTMF keys in order
  std::vector<Finding> findings;
};

// Per-call streaming analysis at 20 ms frames. Constant memory; feed() allocates
// nothing. Frames may be any length; analysis runs on 20 ms at 8 kHz internally.
class AudioAnalyzer {
 public:
  explicit AudioAnalyzer(AnalyzerConfig config = {});
  ~AudioAnalyzer();
  AudioAnalyzer(const AudioAnalyzer&) = delete;
  AudioAnalyzer& operator=(const AudioAnalyzer&) = delete;

  // Encoded bytes in the configured encoding (pcm16: little-endian). The returned
  // events stay valid until the next call.
  std::span<const Event> feed(std::span<const std::uint8_t> encoded);
  // Linear samples at the configured rate, whatever the encoding setting.
  std::span<const Event> feed_pcm(std::span<const std::int16_t> samples);

  const Stats& stats() const;
  std::string_view digits() const;
  bool speech_heard() const;
  // The verdict on everything fed so far.
  Verdict verdict() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Runs a whole recording through an analyzer (resampled to 8 kHz) and returns the
// verdict, plus every event when `events` is given.
Verdict analyze_recording(const Recording& rec, const AnalyzerConfig& config,
                          std::vector<Event>* events = nullptr, Stats* stats = nullptr);

}  // namespace spoofex::audio
