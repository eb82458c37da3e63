// dojo-emulator: a local stand-in for Dojo's payments API. See README.md.
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/emulator/account_registry.h"
#include "tests/emulator/emulator.h"
#include "tests/emulator/http_server.h"

namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
using dojo_emulator::Json;

constexpr char kUsage[] = R"(usage: dojo-emulator [flags]

A stateful local stand-in for Dojo's payments REST API (see README.md).

  --http-port=N        plain HTTP listener port (0: pick a free port)
  --https-port=N       HTTPS listener port (0: pick a free port); needs
                       --tls-cert and --tls-key
                       With neither port flag, HTTP listens on a free port.
                       With only --https-port, there is no HTTP listener.
  --tls-cert=FILE      PEM certificate chain for HTTPS
  --tls-key=FILE       PEM private key for HTTPS
  --api-keys=FILE      lines "name=key"; without it any key starting with
                       sk_sandbox_ is accepted, named by its last 4 characters
  --forbidden-keys=FILE  lines "name=key": keys answered with 403
  --port-file=FILE     write {"http":P,"https":Q} here (atomically) once
                       listening; a disabled listener is null
  --bind=ADDR          listen address (default 127.0.0.1)
  --threads=N          io_context threads, 1..8 (default 2)
  --search-lag-ms=N    intents show up in search N ms after their commit
                       (default 0; POST /_emulator/reset restores this)
  --webhook-url=URL    send a signed payment_intent.status_updated event to
                       URL (http://host[:port][/path]) on every status change
  --webhook-secret=S   the webhook signing secret (never printed)
  --auto-expire-scale=F  multiply auto-expiry delays by F, 0 < F <= 1
                       (default 1; 0.01 makes autoExpireIn 00:00:30 fire
                       after 300 ms)
  --help               this text

Prints "dojo-emulator listening http=ADDR:P https=ADDR:Q" once ready.
SIGTERM/SIGINT stop it with exit status 0.
)";

struct Flags {
  std::optional<uint16_t> http_port;
  std::optional<uint16_t> https_port;
  std::string tls_cert;
  std::string tls_key;
  std::string api_keys;
  std::string forbidden_keys;
  std::string port_file;
  std::string bind = "127.0.0.1";
  int threads = 2;
  int64_t search_lag_ms = 0;
  std::string webhook_url;
  std::string webhook_secret;
  double auto_expire_scale = 1.0;
};

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "dojo-emulator: " << message << "\n";
  std::exit(2);
}

uint16_t ParsePort(const std::string& name, const std::string& value) {
  try {
    size_t used = 0;
    int port = std::stoi(value, &used);
    if (used == value.size() && port >= 0 && port <= 65535) {
      return static_cast<uint16_t>(port);
    }
  } catch (const std::exception&) {
  }
  Die("--" + name + " must be a port number, got '" + value + "'");
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      Die("unexpected argument '" + arg + "' (flags are --name=value)");
    }
    std::string name = arg.substr(2, eq - 2);
    std::string value = arg.substr(eq + 1);
    if (name == "http-port") {
      flags.http_port = ParsePort(name, value);
    } else if (name == "https-port") {
      flags.https_port = ParsePort(name, value);
    } else if (name == "tls-cert") {
      flags.tls_cert = value;
    } else if (name == "tls-key") {
      flags.tls_key = value;
    } else if (name == "api-keys") {
      flags.api_keys = value;
    } else if (name == "forbidden-keys") {
      flags.forbidden_keys = value;
    } else if (name == "port-file") {
      flags.port_file = value;
    } else if (name == "bind") {
      flags.bind = value;
    } else if (name == "threads") {
      flags.threads = std::atoi(value.c_str());
      if (flags.threads < 1 || flags.threads > 8) Die("--threads must be 1..8");
    } else if (name == "search-lag-ms") {
      try {
        size_t used = 0;
        flags.search_lag_ms = std::stoll(value, &used);
        if (used != value.size()) flags.search_lag_ms = -1;
      } catch (const std::exception&) {
        flags.search_lag_ms = -1;
      }
      if (flags.search_lag_ms < 0 || flags.search_lag_ms > 3600 * 1000) {
        Die("--search-lag-ms must be an integer in 0..3600000");
      }
    } else if (name == "webhook-url") {
      if (!value.empty() &&
          !dojo_emulator::WebhookClient::IsSupportedUrl(value)) {
        Die("--webhook-url must look like http://host[:port][/path]");
      }
      flags.webhook_url = value;
    } else if (name == "webhook-secret") {
      flags.webhook_secret = value;
    } else if (name == "auto-expire-scale") {
      double scale = 0;
      try {
        size_t used = 0;
        scale = std::stod(value, &used);
        if (used != value.size()) scale = 0;
      } catch (const std::exception&) {
      }
      if (!dojo_emulator::AutoExpiry::IsValidScale(scale)) {
        Die("--auto-expire-scale must be a number in (0, 1]");
      }
      flags.auto_expire_scale = scale;
    } else {
      Die("unknown flag --" + name + " (see --help)");
    }
  }
  if (!flags.http_port && !flags.https_port) flags.http_port = 0;
  if (flags.https_port && (flags.tls_cert.empty() || flags.tls_key.empty())) {
    Die("--https-port needs --tls-cert and --tls-key");
  }
  return flags;
}

