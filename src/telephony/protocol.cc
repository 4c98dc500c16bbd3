// Twilio's wire formats: form bodies, request signatures, TwiML, Media Streams.
// Sources: ../shared/protocols.md; Twilio's "Webhooks security" and "Media Streams
// WebSocket messages" pages.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "telephony/telephony.h"

namespace spoofex::telephony {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes into `out`, reusing its capacity; null on success, else what is wrong.
const char* decode_into(std::string_view s, bool plus_is_space, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) return "truncated % escape";
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return "bad % escape";
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return nullptr;
}

}  // namespace

Result<std::string> url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  if (const char* error = decode_into(s, plus_is_space, out)) return Error{error};
  return out;
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Status parse_form(std::string_view body, Params& out) {
  std::size_t n = 0;
  // The pairs already in `out` are overwritten in place: their strings keep their memory.
  auto next = [&]() -> std::pair<std::string, std::string>& {
    if (n == out.size()) out.emplace_back();
    return out[n++];
  };
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    if (n == kMaxFormParams) {
      out.resize(n);
      return Error{"more than " + std::to_string(kMaxFormParams) + " form fields"};
    }
    const auto eq = pair.find('=');
    auto& [name, value] = next();
    if (const char* e = decode_into(pair.substr(0, eq), true, name)) {
      out.resize(n);
      return Error{std::string("form field name: ") + e};
    }
    const auto raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (const char* e = decode_into(raw, true, value)) {
      out.resize(n);
      return Error{"form field '" + name + "': " + e};
    }
  }
  out.resize(n);
  return Ok{};
}

Result<Params> parse_form(std::string_view body) {
  Params out;
  if (auto st = parse_form(body, out); !st) return Error{st.error()};
  return out;
}

std::string form_encode(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += url_encode(k) + '=' + url_encode(v);
  }
  return out;
}

std::optional<std::string_view> param(const Params& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Result<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return Error{"base64 length is not a multiple of 4"};
  // Padding only at the end, at most two characters; everything else from the alphabet.
  std::size_t pad = 0;
  while (pad < text.size() && pad < 3 && text[text.size() - 1 - pad] == '=') ++pad;
  if (pad > 2) return Error{"invalid base64 padding"};
  for (std::size_t i = 0; i + pad < text.size(); ++i) {
    const char c = text[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) return Error{"invalid base64"};
  }
  std::vector<std::uint8_t> out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0 || static_cast<std::size_t>(n) < pad) return Error{"invalid base64"};
  // EVP_DecodeBlock keeps the padding's zero bytes: drop one per '='.
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

// HMAC-SHA1 keyed once: each signature restarts from the keyed state instead of
// fetching the algorithm and hashing the key again (OpenSSL 3's EVP_MAC).
struct SignatureChecker::Impl {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
  bool keyed = false;
  std::string token;
  std::vector<const std::pair<std::string, std::string>*> sorted;
  ~Impl() {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
  }
};

SignatureChecker::SignatureChecker(std::string_view auth_token) : impl_(std::make_unique<Impl>()) {
  impl_->token = std::string(auth_token);
  impl_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (impl_->mac) impl_->ctx = EVP_MAC_CTX_new(impl_->mac);
  if (!impl_->ctx) throw std::runtime_error("OpenSSL has no HMAC");
  char digest[] = "SHA1";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                               OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(impl_->ctx, params) != 1) {
    throw std::runtime_error("OpenSSL has no HMAC-SHA1");
  }
}

SignatureChecker::~SignatureChecker() = default;

