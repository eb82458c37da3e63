#include "tests/emulator/faults.h"

#include "tests/emulator/problem_details.h"

namespace dojo_emulator {
namespace {

bool PathMatches(const std::string& pattern, const std::string& path) {
  std::vector<std::string> want = SplitPath(pattern);
  std::vector<std::string> got = SplitPath(path);
  if (want.size() != got.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] != "*" && want[i] != got[i]) return false;
  }
  return true;
}

std::optional<std::string> OptionalString(const Json& spec, const char* name,
                                          std::optional<std::string>* out) {
  auto it = spec.find(name);
  if (it == spec.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) {
    *out = it->get<std::string>();
  } else if (it->is_number_integer()) {
    *out = std::to_string(it->get<int64_t>());
  } else {
    return std::string(name) + " must be a string";
  }
  return std::nullopt;
}

std::optional<std::string> OptionalBool(const Json& spec, const char* name,
                                        bool* out) {
  auto it = spec.find(name);
  if (it == spec.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return std::string(name) + " must be a boolean";
  *out = it->get<bool>();
  return std::nullopt;
}

constexpr const char* kKnownStepKeys[] = {
    "status",          "kind",    "body",          "contentType",
    "retryAfter",      "headers", "delayMs",       "drop",
    "processThenDrop", "repeat",  "commitDelayMs", "processThenStatus"};

}  // namespace

std::optional<std::string> FaultStep::Parse(const Json& spec, FaultStep* out) {
  if (!spec.is_object()) return "each response must be an object";
  for (const auto& [key, value] : spec.items()) {
    bool known = false;
    for (const char* k : kKnownStepKeys) known = known || key == k;
    if (!known) return "unknown response field '" + key + "'";
  }
  FaultStep step;
  if (auto it = spec.find("status"); it != spec.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 100 ||
        it->get<int64_t>() > 599) {
      return "status must be an integer in 100..599";
    }
    step.status = it->get<int>();
  }
  if (auto it = spec.find("kind"); it != spec.end() && !it->is_null()) {
    if (!it->is_string()) return "kind must be a string";
    step.kind = it->get<std::string>();
    if (step.kind != "problem" && step.kind != "empty" && step.kind != "html" &&
        step.kind != "malformed") {
      return "kind must be one of problem, empty, html, malformed";
    }
  }
  if (auto e = OptionalString(spec, "body", &step.body)) return e;
  if (auto e = OptionalString(spec, "contentType", &step.content_type))
    return e;
  if (auto e = OptionalString(spec, "retryAfter", &step.retry_after)) return e;
  if (auto it = spec.find("headers"); it != spec.end() && !it->is_null()) {
    if (!it->is_object()) return "headers must be an object of strings";
    for (const auto& [name, value] : it->items()) {
      if (!value.is_string()) return "headers must be an object of strings";
      step.headers.emplace_back(name, value.get<std::string>());
    }
  }
  if (auto it = spec.find("delayMs"); it != spec.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 ||
        it->get<int64_t>() > 3600 * 1000) {
      return "delayMs must be an integer in 0..3600000";
    }
    step.delay = std::chrono::milliseconds(it->get<int64_t>());
  }
  if (auto it = spec.find("commitDelayMs");
      it != spec.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 ||
        it->get<int64_t>() > 3600 * 1000) {
      return "commitDelayMs must be an integer in 0..3600000";
    }
    step.commit_delay = std::chrono::milliseconds(it->get<int64_t>());
  }
  if (auto it = spec.find("repeat"); it != spec.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
        it->get<int64_t>() > 1000000) {
      return "repeat must be an integer in 1..1000000";
    }
    step.repeat = it->get<int>();
  }
  if (auto e = OptionalBool(spec, "drop", &step.drop)) return e;
  if (auto e = OptionalBool(spec, "processThenDrop", &step.process_then_drop)) {
    return e;
  }
  if (auto it = spec.find("processThenStatus");
      it != spec.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 100 ||
        it->get<int64_t>() > 599) {
      return "processThenStatus must be an integer in 100..599";
    }
    if (step.status || step.drop || step.process_then_drop ||
        !step.kind.empty() || step.body) {
      return "processThenStatus answers in place of the real handler's "
             "answer: it does not go with status, kind, body or drop";
    }
    step.process_then_status = it->get<int>();
  }
  // A kind without a status gets the status that kind usually comes with.
  if (!step.status && !step.drop && !step.process_then_drop &&
      !step.process_then_status) {
    if (step.kind == "html") step.status = 502;
    if (step.kind == "malformed") step.status = 200;
    if (step.kind == "problem" || step.kind == "empty" || step.body) {
      return "status is required with kind " +
             (step.kind.empty() ? std::string("body") : step.kind);
    }
  }
  if (step.commit_delay.count() > 0 && !step.RunsHandler()) {
    return "commitDelayMs delays the real handler's commit: it does not go "
           "with status, kind, body or drop (use processThenDrop to close "
           "without answering)";
  }
  *out = std::move(step);
  return std::nullopt;
}

