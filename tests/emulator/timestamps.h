// Timestamps and time spans in the formats Dojo's .NET API uses.
#ifndef TESTS_EMULATOR_TIMESTAMPS_H_
#define TESTS_EMULATOR_TIMESTAMPS_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dojo_emulator {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// ISO 8601 UTC with 7 fractional digits, e.g. "2024-04-07T23:25:44.8022580Z".
std::string FormatTimestamp(TimePoint t);

// Accepts ISO 8601 date-times with 0..9 fractional digits and "Z", an offset
// ("+01:00") or no zone (taken as UTC), and plain dates ("2024-04-07").
std::optional<TimePoint> ParseTimestamp(std::string_view text);

// A .NET TimeSpan: "[d.]hh:mm:ss[.fffffff]".
std::optional<std::chrono::seconds> ParseTimeSpan(std::string_view text);

// True for "YYYY-MM-DD" with a plausible month and day (the version header).
bool IsApiVersion(std::string_view text);

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_TIMESTAMPS_H_