std::string SignatureChecker::sign(std::string_view url, const Params& params) {
  auto& sorted = impl_->sorted;
  sorted.clear();
  for (const auto& p : params) sorted.push_back(&p);
  // Twilio sorts by name; equal names keep their values' order (stable sort by name,
  // then value, matches Twilio's helper libraries).
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
    return a->first != b->first ? a->first < b->first : a->second < b->second;
  });
  auto* ctx = impl_->ctx;
  const auto* key = reinterpret_cast<const unsigned char*>(impl_->token.data());
  // Keyed on first use; afterwards a null key restarts from the same key.
  bool ok = impl_->keyed ? EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1
                         : EVP_MAC_init(ctx, key, impl_->token.size(), nullptr) == 1;
  impl_->keyed = ok;
  auto update = [&](std::string_view s) {
    ok = ok && EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(s.data()), s.size()) == 1;
  };
  update(url);
  for (const auto* p : sorted) {
    update(p->first);
    update(p->second);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  ok = ok && EVP_MAC_final(ctx, digest, &len, sizeof digest) == 1;
  if (!ok) throw std::runtime_error("HMAC-SHA1 failed");
  return base64_encode({digest, len});
}

bool SignatureChecker::valid(std::string_view url, const Params& params, std::string_view header) {
  if (header.empty() || impl_->token.empty()) return false;
  const std::string expected = sign(url, params);
  return expected.size() == header.size() &&
         CRYPTO_memcmp(expected.data(), header.data(), expected.size()) == 0;
}

std::string twilio_signature(std::string_view url, const Params& params,
                             std::string_view auth_token) {
  return SignatureChecker(auth_token).sign(url, params);
}

bool signature_valid(std::string_view url, const Params& params, std::string_view auth_token,
                     std::string_view header) {
  if (header.empty() || auth_token.empty()) return false;
  return SignatureChecker(auth_token).valid(url, params, header);
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0: drop them.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') {
          out += c;
        }
    }
  }
  return out;
}

Twiml& Twiml::say(std::string_view text) {
  body_ += "<Say voice=\"" + xml_escape(voice_.voice) + "\" language=\"" +
           xml_escape(voice_.language) + "\">" + xml_escape(text) + "</Say>";
  return *this;
}

Twiml& Twiml::pause(int seconds) {
  body_ += "<Pause length=\"" + std::to_string(std::max(1, seconds)) + "\"/>";
  return *this;
}

Twiml& Twiml::reject(std::string_view reason) {
  body_ += "<Reject reason=\"" + xml_escape(reason) + "\"/>";
  return *this;
}

Twiml& Twiml::hangup() {
  body_ += "<Hangup/>";
  return *this;
}

Twiml& Twiml::redirect(std::string_view url) {
  body_ += "<Redirect method=\"POST\">" + xml_escape(url) + "</Redirect>";
  return *this;
}

Twiml& Twiml::dial(std::string_view number, int timeout_s, std::string_view caller_id) {
  body_ += "<Dial timeout=\"" + std::to_string(timeout_s) + "\"";
  if (!caller_id.empty()) body_ += " callerId=\"" + xml_escape(caller_id) + "\"";
  body_ += "><Number>" + xml_escape(number) + "</Number></Dial>";
  return *this;
}

Twiml& Twiml::start_stream(std::string_view url, const Params& parameters) {
  body_ += "<Start><Stream name=\"" + std::string(kStreamName) + "\" url=\"" + xml_escape(url) +
           "\" track=\"inbound_track\">";
  for (const auto& [k, v] : parameters) {
    body_ += "<Parameter name=\"" + xml_escape(k) + "\" value=\"" + xml_escape(v) + "\"/>";
  }
  body_ += "</Stream></Start>";
  return *this;
}

Twiml& Twiml::stop_stream() {
  body_ += "<Stop><Stream name=\"" + std::string(kStreamName) + "\"/></Stop>";
  return *this;
}

Twiml& Twiml::gather(std::string_view action, int num_digits, int timeout_s,
                     std::string_view prompt) {
  body_ += "<Gather input=\"dtmf\" numDigits=\"" + std::to_string(num_digits) + "\" timeout=\"" +
           std::to_string(timeout_s) + "\" finishOnKey=\"#\" action=\"" + xml_escape(action) +
           "\" method=\"POST\" actionOnEmptyResult=\"true\">";
  if (!prompt.empty()) say(prompt);
  body_ += "</Gather>";
  return *this;
}

std::string Twiml::str() const {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>" + body_ + "</Response>";
}

