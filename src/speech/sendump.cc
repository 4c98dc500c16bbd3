// Debian's pocketsphinx-en-us ships its mixture weights only as "sendump", the
// 8-bit quantised form PocketSphinx reads. SphinxTrain's bw needs them as a
// "mixture_weights" file, so adaptation starts by expanding one into the other.
// sendump layout (its own header says so): length-prefixed header strings ending in
// a 0 length, #codewords, #pdfs, then for each feature stream and codeword one byte
// per pdf (senone): -log_1.0001(p) >> 10. mixture_weights: SphinxTrain's s3 binary
// format, float32 [senone][stream][codeword], each distribution summing to 1.
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "speech/speech.h"

namespace spoofex::speech {
namespace {

constexpr int kLogShift = 10;        // SENSCR_SHIFT in PocketSphinx
constexpr double kLogBase = 1.0001;  // logmath base of the acoustic scores

bool read_i32(std::istream& in, std::int32_t& v) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(&v), 4));
}

}  // namespace

Status sendump_to_mixture_weights(const std::string& sendump_path, const std::string& out_path) {
  std::ifstream in(sendump_path, std::ios::binary);
  if (!in) return Error{"cannot open '" + sendump_path + "'"};
  std::int32_t len = 0;
  int strings = 0;
  while (read_i32(in, len) && len != 0) {
    if (len < 0 || len > 4096 || ++strings > 1000)
      return Error{"'" + sendump_path + "': damaged header"};
    in.ignore(len);
  }
  std::int32_t codewords = 0, pdfs = 0;
  if (!in || !read_i32(in, codewords) || !read_i32(in, pdfs) || codewords <= 0 || pdfs <= 0 ||
      codewords > 4096 || pdfs > 1'000'000) {
    return Error{"'" + sendump_path + "': damaged header"};
  }
  const std::vector<char> raw{std::istreambuf_iterator<char>(in), {}};
  const std::size_t per_stream =
      static_cast<std::size_t>(codewords) * static_cast<std::size_t>(pdfs);
  if (raw.empty() || raw.size() % per_stream != 0) {
    return Error{"'" + sendump_path +
                 "' is clustered or truncated; only unclustered sendumps are supported"};
  }
  const std::size_t streams = raw.size() / per_stream;
  std::vector<float> w(raw.size());
  const double ln_base = std::log(kLogBase);
  for (std::size_t s = 0; s < static_cast<std::size_t>(pdfs); ++s) {
    for (std::size_t f = 0; f < streams; ++f) {
      double total = 0;
      float* dist = &w[(s * streams + f) * static_cast<std::size_t>(codewords)];
      for (std::size_t c = 0; c < static_cast<std::size_t>(codewords); ++c) {
        const auto q = static_cast<unsigned char>(
            raw[f * per_stream + c * static_cast<std::size_t>(pdfs) + s]);
        dist[c] = static_cast<float>(std::exp(-static_cast<double>(q << kLogShift) * ln_base));
        total += dist[c];
      }
      for (std::size_t c = 0; c < static_cast<std::size_t>(codewords); ++c) {
        dist[c] = static_cast<float>(dist[c] / total);
      }
    }
  }
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) return Error{"cannot write '" + out_path + "'"};
  out << "s3\nversion 1.0\nendhdr\n";
  const std::int32_t header[] = {0x11223344, pdfs, static_cast<std::int32_t>(streams), codewords,
                                 static_cast<std::int32_t>(w.size())};
  out.write(reinterpret_cast<const char*>(header), sizeof header);
  out.write(reinterpret_cast<const char*>(w.data()),
            static_cast<std::streamsize>(w.size() * sizeof(float)));
  if (!out) return Error{"cannot write '" + out_path + "'"};
  return Ok{};
}

}  // namespace spoofex::speech
