// RFC 7807 problem details in the shapes ASP.NET (and so Dojo) produces.
#ifndef TESTS_EMULATOR_PROBLEM_DETAILS_H_
#define TESTS_EMULATOR_PROBLEM_DETAILS_H_

#include <string>

#include "tests/emulator/http_types.h"

namespace dojo_emulator {

// {"type","title","status","detail"?,"traceId"} with
// Content-Type application/problem+json. An empty `detail` is left out.
Response ProblemResponse(int status, const std::string& detail,
                         const std::string& trace_id);

// The ASP.NET validation problem: 400 with an `errors` map
// ({"Field.Path": ["message", ...]}).
Response ValidationProblemResponse(const Json& errors,
                                   const std::string& trace_id);

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_PROBLEM_DETAILS_H_
