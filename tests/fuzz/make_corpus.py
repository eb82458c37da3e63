#!/usr/bin/python3
"""Regenerates the seed corpora in tests/fuzz/corpus/ from the project's own
test data: the OpenAPI spec's examples (tests/data/openapi), the Dojo
fixtures (tests/data/dojo), the raw-string JSON of the unit tests and a few
hand-written inputs per parser. Files are named by their SHA-1, so seeds are
deduplicated and re-running adds only what changed. Needs python3-yaml:
/usr/bin/python3 tests/fuzz/make_corpus.py"""

import hashlib
import json
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests/fuzz/corpus"
MAX_BYTES = 16 * 1024

# The documented webhook test vector (tests/unit/webhook/signature_verifier_test.cc).
DOCS_SECRET = "PDYkJQq6sESYHp_zJuTTBQ"
DOCS_SIGNATURE = ("sha256=4B-49-F8-FE-25-A7-E6-7D-00-4F-A7-9C-F8-0B-63-00-C7-77-"
                  "B4-F2-2D-E5-E1-22-84-FA-04-18-50-A1-76-FD")


def raw_strings(path):
    """The unit test's raw string literals, adjacent ones joined."""
    text = (ROOT / path).read_text()
    literal = r'R"(\w*)\((.*?)\)\1"'
    out = []
    for group in re.finditer(r'(?:%s\s*)+' % literal, text, re.S):
        out.append("".join(m.group(2) for m in re.finditer(literal, group.group(0), re.S)))
    return out


def openapi_examples():
    """(path, example) for every JSON example of the spec."""
    spec = yaml.safe_load((ROOT / "tests/data/openapi/openapi-2025-09-10.yaml").read_text())
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "example" and isinstance(value, (dict, list)):
                    found.append((path, value))
                elif key == "examples" and isinstance(value, dict):
                    for example in value.values():
                        if isinstance(example, dict) and isinstance(example.get("value"), (dict, list)):
                            found.append((path, example["value"]))
                else:
                    walk(value, path + "/" + str(key))
        elif isinstance(node, list):
            for value in node:
                walk(value, path)

    walk(spec, "")
    return [(path, json.dumps(value, separators=(",", ":"))) for path, value in found]


def fdp_string(text):
    """FuzzedDataProvider::ConsumeRandomLengthString's encoding of `text`."""
    return text.replace("\\", "\\\\") + "\\\n"


def write(target, inputs):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    added = 0
    for data in inputs:
        data = data.encode() if isinstance(data, str) else data
        if len(data) > MAX_BYTES:
            continue
        name = directory / hashlib.sha1(data).hexdigest()
        if not name.exists():
            name.write_bytes(data)
            added += 1
    print(f"{target}: {len(list(directory.iterdir()))} seeds ({added} new)")


