// paymentsctl: the payments gateway from a shell.
//
//   paymentsctl [global flags] COMMAND [flags]
//
// Exit status: the gRPC code of the call (0 OK, 3 INVALID_ARGUMENT,
// 5 NOT_FOUND, 14 UNAVAILABLE, 16 UNAUTHENTICATED, ...); 64 for a usage
// error found before any call. See README.md, "paymentsctl".

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/ctl/commands.h"
#include "client/ctl/exit_code.h"
#include "client/ctl/flag_parser.h"
#include "client/payments_client.h"
#include "client/rpc_error.h"

// Connection and output (every command).
ABSL_FLAG(std::string, target, "",
          "server host:port; default $PAYMENTSCTL_TARGET, else "
          "localhost:50051");
ABSL_FLAG(bool, tls, false, "use TLS (system roots unless --ca_file)");
ABSL_FLAG(std::string, ca_file, "", "PEM CA bundle for the server (TLS)");
ABSL_FLAG(std::string, cert_file, "", "PEM client certificate (mutual TLS)");
ABSL_FLAG(std::string, key_file, "", "PEM client key (mutual TLS)");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(10),
          "deadline of the call, e.g. 500ms, 10s");
ABSL_FLAG(std::string, account, "",
          "configured Dojo account name; empty = the default account");
ABSL_FLAG(bool, json, false,
          "print the response as proto JSON (secrets included)");
ABSL_FLAG(bool, show_secret, false,
          "print client session secrets in the human summary");
ABSL_FLAG(std::string, request_id, "",
          "x-request-id sent with the call (the server logs it on failure)");

// create-intent, create-link.
ABSL_FLAG(std::string, reference, "", "merchant reference (idempotency key)");
ABSL_FLAG(std::optional<int64_t>, amount, std::nullopt,
          "amount in minor units, e.g. 1000 = 10.00");
ABSL_FLAG(std::string, currency, "", "GBP or EUR (default GBP)");
ABSL_FLAG(std::string, description, "", "description shown to the customer");
ABSL_FLAG(std::string, capture_mode, "", "auto or manual");
ABSL_FLAG(std::string, payment_methods, "",
          "comma-separated: card,wallet,saved_card");
ABSL_FLAG(bool, include_client_session_secret, false,
          "create-intent: also issue a client session secret (components)");
ABSL_FLAG(bool, card_holder_not_present, false,
          "mail/telephone order through the virtual terminal");
ABSL_FLAG(std::string, redirect_url, "",
          "checkout: where the customer returns after paying");
ABSL_FLAG(std::string, title, "", "checkout page title");
ABSL_FLAG(std::string, expire_in, "",
          "the unpaid intent expires after this duration, e.g. 24h");
ABSL_FLAG(std::string, request_json, "",
          "file (or -) with a CreateIntentRequest as proto JSON; the other "
          "flags override its fields");

// get-intent, refresh-secret.
ABSL_FLAG(std::string, id, "", "payment intent id, e.g. pi_sandbox_...");
ABSL_FLAG(bool, return_canceled, false,
          "get-intent: return the intent even if canceled");

// verify-webhook.
ABSL_FLAG(std::string, body_file, "",
          "file with the raw webhook body, or - for standard input");
ABSL_FLAG(std::string, signature, "",
          "the delivery's dojo-signature header, e.g. sha256=4B-49-...");

// health.
ABSL_FLAG(std::string, capture_key, "",
          "capture: your idempotency key for this capture");
ABSL_FLAG(std::string, refund_key, "",
          "refund: your idempotency key for this refund");
ABSL_FLAG(std::optional<int64_t>, tips, std::nullopt,
          "capture: tip in minor units");
ABSL_FLAG(std::string, reason, "", "refund: why");
ABSL_FLAG(std::string, notes, "", "refund: free text");
ABSL_FLAG(std::string, refund_id, "", "get-refund: rfnd_...");
ABSL_FLAG(std::string, statuses, "",
          "list-intents: comma-separated statuses, e.g. created,authorized");
