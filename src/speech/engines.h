// Private to speech: the engines behind make_engine().
#pragma once

#include "speech/speech.h"

namespace spoofex::speech {

Result<std::unique_ptr<Engine>> make_pocketsphinx(EngineConfig cfg);

}  // namespace spoofex::speech
