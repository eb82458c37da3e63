#include "tests/unit/payments/fake_dojo.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/dojo/dojo_json.h"
#include "nlohmann/json.hpp"

namespace payments::testing {
namespace {

using Json = nlohmann::json;

std::string DojoTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

std::string AccountOf(const dojo::HttpRequest& request) {
  for (const auto& [name, value] : request.headers) {
    if (name == "Authorization" && value.size() >= 4) {
      return value.substr(value.size() - 4);
    }
  }
  return "";
}

Json ToJson(const FakeDojo::Intent& intent) {
  return {
      {"id", intent.id},
      {"reference", intent.reference},
      {"amount", {{"value", intent.amount}, {"currencyCode", intent.currency}}},
      {"status", intent.status},
      {"createdAt", DojoTime(intent.created_at)}};
}

dojo::HttpResponse Answer(int code, std::string body) {
  dojo::HttpResponse response;
  response.status_code = code;
  response.body = std::move(body);
  return response;
}

absl::Status TransportFailure(absl::StatusCode code,
                              dojo::TransportStage stage) {
  absl::Status status(code, "scripted transport failure");
  dojo::SetTransportStage(status, stage);
  return status;
}

}  // namespace

void FakeDojo::Send(dojo::HttpRequest request, dojo::HttpCallback done) {
  absl::AnyInvocable<void() &&> hook;
  if (request.method == "GET") {
    absl::MutexLock lock(&mu_);
    hook = std::move(before_next_get_);
    before_next_get_ = nullptr;
  }
  if (hook != nullptr) std::move(hook)();
  absl::StatusOr<dojo::HttpResponse> result;
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(absl::StrCat(
        request.method, " ",
        request.url.substr(request.url.find('/', request.url.find("//") + 2))));
    result = Handle(request, &done);
    if (done == nullptr) return;  // Held.
  }
  std::move(done)(std::move(result));
}

absl::StatusOr<dojo::HttpResponse> FakeDojo::Handle(
    const dojo::HttpRequest& request, dojo::HttpCallback* done) {
  const std::string path =
      request.url.substr(request.url.find('/', request.url.find("//") + 2));
  const std::string account = AccountOf(request);
  const absl::Time now = clock_.Now();
  if (request.method == "POST" && path == "/payment-intents") {
    CreateFault fault = CreateFault::kHold;
    bool scripted = !faults_.empty();
    if (scripted) {
      fault = faults_.front();
      faults_.pop_front();
    }
    if (scripted && fault == CreateFault::kHold) {
      held_.push_back({request, std::move(*done)});
      *done = nullptr;
      return absl::UnavailableError("held");
    }
    if (!scripted) {
      // No fault: a plain 200.
      return Create(request, CreateFault::kHold);
    }
    return Create(request, fault);
  }
  if (request.method == "POST" && path == "/payment-intents/search") {
    return Search(account, request.body);
  }
  if (absl::StartsWith(path, "/payment-intents/")) {
    std::string id = path.substr(std::string("/payment-intents/").size());
    id = id.substr(0, id.find('?'));
    auto it = std::find_if(intents_.begin(), intents_.end(), [&](auto& i) {
      return i.id == id && i.account == account && i.committed_at <= now;
    });
    if (it == intents_.end()) return Answer(404, "");
    if (request.method == "DELETE") {
      if (it->status != "Created") return Answer(409, "");
      it->status = "Canceled";
    }
    return Answer(200, ToJson(*it).dump());
  }
  return Answer(404, "");
}

absl::StatusOr<dojo::HttpResponse> FakeDojo::Create(
    const dojo::HttpRequest& request, CreateFault fault) {
  if (fault == CreateFault::kNeverSent) {
    return TransportFailure(absl::StatusCode::kUnavailable,
                            dojo::TransportStage::kNotSent);
  }
  if (fault == CreateFault::kTimeoutUnprocessed) {
    return TransportFailure(absl::StatusCode::kDeadlineExceeded,
                            dojo::TransportStage::kSent);
  }
  if (fault == CreateFault::kRejected) {
    return Answer(400, R"({"title":"bad","status":400})");
  }
  const Json body = Json::parse(request.body);
  const absl::Time now = clock_.Now();
  Intent intent;
  intent.account = AccountOf(request);
  intent.reference = body.at("reference").get<std::string>();
  intent.amount = body.at("amount").at("value").get<int64_t>();
  intent.currency = body.at("amount").at("currencyCode").get<std::string>();
  intent.created_at = now;
  intent.committed_at =
      fault == CreateFault::kSlowCommit ? now + slow_commit_ : now;
  intent.id = Insert(intent);
  intent = intents_.back();
  switch (fault) {
    case CreateFault::kProcessThenDrop:
      return TransportFailure(absl::StatusCode::kUnavailable,
                              dojo::TransportStage::kSent);
    case CreateFault::kSlowCommit:
      return TransportFailure(absl::StatusCode::kDeadlineExceeded,
                              dojo::TransportStage::kSent);
    case CreateFault::kServerErrorAfterProcessing:
      return Answer(500, "");
    case CreateFault::kWrongAnswer: {
      Intent other = intent;
      other.id += "x";
      other.reference += "-someone-else";
      return Answer(200, ToJson(other).dump());
    }
    default:
      return Answer(200, ToJson(intent).dump());
  }
}

