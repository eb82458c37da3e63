// The payment lifecycle RPCs (CancelIntent, CaptureIntent, ReverseIntent,
// RefundIntent, GetRefund, ListIntents) against the real server and the Dojo
// emulator over loopback. The emulator is the ground truth: its request log
// (what was sent, with which idempotencyKey), its intents (status,
// captures, refundedAmount) and its refund lists.
//
//  - OperationsTest: every RPC's happy path, every precondition (refused
//    with FAILED_PRECONDITION and nothing money-moving sent), invalid
//    requests (nothing sent at all), key replay and mismatch.
//  - OperationFaultMatrixTest: capture, refund and reversal (and cancel,
//    where Dojo's answer is lost after the effect) against each way Dojo
//    can lose an answer or be slow, and a server killed mid-call; in every
//    cell the first caller's exact code, exactly one effect once settled,
//    and a later call returning it. The matrix is printed at the end of the
//    suite (and appended to build/operations-fault-matrix.txt).
//  - PostgresOperationsTest: two replicas on one PostgreSQL; concurrent
//    partial refunds and captures never exceed the limit.

#include <openssl/sha.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "payments/v1/payments_service.grpc.pb.h"
#include "tests/integration/postgres_server.h"
#include "tests/integration/rpc_test_util.h"
#include "tests/integration/stack_test.h"
#include "tests/integration/test_stack.h"
#include "tests/support/wait_for.h"

