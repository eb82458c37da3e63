#ifndef LIB_COMMON_UTF8_H_
#define LIB_COMMON_UTF8_H_

// UTF-8 text as it crosses our boundaries: counting it the way Dojo (.NET)
// does, and keeping what we put into proto3 strings valid (a proto3 string
// that is not UTF-8 makes the whole message undecodable for the receiver).
//
// Valid means RFC 3629: shortest form, no surrogates (U+D800..U+DFFF), at
// most U+10FFFF. Header-only: these are small and used across modules.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace payments::utf8 {

namespace internal {

// The length of the valid UTF-8 sequence at text[pos] and its code point,
// or 0 when the bytes there are not one.
inline size_t DecodeOne(absl::string_view text, size_t pos, char32_t* out) {
  const auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[pos + i]);
  };
  const auto is_continuation = [&](size_t i) {
    return pos + i < text.size() && (byte(i) & 0xC0) == 0x80;
  };
  const unsigned char lead = byte(0);
  if (lead < 0x80) {
    *out = lead;
    return 1;
  }
  size_t length = 0;
  char32_t code = 0;
  char32_t min = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code = lead & 0x07, min = 0x10000;
  } else {
    return 0;  // A continuation byte or 0xF8..0xFF.
  }
  for (size_t i = 1; i < length; ++i) {
    if (!is_continuation(i)) return 0;
    code = (code << 6) | (byte(i) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
    return 0;
  }
  *out = code;
  return length;
}

}  // namespace internal

inline bool IsValid(absl::string_view text) {
  char32_t code;
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = internal::DecodeOne(text, pos, &code);
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

// The length in UTF-16 code units, as .NET's string.Length (and so Dojo's
// "at most N characters") counts it: a character outside the Basic
// Multilingual Plane (e.g. an emoji) counts 2. nullopt when `text` is not
// valid UTF-8. This is the one way every Dojo length limit is measured.
inline std::optional<size_t> Utf16Length(absl::string_view text) {
  size_t units = 0;
  char32_t code;
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = internal::DecodeOne(text, pos, &code);
    if (length == 0) return std::nullopt;
    units += code >= 0x10000 ? 2 : 1;
    pos += length;
  }
  return units;
}

// `text` with every byte that does not start a valid sequence replaced by
// U+FFFD, so untrusted text (an upstream answer) can go into a proto3
// string. Valid text comes back unchanged.
inline std::string ToValid(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  char32_t code;
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = internal::DecodeOne(text, pos, &code);
    if (length == 0) {
      out.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER.
      ++pos;
    } else {
      out.append(text.data() + pos, length);
      pos += length;
    }
  }
  return out;
}

// ToValid(text), cut to at most `max_bytes` bytes at a character boundary
// with "..." marking the cut (so the result is always valid UTF-8). The one
// way text going into a status message or detail is shortened.
inline std::string Truncate(absl::string_view text, size_t max_bytes) {
  std::string valid = ToValid(text);
  if (valid.size() <= max_bytes) return valid;
  constexpr absl::string_view kEllipsis = "...";
  if (max_bytes < kEllipsis.size()) return std::string(max_bytes, '.');
  size_t cut = max_bytes - kEllipsis.size();
  // Back up to the lead byte of the character the cut would split.
  while (cut > 0 && (static_cast<unsigned char>(valid[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  valid.resize(cut);
  valid.append(kEllipsis.data(), kEllipsis.size());
  return valid;
}

}  // namespace payments::utf8

#endif  // LIB_COMMON_UTF8_H_
