// Private to speech: the engines behind make_engine().
#pragma once

#include "speech/speech.h"

namespace spoofex::speech {

Result<std::unique_ptr<Engine>> make_pocketsphinx(EngineConfig cfg);
Result<std::unique_ptr<Engine>> make_vosk(const EngineConfig& cfg);

// Lower-cased words (letters, digits, apostrophes, non-ASCII) for WER and LMs.
std::vector<std::string> words(std::string_view s);

}  // namespace spoofex::speech
