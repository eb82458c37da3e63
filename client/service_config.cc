#include "client/service_config.h"

#include "nlohmann/json.hpp"

namespace payments::client {
namespace {

const nlohmann::json& DefaultConfig() {
  // The file is checked by the build's unit test; a parse error here would
  // be a broken build, not a runtime condition.
  static const auto* const kConfig =
      new nlohmann::json(nlohmann::json::parse(DefaultServiceConfigJson()));
  return *kConfig;
}

}  // namespace

std::vector<std::string> RetriedMethods() {
  std::vector<std::string> methods;
  for (const nlohmann::json& config : DefaultConfig().at("methodConfig")) {
    if (!config.contains("retryPolicy")) continue;
    for (const nlohmann::json& name : config.at("name")) {
      methods.push_back(name.at("service").get<std::string>() + "/" +
                        name.value("method", ""));
    }
  }
  return methods;
}

std::string ServiceConfigJson(const RetryOptions& retry, bool wait_for_ready) {
  if (retry.enabled && wait_for_ready) {
    return std::string(DefaultServiceConfigJson());
  }
  nlohmann::json config = DefaultConfig();
  if (!retry.enabled) config.erase("retryThrottling");
  for (nlohmann::json& method : config.at("methodConfig")) {
    if (!retry.enabled) method.erase("retryPolicy");
    if (!wait_for_ready) method.erase("waitForReady");
  }
  return config.dump();
}

}  // namespace payments::client
