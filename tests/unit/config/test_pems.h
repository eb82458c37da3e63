#ifndef TESTS_UNIT_CONFIG_TEST_PEMS_H_
#define TESTS_UNIT_CONFIG_TEST_PEMS_H_

// Throwaway test material (self-signed EC P-256, valid until 2126): two
// certificate/key pairs, so that a key can be paired with the wrong
// certificate, and the first key encrypted with a passphrase.

namespace payments::config::testing {

inline constexpr char kCertA[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBiDCCAS2gAwIBAgIUH4u29Z0bg0IrH+fJWVA8qBm7REwwCgYIKoZIzj0EAwIw\n"
    "GDEWMBQGA1UEAwwNY29uZmlnLXRlc3QtYTAgFw0yNjExMjkxNTQ0MzlaGA8yMTI2\n"
    "MTEwNTE1NDQzOVowGDEWMBQGA1UEAwwNY29uZmlnLXRlc3QtYTBZMBMGByqGSM49\n"
    "AgEGCCqGSM49AwEHA0IABOuDW2LEK/u+HzN/fbuycAFfOatq3kPQGeXbvQyg6Rxm\n"
    "7AGuI1ae+qCxZ4poIcJCyYUc9+BsX87Q1guI31BgbPWjUzBRMB0GA1UdDgQWBBQj\n"
    "R+j/qU9aIuNdR63juQ/imxDfzjAfBgNVHSMEGDAWgBQjR+j/qU9aIuNdR63juQ/i\n"
    "mxDfzjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCiabuLSSrI\n"
    "CQhIvTAKLREOQJdYP1NZmb6yLZ2rs4xBuAIhAN8IxyzK4rxYCsrl+QDGOly8pQZc\n"
    "ccQ1ZJ5jJ+6qUsX+\n"
    "-----END CERTIFICATE-----\n";

inline constexpr char kKeyA[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7EC5A2HONa1Tg3Dw\n"
    "UtDVFWkeKKO0BVCmtnEzGOdHvPWhRANCAATrg1tixCv7vh8zf327snABXzmrat5D\n"
    "0Bnl270MoOkcZuwBriNWnvqgsWeKaCHCQsmFHPfgbF/O0NYLiN9QYGz1\n"
    "-----END PRIVATE KEY-----\n";

inline constexpr char kCertB[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhjCCAS2gAwIBAgIUFkt10q52NalUSKSVKeX/mtyM/TMwCgYIKoZIzj0EAwIw\n"
    "GDEWMBQGA1UEAwwNY29uZmlnLXRlc3QtYjAgFw0yNjExMjkxNTQ0MzlaGA8yMTI2\n"
    "MTEwNTE1NDQzOVowGDEWMBQGA1UEAwwNY29uZmlnLXRlc3QtYjBZMBMGByqGSM49\n"
    "AgEGCCqGSM49AwEHA0IABJLzofz2BDVDbu9R5S68oO9Ph9jA77h+H1zEhwUTk44v\n"
    "vdN9XwVd/mIvXfQEkYo3TfKb9xWT7QYjZ/cBwqaPkKyjUzBRMB0GA1UdDgQWBBQz\n"
    "s3+v34v0sF6Sz5KzsohmSWReZTAfBgNVHSMEGDAWgBQzs3+v34v0sF6Sz5Kzsohm\n"
    "SWReZTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIHaBHuzwU2Ss\n"
    "UmR8jQ3Z/6iW34lK0VZldy5i/kZDtOu3AiA3Aun04tci+zyvPTEZGSaek+isMf77\n"
    "WjPsXxmaHVoOGw==\n"
    "-----END CERTIFICATE-----\n";

inline constexpr char kKeyB[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgvCc4GjjqUoEtRB0G\n"
    "8El3hsMdr5IDVesy2gAEmUgp6CChRANCAASS86H89gQ1Q27vUeUuvKDvT4fYwO+4\n"
    "fh9cxIcFE5OOL73TfV8FXf5iL130BJGKN03ym/cVk+0GI2f3AcKmj5Cs\n"
    "-----END PRIVATE KEY-----\n";

inline constexpr char kEncryptedKeyA[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAg2ZnwEGkwgYgICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEELxBwQbIM3rD6J60fnqDJWsEgZBY\n"
    "vmgYf7A2Bl8/wrRfv8A6u9n8h2KrdyYfI6nd0cwNnr/16bZJNCqXI8XcI6uL73KJ\n"
    "9gGO27OYB4oG9FuKR+altdzov4G1QBdxhO2Sat/OBziTIx8Q+snDdcujZqBDMJ7M\n"
    "Nyt4MWkGC+KfCs+rDKbWee9MF5PN6fG6CMegSOsF/lkP8G4VRKEjdLIMBUJDfHU=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

}  // namespace payments::config::testing

#endif  // TESTS_UNIT_CONFIG_TEST_PEMS_H_
