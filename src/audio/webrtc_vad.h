// Private to audio: the WebRTC VAD's C API. Debian's libwebrtc-audio-processing
// (0.3) exports these functions but does not install their header
// (webrtc/common_audio/vad/include/webrtc_vad.h of the same WebRTC revision), so the
// declarations are repeated here, exactly as that revision has them.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
typedef struct WebRtcVadInst VadInst;
VadInst* WebRtcVad_Create();
void WebRtcVad_Free(VadInst* handle);
int WebRtcVad_Init(VadInst* handle);
// 0 (least aggressive) .. 3 (most aggressive about calling audio non-speech).
int WebRtcVad_set_mode(VadInst* handle, int mode);
// 1 voice, 0 no voice, -1 error. fs: 8000/16000/32000/48000; 10, 20 or 30 ms frames.
int WebRtcVad_Process(VadInst* handle, int fs, const int16_t* audio_frame, size_t frame_length);
}
