// RIFF/WAVE reading (Microsoft/IBM "Multimedia Programming Interface and Data
// Specifications 1.0", and WAVE_FORMAT_EXTENSIBLE from the Windows DDK).
#include <spandsp.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>

#include "audio/audio.h"

namespace spoofex::audio {
namespace {

constexpr std::uint16_t kFormatPcm = 1;
constexpr std::uint16_t kFormatFloat = 3;
constexpr std::uint16_t kFormatAlaw = 6;
constexpr std::uint16_t kFormatMulaw = 7;
constexpr std::uint16_t kFormatExtensible = 0xFFFE;

std::uint16_t u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

struct Format {
  std::uint16_t tag = 0;
  int channels = 0;
  int rate = 0;
  int bits = 0;
  int block_align = 0;
};

Result<Format> parse_fmt(std::span<const std::uint8_t> c) {
  if (c.size() < 16) return Error{"WAV 'fmt ' chunk is shorter than 16 bytes"};
  Format f;
  f.tag = u16(&c[0]);
  f.channels = u16(&c[2]);
  f.rate = static_cast<int>(std::min<std::uint32_t>(u32(&c[4]), 1u << 30));
  f.block_align = u16(&c[12]);
  f.bits = u16(&c[14]);
  if (f.tag == kFormatExtensible) {
    if (c.size() < 26) return Error{"WAV extensible 'fmt ' chunk is truncated"};
    f.tag = u16(&c[24]);  // first two bytes of the sub-format GUID
  }
  if (f.channels < 1 || f.channels > 2) {
    return Error{"WAV has " + std::to_string(f.channels) +
                 " channels; only mono and stereo are supported"};
  }
  if (f.rate < 4000 || f.rate > 192000) {
    return Error{"WAV sample rate " + std::to_string(f.rate) + " Hz is outside 4000..192000"};
  }
  const bool ok =
      (f.tag == kFormatPcm && (f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32)) ||
      (f.tag == kFormatFloat && f.bits == 32) ||
      ((f.tag == kFormatAlaw || f.tag == kFormatMulaw) && f.bits == 8);
  if (!ok) {
    return Error{"unsupported WAV encoding (format tag " + std::to_string(f.tag) + ", " +
                 std::to_string(f.bits) + " bits); use PCM, float, mu-law or A-law"};
  }
  if (f.block_align != f.channels * f.bits / 8) {
    return Error{"WAV block alignment " + std::to_string(f.block_align) + " does not match " +
                 std::to_string(f.channels) + " channels of " + std::to_string(f.bits) + " bits"};
  }
  return f;
}

std::int16_t decode_sample(const Format& f, const std::uint8_t* p) {
  switch (f.tag) {
    case kFormatMulaw:
      return ulaw_to_linear(*p);
    case kFormatAlaw:
      return alaw_to_linear(*p);
    case kFormatFloat: {
      float v;
      std::memcpy(&v, p, 4);
      if (!(v == v)) v = 0;  // NaN
      v = std::max(-1.0f, std::min(1.0f, v));
      return static_cast<std::int16_t>(v * 32767.0f);
    }
    default:
      break;
  }
  switch (f.bits) {
    case 8:
      return static_cast<std::int16_t>((p[0] - 128) << 8);
    case 16:
      return static_cast<std::int16_t>(u16(p));
    case 24:
      return static_cast<std::int16_t>(u16(p + 1));
    default:
      return static_cast<std::int16_t>(u16(p + 2));
  }
}

std::string format_name(const Format& f) {
  switch (f.tag) {
    case kFormatMulaw:
      return "mulaw";
    case kFormatAlaw:
      return "alaw";
    case kFormatFloat:
      return "float32";
    default:
      return "pcm" + std::to_string(f.bits);
  }
}

}  // namespace

double Recording::duration_s() const {
  return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0;
}

Result<Recording> parse_wav(std::span<const std::uint8_t> b) {
  if (b.size() < 12 || std::memcmp(b.data(), "RIFF", 4) != 0 ||
      std::memcmp(&b[8], "WAVE", 4) != 0) {
    return Error{"not a WAV file (no RIFF/WAVE header)"};
  }
  std::optional<Format> fmt;
  std::size_t pos = 12;
  while (pos + 8 <= b.size()) {
    std::uint32_t size = u32(&b[pos + 4]);
    const bool is_fmt = std::memcmp(&b[pos], "fmt ", 4) == 0;
    const bool is_data = std::memcmp(&b[pos], "data", 4) == 0;
    const std::size_t body = pos + 8;
    // Writers streaming to a pipe cannot know the length and leave 0 or 0xFFFFFFFF.
    if (is_data && (size == 0xFFFFFFFFu || size == 0)) {
      size = static_cast<std::uint32_t>(std::min<std::size_t>(b.size() - body, 0xFFFFFFFEu));
    }
    if (size > b.size() - body) {
      return Error{"WAV is truncated: chunk '" +
                   std::string(reinterpret_cast<const char*>(&b[pos]), 4) + "' declares " +
                   std::to_string(size) + " bytes but " + std::to_string(b.size() - body) +
                   " remain"};
    }
    if (is_fmt) {
      auto f = parse_fmt(b.subspan(body, size));
      if (!f) return Error{f.error()};
      fmt = *f;
    } else if (is_data) {
      if (!fmt) return Error{"WAV 'data' chunk comes before its 'fmt ' chunk"};
      const std::size_t frame = static_cast<std::size_t>(fmt->block_align);
      const std::size_t frames = size / frame;
      Recording rec;
      rec.sample_rate = fmt->rate;
      rec.channels = fmt->channels;
      rec.format = format_name(*fmt);
      rec.samples.resize(frames);
      const std::size_t width = static_cast<std::size_t>(fmt->bits / 8);
      for (std::size_t i = 0; i < frames; ++i) {
        const std::uint8_t* p = &b[body + i * frame];
        int sum = decode_sample(*fmt, p);
        if (fmt->channels == 2) sum = (sum + decode_sample(*fmt, p + width)) / 2;
        rec.samples[i] = static_cast<std::int16_t>(sum);
      }
      return rec;
    }
    pos = body + size + (size & 1);  // chunks are word-aligned
  }
  return Error{fmt ? "WAV has no 'data' chunk" : "WAV has no 'fmt ' chunk"};
}

Result<Recording> read_wav(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error{"cannot open '" + path + "'"};
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size < 0) return Error{"cannot read '" + path + "'"};
  if (static_cast<std::size_t>(size) > kMaxWavBytes)
    return Error{"'" + path + "' is larger than 512 MiB"};
  f.seekg(0);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  f.read(reinterpret_cast<char*>(bytes.data()), size);
  if (!f) return Error{"cannot read '" + path + "'"};
  auto rec = parse_wav(bytes);
  if (!rec) return Error{"'" + path + "': " + rec.error()};
  return rec;
}

