// Vosk (the prototype's engine) for sites that install a model: Indian English
// (vosk-model-en-in-0.5) or Hindi (vosk-model-hi-0.22), unpacked anywhere and named in
// the configuration. libvosk comes from the npm registry's `vosk` package (it ships
// linux-x86_64 binaries) and is opened at run time, so spoofex builds and runs without
// it. One model is loaded per engine and shared by every call's recogniser.
// C API as in alphacep/vosk-api src/vosk_api.h (v0.3.x).
#include <dlfcn.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "speech/engines.h"

namespace spoofex::speech {
namespace {

struct VoskApi {
  void* (*model_new)(const char*);
  void (*model_free)(void*);
  void* (*recognizer_new)(void*, float);
  void (*recognizer_free)(void*);
  void (*set_words)(void*, int);
  int (*accept_waveform_s)(void*, const short*, int);
  const char* (*partial_result)(void*);
  const char* (*final_result)(void*);
  void (*set_log_level)(int);
};

struct LibraryCloser {
  void operator()(void* handle) const { dlclose(handle); }
};

template <typename F>
bool bind(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}

Hypothesis parse_result(const char* json, bool final) {
  Hypothesis h;
  h.final = final;
  const auto j = nlohmann::json::parse(json ? json : "{}", nullptr, false);
  if (j.is_discarded() || !j.is_object()) return h;
  h.text = j.value(final ? "text" : "partial", "");
  if (final && j.contains("result") && j["result"].is_array()) {
    for (const auto& w : j["result"]) {
      h.words.push_back(
          {w.value("word", ""), w.value("start", 0.0), w.value("end", 0.0), w.value("conf", 0.0)});
    }
  }
  return h;
}

class VoskEngine;

class VoskRecognizer final : public Recognizer {
 public:
  VoskRecognizer(const VoskApi& api, void* rec) : api_(api), rec_(rec) {}
  ~VoskRecognizer() override { api_.recognizer_free(rec_); }

  Status accept(std::span<const std::int16_t> pcm) override {
    // Vosk takes the 8 kHz audio as it is: the Indian-English and Hindi models are
    // trained for telephone and mobile speech.
    if (api_.accept_waveform_s(rec_, pcm.data(), static_cast<int>(pcm.size())) < 0) {
      return Error{"vosk: decoding failed"};
    }
    return Ok{};
  }
  Hypothesis partial() override { return parse_result(api_.partial_result(rec_), false); }
  Hypothesis finish() override { return parse_result(api_.final_result(rec_), true); }

 private:
  const VoskApi& api_;
  void* rec_;
};

class VoskEngine final : public Engine {
 public:
  VoskEngine(std::unique_ptr<void, LibraryCloser> lib, VoskApi api, void* model)
      : lib_(std::move(lib)), api_(api), model_(model) {}
  ~VoskEngine() override { api_.model_free(model_); }
  std::string_view name() const override { return "vosk"; }

  // Vosk has no search beams to narrow: every effort gets the same recogniser.
  Result<std::unique_ptr<Recognizer>> recognizer(Effort) override {
    void* rec = api_.recognizer_new(model_, 8000.0f);
    if (!rec) return Error{"vosk: cannot create a recogniser"};
    api_.set_words(rec, 1);
    return std::unique_ptr<Recognizer>(std::make_unique<VoskRecognizer>(api_, rec));
  }

 private:
  std::unique_ptr<void, LibraryCloser> lib_;
  VoskApi api_;
  void* model_;
};

}  // namespace

Result<std::unique_ptr<Engine>> make_vosk(const EngineConfig& cfg) {
  namespace fs = std::filesystem;
  if (cfg.model_dir.empty() || !fs::is_directory(cfg.model_dir)) {
    return Error{"vosk: model directory '" + cfg.model_dir +
                 "' not found; download a model (see README, \"Vosk\") and set speech.model_dir"};
  }
  std::unique_ptr<void, LibraryCloser> lib(dlopen(cfg.vosk_library.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!lib) {
    const char* why = dlerror();
    return Error{"vosk: cannot load '" + cfg.vosk_library + "' (" + (why ? why : "unknown") +
                 "); run make setup, or set speech.vosk_library"};
  }
  VoskApi api{};
  void* h = lib.get();
  if (!bind(h, "vosk_model_new", api.model_new) || !bind(h, "vosk_model_free", api.model_free) ||
      !bind(h, "vosk_recognizer_new", api.recognizer_new) ||
      !bind(h, "vosk_recognizer_free", api.recognizer_free) ||
      !bind(h, "vosk_recognizer_set_words", api.set_words) ||
      !bind(h, "vosk_recognizer_accept_waveform_s", api.accept_waveform_s) ||
      !bind(h, "vosk_recognizer_partial_result", api.partial_result) ||
      !bind(h, "vosk_recognizer_final_result", api.final_result) ||
      !bind(h, "vosk_set_log_level", api.set_log_level)) {
    return Error{"vosk: '" + cfg.vosk_library + "' lacks the Vosk C API"};
  }
  api.set_log_level(-1);
  void* model = api.model_new(cfg.model_dir.c_str());
  if (!model) return Error{"vosk: cannot load the model in '" + cfg.model_dir + "'"};
  return std::unique_ptr<Engine>(std::make_unique<VoskEngine>(std::move(lib), api, model));
}

Status check_vosk_library(const std::string& path) {
  std::unique_ptr<void, LibraryCloser> lib(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!lib) return Error{std::string("cannot load '") + path + "'"};
  void* fn = dlsym(lib.get(), "vosk_recognizer_accept_waveform_s");
  if (!fn) return Error{"'" + path + "' lacks the Vosk C API"};
  return Ok{};
}

}  // namespace spoofex::speech