namespace payments::testing {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr absl::Duration kCallDeadline = absl::Seconds(5);
// Short enough for a test, longer than every delay scripted below.
constexpr absl::Duration kSettlePeriod = absl::Seconds(10);

StackOptions OperationOptions(int servers = 1, std::string store = "") {
  return QuickSettleOptions(kSettlePeriod, servers, std::move(store));
}

std::string CodeName(const grpc::Status& status) {
  static const std::map<grpc::StatusCode, std::string> kNames = {
      {grpc::StatusCode::OK, "OK"},
      {grpc::StatusCode::CANCELLED, "CANCELLED"},
      {grpc::StatusCode::UNKNOWN, "UNKNOWN"},
      {grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT"},
      {grpc::StatusCode::DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"},
      {grpc::StatusCode::NOT_FOUND, "NOT_FOUND"},
      {grpc::StatusCode::ALREADY_EXISTS, "ALREADY_EXISTS"},
      {grpc::StatusCode::FAILED_PRECONDITION, "FAILED_PRECONDITION"},
      {grpc::StatusCode::ABORTED, "ABORTED"},
      {grpc::StatusCode::INTERNAL, "INTERNAL"},
      {grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE"}};
  auto it = kNames.find(status.error_code());
  return it == kNames.end() ? absl::StrCat(status.error_code()) : it->second;
}

// "CODE REASON" (or "OK"), for messages and the matrix.
std::string Outcome(const grpc::Status& status) {
  if (status.ok()) return "OK";
  const std::string reason = ReasonOf(status);
  return reason.empty() ? CodeName(status)
                        : absl::StrCat(CodeName(status), " ", reason);
}

// The refund idempotencyKey the service must send for (account, intent,
// refund key), computed here independently of the service's code:
// "pgw1-" + hex SHA-256 of the length-prefixed parts.
std::string ExpectedRefundIdempotencyKey(const std::string& account,
                                         const std::string& intent_id,
                                         const std::string& refund_key) {
  const std::string input =
      absl::StrCat(account.size(), ":", account, intent_id.size(), ":",
                   intent_id, refund_key.size(), ":", refund_key);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         digest);
  return absl::StrCat(
      "pgw1-", absl::BytesToHexString(absl::string_view(
                   reinterpret_cast<const char*>(digest), sizeof(digest))));
}

class OperationsTest : public StackTest {
 protected:
  static void SetUpTestSuite() { StartStack(OperationOptions()); }

  static std::string Unique(absl::string_view what) {
    return absl::StrCat("Ops-", what, "-", absl::ToUnixMicros(absl::Now()));
  }

  // ---- Intents, through the service and the emulator's control API.

  static v1::PaymentIntent NewIntent(const std::string& reference,
                                     int64_t value, v1::CaptureMode mode,
                                     int server = 0) {
    v1::CreateIntentRequest request = MinimalCreate(reference, value);
    request.set_capture_mode(mode);
    if (mode == v1::CAPTURE_MODE_MANUAL) {
      request.set_auto_expire_action(v1::AUTO_EXPIRE_ACTION_RELEASE);
    }
    v1::CreateIntentResponse response;
    grpc::Status status = Stub(server)->CreateIntent(
        ContextWithDeadline().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.intent();
  }
  // A manual-capture intent of `value` GBP, Created.
  static std::string Created(absl::string_view what, int64_t value = 1000) {
    return NewIntent(Unique(what), value, v1::CAPTURE_MODE_MANUAL).id();
  }
  // A manual-capture intent of `value` GBP the customer has paid:
  // Authorized, nothing captured.
  static std::string Authorized(absl::string_view what, int64_t value = 1000) {
    const std::string id = Created(what, value);
    Authorize(id);
    return id;
  }
  // An auto-capture intent of `value` GBP the customer has paid: Captured
  // (one full capture).
  static std::string Captured(absl::string_view what, int64_t value = 1000) {
    const std::string id =
        NewIntent(Unique(what), value, v1::CAPTURE_MODE_AUTO).id();
    Authorize(id);
    return id;
  }
  static void Authorize(const std::string& id) {
    auto paid = stack_->Control(
        "POST", absl::StrCat("/_emulator/payment-intents/", id, "/authorize"));
    EXPECT_TRUE(paid.ok()) << paid.status();
  }
  // The intent as the emulator holds it (any status).
  static json AtDojo(const std::string& id) {
    auto intent =
        stack_->Control("GET", absl::StrCat("/_emulator/payment-intents/", id));
    EXPECT_TRUE(intent.ok()) << intent.status();
    return intent.ok() ? *intent : json::object();
  }
  static std::vector<json> DojoCaptures(const std::string& id) {
    return AtDojo(id).value("captures", json::array()).get<std::vector<json>>();
  }
  static std::vector<json> DojoRefunds(const std::string& id) {
    auto refunds = stack_->Control(
        "GET", absl::StrCat("/_emulator/payment-intents/", id, "/refunds"));
    EXPECT_TRUE(refunds.ok()) << refunds.status();
    return refunds.ok() ? (*refunds)["data"].get<std::vector<json>>()
                        : std::vector<json>{};
  }
  static std::string DojoStatus(const std::string& id) {
    return AtDojo(id).value("status", "");
  }

  // Dojo API requests about `id` (its path names it), in order.
  static std::vector<json> RequestsFor(const std::string& id) {
    std::vector<json> about;
    for (json& entry : stack_->UpstreamRequests()) {
      const std::string path = entry.value("path", "");
      if (path == "/payment-intents/" + id ||
          absl::StartsWith(path, "/payment-intents/" + id + "/")) {
        about.push_back(std::move(entry));
      }
    }
    return about;
  }
  // "METHOD suffix" of every money-moving request about `id`: POST to
  // captures, refunds or reversal, and DELETE.
  static std::vector<std::string> MoneyMoving(const std::string& id) {
    std::vector<std::string> moving;
    for (const json& entry : RequestsFor(id)) {
      const std::string method = entry.value("method", "");
      std::string path = entry.value("path", "");
      path.erase(0, std::string("/payment-intents/").size() + id.size());
      if (method == "DELETE" ||
          (method == "POST" && (path == "/captures" || path == "/refunds" ||
                                path == "/reversal"))) {
        moving.push_back(absl::StrCat(method, " ", path.empty() ? "/" : path));
      }
    }
    return moving;
  }
  static int CountMoving(const std::string& id, const std::string& what) {
    const std::vector<std::string> moving = MoneyMoving(id);
    return static_cast<int>(std::count(moving.begin(), moving.end(), what));
  }

  // ---- The RPCs.

  static v1::Money Gbp(int64_t value, const std::string& currency = "GBP") {
    v1::Money money;
    money.set_value(value);
    money.set_currency_code(currency);
    return money;
  }
  static grpc::Status Capture(const std::string& id, const std::string& key,
                              int64_t amount,
                              v1::CaptureIntentResponse* response = nullptr,
                              int server = 0,
                              absl::Duration deadline = absl::Seconds(10),
                              const std::string& currency = "GBP") {
    v1::CaptureIntentRequest request;
    request.set_id(id);
    request.set_capture_key(key);
    *request.mutable_amount() = Gbp(amount, currency);
    v1::CaptureIntentResponse ignored;
    return Stub(server)->CaptureIntent(ContextWithDeadline(deadline).get(),
                                       request, response ? response : &ignored);
  }
  static grpc::Status Refund(const std::string& id, const std::string& key,
                             int64_t amount,
                             v1::RefundIntentResponse* response = nullptr,
                             int server = 0,
                             absl::Duration deadline = absl::Seconds(10),
                             const std::string& reason = "",
                             const std::string& currency = "GBP") {
    v1::RefundIntentRequest request;
    request.set_id(id);
    request.set_refund_key(key);
    *request.mutable_amount() = Gbp(amount, currency);
    request.set_reason(reason);
    v1::RefundIntentResponse ignored;
    return Stub(server)->RefundIntent(ContextWithDeadline(deadline).get(),
                                      request, response ? response : &ignored);
  }
  static grpc::Status Reverse(const std::string& id,
                              v1::ReverseIntentResponse* response = nullptr,
                              int server = 0,
                              absl::Duration deadline = absl::Seconds(10)) {
    v1::ReverseIntentRequest request;
    request.set_id(id);
    v1::ReverseIntentResponse ignored;
    return Stub(server)->ReverseIntent(ContextWithDeadline(deadline).get(),
                                       request, response ? response : &ignored);
  }
  static grpc::Status Cancel(const std::string& id,
                             v1::CancelIntentResponse* response = nullptr,
                             int server = 0,
                             absl::Duration deadline = absl::Seconds(10)) {
    v1::CancelIntentRequest request;
    request.set_id(id);
    v1::CancelIntentResponse ignored;
    return Stub(server)->CancelIntent(ContextWithDeadline(deadline).get(),
                                      request, response ? response : &ignored);
  }

  // ---- Error details.

  // FAILED_PRECONDITION with `reason` and at least `metadata`.
  static void ExpectRefused(
      const grpc::Status& status, const std::string& reason,
      const std::map<std::string, std::string>& metadata) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << Outcome(status) << ": " << status.error_message();
    auto info = FindDetail<google::rpc::ErrorInfo>(status);
    ASSERT_TRUE(info.has_value()) << status.error_message();
    EXPECT_EQ(info->reason(), reason);
    for (const auto& [name, value] : metadata) {
      auto it = info->metadata().find(name);
      ASSERT_NE(it, info->metadata().end()) << "no metadata " << name;
      EXPECT_EQ(it->second, value) << "metadata " << name;
    }
  }
  // INVALID_ARGUMENT whose BadRequest names exactly `fields`.
  static void ExpectInvalid(const grpc::Status& status,
                            const std::vector<std::string>& fields) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Outcome(status) << ": " << status.error_message();
    auto bad = FindDetail<google::rpc::BadRequest>(status);
    ASSERT_TRUE(bad.has_value()) << status.error_message();
    std::vector<std::string> named;
    for (const auto& violation : bad->field_violations()) {
      named.push_back(violation.field());
    }
    EXPECT_EQ(named, fields) << status.error_message();
  }

  // ---- Metrics.

  // Operations of `kind` settled so far (found, or settled as not created)
  // over the first `servers` servers.
  static double Settled(const std::string& kind, int servers = 1) {
    double settled = 0;
    for (int i = 0; i < servers; ++i) {
      for (const char* result : {"found", "not_created", "unsent"}) {
        settled += std::max(
            0.0, Metric(absl::StrCat(R"(payments_reconciliations_total{kind=")",
                                     kind, R"(",result=")", result, "\"}"),
                        i));
      }
    }
    return settled;
  }
  // No operation of `kind` (nor any intent lock) left unknown on any of
  // the first `servers` servers, by the gauge every reconciler round
  // refreshes.
  static bool NoneUnknown(const std::string& kind, int servers = 1) {
    for (int i = 0; i < servers; ++i) {
      for (const std::string& k : {kind, std::string("intent_lock")}) {
        if (Metric(
                absl::StrCat(R"(payments_unknown_operations{kind=")", k, "\"}"),
                i) > 0) {
          return false;
        }
      }
    }
    return true;
  }
};

// ---------------------------------------------------------------------------
// Happy paths.

TEST_F(OperationsTest, CapturesInPartsThenRefundsAndReadsTheRefund) {
  const std::string id = Authorized("capture-refund", 1000);

  v1::CaptureIntentResponse first;
  ASSERT_TRUE(Capture(id, "cap-1", 400, &first).ok());
  EXPECT_TRUE(absl::StartsWith(first.capture_id(), "cp_"))
      << first.capture_id();
  EXPECT_FALSE(first.idempotent_replay());
  EXPECT_EQ(first.intent().id(), id);
  EXPECT_EQ(first.intent().status(), v1::PAYMENT_INTENT_STATUS_AUTHORIZED)
      << "a partial capture leaves the intent Authorized";
  ASSERT_EQ(first.intent().captures_size(), 1);
  EXPECT_EQ(first.intent().captures(0).id(), first.capture_id());
  EXPECT_EQ(first.intent().captures(0).amount(), 400);
  EXPECT_EQ(first.intent().captures(0).status(), v1::CAPTURE_STATUS_SUCCESSFUL);

  v1::CaptureIntentResponse rest;
  ASSERT_TRUE(Capture(id, "cap-2", 600, &rest).ok());
  EXPECT_NE(rest.capture_id(), first.capture_id());
  EXPECT_FALSE(rest.idempotent_replay());
  EXPECT_EQ(rest.intent().status(), v1::PAYMENT_INTENT_STATUS_CAPTURED);
  ASSERT_EQ(rest.intent().captures_size(), 2);
  EXPECT_EQ(rest.intent().captures(1).id(), rest.capture_id());
  EXPECT_EQ(rest.intent().captures(1).amount(), 600);

  v1::RefundIntentRequest request;
  request.set_id(id);
  request.set_refund_key("ref-1");
  *request.mutable_amount() = Gbp(250);
  request.set_reason("damaged in transit");
  request.set_notes("box crushed");
  v1::RefundIntentResponse refunded;
  grpc::Status status =
      Stub()->RefundIntent(ContextWithDeadline().get(), request, &refunded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(refunded.refund().id(), "rfnd_"))
      << refunded.refund().id();
  EXPECT_EQ(refunded.refund().payment_intent_id(), id);
  EXPECT_EQ(refunded.refund().amount(), 250);
  EXPECT_EQ(refunded.refund().reason(), "damaged in transit");
  EXPECT_EQ(refunded.refund().notes(), "box crushed");
  EXPECT_FALSE(refunded.idempotent_replay());
  EXPECT_EQ(refunded.intent().status(), v1::PAYMENT_INTENT_STATUS_CAPTURED);
  EXPECT_EQ(refunded.intent().refunded_amount(), 250);

  v1::GetRefundRequest get;
  get.set_refund_id(refunded.refund().id());
  v1::GetRefundResponse read;
  status = Stub()->GetRefund(ContextWithDeadline().get(), get, &read);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(read.refund().id(), refunded.refund().id());
  EXPECT_EQ(read.refund().payment_intent_id(), id);
  EXPECT_EQ(read.refund().reason(), "damaged in transit");
  EXPECT_EQ(read.refund().notes(), "box crushed");
  EXPECT_EQ(read.refund().amount(), 0) << "Dojo's refund carries no amount";

  // The rest: the intent becomes Refunded.
  v1::RefundIntentResponse all;
  ASSERT_TRUE(Refund(id, "ref-2", 750, &all).ok());
  EXPECT_EQ(all.intent().status(), v1::PAYMENT_INTENT_STATUS_REFUNDED);
  EXPECT_EQ(all.intent().refunded_amount(), 1000);

  // What Dojo holds and received.
  const json dojo = AtDojo(id);
  EXPECT_EQ(dojo["status"], "Refunded");
  EXPECT_EQ(dojo["refundedAmount"], 1000);
  ASSERT_EQ(dojo["captures"].size(), 2u);
  EXPECT_EQ(dojo["captures"][0]["id"], first.capture_id());
  EXPECT_EQ(dojo["captures"][0]["amount"], 400);
  EXPECT_EQ(dojo["captures"][1]["amount"], 600);
  const std::vector<json> refunds = DojoRefunds(id);
  ASSERT_EQ(refunds.size(), 2u);
  EXPECT_EQ(refunds[0]["refundId"], refunded.refund().id());
  EXPECT_EQ(refunds[0]["amount"], 250);
  EXPECT_EQ(refunds[1]["amount"], 750);
  EXPECT_THAT(MoneyMoving(id), ElementsAre("POST /captures", "POST /captures",
                                           "POST /refunds", "POST /refunds"));
  // The capture bodies are Dojo's bare integers.
  std::vector<json> capture_bodies;
  for (const json& entry : RequestsFor(id)) {
    if (entry["method"] == "POST" &&
        absl::EndsWith(entry["path"].get<std::string>(), "/captures")) {
      capture_bodies.push_back(json::parse(entry["body"].get<std::string>()));
    }
  }
  ASSERT_EQ(capture_bodies.size(), 2u);
  EXPECT_EQ(capture_bodies[0]["amount"], 400);
  EXPECT_EQ(capture_bodies[1]["amount"], 600);
}

TEST_F(OperationsTest, ReversesAnAuthorisationOnce) {
  const std::string id = Authorized("reverse");
  v1::ReverseIntentResponse reversed;
  grpc::Status status = Reverse(id, &reversed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(reversed.reversal_id(), "rvs_"))
      << reversed.reversal_id();
  EXPECT_FALSE(reversed.idempotent_replay());
  EXPECT_EQ(reversed.intent().id(), id);
  EXPECT_EQ(reversed.intent().status(), v1::PAYMENT_INTENT_STATUS_REVERSED);

  v1::ReverseIntentResponse again;
  status = Reverse(id, &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(again.idempotent_replay());
  EXPECT_EQ(again.reversal_id(), reversed.reversal_id());
  EXPECT_EQ(again.intent().status(), v1::PAYMENT_INTENT_STATUS_REVERSED);

  EXPECT_EQ(DojoStatus(id), "Reversed");
  EXPECT_THAT(MoneyMoving(id), ElementsAre("POST /reversal"));
}

// Reversed by Dojo's auto-expiry, not by us: OK, a replay, nothing sent.
TEST_F(OperationsTest, ReversalOfAnIntentReleasedOtherwiseIsAReplay) {
  const std::string id = Authorized("released");
  ASSERT_TRUE(stack_
                  ->Control("POST", absl::StrCat("/_emulator/payment-intents/",
                                                 id, "/expire"))
                  .ok());
  v1::ReverseIntentResponse reversed;
  grpc::Status status = Reverse(id, &reversed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(reversed.idempotent_replay());
  EXPECT_EQ(reversed.reversal_id(), "");
  EXPECT_EQ(reversed.intent().status(), v1::PAYMENT_INTENT_STATUS_REVERSED);
  EXPECT_THAT(MoneyMoving(id), IsEmpty());
}

TEST_F(OperationsTest, CancelsACreatedIntentOnce) {
  const std::string id = Created("cancel");
  v1::CancelIntentResponse canceled;
  grpc::Status status = Cancel(id, &canceled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(canceled.idempotent_replay());
  EXPECT_EQ(canceled.intent().id(), id);
  EXPECT_EQ(canceled.intent().status(), v1::PAYMENT_INTENT_STATUS_CANCELED);

  v1::CancelIntentResponse again;
  status = Cancel(id, &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(again.idempotent_replay());
  EXPECT_EQ(again.intent().status(), v1::PAYMENT_INTENT_STATUS_CANCELED);

  EXPECT_EQ(DojoStatus(id), "Canceled");
  EXPECT_THAT(MoneyMoving(id), ElementsAre("DELETE /"));
}

// Canceled by someone else: OK, a replay, nothing sent.
TEST_F(OperationsTest, CancelOfAnIntentCanceledOtherwiseIsAReplay) {
  const std::string id = Created("canceled-elsewhere");
  ASSERT_TRUE(
      stack_
          ->Control("POST",
                    absl::StrCat("/_emulator/payment-intents/", id, "/status"),
                    json{{"status", "Canceled"}})
          .ok());
  v1::CancelIntentResponse canceled;
  grpc::Status status = Cancel(id, &canceled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(canceled.idempotent_replay());
  EXPECT_EQ(canceled.intent().status(), v1::PAYMENT_INTENT_STATUS_CANCELED);
  EXPECT_THAT(MoneyMoving(id), IsEmpty());
}

TEST_F(OperationsTest, ListsIntentsByStatusReferenceAndPage) {
  using google::protobuf::util::TimeUtil;
  absl::SleepFor(absl::Milliseconds(20));  // Apart from earlier tests.
  const absl::Time start = absl::Now();
  std::vector<std::string> ids;  // Oldest first.
  std::vector<std::string> references;
  for (int i = 0; i < 5; ++i) {
    references.push_back(Unique(absl::StrCat("list-", i)));
    ids.push_back(
        NewIntent(references.back(), 100 + i, v1::CAPTURE_MODE_MANUAL).id());
  }
  const absl::Time end = absl::Now();
  Authorize(ids[1]);
  ASSERT_TRUE(Cancel(ids[3]).ok());

  auto list = [&](v1::ListIntentsRequest request,
                  v1::ListIntentsResponse& response) {
    *request.mutable_created_after() =
        TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(start));
    *request.mutable_created_before() =
        TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(end));
    return Stub()->ListIntents(ContextWithDeadline().get(), request, &response);
  };
  auto ids_of = [](const v1::ListIntentsResponse& response) {
    std::vector<std::string> listed;
    for (const auto& intent : response.intents()) listed.push_back(intent.id());
    return listed;
  };

  // Every page of two, newest first, each intent once.
  std::vector<std::string> paged;
  std::string token;
  int pages = 0;
  do {
    v1::ListIntentsRequest request;
    request.set_page_size(2);
    request.set_page_token(token);
    v1::ListIntentsResponse page;
    grpc::Status status = list(request, page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_LE(page.intents_size(), 2);
    for (const std::string& id : ids_of(page)) paged.push_back(id);
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(paged, ElementsAre(ids[4], ids[3], ids[2], ids[1], ids[0]));

  // Statuses.
  v1::ListIntentsRequest authorized;
  authorized.add_statuses(v1::PAYMENT_INTENT_STATUS_AUTHORIZED);
  v1::ListIntentsResponse response;
  ASSERT_TRUE(list(authorized, response).ok());
  EXPECT_THAT(ids_of(response), ElementsAre(ids[1]));
  EXPECT_EQ(response.intents(0).status(), v1::PAYMENT_INTENT_STATUS_AUTHORIZED);
  EXPECT_EQ(response.next_page_token(), "");

  v1::ListIntentsRequest two_statuses;
  two_statuses.add_statuses(v1::PAYMENT_INTENT_STATUS_CANCELED);
  two_statuses.add_statuses(v1::PAYMENT_INTENT_STATUS_AUTHORIZED);
  response.Clear();
  ASSERT_TRUE(list(two_statuses, response).ok());
  EXPECT_THAT(ids_of(response), ElementsAre(ids[3], ids[1]));

  v1::ListIntentsRequest created;
  created.add_statuses(v1::PAYMENT_INTENT_STATUS_CREATED);
  response.Clear();
  ASSERT_TRUE(list(created, response).ok());
  EXPECT_THAT(ids_of(response), ElementsAre(ids[4], ids[2], ids[0]));

  // Reference.
  v1::ListIntentsRequest by_reference;
  by_reference.set_reference(references[2]);
  response.Clear();
  ASSERT_TRUE(list(by_reference, response).ok());
  EXPECT_THAT(ids_of(response), ElementsAre(ids[2]));
  EXPECT_EQ(response.intents(0).reference(), references[2]);
  EXPECT_EQ(response.intents(0).amount().value(), 102);

  // Bad requests: nothing is asked of Dojo.
  stack_->ResetEmulator();
  for (const std::string& bad :
       {std::string("not-a-token"), std::string("cDE6"),  // "p1:" only
        absl::WebSafeBase64Escape("p0:abc")}) {
    v1::ListIntentsRequest request;
    request.set_page_token(bad);
    grpc::Status status = list(request, response);
    ExpectInvalid(status, {"page_token"});
  }
  v1::ListIntentsRequest too_big;
  too_big.set_page_size(101);
  ExpectInvalid(list(too_big, response), {"page_size"});
  EXPECT_THAT(stack_->UpstreamRequests(), IsEmpty());
}

// ---------------------------------------------------------------------------
// Preconditions: FAILED_PRECONDITION with the reason, the status and the
// limits, and nothing money-moving sent.

TEST_F(OperationsTest, CaptureOfACreatedIntentIsRefused) {
  const std::string id = Created("capture-created", 1000);
  ExpectRefused(Capture(id, "k", 100), "INTENT_NOT_CAPTURABLE",
                {{"status", "CREATED"},
                 {"payment_intent_id", id},
                 {"capturable", "1000"}});
  EXPECT_THAT(MoneyMoving(id), IsEmpty());
  EXPECT_EQ(DojoStatus(id), "Created");
}

TEST_F(OperationsTest, CaptureOfAnAutoCaptureIntentIsRefused) {
  const std::string id = Captured("capture-auto", 1000);
  ExpectRefused(Capture(id, "k", 100), "INTENT_NOT_CAPTURABLE",
                {{"status", "CAPTURED"}, {"capturable", "0"}});
  // Not paid yet: still not a manual-capture intent.
  const std::string created =
      NewIntent(Unique("capture-auto-created"), 1000, v1::CAPTURE_MODE_AUTO)
          .id();
  ExpectRefused(Capture(created, "k", 100), "INTENT_NOT_CAPTURABLE",
                {{"status", "CREATED"}});
  EXPECT_THAT(MoneyMoving(id), IsEmpty());
  EXPECT_THAT(MoneyMoving(created), IsEmpty());
  EXPECT_EQ(DojoCaptures(id).size(), 1u);
}

TEST_F(OperationsTest, CaptureOverWhatIsCapturableIsRefused) {
  const std::string id = Authorized("capture-over", 1000);
  ExpectRefused(Capture(id, "too-much", 1001), "CAPTURE_EXCEEDS_CAPTURABLE",
                {{"status", "AUTHORIZED"},
                 {"capturable", "1000"},
                 {"currency_code", "GBP"}});
  ASSERT_TRUE(Capture(id, "part", 400).ok());
  ExpectRefused(Capture(id, "more", 700), "CAPTURE_EXCEEDS_CAPTURABLE",
                {{"status", "AUTHORIZED"}, {"capturable", "600"}});
  EXPECT_THAT(MoneyMoving(id), ElementsAre("POST /captures"));
  // The refusals held the intent lock only briefly: the rest is capturable.
  ASSERT_TRUE(Capture(id, "rest", 600).ok());
  ExpectRefused(Capture(id, "after", 1), "INTENT_NOT_CAPTURABLE",
                {{"status", "CAPTURED"}, {"capturable", "0"}});
  EXPECT_THAT(MoneyMoving(id), ElementsAre("POST /captures", "POST /captures"));
}

TEST_F(OperationsTest, CurrencyOtherThanTheIntentsIsRefused) {
  const std::string id = Authorized("currency", 1000);
  ExpectRefused(Capture(id, "eur", 100, nullptr, 0, absl::Seconds(10), "EUR"),
                "CURRENCY_MISMATCH",
                {{"currency_code", "GBP"}, {"status", "AUTHORIZED"}});
  const std::string paid = Captured("currency-refund", 1000);
  ExpectRefused(
      Refund(paid, "eur", 100, nullptr, 0, absl::Seconds(10), "", "EUR"),
      "CURRENCY_MISMATCH", {{"currency_code", "GBP"}, {"status", "CAPTURED"}});
  EXPECT_THAT(MoneyMoving(id), IsEmpty());
  EXPECT_THAT(MoneyMoving(paid), IsEmpty());
}

TEST_F(OperationsTest, ReversalOfACapturedIntentIsRefused) {
  const std::string captured = Captured("reverse-captured");
  ExpectRefused(Reverse(captured), "INTENT_NOT_REVERSIBLE",
                {{"status", "CAPTURED"}, {"payment_intent_id", captured}});
  // Partly captured: still Authorized, but not reversible.
  const std::string part = Authorized("reverse-part", 1000);
  ASSERT_TRUE(Capture(part, "part", 100).ok());
  ExpectRefused(Reverse(part), "INTENT_NOT_REVERSIBLE",
                {{"status", "AUTHORIZED"}});
  const std::string created = Created("reverse-created");
  ExpectRefused(Reverse(created), "INTENT_NOT_REVERSIBLE",
                {{"status", "CREATED"}});
  EXPECT_THAT(MoneyMoving(captured), IsEmpty());
  EXPECT_THAT(MoneyMoving(part), ElementsAre("POST /captures"));
  EXPECT_THAT(MoneyMoving(created), IsEmpty());
  EXPECT_EQ(DojoStatus(part), "Authorized");
}

TEST_F(OperationsTest, RefundOfAnUncapturedIntentIsRefused) {
  const std::string authorized = Authorized("refund-authorized");
  ExpectRefused(Refund(authorized, "k", 100), "INTENT_NOT_REFUNDABLE",
                {{"status", "AUTHORIZED"}, {"refundable", "0"}});
  const std::string created = Created("refund-created");
  ExpectRefused(Refund(created, "k", 100), "INTENT_NOT_REFUNDABLE",
                {{"status", "CREATED"}, {"refundable", "0"}});
  // Reversed: nothing was taken.
  ASSERT_TRUE(Reverse(authorized).ok());
  ExpectRefused(Refund(authorized, "k2", 100), "INTENT_NOT_REFUNDABLE",
                {{"status", "REVERSED"}});
  EXPECT_THAT(MoneyMoving(authorized), ElementsAre("POST /reversal"));
  EXPECT_THAT(MoneyMoving(created), IsEmpty());
}

TEST_F(OperationsTest, RefundOverWhatIsRefundableIsRefused) {
  const std::string id = Captured("refund-over", 1000);
  ExpectRefused(Refund(id, "too-much", 1001), "REFUND_EXCEEDS_REFUNDABLE",
                {{"status", "CAPTURED"},
                 {"refundable", "1000"},
                 {"currency_code", "GBP"}});
  ASSERT_TRUE(Refund(id, "part", 600).ok());
  ExpectRefused(Refund(id, "more", 500), "REFUND_EXCEEDS_REFUNDABLE",
                {{"status", "CAPTURED"}, {"refundable", "400"}});
  ASSERT_TRUE(Refund(id, "rest", 400).ok());
  ExpectRefused(Refund(id, "after", 1), "INTENT_NOT_REFUNDABLE",
                {{"status", "REFUNDED"}, {"refundable", "0"}});
  EXPECT_THAT(MoneyMoving(id), ElementsAre("POST /refunds", "POST /refunds"));
  EXPECT_EQ(AtDojo(id)["refundedAmount"], 1000);
}

TEST_F(OperationsTest, CancelOfAnAuthorisedIntentIsRefused) {
  const std::string id = Authorized("cancel-authorized");
  ExpectRefused(Cancel(id), "INTENT_NOT_CANCELABLE",
                {{"status", "AUTHORIZED"}, {"payment_intent_id", id}});
  const std::string captured = Captured("cancel-captured");
  ExpectRefused(Cancel(captured), "INTENT_NOT_CANCELABLE",
                {{"status", "CAPTURED"}});
  EXPECT_THAT(MoneyMoving(id), IsEmpty());
  EXPECT_THAT(MoneyMoving(captured), IsEmpty());
  EXPECT_EQ(DojoStatus(id), "Authorized");
}

TEST_F(OperationsTest, UnknownIntentIsNotFoundAndNothingIsSent) {
  const std::string id = "pi_sandbox_doesNotExist0000000000";
  EXPECT_EQ(Capture(id, "k", 100).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Refund(id, "k", 100).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Reverse(id).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Cancel(id).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::GetRefundRequest get;
  get.set_refund_id("rfnd_doesNotExist");
  v1::GetRefundResponse refund;
  EXPECT_EQ(
      Stub()->GetRefund(ContextWithDeadline().get(), get, &refund).error_code(),
      grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(MoneyMoving(id), IsEmpty());
  // A retry after NOT_FOUND finds the lock free (nothing left pending).
  EXPECT_EQ(Capture(id, "k", 100).error_code(), grpc::StatusCode::NOT_FOUND);
}

// Invalid requests: INVALID_ARGUMENT with BadRequest, and nothing sent to
// Dojo at all (not even a read).
TEST_F(OperationsTest, InvalidRequestsSendNothing) {
  const std::string id = Authorized("invalid");
  stack_->ResetEmulator();
  ExpectInvalid(Capture(id, "bad key!", 100), {"capture_key"});
  ExpectInvalid(Capture(id, "", 100), {"capture_key"});
  ExpectInvalid(Capture(id, std::string(101, 'k'), 100), {"capture_key"});
  ExpectInvalid(Capture(id, "clé", 100), {"capture_key"});
  ExpectInvalid(Capture(id, "k", 0), {"amount.value"});
  ExpectInvalid(Capture(id, "k", -5), {"amount.value"});
  ExpectInvalid(Capture(id, "k", 100, nullptr, 0, absl::Seconds(10), "USD"),
                {"amount.currency_code"});
  ExpectInvalid(Capture("pi/../x", "k", 100), {"id"});
  ExpectInvalid(Capture("", "k", 100), {"id"});
  ExpectInvalid(Refund(id, "bad key!", 100), {"refund_key"});
  ExpectInvalid(Refund(id, "k", 0), {"amount.value"});
  ExpectInvalid(Refund("pi sandbox", "k", 100), {"id"});
  ExpectInvalid(Refund(id, "k", 100, nullptr, 0, absl::Seconds(10),
                       std::string(1025, 'r')),
                {"reason"});
  ExpectInvalid(Reverse("pi/x"), {"id"});
  ExpectInvalid(Cancel(""), {"id"});
  v1::CaptureIntentRequest tips;
  tips.set_id(id);
  tips.set_capture_key("k");
  *tips.mutable_amount() = Gbp(100);
  *tips.mutable_tips_amount() = Gbp(-1);
  v1::CaptureIntentResponse ignored;
  ExpectInvalid(
      Stub()->CaptureIntent(ContextWithDeadline().get(), tips, &ignored),
      {"tips_amount.value"});
  v1::GetRefundRequest get;
  get.set_refund_id("rfnd/../x");
  v1::GetRefundResponse refund;
  ExpectInvalid(Stub()->GetRefund(ContextWithDeadline().get(), get, &refund),
                {"refund_id"});
  get.set_refund_id(std::string(51, 'r'));
  ExpectInvalid(Stub()->GetRefund(ContextWithDeadline().get(), get, &refund),
                {"refund_id"});
  EXPECT_THAT(stack_->UpstreamRequests(), IsEmpty());
  EXPECT_EQ(DojoStatus(id), "Authorized");
  EXPECT_THAT(DojoCaptures(id), IsEmpty());
}

// ---------------------------------------------------------------------------
// Keys: replay and mismatch.

TEST_F(OperationsTest, CaptureKeyReplaysAndRefusesOtherParameters) {
  const std::string id = Authorized("capture-key", 1000);
  v1::CaptureIntentResponse first;
  ASSERT_TRUE(Capture(id, "order-7:capture.1", 400, &first).ok());
  EXPECT_FALSE(first.idempotent_replay());

  v1::CaptureIntentResponse again;
  grpc::Status status = Capture(id, "order-7:capture.1", 400, &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(again.idempotent_replay());
  EXPECT_EQ(again.capture_id(), first.capture_id());
  EXPECT_EQ(again.intent().captures_size(), 1);

  const size_t before = stack_->UpstreamRequests().size();
  status = Capture(id, "order-7:capture.1", 500);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << Outcome(status);
  EXPECT_EQ(ReasonOf(status), "CAPTURE_KEY_REUSED");
  auto info = FindDetail<google::rpc::ErrorInfo>(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->metadata().at("capture_key"), "order-7:capture.1");
  EXPECT_EQ(stack_->UpstreamRequests().size(), before)
      << "a reused key is refused from the journal alone";

  // Other tips: other parameters too.
  v1::CaptureIntentRequest with_tips;
  with_tips.set_id(id);
  with_tips.set_capture_key("order-7:capture.1");
  *with_tips.mutable_amount() = Gbp(400);
  *with_tips.mutable_tips_amount() = Gbp(50);
  v1::CaptureIntentResponse ignored;
  status =
      Stub()->CaptureIntent(ContextWithDeadline().get(), with_tips, &ignored);
  EXPECT_EQ(ReasonOf(status), "CAPTURE_KEY_REUSED") << Outcome(status);

  // The same key on another intent is another capture.
  const std::string other = Authorized("capture-key-other", 1000);
  v1::CaptureIntentResponse elsewhere;
  ASSERT_TRUE(Capture(other, "order-7:capture.1", 400, &elsewhere).ok());
  EXPECT_FALSE(elsewhere.idempotent_replay());

  EXPECT_EQ(DojoCaptures(id).size(), 1u);
  EXPECT_EQ(DojoCaptures(other).size(), 1u);
  EXPECT_THAT(MoneyMoving(id), ElementsAre("POST /captures"));
}

TEST_F(OperationsTest, RefundKeyReplaysAndRefusesOtherParameters) {
  const std::string id = Captured("refund-key", 1000);
  v1::RefundIntentResponse first;
  ASSERT_TRUE(
      Refund(id, "rma-1", 300, &first, 0, absl::Seconds(10), "returned").ok());
  EXPECT_FALSE(first.idempotent_replay());

  v1::RefundIntentResponse again;
  grpc::Status status =
      Refund(id, "rma-1", 300, &again, 0, absl::Seconds(10), "returned");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(again.idempotent_replay());
  EXPECT_EQ(again.refund().id(), first.refund().id());
  EXPECT_EQ(again.refund().amount(), 300);
  EXPECT_EQ(again.intent().refunded_amount(), 300);

  const size_t before = stack_->UpstreamRequests().size();
  for (const auto& [amount, reason] :
       std::vector<std::pair<int64_t, std::string>>{{301, "returned"},
                                                    {300, "other reason"}}) {
    status = Refund(id, "rma-1", amount, nullptr, 0, absl::Seconds(10), reason);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
        << Outcome(status);
    EXPECT_EQ(ReasonOf(status), "REFUND_KEY_REUSED");
  }
  auto info = FindDetail<google::rpc::ErrorInfo>(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->metadata().at("refund_key"), "rma-1");
  EXPECT_EQ(stack_->UpstreamRequests().size(), before);

  ASSERT_TRUE(Refund(id, "rma-2", 100).ok());

  // Dojo saw one refund per key, each with its derived idempotencyKey.
  std::vector<std::string> keys;
  for (const json& entry : RequestsFor(id)) {
    if (entry["method"] == "POST" &&
        absl::EndsWith(entry["path"].get<std::string>(), "/refunds")) {
      keys.push_back(entry.value("idempotencyKey", ""));
    }
  }
  const std::string key1 = ExpectedRefundIdempotencyKey("default", id, "rma-1");
  const std::string key2 = ExpectedRefundIdempotencyKey("default", id, "rma-2");
  EXPECT_THAT(keys, ElementsAre(key1, key2));
  EXPECT_EQ(key1.size(), 69u);
  EXPECT_LE(key1.size(), 100u);
  const std::vector<json> refunds = DojoRefunds(id);
  ASSERT_EQ(refunds.size(), 2u);
  EXPECT_EQ(refunds[0]["idempotencyKey"], key1);
  EXPECT_EQ(refunds[0]["amount"], 300);
  EXPECT_EQ(refunds[0]["refundId"], first.refund().id());
  EXPECT_EQ(refunds[1]["idempotencyKey"], key2);
  EXPECT_EQ(AtDojo(id)["refundedAmount"], 400);

  // The same refund key on another intent: another refund, another
  // idempotencyKey.
  const std::string other = Captured("refund-key-other", 1000);
  v1::RefundIntentResponse elsewhere;
  ASSERT_TRUE(
      Refund(other, "rma-1", 300, &elsewhere, 0, absl::Seconds(10), "returned")
          .ok());
  EXPECT_FALSE(elsewhere.idempotent_replay());
  EXPECT_NE(elsewhere.refund().id(), first.refund().id());
  const std::vector<json> other_refunds = DojoRefunds(other);
  ASSERT_EQ(other_refunds.size(), 1u);
  EXPECT_EQ(other_refunds[0]["idempotencyKey"],
            ExpectedRefundIdempotencyKey("default", other, "rma-1"));
}

// A cancel, reversal, capture or refund queued behind another one on the
// same intent waits for it rather than failing: every call of a burst on
// one server is answered, in turn.
TEST_F(OperationsTest, OperationsOnOneIntentAreSerialised) {
  const std::string id = Authorized("serialised", 1000);
  std::vector<grpc::Status> results(5);
  std::vector<std::thread> callers;
  for (int i = 0; i < 5; ++i) {
    callers.emplace_back(
        [&, i] { results[i] = Capture(id, absl::StrCat("burst-", i), 200); });
  }
  for (std::thread& caller : callers) caller.join();
  for (const grpc::Status& status : results) {
    EXPECT_TRUE(status.ok())
        << Outcome(status) << " " << status.error_message();
  }
  EXPECT_EQ(DojoCaptures(id).size(), 5u);
  EXPECT_EQ(DojoStatus(id), "Captured");
}

// A call queued behind an operation Dojo is still answering gets ABORTED
// OPERATION_IN_PROGRESS with RetryInfo before its deadline, whether it is
// another operation on the intent or the same key again; it sends nothing,
// and goes through once the first is done.
TEST_F(OperationsTest, QueuedCallIsAbortedBeforeItsDeadline) {
  const std::string id = Authorized("queued", 1000);
  // Answered after 6 s: the three queued calls below (800 ms each) must all
  // run while it is still unanswered, however loaded the machine.
  Script("POST", "/payment-intents/*/captures",
         json::parse(R"([{"delayMs":6000}])"));
  v1::CaptureIntentResponse first;
  grpc::Status first_status;
  std::thread slow([&] { first_status = Capture(id, "slow", 400, &first); });
  ASSERT_TRUE(
      WaitFor([&] { return DojoCaptures(id).size() == 1; }, absl::Seconds(2)));
  for (const std::string& key : {std::string("other"), std::string("slow")}) {
    const absl::Time start = absl::Now();
    grpc::Status queued =
        Capture(id, key, 400, nullptr, 0, absl::Milliseconds(800));
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(800)) << key;
    EXPECT_EQ(queued.error_code(), grpc::StatusCode::ABORTED)
        << key << ": " << Outcome(queued);
    EXPECT_EQ(ReasonOf(queued), "OPERATION_IN_PROGRESS") << key;
    EXPECT_TRUE(FindDetail<google::rpc::RetryInfo>(queued).has_value()) << key;
  }
  grpc::Status queued_reversal =
      Reverse(id, nullptr, 0, absl::Milliseconds(800));
  EXPECT_EQ(queued_reversal.error_code(), grpc::StatusCode::ABORTED)
      << Outcome(queued_reversal);
  slow.join();
  ASSERT_TRUE(first_status.ok()) << Outcome(first_status);
  EXPECT_THAT(MoneyMoving(id), ElementsAre("POST /captures"));
  v1::CaptureIntentResponse other;
  ASSERT_TRUE(Capture(id, "other", 400, &other).ok());
  EXPECT_FALSE(other.idempotent_replay());
  v1::CaptureIntentResponse again;
  ASSERT_TRUE(Capture(id, "slow", 400, &again).ok());
  EXPECT_TRUE(again.idempotent_replay());
  EXPECT_EQ(again.capture_id(), first.capture_id());
  EXPECT_EQ(DojoCaptures(id).size(), 2u);
}

// Tips travel with the capture (Dojo's bare integers) and are part of the
// capture's parameters.
TEST_F(OperationsTest, CapturesWithTips) {
  const std::string id = Authorized("tips", 1000);
  v1::CaptureIntentRequest request;
  request.set_id(id);
  request.set_capture_key("with-tips");
  *request.mutable_amount() = Gbp(400);
  *request.mutable_tips_amount() = Gbp(50);
  v1::CaptureIntentResponse captured;
  grpc::Status status =
      Stub()->CaptureIntent(ContextWithDeadline().get(), request, &captured);
  ASSERT_TRUE(status.ok()) << Outcome(status);
  ASSERT_EQ(captured.intent().captures_size(), 1);
  EXPECT_EQ(captured.intent().captures(0).amount(), 400);
  EXPECT_EQ(captured.intent().captures(0).tips_amount(), 50);
  v1::CaptureIntentResponse again;
  ASSERT_TRUE(
      Stub()->CaptureIntent(ContextWithDeadline().get(), request, &again).ok());
  EXPECT_TRUE(again.idempotent_replay());
  std::vector<json> bodies;
  for (const json& entry : RequestsFor(id)) {
    if (entry["method"] == "POST") {
      bodies.push_back(json::parse(entry["body"].get<std::string>()));
    }
  }
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], json::parse(R"({"amount":400,"tipsAmount":50})"));
}

// ---------------------------------------------------------------------------
// The fault matrix: capture, refund and reversal x each fault.

struct Row {
  std::string cell;
  std::string first;
  int64_t first_ms = 0;
  std::string effects;
  std::string later;
};

enum class Kind { kCapture, kRefund, kReversal, kCancel };

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kCapture:
      return "capture";
    case Kind::kRefund:
      return "refund";
    case Kind::kReversal:
      return "reversal";
    case Kind::kCancel:
      return "cancel";
  }
  return "";
}

class OperationFaultMatrixTest : public OperationsTest {
 protected:
  static void SetUpTestSuite() { StartStack(OperationOptions()); }
  static void TearDownTestSuite() {
    PrintMatrix();
    OperationsTest::TearDownTestSuite();
  }

  // One cell: an intent ready for `kind`, the first call's answer and the
  // route its fault is scripted on.
  struct Cell {
    Kind kind;
    std::string id;
    grpc::Status status;
    absl::Duration took;
    std::string capture_id;  // the first call's, if OK
    std::string refund_id;
    std::string reversal_id;
    bool replay = false;
  };

  static constexpr int64_t kAmount = 400;
  static constexpr char kKey[] = "matrix-key";

  static Cell Prepare(Kind kind, absl::string_view fault) {
    Cell cell{.kind = kind};
    const std::string what = absl::StrCat(KindName(kind), "-", fault);
    cell.id = kind == Kind::kRefund   ? Captured(what)
              : kind == Kind::kCancel ? Created(what)
                                      : Authorized(what);
    return cell;
  }
  static std::string Route(Kind kind) {
    switch (kind) {
      case Kind::kCapture:
        return "/payment-intents/*/captures";
      case Kind::kRefund:
        return "/payment-intents/*/refunds";
      case Kind::kReversal:
        return "/payment-intents/*/reversal";
      case Kind::kCancel:
        return "/payment-intents/*";
    }
    return "";
  }
  static std::string Suffix(Kind kind) {
    switch (kind) {
      case Kind::kCapture:
        return "POST /captures";
      case Kind::kRefund:
        return "POST /refunds";
      case Kind::kReversal:
        return "POST /reversal";
      case Kind::kCancel:
        return "DELETE /";
    }
    return "";
  }

  // The operation of `cell`, with the matrix key and amount.
  static void Call(Cell& cell, int server = 0,
                   absl::Duration deadline = kCallDeadline) {
    const absl::Time start = absl::Now();
    switch (cell.kind) {
      case Kind::kCapture: {
        v1::CaptureIntentResponse response;
        cell.status =
            Capture(cell.id, kKey, kAmount, &response, server, deadline);
        cell.capture_id = response.capture_id();
        cell.replay = response.idempotent_replay();
        break;
      }
      case Kind::kRefund: {
        v1::RefundIntentResponse response;
        cell.status =
            Refund(cell.id, kKey, kAmount, &response, server, deadline);
        cell.refund_id = response.refund().id();
        cell.replay = response.idempotent_replay();
        break;
      }
      case Kind::kReversal: {
        v1::ReverseIntentResponse response;
        cell.status = Reverse(cell.id, &response, server, deadline);
        cell.reversal_id = response.reversal_id();
        cell.replay = response.idempotent_replay();
        break;
      }
      case Kind::kCancel: {
        v1::CancelIntentResponse response;
        cell.status = Cancel(cell.id, &response, server, deadline);
        cell.replay = response.idempotent_replay();
        break;
      }
    }
    cell.took = absl::Now() - start;
  }

  // Runs the first call of each cell at once, each against its own fault
  // (`step` on the cell's route).
  static void FirstCalls(std::vector<Cell>& cells, const json& step) {
    for (const Cell& cell : cells) {
      Script(cell.kind == Kind::kCancel ? "DELETE" : "POST", Route(cell.kind),
             json::array({step}));
    }
    std::vector<std::thread> callers;
    for (Cell& cell : cells) {
      callers.emplace_back([&cell] { Call(cell); });
    }
    for (std::thread& caller : callers) caller.join();
  }

  static std::map<Kind, double> SettledByKind() {
    std::map<Kind, double> settled;
    for (Kind kind :
         {Kind::kCapture, Kind::kRefund, Kind::kReversal, Kind::kCancel}) {
      settled[kind] = Settled(KindName(kind));
    }
    return settled;
  }

  static std::vector<Cell> AllKinds(absl::string_view fault) {
    return {Prepare(Kind::kCapture, fault), Prepare(Kind::kRefund, fault),
            Prepare(Kind::kReversal, fault)};
  }

  static void ExpectOutcomeUnknown(const Cell& cell) {
    EXPECT_EQ(cell.status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << KindName(cell.kind) << ": " << Outcome(cell.status) << " "
        << cell.status.error_message();
    EXPECT_EQ(ReasonOf(cell.status), "OUTCOME_UNKNOWN") << KindName(cell.kind);
    EXPECT_TRUE(FindDetail<google::rpc::RetryInfo>(cell.status).has_value())
        << KindName(cell.kind);
  }
  static void ExpectOk(const Cell& cell) {
    EXPECT_TRUE(cell.status.ok())
        << KindName(cell.kind) << ": " << Outcome(cell.status) << " "
        << cell.status.error_message();
  }

  // The part every cell shares once the fault has played out: the
  // operation is settled (by the call or the reconciler), the emulator
  // holds exactly one effect, and a later call with the same key returns
  // it. `settled_before`: Settled(kind) before the first call (0 after a
  // restart).
  void ExpectExactlyOnce(const std::string& fault, const Cell& cell,
                         double settled_before) {
    const std::string kind = KindName(cell.kind);
    EXPECT_LT(cell.took, kCallDeadline)
        << kind << ": the first caller must be answered before its deadline";
    if (!cell.status.ok()) {
      EXPECT_TRUE(WaitFor(
          [&] { return Settled(kind) > settled_before && NoneUnknown(kind); },
          kSettlePeriod + absl::Seconds(20)))
          << kind << ": the operation was not settled";
    }
    EXPECT_TRUE(WaitFor([&] { return NoneUnknown(kind); }, absl::Seconds(5)))
        << kind << ": an operation is still reported unknown";

    // A later call with the same key (the intent, for a reversal).
    Cell later = cell;
    Call(later, 0, absl::Seconds(10));
    EXPECT_TRUE(later.status.ok()) << kind << ": " << Outcome(later.status)
                                   << " " << later.status.error_message();
    const json dojo = AtDojo(cell.id);
    std::string effects;
    switch (cell.kind) {
      case Kind::kCapture: {
        const std::vector<json> captures = DojoCaptures(cell.id);
        effects = absl::StrCat(captures.size(), " capture(s)");
        ASSERT_EQ(captures.size(), 1u) << "never a second capture";
        EXPECT_EQ(captures[0]["amount"], kAmount);
        EXPECT_EQ(later.capture_id, captures[0]["id"].get<std::string>());
        if (cell.status.ok()) EXPECT_EQ(cell.capture_id, later.capture_id);
        break;
      }
      case Kind::kRefund: {
        const std::vector<json> refunds = DojoRefunds(cell.id);
        effects = absl::StrCat(refunds.size(), " refund(s)");
        ASSERT_EQ(refunds.size(), 1u) << "never a second refund";
        EXPECT_EQ(refunds[0]["amount"], kAmount);
        EXPECT_EQ(dojo["refundedAmount"], kAmount);
        EXPECT_EQ(later.refund_id, refunds[0]["refundId"].get<std::string>());
        if (cell.status.ok()) EXPECT_EQ(cell.refund_id, later.refund_id);
        // Every send of it carried the same derived idempotencyKey.
        const std::string key =
            ExpectedRefundIdempotencyKey("default", cell.id, kKey);
        EXPECT_EQ(refunds[0]["idempotencyKey"], key);
        for (const json& entry : RequestsFor(cell.id)) {
          if (entry["method"] == "POST" &&
              absl::EndsWith(entry["path"].get<std::string>(), "/refunds")) {
            EXPECT_EQ(entry.value("idempotencyKey", ""), key);
          }
        }
        break;
      }
      case Kind::kReversal:
        effects = absl::StrCat("status ", dojo.value("status", ""));
        EXPECT_EQ(dojo["status"], "Reversed");
        if (cell.status.ok()) EXPECT_EQ(cell.reversal_id, later.reversal_id);
        break;
      case Kind::kCancel:
        effects = absl::StrCat("status ", dojo.value("status", ""));
        EXPECT_EQ(dojo["status"], "Canceled");
        break;
    }
    const int sends = CountMoving(cell.id, Suffix(cell.kind));
    absl::StrAppend(&effects, ", ", sends, " sent");
    Record({.cell = absl::StrCat(kind, " x ", fault),
            .first = Outcome(cell.status),
            .first_ms = absl::ToInt64Milliseconds(cell.took),
            .effects = effects,
            .later = later.status.ok()
                         ? (later.replay ? "OK, replay" : "OK, sent")
                         : Outcome(later.status)});
  }

  static void Record(Row row) {
    absl::MutexLock lock(&mu_);
    rows_.push_back(std::move(row));
  }
  static void PrintMatrix() {
    absl::MutexLock lock(&mu_);
    std::string table = absl::StrFormat(
        "%-40s | %-33s | %7s | %-26s | %s\n", "operation x fault",
        "first caller", "took ms", "at Dojo once settled", "later call");
    for (const Row& row : rows_) {
      absl::StrAppendFormat(&table, "%-40s | %-33s | %7d | %-26s | %s\n",
                            row.cell, row.first, row.first_ms, row.effects,
                            row.later);
    }
    rows_.clear();
    PublishMatrix(table, MATRIX_FILE);
  }

  inline static absl::Mutex mu_;
  inline static std::vector<Row> rows_;
};

// Dojo processes each operation, then the connection drops: the capture and
// the reversal are settled from the intent within the call, the refund is
// re-sent with its idempotencyKey and Dojo answers with the first refund,
// the cancel (a DELETE, safe to repeat) is re-sent, gets 409 and is settled
// from the intent's status.
TEST_F(OperationFaultMatrixTest, ProcessedThenDropped) {
  std::vector<Cell> cells = AllKinds("dropped-after");
  cells.push_back(Prepare(Kind::kCancel, "dropped-after"));
  const std::map<Kind, double> before = SettledByKind();
  FirstCalls(cells, json{{"processThenDrop", true}});
  for (const Cell& cell : cells) ExpectOk(cell);
  for (const Cell& cell : cells) {
    ExpectExactlyOnce("processed then dropped", cell, before.at(cell.kind));
  }
  EXPECT_EQ(CountMoving(cells[0].id, "POST /captures"), 1) << "never re-sent";
  EXPECT_EQ(CountMoving(cells[1].id, "POST /refunds"), 2)
      << "re-sent once, with the same idempotencyKey";
  EXPECT_EQ(CountMoving(cells[2].id, "POST /reversal"), 1) << "never re-sent";
  EXPECT_EQ(CountMoving(cells[3].id, "DELETE /"), 2)
      << "re-sent once (the repeat gets 409: settled from the status)";
}

// The effect happens, the answer is a 503.
TEST_F(OperationFaultMatrixTest, ServerErrorAfterProcessing) {
  std::vector<Cell> cells = AllKinds("5xx-after");
  cells.push_back(Prepare(Kind::kCancel, "5xx-after"));
  const std::map<Kind, double> before = SettledByKind();
  FirstCalls(cells, json{{"processThenStatus", 503}});
  for (const Cell& cell : cells) ExpectOk(cell);
  for (const Cell& cell : cells) {
    ExpectExactlyOnce("5xx after processing", cell, before.at(cell.kind));
  }
  EXPECT_EQ(CountMoving(cells[0].id, "POST /captures"), 1);
  EXPECT_EQ(CountMoving(cells[1].id, "POST /refunds"), 2);
  EXPECT_EQ(CountMoving(cells[2].id, "POST /reversal"), 1);
  EXPECT_EQ(CountMoving(cells[3].id, "DELETE /"), 2);
}

// Dojo commits each operation 8 s after receiving it; the caller's deadline
// is 5 s. Nothing shows it within the call: unknown, and no other
// operation on the intent starts meanwhile; settled once it commits.
TEST_F(OperationFaultMatrixTest, SlowCommitPastTheDeadline) {
  std::vector<Cell> cells = AllKinds("slow-commit");
  const std::map<Kind, double> before = SettledByKind();
  FirstCalls(cells, json{{"commitDelayMs", 8000}});
  for (const Cell& cell : cells) ExpectOutcomeUnknown(cell);
  // Before the commit: another capture (and refund) of the same intents is
  // not sent while the first is unknown.
  grpc::Status blocked =
      Capture(cells[0].id, "another-key", 100, nullptr, 0, absl::Seconds(2));
  EXPECT_TRUE(blocked.error_code() == grpc::StatusCode::UNAVAILABLE ||
              blocked.error_code() == grpc::StatusCode::ABORTED)
      << Outcome(blocked);
  grpc::Status blocked_refund =
      Refund(cells[1].id, "another-key", 100, nullptr, 0, absl::Seconds(2));
  EXPECT_TRUE(blocked_refund.error_code() == grpc::StatusCode::UNAVAILABLE ||
              blocked_refund.error_code() == grpc::StatusCode::ABORTED)
      << Outcome(blocked_refund);
  EXPECT_EQ(CountMoving(cells[0].id, "POST /captures"), 1);
  for (const Cell& cell : cells) {
    ExpectExactlyOnce("slow commit past the deadline", cell,
                      before.at(cell.kind));
  }
  EXPECT_EQ(CountMoving(cells[0].id, "POST /captures"), 1);
  EXPECT_EQ(CountMoving(cells[2].id, "POST /reversal"), 1);
}

// The connection drops before Dojo processed anything. The capture and the
// reversal are unknown until the settle period has passed with nothing
// shown by the intent; then the later call sends them, once. The refund is
// re-sent at once with its idempotencyKey.
TEST_F(OperationFaultMatrixTest, DroppedUnprocessed) {
  std::vector<Cell> cells = AllKinds("dropped-before");
  const std::map<Kind, double> before = SettledByKind();
  FirstCalls(cells, json{{"drop", true}});
  ExpectOutcomeUnknown(cells[0]);
  ExpectOk(cells[1]);
  ExpectOutcomeUnknown(cells[2]);
  for (const Cell& cell : cells) {
    ExpectExactlyOnce("dropped unprocessed", cell, before.at(cell.kind));
  }
  EXPECT_EQ(CountMoving(cells[0].id, "POST /captures"), 2)
      << "sent again only after settling as not captured";
  EXPECT_EQ(CountMoving(cells[1].id, "POST /refunds"), 2);
  EXPECT_EQ(CountMoving(cells[2].id, "POST /reversal"), 2);
}

// The server is killed while Dojo processes the three operations; it
// restarts, and its reconciler settles what the dead calls left "sent" once
// their leases lapse.
TEST_F(OperationFaultMatrixTest, SigkillMidCallAndRestart) {
  std::vector<Cell> cells = AllKinds("sigkill");
  for (const Cell& cell : cells) {
    Script("POST", Route(cell.kind), json::parse(R"([{"delayMs":3000}])"));
  }
  std::vector<std::thread> callers;
  for (Cell& cell : cells) {
    callers.emplace_back([&cell] { Call(cell); });
  }
  const bool processed = WaitFor(
      [&] {
        return DojoCaptures(cells[0].id).size() == 1 &&
               DojoRefunds(cells[1].id).size() == 1 &&
               DojoStatus(cells[2].id) == "Reversed";
      },
      absl::Seconds(3));
  const absl::Time leases_lapse =
      absl::Now() + kCallDeadline + absl::Seconds(6);
  stack_->StopServer(0, SIGKILL);
  for (std::thread& caller : callers) caller.join();
  ASSERT_TRUE(processed) << "Dojo did not process the three operations";
  for (const Cell& cell : cells) {
    EXPECT_EQ(cell.status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << Outcome(cell.status);
  }
  ASSERT_TRUE(stack_->RestartServer(0).ok());
  absl::SleepFor(leases_lapse - absl::Now());
  for (const Cell& cell : cells) {
    ExpectExactlyOnce("SIGKILL mid-call and restart", cell,
                      /*settled_before=*/0);
  }
  EXPECT_EQ(CountMoving(cells[0].id, "POST /captures"), 1);
  EXPECT_EQ(CountMoving(cells[2].id, "POST /reversal"), 1);
}

// ---------------------------------------------------------------------------
// Two replicas on one PostgreSQL: the intent lock serialises operations of
// one intent across servers.

class PostgresOperationsTest : public OperationsTest {
 protected:
  static void SetUpTestSuite() {
    postgres_ = Postgres::Start().release();
    if (postgres_ == nullptr) return FailStart("PostgreSQL did not start");
    StartStack(OperationOptions(/*servers=*/2, postgres_->url()));
  }
  static void TearDownTestSuite() {
    OperationsTest::TearDownTestSuite();
    delete postgres_;
    postgres_ = nullptr;
  }

  // Whether `status` is one of the answers a call that lost the race may
  // get: refused on the limit (`reason`), or told to come back.
  static bool LostTheRace(const grpc::Status& status,
                          const std::string& reason) {
    return (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
            ReasonOf(status) == reason) ||
           (status.error_code() == grpc::StatusCode::ABORTED &&
            ReasonOf(status) == "OPERATION_IN_PROGRESS");
  }

  inline static Postgres* postgres_ = nullptr;
};

TEST_F(PostgresOperationsTest, ConcurrentPartialRefundsNeverExceedTheCapture) {
  const std::string id = Captured("pg-refunds", 1000);
  constexpr int kCalls = 6;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<v1::RefundIntentResponse> responses(kCalls);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&, i] {
      statuses[i] = Refund(id, absl::StrCat("split-", i), 300, &responses[i],
                           /*server=*/i % 2);
    });
  }
  for (std::thread& caller : callers) caller.join();
  int ok = 0;
  int64_t refunded = 0;
  std::vector<std::string> outcomes;
  for (int i = 0; i < kCalls; ++i) {
    outcomes.push_back(Outcome(statuses[i]));
    if (statuses[i].ok()) {
      ++ok;
      refunded += responses[i].refund().amount();
      EXPECT_FALSE(responses[i].idempotent_replay());
    } else {
      EXPECT_TRUE(LostTheRace(statuses[i], "REFUND_EXCEEDS_REFUNDABLE"))
          << Outcome(statuses[i]) << " " << statuses[i].error_message();
    }
  }
  SCOPED_TRACE(absl::StrJoin(outcomes, ", "));
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(refunded, 900);
  const json dojo = AtDojo(id);
  EXPECT_LE(dojo["refundedAmount"].get<int64_t>(), 1000);
  EXPECT_EQ(dojo["refundedAmount"], refunded);
  EXPECT_EQ(DojoRefunds(id).size(), static_cast<size_t>(ok));
  EXPECT_EQ(CountMoving(id, "POST /refunds"), ok)
      << "a refused refund is never sent";
}

TEST_F(PostgresOperationsTest, ConcurrentPartialCapturesNeverExceedTheTotal) {
  const std::string id = Authorized("pg-captures", 1000);
  constexpr int kCalls = 6;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<v1::CaptureIntentResponse> responses(kCalls);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&, i] {
      statuses[i] = Capture(id, absl::StrCat("part-", i), 300, &responses[i],
                            /*server=*/i % 2);
    });
  }
  for (std::thread& caller : callers) caller.join();
  int ok = 0;
  std::vector<std::string> outcomes;
  std::vector<std::string> capture_ids;
  for (int i = 0; i < kCalls; ++i) {
    outcomes.push_back(Outcome(statuses[i]));
    if (statuses[i].ok()) {
      ++ok;
      capture_ids.push_back(responses[i].capture_id());
    } else {
      EXPECT_TRUE(LostTheRace(statuses[i], "CAPTURE_EXCEEDS_CAPTURABLE"))
          << Outcome(statuses[i]) << " " << statuses[i].error_message();
    }
  }
  SCOPED_TRACE(absl::StrJoin(outcomes, ", "));
  EXPECT_EQ(ok, 3);
  const std::vector<json> captures = DojoCaptures(id);
  int64_t captured = 0;
  std::vector<std::string> dojo_ids;
  for (const json& capture : captures) {
    captured += capture["amount"].get<int64_t>();
    dojo_ids.push_back(capture["id"]);
  }
  EXPECT_LE(captured, 1000);
  EXPECT_EQ(captured, 300 * ok);
  std::sort(capture_ids.begin(), capture_ids.end());
  std::sort(dojo_ids.begin(), dojo_ids.end());
  EXPECT_EQ(capture_ids, dojo_ids);
  EXPECT_EQ(CountMoving(id, "POST /captures"), ok);
  EXPECT_EQ(DojoStatus(id), "Authorized");
}

// One capture key through both replicas at once: one capture, every other
// call a replay of it (or told to come back).
TEST_F(PostgresOperationsTest, OneCaptureKeyThroughBothReplicas) {
  const std::string id = Authorized("pg-same-key", 1000);
  constexpr int kCalls = 6;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<v1::CaptureIntentResponse> responses(kCalls);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&, i] {
      statuses[i] = Capture(id, "same-key", 250, &responses[i], i % 2);
    });
  }
  for (std::thread& caller : callers) caller.join();
  const std::vector<json> captures = DojoCaptures(id);
  ASSERT_EQ(captures.size(), 1u);
  int sent = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (!statuses[i].ok()) {
      EXPECT_EQ(ReasonOf(statuses[i]), "OPERATION_IN_PROGRESS")
          << Outcome(statuses[i]);
      continue;
    }
    EXPECT_EQ(responses[i].capture_id(), captures[0]["id"]);
    sent += !responses[i].idempotent_replay();
  }
  EXPECT_EQ(sent, 1);
  EXPECT_EQ(CountMoving(id, "POST /captures"), 1);
}

}  // namespace
}  // namespace payments::testing
