#ifndef LIB_CONFIG_PEM_FILES_H_
#define LIB_CONFIG_PEM_FILES_H_

// Start-up checks of the PEM files the server is configured with, parsed
// with OpenSSL so that a file that cannot work stops the process at once
// instead of failing every TLS handshake later. Errors are INVALID_ARGUMENT
// "<setting>: ..." naming the file's path, never its contents (a key file
// is a secret) and never OpenSSL's error text.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace payments::config {

// `pem` (the contents of the file `setting` names) holds at least one
// certificate and every CERTIFICATE block in it parses. Other PEM blocks are
// ignored, as OpenSSL's loaders do.
absl::Status ValidateCertificatesPem(absl::string_view setting,
                                     const std::string& pem);

// `pem` holds an unencrypted private key (the server cannot prompt for a
// passphrase).
absl::Status ValidatePrivateKeyPem(absl::string_view setting,
                                   const std::string& pem);

// The private key in `key_pem` belongs to the first certificate of
// `cert_pem` (the leaf of the chain). Both already validated. The error
// names `key_setting` and `cert_setting`.
absl::Status ValidateKeyMatchesCertificate(absl::string_view key_setting,
                                           const std::string& key_pem,
                                           absl::string_view cert_setting,
                                           const std::string& cert_pem);

}  // namespace payments::config

#endif  // LIB_CONFIG_PEM_FILES_H_