Json FaultStep::ToJson() const {
  Json j = Json::object();
  if (status) j["status"] = *status;
  if (!kind.empty()) j["kind"] = kind;
  if (body) j["body"] = *body;
  if (content_type) j["contentType"] = *content_type;
  if (retry_after) j["retryAfter"] = *retry_after;
  if (!headers.empty()) {
    Json h = Json::object();
    for (const auto& [name, value] : headers) h[name] = value;
    j["headers"] = h;
  }
  if (delay.count() > 0) j["delayMs"] = delay.count();
  if (drop) j["drop"] = true;
  if (process_then_drop) j["processThenDrop"] = true;
  if (process_then_status) j["processThenStatus"] = *process_then_status;
  if (commit_delay.count() > 0) j["commitDelayMs"] = commit_delay.count();
  if (repeat != 1) j["repeat"] = repeat;
  return j;
}

std::optional<std::string> FaultRegistry::Add(const Json& spec, uint64_t* id) {
  if (!spec.is_object()) return "body must be a JSON object";
  Fault fault;
  if (auto it = spec.find("method"); it != spec.end() && !it->is_null()) {
    if (!it->is_string()) return "method must be a string";
    fault.method = it->get<std::string>();
  }
  auto path = spec.find("path");
  if (path == spec.end() || !path->is_string() ||
      path->get<std::string>().empty() || path->get<std::string>()[0] != '/') {
    return "path must be a string starting with '/'";
  }
  fault.path = path->get<std::string>();
  auto responses = spec.find("responses");
  if (responses == spec.end() || !responses->is_array() || responses->empty()) {
    return "responses must be a non-empty array";
  }
  for (const Json& r : *responses) {
    FaultStep step;
    if (auto error = FaultStep::Parse(r, &step)) return error;
    fault.steps.push_back(std::move(step));
  }
  std::lock_guard<std::mutex> lock(mu_);
  fault.id = next_id_++;
  *id = fault.id;
  faults_.push_back(std::move(fault));
  return std::nullopt;
}

std::optional<FaultStep> FaultRegistry::Next(const std::string& method,
                                             const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    if (!PathMatches(it->path, path)) continue;
    FaultStep step = it->steps.front();
    step.repeat = 1;
    if (--it->steps.front().repeat == 0) it->steps.pop_front();
    if (it->steps.empty()) faults_.erase(it);
    return step;
  }
  return std::nullopt;
}

Json FaultRegistry::ToJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  Json list = Json::array();
  for (const Fault& f : faults_) {
    Json steps = Json::array();
    for (const FaultStep& s : f.steps) steps.push_back(s.ToJson());
    list.push_back({{"id", f.id},
                    {"method", f.method},
                    {"path", f.path},
                    {"responses", steps}});
  }
  return Json{{"faults", list}};
}

void FaultRegistry::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

Response RenderFaultResponse(const FaultStep& step,
                             const std::string& trace_id) {
  int status = step.status.value_or(500);
  Response res;
  if (step.body) {
    res = MakeResponse(static_cast<http::status>(status),
                       step.content_type.value_or("application/json"),
                       *step.body);
  } else if (step.kind == "empty") {
    res = MakeResponse(static_cast<http::status>(status), "", "");
  } else if (step.kind == "html") {
    std::string code = std::to_string(status);
    std::string reason(
        http::obsolete_reason(static_cast<http::status>(status)));
    res = MakeResponse(static_cast<http::status>(status), "text/html",
                       "<html>\r\n<head><title>" + code + " " + reason +
                           "</title></head>\r\n<body>\r\n<center><h1>" + code +
                           " " + reason +
                           "</h1></center>\r\n</body>\r\n</html>\r\n");
  } else if (step.kind == "malformed") {
    res = MakeResponse(static_cast<http::status>(status),
                       "application/json; charset=utf-8", "{\"id\": \"pi_");
  } else {
    res = ProblemResponse(status, "Injected fault", trace_id);
  }
  if (step.content_type) res.set(http::field::content_type, *step.content_type);
  if (step.retry_after) res.set(http::field::retry_after, *step.retry_after);
  for (const auto& [name, value] : step.headers) res.set(name, value);
  return res;
}

}  // namespace dojo_emulator
