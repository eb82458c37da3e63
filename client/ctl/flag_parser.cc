#include "client/ctl/flag_parser.h"

#include <algorithm>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace payments::ctl {
namespace {

bool IsAllowed(const std::vector<std::string>& allowed,
               absl::string_view name) {
  return std::find(allowed.begin(), allowed.end(), name) != allowed.end();
}

absl::Status SetFlag(absl::string_view name, absl::string_view value) {
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  std::string error;
  if (flag == nullptr || !flag->ParseFrom(value, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, "=", value, ": ", error));
  }
  return absl::OkStatus();
}

bool IsBoolFlag(absl::string_view name) {
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  return flag != nullptr && flag->IsOfType<bool>();
}

}  // namespace

std::string NormalizeFlagArg(absl::string_view arg) {
  if (arg.size() < 2 || arg[0] != '-' || arg == "--") return std::string(arg);
  const size_t dashes = absl::StartsWith(arg, "--") ? 2 : 1;
  const size_t eq = arg.find('=');
  absl::string_view name =
      arg.substr(dashes, eq == absl::string_view::npos ? absl::string_view::npos
                                                       : eq - dashes);
  std::string out = absl::StrCat(arg.substr(0, dashes),
                                 absl::StrReplaceAll(name, {{"-", "_"}}));
  if (eq != absl::string_view::npos) absl::StrAppend(&out, arg.substr(eq));
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseFlags(
    const std::vector<std::string>& args,
    const std::vector<std::string>& allowed) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string arg = NormalizeFlagArg(args[i]);
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    absl::string_view body(arg);
    body.remove_prefix(absl::StartsWith(body, "--") ? 2 : 1);
    std::string name(body.substr(0, body.find('=')));
    const bool has_value = body.find('=') != absl::string_view::npos;
    std::string value =
        has_value ? std::string(body.substr(body.find('=') + 1)) : "";

    if (!has_value && !IsAllowed(allowed, name) &&
        absl::StartsWith(name, "no") && IsAllowed(allowed, name.substr(2)) &&
        IsBoolFlag(name.substr(2))) {
      if (absl::Status s = SetFlag(name.substr(2), "false"); !s.ok()) return s;
      continue;
    }
    if (!IsAllowed(allowed, name) ||
        absl::FindCommandLineFlag(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " for this command"));
    }
    if (!has_value) {
      if (IsBoolFlag(name)) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
    }
    if (absl::Status s = SetFlag(name, value); !s.ok()) return s;
  }
  return positional;
}

}  // namespace payments::ctl
