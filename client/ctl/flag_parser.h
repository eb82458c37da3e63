#ifndef CLIENT_CTL_FLAG_PARSER_H_
#define CLIENT_CTL_FLAG_PARSER_H_

// Command-line parsing for paymentsctl's subcommands, onto absl flags.
//
// absl flags are process-global; a subcommand accepts only the flags it
// lists, so `get-intent --amount=5` is a usage error rather than silently
// ignored. Parsing never exits the process (absl::ParseCommandLine would,
// with status 1): every problem is returned, and main() exits 64.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace payments::ctl {

// "--body-file=F" -> "--body_file=F": dashes in a flag's name become
// underscores (absl names use underscores). Values and non-flags are kept.
std::string NormalizeFlagArg(absl::string_view arg);

// Sets the registered absl flags named in `args` and returns the positional
// arguments in order. Accepted forms: --name=value, --name value, -name=value,
// --bool, --nobool, --bool=false; "-" is positional; after "--" everything is.
// INVALID_ARGUMENT for a flag that is unknown, not in `allowed`, lacks a
// value, or has a value its type rejects.
absl::StatusOr<std::vector<std::string>> ParseFlags(
    const std::vector<std::string>& args,
    const std::vector<std::string>& allowed);

}  // namespace payments::ctl

#endif  // CLIENT_CTL_FLAG_PARSER_H_