ABSL_FLAG(std::string, created_after, "", "list-intents: RFC 3339 time");
ABSL_FLAG(std::string, created_before, "", "list-intents: RFC 3339 time");
ABSL_FLAG(int, page_size, 0, "list-intents: 1..100 (default 50)");
ABSL_FLAG(std::string, page_token, "",
          "list-intents: next_page_token of the previous page");
ABSL_FLAG(std::string, service, "",
          "service to check, e.g. payments.v1.PaymentsService; empty = all");

namespace {

using payments::ctl::CommandSpec;

constexpr char kProgram[] = "paymentsctl";

std::string FlagHelp(const std::string& name) {
  const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr) return "";
  std::string line = absl::StrFormat("  --%-32s %s", name, flag->Help());
  const std::string def = flag->DefaultValue();
  if (!def.empty() && def != "false") absl::StrAppend(&line, " (", def, ")");
  return absl::StrCat(line, "\n");
}

std::string Usage() {
  std::string out = absl::StrCat("usage: ", kProgram,
                                 " COMMAND [flags]   (--help after a "
                                 "command lists its flags)\n\ncommands:\n");
  for (const CommandSpec& c : payments::ctl::Commands()) {
    absl::StrAppend(&out, absl::StrFormat("  %-16s %s\n", c.name, c.summary));
  }
  absl::StrAppend(&out, "\nglobal flags:\n");
  for (const std::string& f : payments::ctl::GlobalFlags()) {
    absl::StrAppend(&out, FlagHelp(f));
  }
  absl::StrAppend(&out,
                  "\nflags take --name=value or --name value; dashes in names "
                  "work too (--body-file).\nexit status: the gRPC code (0 OK, "
                  "3 INVALID_ARGUMENT, 5 NOT_FOUND, 16 UNAUTHENTICATED, ...); "
                  "64 usage error.\n");
  return out;
}

std::string CommandUsage(const CommandSpec& command) {
  std::string out =
      absl::StrCat("usage: ", kProgram, " ", command.name, " ",
                   command.synopsis, "\n  ", command.summary, "\n\nflags:\n");
  for (const std::string& f : command.flags) absl::StrAppend(&out, FlagHelp(f));
  absl::StrAppend(&out, "\nglobal flags: ",
                  absl::StrJoin(payments::ctl::GlobalFlags(), ", "),
                  " (see paymentsctl --help)\n");
  return out;
}

int UsageFailure(const std::string& message) {
  std::cerr << kProgram << ": " << message << "\n(" << kProgram
            << " --help for usage)\n";
  return payments::ctl::kExitUsage;
}

bool IsHelp(const std::string& arg) {
  return arg == "--help" || arg == "-help" || arg == "-h" || arg == "help";
}

payments::client::ClientOptions ClientOptionsFromFlags() {
  payments::client::ClientOptions options;
  std::string target = absl::GetFlag(FLAGS_target);
  if (target.empty()) {
    const char* env = std::getenv("PAYMENTSCTL_TARGET");
    target = env != nullptr && *env != '\0' ? env : "localhost:50051";
  }
  options.target = target;
  options.tls = {.enabled = absl::GetFlag(FLAGS_tls),
                 .ca_file = absl::GetFlag(FLAGS_ca_file),
                 .cert_file = absl::GetFlag(FLAGS_cert_file),
                 .key_file = absl::GetFlag(FLAGS_key_file)};
  options.default_deadline = absl::GetFlag(FLAGS_deadline);
  options.user_agent = kProgram;
  // A command line tool reports an unreachable server at once.
  options.wait_for_ready = false;
  return options;
}