absl::StatusOr<dojo::HttpResponse> FakeDojo::Search(
    const std::string& account, const std::string& body_text) const {
  const Json body = Json::parse(body_text);
  windows_.emplace_back(body.at("startDate").get<std::string>(),
                        body.at("endDate").get<std::string>());
  const absl::Time start =
      *dojo::ParseDojoTime(body.at("startDate").get<std::string>());
  const absl::Time end =
      *dojo::ParseDojoTime(body.at("endDate").get<std::string>());
  const int limit = body.at("cursor").at("limit").get<int>();
  int64_t before_index = static_cast<int64_t>(intents_.size());
  if (body.at("cursor").contains("after")) {
    absl::SimpleAtoi(body["cursor"]["after"].get<std::string>(), &before_index);
  }
  const absl::Time now = clock_.Now();
  Json data = Json::array();
  int64_t last = -1;
  for (int64_t i = before_index - 1; i >= 0; --i) {
    const Intent& intent = intents_[i];
    if (intent.account != account || intent.created_at < start ||
        intent.created_at > end || intent.committed_at + search_lag_ > now) {
      continue;
    }
    if (static_cast<int>(data.size()) == limit) break;
    data.push_back(ToJson(intent));
    last = i;
  }
  Json page = {{"data", data}};
  if (static_cast<int>(data.size()) == limit)
    page["after"] = absl::StrCat(last);
  return Answer(200, page.dump());
}

std::string FakeDojo::Insert(Intent intent) {
  intent.id = absl::StrCat("pi_sandbox_fake", next_id_++);
  intents_.push_back(intent);
  return intent.id;
}

void FakeDojo::FailNextCreate(CreateFault fault) {
  absl::MutexLock lock(&mu_);
  faults_.push_back(fault);
}

void FakeDojo::set_search_lag(absl::Duration lag) {
  absl::MutexLock lock(&mu_);
  search_lag_ = lag;
}

void FakeDojo::set_slow_commit(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  slow_commit_ = delay;
}

void FakeDojo::ReleaseHeld(CreateFault fault) {
  std::vector<std::pair<dojo::HttpCallback, absl::StatusOr<dojo::HttpResponse>>>
      answers;
  {
    absl::MutexLock lock(&mu_);
    for (Held& held : held_) {
      answers.emplace_back(std::move(held.done), Create(held.request, fault));
    }
    held_.clear();
  }
  for (auto& [done, result] : answers) std::move(done)(std::move(result));
}

void FakeDojo::AddIntents(const std::string& account, int count) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  for (int i = 0; i < count; ++i) {
    Insert({.id = "",
            .account = account,
            .reference = absl::StrCat("busy-", i),
            .amount = 100,
            .currency = "GBP",
            .status = "Created",
            .created_at = now,
            .committed_at = now});
  }
}

std::string FakeDojo::AddIntent(const std::string& account,
                                const std::string& reference, int64_t amount,
                                absl::Time created_at) {
  absl::MutexLock lock(&mu_);
  return Insert({.id = "",
                 .account = account,
                 .reference = reference,
                 .amount = amount,
                 .currency = "GBP",
                 .status = "Created",
                 .created_at = created_at,
                 .committed_at = created_at});
}

void FakeDojo::SetStatus(const std::string& id, const std::string& status) {
  absl::MutexLock lock(&mu_);
  for (Intent& intent : intents_) {
    if (intent.id == id) intent.status = status;
  }
}

void FakeDojo::BeforeNextGet(absl::AnyInvocable<void() &&> hook) {
  absl::MutexLock lock(&mu_);
  before_next_get_ = std::move(hook);
}

std::vector<FakeDojo::Intent> FakeDojo::IntentsWithReference(
    const std::string& reference) const {
  absl::MutexLock lock(&mu_);
  std::vector<Intent> found;
  for (const Intent& intent : intents_) {
    if (intent.reference == reference) found.push_back(intent);
  }
  return found;
}

std::vector<std::string> FakeDojo::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

int FakeDojo::CountRequests(const std::string& method_and_path) const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(
      std::count(requests_.begin(), requests_.end(), method_and_path));
}

std::vector<std::pair<std::string, std::string>> FakeDojo::search_windows()
    const {
  absl::MutexLock lock(&mu_);
  return windows_;
}

int FakeDojo::held() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(held_.size());
}

}  // namespace payments::testing