std::map<std::string, std::string> LoadKeys(const std::string& path) {
  std::map<std::string, std::string> keys;
  if (path.empty()) return keys;
  if (auto error = dojo_emulator::AccountRegistry::ParseKeyFile(path, &keys)) {
    Die(*error);
  }
  return keys;
}

// Holding thousands of open connections needs more than the usual 1024 fds.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void WritePortFile(const std::string& path, std::optional<uint16_t> http,
                   std::optional<uint16_t> https) {
  Json ports = Json::object();
  ports["http"] = http ? Json(*http) : Json(nullptr);
  ports["https"] = https ? Json(*https) : Json(nullptr);
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << ports.dump() << "\n";
    if (!out) Die("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) Die("cannot rename " + tmp + " to " + path + ": " + ec.message());
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  RaiseFileLimit();

  dojo_emulator::AccountRegistry accounts(LoadKeys(flags.api_keys),
                                          LoadKeys(flags.forbidden_keys));

  net::io_context ioc(flags.threads);
  std::optional<ssl::context> tls;
  if (flags.https_port) {
    tls.emplace(ssl::context::tls_server);
    tls->set_options(ssl::context::default_workarounds |
                     ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    tls->use_certificate_chain_file(flags.tls_cert, ec);
    if (ec)
      Die("cannot load --tls-cert " + flags.tls_cert + ": " + ec.message());
    tls->use_private_key_file(flags.tls_key, ssl::context::pem, ec);
    if (ec) Die("cannot load --tls-key " + flags.tls_key + ": " + ec.message());
  }

  dojo_emulator::EmulatorOptions options;
  options.search_lag = std::chrono::milliseconds(flags.search_lag_ms);
  options.webhook_url = flags.webhook_url;
  options.webhook_secret = flags.webhook_secret;
  options.auto_expire_scale = flags.auto_expire_scale;
  dojo_emulator::Emulator emulator(ioc.get_executor(), std::move(accounts),
                                   options);
  dojo_emulator::HttpServer server(
      ioc, [&emulator](dojo_emulator::Request req,
                       dojo_emulator::ReplyCallback done) {
        emulator.Handle(std::move(req), std::move(done));
      });

  std::string error;
  std::optional<uint16_t> http_port, https_port;
  if (flags.http_port) {
    http_port = server.Listen(flags.bind, *flags.http_port, nullptr, &error);
    if (!http_port) Die(error);
  }
  if (flags.https_port) {
    https_port = server.Listen(flags.bind, *flags.https_port, &*tls, &error);
    if (!https_port) Die(error);
  }
  if (!flags.port_file.empty()) {
    WritePortFile(flags.port_file, http_port, https_port);
  }
  auto describe = [&](std::optional<uint16_t> port) {
    return port ? flags.bind + ":" + std::to_string(*port) : std::string("-");
  };
  std::cout << "dojo-emulator listening http=" << describe(http_port)
            << " https=" << describe(https_port) << std::endl;

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    emulator.Shutdown();  // cancels the auto-expiry timers
    server.Stop();
    ioc.stop();
  });

  std::vector<std::thread> threads;
  for (int i = 1; i < flags.threads; ++i)
    threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  return 0;
}
