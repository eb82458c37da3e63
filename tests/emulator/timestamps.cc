#include "tests/emulator/timestamps.h"

#include <ctime>
#include <regex>

namespace dojo_emulator {

std::string FormatTimestamp(TimePoint t) {
  auto since_epoch = t.time_since_epoch();
  auto secs = std::chrono::floor<std::chrono::seconds>(since_epoch);
  auto ticks =
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs)
          .count() /
      100;
  std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%07lldZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<long long>(ticks));
  return buf;
}

std::optional<TimePoint> ParseTimestamp(std::string_view text) {
  static const std::regex kPattern(
      R"(^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|z|[+-]\d{2}:?\d{2})?$)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(text.begin(), text.end(), m, kPattern)) {
    return std::nullopt;
  }
  auto num = [&](int i) { return m[i].matched ? std::stoi(m[i].str()) : 0; };
  std::tm tm{};
  tm.tm_year = num(1) - 1900;
  tm.tm_mon = num(2) - 1;
  tm.tm_mday = num(3);
  tm.tm_hour = num(4);
  tm.tm_min = num(5);
  tm.tm_sec = num(6);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59) {
    return std::nullopt;
  }
  std::time_t secs = timegm(&tm);
  int64_t nanos = 0;
  if (m[7].matched) {
    std::string frac = m[7].str();
    frac.resize(9, '0');
    nanos = std::stoll(frac);
  }
  int64_t offset_secs = 0;
  if (m[8].matched && m[8].str() != "Z" && m[8].str() != "z") {
    std::string zone = m[8].str();
    int sign = zone[0] == '-' ? -1 : 1;
    zone.erase(0, 1);
    if (zone.size() == 5) zone.erase(2, 1);
    int hours = std::stoi(zone.substr(0, 2));
    int minutes = std::stoi(zone.substr(2, 2));
    if (hours > 14 || minutes > 59) return std::nullopt;
    offset_secs = sign * (hours * 3600 + minutes * 60);
  }
  return TimePoint(std::chrono::duration_cast<Clock::duration>(
      std::chrono::seconds(secs - offset_secs) +
      std::chrono::nanoseconds(nanos)));
}

std::optional<std::chrono::seconds> ParseTimeSpan(std::string_view text) {
  static const std::regex kPattern(
      R"(^(?:(\d{1,8})\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d{1,7})?$)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(text.begin(), text.end(), m, kPattern)) {
    return std::nullopt;
  }
  int64_t days = m[1].matched ? std::stoll(m[1].str()) : 0;
  int64_t hours = std::stoll(m[2].str());
  int64_t minutes = std::stoll(m[3].str());
  int64_t seconds = std::stoll(m[4].str());
  if (hours > 23 || minutes > 59 || seconds > 59) return std::nullopt;
  return std::chrono::seconds(((days * 24 + hours) * 60 + minutes) * 60 +
                              seconds);
}

bool IsApiVersion(std::string_view text) {
  static const std::regex kPattern(
      R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$)");
  return std::regex_match(text.begin(), text.end(), kPattern);
}

}  // namespace dojo_emulator
