#include "lib/common/logger.h"

#include <cstdio>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace payments {
namespace {

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

std::string FormatLogLine(LogLevel level, absl::string_view event,
                          const LogFields& fields) {
  nlohmann::ordered_json line;
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                absl::UTCTimeZone());
  line["level"] = LevelName(level);
  line["event"] = event;
  for (const LogField& field : fields) {
    std::visit([&](const auto& value) { line[field.key] = value; },
               field.value);
  }
  // Replace invalid UTF-8 instead of throwing: log fields may echo input.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Log(LogLevel level, absl::string_view event,
         std::initializer_list<LogField> fields) {
  Log(level, event, LogFields(fields));
}

void Log(LogLevel level, absl::string_view event, const LogFields& fields) {
  static std::mutex mutex;
  const std::string line = FormatLogLine(level, event, fields);
  std::lock_guard<std::mutex> lock(mutex);
  std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace payments
