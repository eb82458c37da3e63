// Scripted faults: canned responses, delays and dropped connections that
// replace or shape the answers to matching Dojo API requests.
#ifndef TESTS_EMULATOR_FAULTS_H_
#define TESTS_EMULATOR_FAULTS_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/emulator/http_types.h"

namespace dojo_emulator {

// One scripted answer. New knobs go here (parsed in FaultStep::Parse and
// echoed in ToJson); the dispatcher reads them through the helpers below.
struct FaultStep {
  // The scripted status; absent means "run the real handler" (useful with
  // delay_ms or process_then_drop).
  std::optional<int> status;
  // problem (default) | empty | html | malformed.
  std::string kind;
  std::optional<std::string> body;          // raw body, overrides `kind`
  std::optional<std::string> content_type;  // overrides the kind's type
  std::optional<std::string> retry_after;   // Retry-After header value
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::chrono::milliseconds delay{0};  // answer (or drop) this much later
  bool drop = false;                   // close without answering or handling
  bool process_then_drop = false;      // run the real handler, then close
  // Run the real handler, then answer with this status (problem details)
  // instead of its answer: e.g. a 5xx after the effect happened.
  std::optional<int> process_then_status;
  // Slow commit: the real handler runs at once (with the receipt time), but
  // its writes become visible only this much later, when the answer (or the
  // drop) is also released. Zero: off.
  std::chrono::milliseconds commit_delay{0};
  int repeat = 1;  // the step is used this many times

  // Parses one element of "responses"; returns an error message or nullopt.
  static std::optional<std::string> Parse(const Json& spec, FaultStep* out);
  Json ToJson() const;

  // True when the real handler must run (the step only shapes its answer).
  bool RunsHandler() const {
    return process_then_drop || process_then_status ||
           (!drop && !status && kind.empty() && !body);
  }
};

// A sequence of steps for requests matching a method and path pattern.
struct Fault {
  uint64_t id = 0;
  std::string method;           // "" matches any method
  std::string path;             // segments; "*" matches exactly one segment
  std::deque<FaultStep> steps;  // steps.front().repeat counts down
};

// Thread-safe.
class FaultRegistry final {
 public:
  // Parses {"method","path","responses":[...]}; returns an error message or
  // nullopt, and the new fault's id.
  std::optional<std::string> Add(const Json& spec, uint64_t* id);

  // Pops the next step of the oldest fault matching the request, if any.
  std::optional<FaultStep> Next(const std::string& method,
                                const std::string& path);

  // {"faults":[{"id","method","path","responses":[remaining...]}]}
  Json ToJson() const;
  void Clear();

 private:
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::vector<Fault> faults_;
};

// The canned response of a step that does not run the real handler.
Response RenderFaultResponse(const FaultStep& step,
                             const std::string& trace_id);

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_FAULTS_H_