Status write_wav(const std::string& path, std::span<const std::int16_t> samples, int sample_rate) {
  std::ofstream f(path, std::ios::binary);
  if (!f) return Error{"cannot write '" + path + "'"};
  auto put32 = [&](std::uint32_t v) {
    const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 24)};
    f.write(b, 4);
  };
  auto put16 = [&](std::uint16_t v) {
    const char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
    f.write(b, 2);
  };
  const auto data_bytes = static_cast<std::uint32_t>(samples.size() * 2);
  f.write("RIFF", 4);
  put32(36 + data_bytes);
  f.write("WAVEfmt ", 8);
  put32(16);
  put16(kFormatPcm);
  put16(1);
  put32(static_cast<std::uint32_t>(sample_rate));
  put32(static_cast<std::uint32_t>(sample_rate * 2));
  put16(2);
  put16(16);
  f.write("data", 4);
  put32(data_bytes);
  for (std::int16_t s : samples) put16(static_cast<std::uint16_t>(s));
  if (!f) return Error{"cannot write '" + path + "'"};
  return Ok{};
}

void decode_g711(Encoding encoding, std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
  const std::size_t n = std::min(in.size(), out.size());
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = encoding == Encoding::alaw ? alaw_to_linear(in[i]) : ulaw_to_linear(in[i]);
  }
}

std::vector<std::uint8_t> encode_mulaw(std::span<const std::int16_t> pcm) {
  std::vector<std::uint8_t> out(pcm.size());
  for (std::size_t i = 0; i < pcm.size(); ++i) out[i] = linear_to_ulaw(pcm[i]);
  return out;
}

}  // namespace spoofex::audio
