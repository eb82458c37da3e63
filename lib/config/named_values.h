#ifndef LIB_CONFIG_NAMED_VALUES_H_
#define LIB_CONFIG_NAMED_VALUES_H_

// The syntax of the list settings that hold secrets (DOJO_ACCOUNTS_FILE,
// DOJO_WEBHOOK_SECRETS[_FILE]) and of the secrets themselves. Every rule
// exists to refuse a list whose reading is ambiguous, so that a server never
// starts with secrets other than the ones meant.
//
// A list is `name=value` entries:
// - Entries are separated by newlines; with kNewlinesAndCommas also by
//   commas. A value therefore never holds a comma there.
// - A line that is blank or whose first non-blank character is '#' is
//   skipped. Comments are whole lines only: "a=x,#b=y" is an error, not a
//   secret and a comment.
// - An empty entry next to a comma (",,", a leading or trailing comma) is an
//   error: it usually means a secret was cut or lost.
// - Blanks around an entry and around its first '=' are ignored; the first
//   '=' separates name and value.
// Errors are INVALID_ARGUMENT "<setting>: entry N[ (line L)]: ...": they give
// the position, never any part of the text, which may be a bare secret.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace payments::config {

struct NamedValue {
  std::string name;
  std::string value;
  // Where the entry is, for errors: "entry 2", or "entry 2 (line 5)" when
  // the text has several lines. Never any part of the entry.
  std::string where;
};

enum class ListSeparators { kNewlines, kNewlinesAndCommas };

// Splits `text` into entries as described above. Checks the structure only;
// names and values are checked by the caller (IsSettingName, IsSecretToken).
absl::StatusOr<std::vector<NamedValue>> ParseNamedValues(
    absl::string_view text, absl::string_view setting,
    ListSeparators separators);

// An account name or webhook secret id: 1-64 of [A-Za-z0-9_-], not starting
// with "sk_" (Dojo's key prefix). Names are logged (start-up, credential
// reloads), so this is what keeps a bare secret out of the name position.
bool IsSettingName(absl::string_view name);

// The rule IsSettingName enforces, for error messages.
inline constexpr absl::string_view kSettingNameRule =
    "1-64 of [A-Za-z0-9_-], not starting with sk_";

// An API key or webhook secret: printable ASCII without blanks, quotes or
// commas, and '=' only as trailing padding (base64). A quote means the
// value was quoted by mistake; an inner '=' means two entries ran together
// ("a=x;b=y") or a bare base64 secret was split at its padding.
bool IsSecretToken(absl::string_view value);

// The rule IsSecretToken enforces, for error messages.
inline constexpr absl::string_view kSecretTokenRule =
    "one token of printable ASCII without blanks, quotes or commas, with '=' "
    "only as trailing padding";

}  // namespace payments::config

#endif  // LIB_CONFIG_NAMED_VALUES_H_
