#include "lib/metrics/metrics.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prometheus/metric_family.h"

namespace payments::metrics {
namespace {

constexpr absl::string_view kService = "payments.v1.PaymentsService";

// Series per RPC family name.
std::map<std::string, size_t> RpcSeries(const Metrics& metrics) {
  std::map<std::string, size_t> series;
  for (const prometheus::MetricFamily& family : metrics.registry()->Collect()) {
    if (family.name.rfind("grpc_server_", 0) == 0) {
      series[family.name] = family.metric.size();
    }
  }
  return series;
}

// The label values of the grpc_server_started_total series.
std::vector<std::map<std::string, std::string>> StartedLabels(
    const Metrics& metrics) {
  std::vector<std::map<std::string, std::string>> out;
  for (const prometheus::MetricFamily& family : metrics.registry()->Collect()) {
    if (family.name != "grpc_server_started_total") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& label : metric.label) labels[label.name] = label.value;
      labels["value"] = absl::StrCat(metric.counter.value);
      out.push_back(std::move(labels));
    }
  }
  return out;
}

TEST(Metrics, UnknownRpcMethodsShareOneBoundedLabel) {
  Metrics metrics;
  metrics.InitRpcMethod("unary", kService, "CreateIntent");
  metrics.InitRpcMethod("unary", "grpc.health.v1.Health", "Check");
  // One call of an unknown method creates its series; 1,000 more distinct
  // unknown methods (any caller can send any path) must add none.
  metrics.RpcStarted("bidi_stream", "evil.Service", "Method");
  metrics.RpcHandled("bidi_stream", "evil.Service", "Method", "UNIMPLEMENTED",
                     0.001);
  const std::map<std::string, size_t> before = RpcSeries(metrics);
  for (int i = 0; i < 1000; ++i) {
    const std::string service = absl::StrCat("evil", i, ".Service");
    const std::string method = absl::StrCat("Method", i);
    metrics.RpcStarted("bidi_stream", service, method);
    metrics.RpcHandled("bidi_stream", service, method, "UNIMPLEMENTED", 0.001);
    // A registered service with an unregistered method is unknown too.
    metrics.RpcStarted("bidi_stream", kService, method);
    metrics.RpcHandled("bidi_stream", kService, method, "UNIMPLEMENTED", 0.001);
  }
  // Labels outside the known types and codes are folded as well.
  metrics.RpcStarted("weird_type", "x", "y");
  metrics.RpcHandled("bidi_stream", "x", "y", "NOT_A_CODE", 0.001);
  metrics.RpcHandled("bidi_stream", "x", "y", "UNKNOWN", 0.001);
  const std::map<std::string, size_t> after = RpcSeries(metrics);
  ASSERT_EQ(after.size(), 3u);
  for (const auto& [family, count] : after) {
    // +1 started series for grpc_type="unknown", +1 handled for code UNKNOWN.
    EXPECT_LE(count, before.at(family) + 1) << family;
  }

  bool saw_unknown = false;
  for (const auto& labels : StartedLabels(metrics)) {
    EXPECT_EQ(labels.at("grpc_service").rfind("evil", 0), std::string::npos);
    EXPECT_EQ(labels.at("grpc_method").rfind("Method", 0), std::string::npos);
    if (labels.at("grpc_service") == "unknown" &&
        labels.at("grpc_method") == "unknown" &&
        labels.at("grpc_type") == "bidi_stream") {
      saw_unknown = true;
      EXPECT_EQ(labels.at("value"), "2001");
    }
  }
  EXPECT_TRUE(saw_unknown);
}

TEST(Metrics, RegisteredRpcMethodsKeepTheirLabels) {
  Metrics metrics;
  metrics.InitRpcMethod("unary", kService, "CreateIntent");
  metrics.RpcStarted("unary", kService, "CreateIntent");
  metrics.RpcHandled("unary", kService, "CreateIntent", "OK", 0.01);
  bool found = false;
  for (const auto& labels : StartedLabels(metrics)) {
    if (labels.at("grpc_service") == kService &&
        labels.at("grpc_method") == "CreateIntent") {
      found = true;
      EXPECT_EQ(labels.at("value"), "1");
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace payments::metrics