Result<StreamMessage> parse_stream_message(std::string_view text) {
  if (text.size() > kMaxStreamMessageBytes) return Error{"message larger than 64 KiB"};
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{"not a JSON object"};
  auto str = [&](const nlohmann::json& obj, const char* key) -> std::optional<std::string> {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto event = str(j, "event");
  if (!event) return Error{"missing \"event\""};
  StreamMessage m;
  if (*event == "connected") {
    m.event = StreamEvent::connected;
    return m;
  }
  static const std::map<std::string, StreamEvent, std::less<>> kEvents = {
      {"start", StreamEvent::start},
      {"media", StreamEvent::media},
      {"dtmf", StreamEvent::dtmf},
      {"mark", StreamEvent::mark},
      {"stop", StreamEvent::stop}};
  const auto kind = kEvents.find(*event);
  if (kind == kEvents.end()) return Error{"unknown event \"" + *event + "\""};
  m.event = kind->second;
  // sequenceNumber is a string of digits in Twilio's messages.
  const auto seq = str(j, "sequenceNumber");
  if (!seq || seq->empty() || seq->size() > 15 ||
      seq->find_first_not_of("0123456789") != std::string::npos) {
    return Error{"missing or bad \"sequenceNumber\""};
  }
  m.sequence = std::stoll(*seq);
  auto sid = str(j, "streamSid");
  if (!sid || sid->empty() || sid->size() > 64) return Error{"missing or bad \"streamSid\""};
  m.stream_sid = std::move(*sid);
  auto object = [&](const char* key) -> const nlohmann::json* {
    auto it = j.find(key);
    return it != j.end() && it->is_object() ? &*it : nullptr;
  };
  switch (m.event) {
    case StreamEvent::start: {
      const auto* s = object("start");
      if (!s) return Error{"start without \"start\" object"};
      auto call = str(*s, "callSid");
      if (!call || call->empty() || call->size() > 64) return Error{"start without \"callSid\""};
      m.call_sid = std::move(*call);
      if (auto it = s->find("mediaFormat"); it != s->end() && it->is_object()) {
        m.encoding = str(*it, "encoding").value_or("");
        if (auto r = it->find("sampleRate"); r != it->end() && r->is_number_integer()) {
          m.sample_rate = r->get<int>();
        }
      }
      if (auto it = s->find("customParameters"); it != s->end() && it->is_object()) {
        for (const auto& [k, v] : it->items()) {
          if (v.is_string()) m.custom[k] = v.get<std::string>();
        }
      }
      break;
    }
    case StreamEvent::media: {
      const auto* media = object("media");
      if (!media) return Error{"media without \"media\" object"};
      m.track = str(*media, "track").value_or("inbound");
      const auto ts = str(*media, "timestamp").value_or("0");
      if (ts.empty() || ts.size() > 15 || ts.find_first_not_of("0123456789") != std::string::npos) {
        return Error{"bad media \"timestamp\""};
      }
      m.timestamp_ms = std::stoll(ts);
      const auto payload = str(*media, "payload");
      if (!payload) return Error{"media without \"payload\""};
      auto bytes = base64_decode(*payload);
      if (!bytes) return Error{"media payload: " + bytes.error()};
      m.payload = std::move(*bytes);
      break;
    }
    case StreamEvent::dtmf: {
      const auto* d = object("dtmf");
      const auto digit = d ? str(*d, "digit") : std::nullopt;
      if (!digit || digit->size() != 1 ||
          std::string_view("0123456789*#ABCD").find((*digit)[0]) == std::string_view::npos) {
        return Error{"dtmf without a keypad \"digit\""};
      }
      m.digit = (*digit)[0];
      break;
    }
    case StreamEvent::mark: {
      const auto* mk = object("mark");
      m.mark = mk ? str(*mk, "name").value_or("") : "";
      break;
    }
    case StreamEvent::stop: {
      if (const auto* s = object("stop")) m.call_sid = str(*s, "callSid").value_or("");
      break;
    }
    case StreamEvent::connected:
      break;
  }
  return m;
}

}  // namespace spoofex::telephony
