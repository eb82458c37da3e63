#ifndef CLIENT_CTL_COMMANDS_H_
#define CLIENT_CTL_COMMANDS_H_

// paymentsctl's subcommands: which flags each accepts, and running one
// through a PaymentsClient. Flag values arrive in CtlSettings (flags live
// only in main()).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/ctl/intent_request_builder.h"
#include "client/ctl/response_printer.h"
#include "client/payments_client.h"

namespace payments::ctl {

struct LifecycleParams {
  std::string capture_key;
  std::string refund_key;
  std::optional<int64_t> tips;  // minor units
  std::string reason;
  std::string notes;
  std::string refund_id;
  // list-intents: comma-separated statuses (created, authorized, ...), RFC
  // 3339 times, page size and token.
  std::string statuses;
  std::string created_after;
  std::string created_before;
  int page_size = 0;
  std::string page_token;
};

struct CtlSettings {
  std::string account;
  PrintOptions print;
  std::string request_id;
  // create-intent, create-link. intent.request_json is filled from
  // request_json_file by RunCommand.
  IntentParams intent;
  std::string request_json_file;
  // get-intent, refresh-secret.
  std::string id;
  bool return_canceled = false;
  // verify-webhook: a file or "-" (stdin), and the dojo-signature value.
  std::string body_file;
  std::string signature;
  // health: "" is the whole server.
  std::string service;
  // The lifecycle commands (capture, refund, reverse, cancel-intent,
  // get-refund, list-intents); --id, --amount, --currency and --reference
  // come from the fields above.
  LifecycleParams lifecycle;
};

struct CommandSpec {
  std::string name;
  std::string synopsis;  // e.g. "--id=ID [--return_canceled]"
  std::string summary;
  std::vector<std::string> flags;  // beyond the global ones
};

// Flags every command accepts (connection, output).
const std::vector<std::string>& GlobalFlags();
const std::vector<CommandSpec>& Commands();
// nullptr when there is no such command.
const CommandSpec* FindCommand(absl::string_view name);

// Runs `name`; returns what to print on stdout. Errors: usage errors (see
// exit_code.h) for bad input found locally, else the call's status as
// PaymentsClient returns it. `health` answers UNAVAILABLE when the service
// is not SERVING, so that the exit status tells a script.
absl::StatusOr<std::string> RunCommand(const CommandSpec& command,
                                       const CtlSettings& settings,
                                       client::PaymentsClient& client);

}  // namespace payments::ctl

#endif  // CLIENT_CTL_COMMANDS_H_
