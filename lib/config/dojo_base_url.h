#ifndef LIB_CONFIG_DOJO_BASE_URL_H_
#define LIB_CONFIG_DOJO_BASE_URL_H_

// The rules for DOJO_BASE_URL, the origin (and optional path prefix) every
// Dojo request is sent to with the account's API key.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace payments::config {

// Returns `url` without trailing slashes if it is
//   http[s]://host[:port][/path]
// with a host name, IPv4 address or bracketed IPv6 address, and:
// - no userinfo (user:password@): credentials in the URL would be logged
//   and sent to Dojo; the key comes from DOJO_API_KEY;
// - https, unless the host is loopback (localhost, 127.0.0.0/8, [::1]):
//   over plain http the API key would cross the network in clear;
// - no query or fragment, no blanks, control characters or backslashes.
// Errors are INVALID_ARGUMENT naming DOJO_BASE_URL and the rule broken,
// never quoting the value.
absl::StatusOr<std::string> ValidateDojoBaseUrl(absl::string_view url);

// Whether `host` (as written in a URL, IPv6 without brackets) is loopback:
// "localhost" (any case), 127.0.0.0/8 in dotted-quad form, or ::1.
bool IsLoopbackHost(absl::string_view host);

}  // namespace payments::config

#endif  // LIB_CONFIG_DOJO_BASE_URL_H_
