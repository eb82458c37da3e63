#ifndef LIB_COMMON_LOGGER_H_
#define LIB_COMMON_LOGGER_H_

// One-line structured logs: each call writes a single JSON object to stdout,
// e.g. {"ts":"2026-11-24T13:00:00.123Z","level":"info","event":"started",...}.
// Thread-safe. Callers must never pass secrets, card data or client session
// secrets as fields.

#include <initializer_list>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"

namespace payments {

enum class LogLevel { kInfo, kWarning, kError };

struct LogField {
  using Value = std::variant<std::string, std::int64_t, double, bool>;
  LogField(absl::string_view k, absl::string_view v)
      : key(k), value(std::string(v)) {}
  LogField(absl::string_view k, const char* v)
      : key(k), value(std::string(v)) {}
  LogField(absl::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(absl::string_view k, int v) : key(k), value(std::int64_t{v}) {}
  LogField(absl::string_view k, std::int64_t v) : key(k), value(v) {}
  LogField(absl::string_view k, double v) : key(k), value(v) {}
  LogField(absl::string_view k, bool v) : key(k), value(v) {}

  std::string key;
  Value value;
};

// Fields built up before logging.
using LogFields = std::vector<LogField>;

// Formats one log line (without the trailing newline). Exposed for tests.
std::string FormatLogLine(LogLevel level, absl::string_view event,
                          const LogFields& fields);

void Log(LogLevel level, absl::string_view event, const LogFields& fields);
void Log(LogLevel level, absl::string_view event,
         std::initializer_list<LogField> fields = {});

}  // namespace payments

#endif  // LIB_COMMON_LOGGER_H_
