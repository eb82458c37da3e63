#include "lib/config/dojo_base_url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace payments::config {
namespace {

constexpr absl::string_view kSetting = "DOJO_BASE_URL";

absl::Status Invalid(absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(kSetting, ": ", problem));
}

bool IsHostNameChar(char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.';
}

// RFC 3986 pchar and '/', without '%'-free restrictions: what a path
// prefix may hold. Blanks, controls, '\\' and non-ASCII are refused so that
// no two URL parsers read the value differently.
bool IsPathChar(char c) {
  return absl::ascii_isalnum(c) ||
         absl::string_view("-._~!$&'()*+,;=:@/%").find(c) !=
             absl::string_view::npos;
}

}  // namespace

bool IsLoopbackHost(absl::string_view host) {
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    static const in6_addr kLoopback = IN6ADDR_LOOPBACK_INIT;
    return IN6_ARE_ADDR_EQUAL(&v6, &kLoopback);
  }
  return false;
}

absl::StatusOr<std::string> ValidateDojoBaseUrl(absl::string_view url) {
  // Checked before anything else so that no later message can be about a
  // URL that carries credentials.
  const size_t scheme_end = url.find("://");
  const absl::string_view after_scheme =
      scheme_end == absl::string_view::npos ? url : url.substr(scheme_end + 3);
  const absl::string_view authority =
      after_scheme.substr(0, after_scheme.find_first_of("/?#"));
  if (authority.find('@') != absl::string_view::npos) {
    return Invalid(
        "must not contain credentials (user:password@); the API key comes "
        "from DOJO_API_KEY");
  }
  if (scheme_end == absl::string_view::npos) {
    return Invalid("expected an https:// URL such as https://api.dojo.tech");
  }
  const std::string scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (scheme != "https" && scheme != "http") {
    return Invalid("expected an https:// URL such as https://api.dojo.tech");
  }
  if (url.find_first_of("?#") != absl::string_view::npos) {
    return Invalid("must not have a query (?) or fragment (#)");
  }
  // Host: a name or IPv4 address, or an IPv6 address in brackets.
  absl::string_view host;
  absl::string_view port;
  bool has_port = false;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return Invalid("unterminated [IPv6] host");
    }
    host = authority.substr(1, close - 1);
    const absl::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (!absl::StartsWith(rest, ":")) return Invalid("malformed host:port");
      has_port = true;
      port = rest.substr(1);
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) {
      return Invalid("the host in [] is not an IPv6 address");
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != absl::string_view::npos) {
      has_port = true;
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return Invalid("has no host");
    for (char c : host) {
      if (!IsHostNameChar(c)) {
        return Invalid("the host must be a name, an IPv4 address or [IPv6]");
      }
    }
  }
  if (has_port) {
    uint32_t number = 0;
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(port, &number) || number < 1 || number > 65535) {
      return Invalid("the port must be a number from 1 to 65535");
    }
  }
  // Without trailing slashes, the scheme in lower case (it is
  // case-insensitive; the rest of the service compares it as written).
  std::string normalized(url.substr(0, url.find_last_not_of('/') + 1));
  normalized.replace(0, scheme_end, scheme);
  const absl::string_view path =
      absl::string_view(normalized).substr(scheme_end + 3 + authority.size());
  for (char c : path) {
    if (!IsPathChar(c)) {
      return Invalid(
          "the path may hold only URL characters (no blanks, controls or "
          "backslashes)");
    }
  }
  if (scheme == "http" && !IsLoopbackHost(host)) {
    return Invalid(
        "http:// is allowed only for a loopback host (localhost, "
        "127.0.0.0/8, [::1]); use https:// so the API key is not sent in "
        "clear");
  }
  return normalized;
}

}  // namespace payments::config