payments::ctl::CtlSettings SettingsFromFlags() {
  payments::ctl::CtlSettings s;
  s.account = absl::GetFlag(FLAGS_account);
  s.print = {.json = absl::GetFlag(FLAGS_json),
             .show_secret = absl::GetFlag(FLAGS_show_secret)};
  s.request_id = absl::GetFlag(FLAGS_request_id);
  s.intent.reference = absl::GetFlag(FLAGS_reference);
  s.intent.amount = absl::GetFlag(FLAGS_amount);
  s.intent.currency = absl::GetFlag(FLAGS_currency);
  s.intent.description = absl::GetFlag(FLAGS_description);
  s.intent.capture_mode = absl::GetFlag(FLAGS_capture_mode);
  s.intent.payment_methods = absl::GetFlag(FLAGS_payment_methods);
  s.intent.include_client_session_secret =
      absl::GetFlag(FLAGS_include_client_session_secret);
  s.intent.card_holder_not_present =
      absl::GetFlag(FLAGS_card_holder_not_present);
  s.intent.redirect_url = absl::GetFlag(FLAGS_redirect_url);
  s.intent.title = absl::GetFlag(FLAGS_title);
  s.intent.expire_in = absl::GetFlag(FLAGS_expire_in);
  s.request_json_file = absl::GetFlag(FLAGS_request_json);
  s.id = absl::GetFlag(FLAGS_id);
  s.return_canceled = absl::GetFlag(FLAGS_return_canceled);
  s.body_file = absl::GetFlag(FLAGS_body_file);
  s.signature = absl::GetFlag(FLAGS_signature);
  s.service = absl::GetFlag(FLAGS_service);
  s.lifecycle = {.capture_key = absl::GetFlag(FLAGS_capture_key),
                 .refund_key = absl::GetFlag(FLAGS_refund_key),
                 .tips = absl::GetFlag(FLAGS_tips),
                 .reason = absl::GetFlag(FLAGS_reason),
                 .notes = absl::GetFlag(FLAGS_notes),
                 .refund_id = absl::GetFlag(FLAGS_refund_id),
                 .statuses = absl::GetFlag(FLAGS_statuses),
                 .created_after = absl::GetFlag(FLAGS_created_after),
                 .created_before = absl::GetFlag(FLAGS_created_before),
                 .page_size = absl::GetFlag(FLAGS_page_size),
                 .page_token = absl::GetFlag(FLAGS_page_token)};
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  // The command is the first argument naming one; flags may come before
  // it (paymentsctl --target=X get-intent --id=Y) or after it.
  std::vector<std::string> args(argv + 1, argv + argc);
  const CommandSpec* command = nullptr;
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (IsHelp(*it) && command == nullptr) {
      std::cout << Usage();
      return 0;
    }
    if (it->empty() || (*it)[0] == '-') continue;
    command = payments::ctl::FindCommand(*it);
    if (command == nullptr) {
      return UsageFailure(absl::StrCat("unknown command '", *it, "'"));
    }
    args.erase(it);
    break;
  }
  if (command == nullptr) return UsageFailure("missing COMMAND");
  for (const std::string& arg : args) {
    if (IsHelp(arg)) {
      std::cout << CommandUsage(*command);
      return 0;
    }
  }
  std::vector<std::string> allowed = payments::ctl::GlobalFlags();
  allowed.insert(allowed.end(), command->flags.begin(), command->flags.end());
  auto positional = payments::ctl::ParseFlags(args, allowed);
  if (!positional.ok()) {
    return UsageFailure(std::string(positional.status().message()));
  }
  if (!positional->empty()) {
    return UsageFailure(
        absl::StrCat("unexpected argument '", positional->front(), "'"));
  }
  if (absl::GetFlag(FLAGS_deadline) <= absl::ZeroDuration()) {
    return UsageFailure("--deadline must be positive");
  }

  auto client =
      payments::client::PaymentsClient::Create(ClientOptionsFromFlags());
  if (!client.ok()) return UsageFailure(std::string(client.status().message()));

  absl::StatusOr<std::string> output =
      payments::ctl::RunCommand(*command, SettingsFromFlags(), **client);
  if (!output.ok()) {
    if (payments::ctl::IsUsageError(output.status())) {
      return UsageFailure(std::string(output.status().message()));
    }
    std::cerr << "error: "
              << payments::client::FormatRpcError(
                     payments::client::ParseRpcError(output.status()));
    return payments::ctl::ExitCodeFor(output.status());
  }
  std::cout << *output;
  return 0;
}
