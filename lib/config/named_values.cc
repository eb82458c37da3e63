#include "lib/config/named_values.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace payments::config {

absl::StatusOr<std::vector<NamedValue>> ParseNamedValues(
    absl::string_view text, absl::string_view setting,
    ListSeparators separators) {
  std::vector<NamedValue> entries;
  const std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  // "line L" only helps in a file; an inline value is one line.
  const bool several_lines = absl::StripTrailingAsciiWhitespace(text).find(
                                 '\n') != absl::string_view::npos;
  int number = 0;
  for (size_t line_index = 0; line_index < lines.size(); ++line_index) {
    const absl::string_view line =
        absl::StripAsciiWhitespace(lines[line_index]);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    std::vector<absl::string_view> pieces;
    if (separators == ListSeparators::kNewlinesAndCommas) {
      pieces = absl::StrSplit(line, ',');
    } else {
      pieces = {line};
    }
    for (absl::string_view piece : pieces) {
      ++number;
      std::string where = absl::StrCat("entry ", number);
      if (several_lines)
        absl::StrAppend(&where, " (line ", line_index + 1, ")");
      piece = absl::StripAsciiWhitespace(piece);
      if (piece.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(setting, ": ", where, " is empty (a stray comma)"));
      }
      const size_t equals = piece.find('=');
      if (equals == absl::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            setting, ": ", where, " is not of the form name=value"));
      }
      entries.push_back(
          {std::string(absl::StripAsciiWhitespace(piece.substr(0, equals))),
           std::string(absl::StripAsciiWhitespace(piece.substr(equals + 1))),
           std::move(where)});
    }
  }
  return entries;
}

bool IsSettingName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (absl::StartsWithIgnoreCase(name, "sk_")) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

bool IsSecretToken(absl::string_view value) {
  const size_t padding = value.find_last_not_of('=');
  if (padding == absl::string_view::npos) return false;  // empty or all '='
  const absl::string_view body = value.substr(0, padding + 1);
  for (char c : body) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '`' ||
        c == ',' || c == '=') {
      return false;
    }
  }
  return true;
}

}  // namespace payments::config
