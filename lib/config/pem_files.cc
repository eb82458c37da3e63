#include "lib/config/pem_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace payments::config {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

absl::Status Invalid(absl::string_view setting, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(setting, ": ", problem));
}

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Refuses a passphrase prompt: an encrypted key fails to load.
int NoPassphrase(char*, int, int, void*) { return 0; }

Key ReadKey(const std::string& pem) {
  Bio bio = MemoryBio(pem);
  if (bio == nullptr) return nullptr;
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr));
  ERR_clear_error();
  return key;
}

// Whether the last failed PEM read simply found no further PEM block.
bool AtCleanEnd() {
  const unsigned long error = ERR_peek_last_error();
  return ERR_GET_LIB(error) == ERR_LIB_PEM &&
         ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
}

}  // namespace

absl::Status ValidateCertificatesPem(absl::string_view setting,
                                     const std::string& pem) {
  Bio bio = MemoryBio(pem);
  if (bio == nullptr) return absl::ResourceExhaustedError("out of memory");
  ERR_clear_error();
  int count = 0;
  while (Cert(PEM_read_bio_X509(bio.get(), nullptr, &NoPassphrase, nullptr))) {
    ++count;
  }
  const bool clean_end = AtCleanEnd();
  ERR_clear_error();
  if (!clean_end) {
    return Invalid(setting,
                   absl::StrCat("expected a PEM file with certificates; "
                                "certificate ",
                                count + 1, " does not parse"));
  }
  if (count == 0) {
    return Invalid(setting,
                   "expected a PEM file with at least one certificate; none "
                   "found");
  }
  return absl::OkStatus();
}

absl::Status ValidatePrivateKeyPem(absl::string_view setting,
                                   const std::string& pem) {
  if (ReadKey(pem) == nullptr) {
    return Invalid(setting,
                   "expected a PEM file with an unencrypted private key");
  }
  return absl::OkStatus();
}

absl::Status ValidateKeyMatchesCertificate(absl::string_view key_setting,
                                           const std::string& key_pem,
                                           absl::string_view cert_setting,
                                           const std::string& cert_pem) {
  Key key = ReadKey(key_pem);
  Bio bio = MemoryBio(cert_pem);
  Cert leaf(bio == nullptr ? nullptr
                           : PEM_read_bio_X509(bio.get(), nullptr,
                                               &NoPassphrase, nullptr));
  const bool match = key != nullptr && leaf != nullptr &&
                     X509_check_private_key(leaf.get(), key.get()) == 1;
  ERR_clear_error();
  if (!match) {
    return Invalid(key_setting,
                   absl::StrCat("the private key does not belong to the "
                                "first certificate of ",
                                cert_setting));
  }
  return absl::OkStatus();
}

}  // namespace payments::config
