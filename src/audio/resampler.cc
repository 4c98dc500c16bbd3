#include <speex/speex_resampler.h>

#include <stdexcept>

#include "audio/audio.h"

namespace spoofex::audio {

struct Resampler::State {
  SpeexResamplerState* st = nullptr;
  ~State() {
    if (st) speex_resampler_destroy(st);
  }
};

Resampler::Resampler(int in_rate, int out_rate, int quality) : state_(std::make_unique<State>()) {
  int err = 0;
  state_->st = speex_resampler_init(1, static_cast<spx_uint32_t>(in_rate),
                                    static_cast<spx_uint32_t>(out_rate), quality, &err);
  if (!state_->st) {
    throw std::invalid_argument("cannot resample " + std::to_string(in_rate) + " Hz to " +
                                std::to_string(out_rate) + " Hz: " + speex_resampler_strerror(err));
  }
  speex_resampler_skip_zeros(state_->st);  // no filter delay at the start of a stream
}

Resampler::~Resampler() = default;

std::size_t Resampler::process(std::span<const std::int16_t> in, std::span<std::int16_t> out) {
  std::size_t written = 0;
  while (!in.empty() && written < out.size()) {
    auto in_len = static_cast<spx_uint32_t>(in.size());
    auto out_len = static_cast<spx_uint32_t>(out.size() - written);
    speex_resampler_process_int(state_->st, 0, in.data(), &in_len, out.data() + written, &out_len);
    if (in_len == 0 && out_len == 0) break;
    in = in.subspan(in_len);
    written += out_len;
  }
  return written;
}

std::vector<std::int16_t> resample(std::span<const std::int16_t> in, int in_rate, int out_rate) {
  if (in_rate == out_rate) return {in.begin(), in.end()};
  Resampler r(in_rate, out_rate);
  std::vector<std::int16_t> out(
      in.size() * static_cast<std::size_t>(out_rate) / static_cast<std::size_t>(in_rate) + 16);
  out.resize(r.process(in, out));
  return out;
}

}  // namespace spoofex::audio
