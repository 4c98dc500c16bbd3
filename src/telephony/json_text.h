// Private to telephony: JSON text written straight into a string, for the call
// record and timeline events built on every webhook (no document tree, no
// allocation beyond the output). The output is what nlohmann::json::dump(-1, ' ',
// false, replace) gives for the same object written with its keys in sorted order:
// invalid UTF-8 becomes U+FFFD, control characters are escaped, and doubles print
// in shortest round-trip form with a ".0" on whole numbers.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace spoofex::telephony::json_text {

// Appends `s` as a quoted JSON string.
inline void quote(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // Plain printable ASCII goes over in one run.
    std::size_t run = i;
    while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\') ++run;
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      continue;
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20) {
            const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
            out.append(esc, 6);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A multi-byte sequence (RFC 3629): the longest well-formed prefix is replaced by
    // one U+FFFD when the sequence is broken, and scanning resumes after it.
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    std::size_t good = len == 0 ? 0 : 1;
    while (good > 0 && good < len && i + good < n) {
      const unsigned char b = p[i + good];
      const bool ok = good == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
      if (!ok) break;
      ++good;
    }
    if (len != 0 && good == len) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      i += good == 0 ? 1 : good;
    }
  }
  out += '"';
}

inline void number(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// nlohmann's layout of a double: fixed notation for decimal exponents -4 < n <= 15,
// else d.ddde+XX; whole numbers end in ".0"; NaN and infinities are null.
inline void number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  if (v == 0) {
    out += std::signbit(v) ? "-0.0" : "0.0";
    return;
  }
  char sci[40];
  const auto r = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  std::string_view text(sci, static_cast<std::size_t>(r.ptr - sci));
  if (text.front() == '-') {
    out += '-';
    text.remove_prefix(1);
  }
  const auto e = text.find('e');
  char digits[24];
  std::size_t len = 0;
  for (char ch : text.substr(0, e)) {
    if (ch != '.') digits[len++] = ch;
  }
  int exp10 = 0;
  std::string_view et = text.substr(e + 1);
  if (et.front() == '+') et.remove_prefix(1);
  std::from_chars(et.data(), et.data() + et.size(), exp10);
  const int n = exp10 + 1;  // the decimal point sits after n digits
  const int k = static_cast<int>(len);
  if (k <= n && n <= 15) {
    out.append(digits, len);
    out.append(static_cast<std::size_t>(n - k), '0');
    out += ".0";
  } else if (0 < n && n <= 15) {
    out.append(digits, static_cast<std::size_t>(n));
    out += '.';
    out.append(digits + n, static_cast<std::size_t>(k - n));
  } else if (-4 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out.append(digits, len);
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits + 1, len - 1);
    }
    out += 'e';
    const int x = n - 1;
    out += x < 0 ? '-' : '+';
    const int ax = x < 0 ? -x : x;
    if (ax < 10) out += '0';
    number(out, static_cast<std::int64_t>(ax));
  }
}

// Writes one object's members in the order given (callers give them sorted).
class Object {
 public:
  explicit Object(std::string& out) : out_(out) { out_ += '{'; }
  ~Object() { out_ += '}'; }
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  Object& str(std::string_view key, std::string_view v) {
    name(key);
    quote(out_, v);
    return *this;
  }
  Object& num(std::string_view key, double v) {
    name(key);
    number(out_, v);
    return *this;
  }
  Object& integer(std::string_view key, std::int64_t v) {
    name(key);
    number(out_, v);
    return *this;
  }
  Object& boolean(std::string_view key, bool v) {
    name(key);
    out_ += v ? "true" : "false";
    return *this;
  }
  Object& null(std::string_view key) {
    name(key);
    out_ += "null";
    return *this;
  }
  // A string, or null when empty.
  Object& str_or_null(std::string_view key, std::string_view v) {
    return v.empty() ? null(key) : str(key, v);
  }
  // JSON text written elsewhere, inserted as is.
  Object& raw(std::string_view key, std::string_view json) {
    name(key);
    out_ += json;
    return *this;
  }
  // The key only: the caller writes the value next.
  std::string& name(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    quote(out_, key);
    out_ += ':';
    return out_;
  }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace spoofex::telephony::json_text
