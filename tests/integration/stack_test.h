#ifndef TESTS_INTEGRATION_STACK_TEST_H_
#define TESTS_INTEGRATION_STACK_TEST_H_

// A GoogleTest fixture whose suite shares one TestStack (emulator + servers)
// and the emulator helpers the integration tests use.

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "payments/v1/payments_service.grpc.pb.h"
#include "tests/integration/test_stack.h"

namespace payments::testing {

class StackTest : public ::testing::Test {
 protected:
  // Call from SetUpTestSuite(). A fatal failure there would show as skipped
  // tests, so a failed start is recorded and SetUp() fails each test.
  static void StartStack(StackOptions options) {
    auto stack = TestStack::Start(std::move(options));
    if (!stack.ok()) {
      setup_error_ = stack.status().ToString();
      return;
    }
    stack_ = stack->release();
  }
  static void FailStart(std::string error) { setup_error_ = std::move(error); }

  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(stack_, nullptr) << setup_error_;
    stack_->ResetEmulator();
  }

  static std::unique_ptr<v1::PaymentsService::Stub> Stub(int server = 0) {
    return v1::PaymentsService::NewStub(grpc::CreateChannel(
        stack_->grpc_target(server), grpc::InsecureChannelCredentials()));
  }

  // Scripts the emulator's next answers to `method path` (see
  // tests/emulator/README.md, "Faults").
  static void Script(absl::string_view method, absl::string_view path,
                     const nlohmann::json& responses) {
    auto scripted =
        stack_->Control("POST", "/_emulator/faults",
                        nlohmann::json{{"method", std::string(method)},
                                       {"path", std::string(path)},
                                       {"responses", responses}});
    EXPECT_TRUE(scripted.ok()) << scripted.status();
  }

  // "METHOD path status" of every request Dojo received, in order.
  static std::vector<std::string> UpstreamSequence() {
    std::vector<std::string> sequence;
    for (const nlohmann::json& entry : stack_->UpstreamRequests()) {
      sequence.push_back(absl::StrCat(entry["method"].get<std::string>(), " ",
                                      entry["path"].get<std::string>(), " ",
                                      entry["status"].get<int>()));
    }
    return sequence;
  }

  // The value of `sample` (its name and labels as exposed, e.g.
  // `payments_unknown_operations{kind="create"}`) in server `index`'s
  // /metrics; -1 when absent.
  static double Metric(const std::string& sample, int index = 0) {
    auto text = stack_->ScrapeMetrics(index);
    if (!text.ok()) return -1;
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      if (absl::StartsWith(line, sample + " ")) {
        double value = 0;
        if (absl::SimpleAtod(line.substr(sample.size() + 1), &value)) {
          return value;
        }
      }
    }
    return -1;
  }

  // Prints a fault matrix and appends it to `file`, which scripts/test.sh
  // shows after the run.
  static void PublishMatrix(const std::string& table, const char* file) {
    std::fputs(table.c_str(), stdout);
    if (FILE* out = std::fopen(file, "a")) {
      std::fputs(table.c_str(), out);
      std::fclose(out);
    }
  }

  // How many intents the emulator holds for `reference`, any account.
  static size_t IntentsWithReference(const std::string& reference) {
    auto found = stack_->Control(
        "GET", "/_emulator/payment-intents?reference=" + reference);
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() ? (*found)["data"].size() : 0;
  }

  inline static TestStack* stack_ = nullptr;
  inline static std::string setup_error_;
};

}  // namespace payments::testing

#endif  // TESTS_INTEGRATION_STACK_TEST_H_