def main():
    examples = openapi_examples()
    errors = [body for path, body in examples
              if re.search(r"/responses/[45]\d\d", path) or "roblem" in path]
    answers = [body for path, body in examples if body not in errors]
    fixtures = [p.read_text() for p in sorted((ROOT / "tests/data/dojo").glob("*.json"))]
    timespans = ["00:30:00", "1.02:03:04", "7.00:00:00.1234567", "23:59:59.999999999",
                 "00:00:00", "99999999.00:00:00", "1:2:3", "2022-02-01T13:07:41.8667859Z",
                 "2024-01-01T00:00:00+01:00", "2024-01-01T00:00:00", "0001-01-01T00:00:00Z"]
    write("dojo_json_fuzzer",
          answers + fixtures + raw_strings("tests/unit/dojo/dojo_json_test.cc") + timespans)

    problem_bodies = errors + raw_strings("tests/unit/dojo/dojo_errors_test.cc") + [
        "", "<html><body>502 Bad Gateway</body></html>",
        json.dumps({"detail": "Le montant doit être supérieur à zéro. " * 5,
                    "traceId": "00-" + "é" * 40}, ensure_ascii=False),
        json.dumps({"errors": {"ItemLines[0].AmountTotal": ["Must be positive."],
                               "$.amount.value": "Required."}}),
    ]
    statuses = ["400", "401", "403", "404", "405", "409", "422", "429", "500", "503", "418"]
    write("dojo_errors_fuzzer",
          [f"{statuses[i % len(statuses)]}\n{body}" for i, body in enumerate(problem_bodies)] +
          [f"{status}\n" for status in statuses])

    event_bodies = raw_strings("tests/unit/webhook/webhook_event_test.cc") + [
        body for path, body in examples if "ebhook" in path]
    docs_body = raw_strings("tests/unit/webhook/signature_verifier_test.cc")[0]
    write("webhook_fuzzer",
          [fdp_string(DOCS_SECRET) + fdp_string(DOCS_SIGNATURE) + docs_body,
           fdp_string(DOCS_SECRET) + fdp_string(DOCS_SIGNATURE.lower()) + docs_body,
           fdp_string(DOCS_SECRET) + fdp_string("") + docs_body,
           fdp_string("") + fdp_string("sha256=00") + ""] +
          [fdp_string(DOCS_SECRET) + fdp_string(DOCS_SIGNATURE) + body for body in event_bodies])

    write("server_config_fuzzer", [
        "PAYMENTS_LISTEN_ADDR=127.0.0.1:50051\nPAYMENTS_DEFAULT_DEADLINE=1m30s\n",
        "DOJO_ACCOUNTS_FILE=@file\n--\n# accounts\neu=sk_sandbox_eu_1\nuk = sk_sandbox_uk_2\n",
        "DOJO_WEBHOOK_SECRETS=primary=PDYkJQq6sESYHp_zJuTTBQ,old=c2VjcmV0PQ==\n",
        "DOJO_WEBHOOK_SECRETS_FILE=@file\n--\nprimary=whsec_a1\nsecondary=whsec_b2\n",
        "DOJO_API_KEY_FILE=@file\n--\nsk_sandbox_from_file\n",
        "DOJO_BASE_URL=http://127.0.0.1:8080/\nDOJO_API_VERSION=2026-02-27\n",
        "DOJO_BASE_URL=https://api.dojo.tech/v2\nPAYMENTS_STORE=postgresql://u:p@db/payments\n",
        "PAYMENTS_RETRY_MAX_ATTEMPTS=5\nPAYMENTS_RETRY_BUDGET_RATIO=0.5\n"
        "PAYMENTS_ACCESS_LOG_SAMPLE_RATIO=0.01\nPAYMENTS_DRAIN_DELAY=5s\n",
        "PAYMENTS_IDEMPOTENCY_RETENTION=1000h\nPAYMENTS_MAX_WEBHOOK_BYTES=65536\n"
        "PAYMENTS_STORE_WORKERS=8\nPAYMENTS_UPSTREAM_MAX_CONNECTIONS=64\n",
        "PAYMENTS_TLS=mtls\nPAYMENTS_TLS_CERT_FILE=@file\nPAYMENTS_TLS_KEY_FILE=@file\n"
        "PAYMENTS_TLS_CLIENT_CA_FILE=@file\n--\n-----BEGIN CERTIFICATE-----\nMIIB\n"
        "-----END CERTIFICATE-----\n",
        "PAYMENTS_HEALTH_ADDR=[::1]:8081\nPAYMENTS_METRICS_ADDR=0.0.0.0:9464\n"
        "PAYMENTS_SETTLE_PERIOD=15m\nPAYMENTS_RECONCILE_CLOCK_SKEW=2m\n",
    ])

    write("retry_after_fuzzer", ["30", " 5 ", "0", "-1", "+5", "1.5", "120\r\n",
                                 "Wed, 21 Oct 2015 07:28:00 GMT", "99999999999999999999",
                                 "9223372036854775807", ""])


if __name__ == "__main__":
    main()
