#!/usr/bin/python3
"""Calls the payments gateway from Python with Debian's python3-grpcio.

Runs each flow in FLOWS (or the ones named) against a running server and its
Dojo emulator; prints "ok <flow>" per flow and exits 1 at the first one that
goes wrong. Generate the stubs first (README, "Calling from other
languages"):

  /usr/bin/python3 examples/python/payments_example.py \\
      [--target 127.0.0.1:50051] [--emulator http://127.0.0.1:8080/_emulator] [FLOW...]

Plaintext unless PAYMENTS_CA_FILE (PEM CAs of the server's certificate) or
PAYMENTS_CERT_FILE and PAYMENTS_KEY_FILE (a client certificate and its key,
for mutual TLS) are set; then TLS.

A flow is a function taking a Session; add one by writing it and listing it
in FLOWS.
"""

import argparse
import json
import os
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "gen"))  # the generated stubs

import grpc  # noqa: E402
from payments.v1 import payments_service_pb2 as pb  # noqa: E402
from payments.v1 import payments_service_pb2_grpc as pb_grpc  # noqa: E402

from rpc_errors import decode_error  # noqa: E402

DEFAULT_SERVICE_CONFIG = os.path.join(HERE, "..", "..", "proto", "service_config.json")
DEADLINE_SECONDS = 10  # every call has a deadline


def channel_credentials_from_env():
    """TLS credentials when PAYMENTS_CA_FILE or PAYMENTS_CERT_FILE is set,
    else None (plaintext). PAYMENTS_CA_FILE: PEM CAs for the server's
    certificate (default: the system roots); PAYMENTS_CERT_FILE and
    PAYMENTS_KEY_FILE: the client certificate and its key, for mutual TLS."""
    ca_file, cert_file, key_file = (os.environ.get(name) or None for name in (
        "PAYMENTS_CA_FILE", "PAYMENTS_CERT_FILE", "PAYMENTS_KEY_FILE"))
    if (cert_file is None) != (key_file is None):
        sys.exit("PAYMENTS_CERT_FILE and PAYMENTS_KEY_FILE go together")
    if ca_file is None and cert_file is None:
        return None

    def read(path):
        if path is None:
            return None
        with open(path, "rb") as f:
            return f.read()

    return grpc.ssl_channel_credentials(root_certificates=read(ca_file),
                                        private_key=read(key_file),
                                        certificate_chain=read(cert_file))


def create_channel(target, service_config_path=DEFAULT_SERVICE_CONFIG):
    """A channel carrying the repository's service config: wait-for-ready,
    retries of reads on UNAVAILABLE, retry throttling. Secured with TLS when
    the PAYMENTS_*_FILE variables say so (channel_credentials_from_env)."""
    with open(service_config_path, encoding="utf-8") as f:
        service_config = f.read()
    options = [
        ("grpc.service_config", service_config),
        ("grpc.enable_retries", 1),
    ]
    credentials = channel_credentials_from_env()
    if credentials is not None:
        return grpc.secure_channel(target, credentials, options=options)
    return grpc.insecure_channel(target, options=options)


class FlowFailed(Exception):
    pass


def check(condition, what):
    if not condition:
        raise FlowFailed(what)


class Session:
    """What a flow needs: the stub, the emulator, and `call`, which sends a
    request id and a deadline and checks the id comes back."""

    def __init__(self, channel, emulator):
        self.stub = pb_grpc.PaymentsServiceStub(channel)
        self.emulator = emulator.rstrip("/")
        self.calls = 0
        self.run_id = str(int(time.time() * 1000))

    def unique(self, prefix):
        return f"{prefix}-py-{self.run_id}-{self.calls}"

    def call(self, method, request):
        """Calls `method` (a stub attribute); returns the response, or raises
        grpc.RpcError. The server echoes x-request-id, on errors too."""
        self.calls += 1
        request_id = f"py-{self.run_id}-{self.calls}"
        metadata = [("x-request-id", request_id)]
        try:
            response, call = method.with_call(
                request, timeout=DEADLINE_SECONDS, metadata=metadata)
            echoed = dict(call.initial_metadata()).get("x-request-id")
        except grpc.RpcError as error:
            echoed = dict(error.initial_metadata() or ()).get("x-request-id")
            check(echoed == request_id, f"x-request-id not echoed on error: {echoed!r}")
            raise
        check(echoed == request_id, f"x-request-id not echoed: {echoed!r}")
        return response

    def expect_error(self, method, request, code):
        try:
            self.call(method, request)
        except grpc.RpcError as error:
            decoded = decode_error(error)
            check(decoded.code == code, f"want {code}, got {decoded.code}: {decoded.message}")
            return decoded
        raise FlowFailed(f"want {code}, the call succeeded")

    def control(self, path, body):
        """POSTs JSON to the emulator's control API (/_emulator)."""
        request = urllib.request.Request(
            self.emulator + path, data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=DEADLINE_SECONDS) as response:
            return json.load(response)


def gbp(value):
    return pb.Money(value=value, currency_code="GBP")


def checkout(s):
    """Hosted checkout: a payment link, the customer pays, the status says so."""
    link = s.call(s.stub.CreatePaymentLink, pb.CreatePaymentLinkRequest(
        reference=s.unique("Order"), amount=gbp(1000), description="Two coffees",
        config=pb.CheckoutConfig(title="Two coffees",
                                 redirect_url="https://shop.example/thanks")))
    intent_id = link.intent.id
    check(intent_id.startswith("pi_sandbox_"), f"intent id {intent_id!r}")
    check(link.payment_link.startswith("https://"), f"payment link {link.payment_link!r}")
    got = s.call(s.stub.GetIntent, pb.GetIntentRequest(id=intent_id))
    check(got.intent.status == pb.PAYMENT_INTENT_STATUS_CREATED,
          f"new intent is {pb.PaymentIntentStatus.Name(got.intent.status)}")
    # The customer pays on the hosted page; the emulator plays that part.
    s.control(f"/payment-intents/{intent_id}/status", {"status": "Authorized"})
    got = s.call(s.stub.GetIntent, pb.GetIntentRequest(id=intent_id))
    check(got.intent.status == pb.PAYMENT_INTENT_STATUS_AUTHORIZED,
          f"paid intent is {pb.PaymentIntentStatus.Name(got.intent.status)}")
    print(f"  {intent_id} authorized, amount {got.intent.amount.value} "
          f"{got.intent.amount.currency_code}")


def invalid_argument(s):
    """A request the server refuses before calling Dojo: BadRequest."""
    error = s.expect_error(s.stub.CreateIntent, pb.CreateIntentRequest(
        reference=s.unique("Bad"), amount=pb.Money(value=1000, currency_code="USD")),
        grpc.StatusCode.INVALID_ARGUMENT)
    fields = [field for field, _ in error.field_violations]
    check("amount.currency_code" in fields, f"field violations {error.field_violations}")
    print(f"  {error.code.name}: {error.field_violations}")


def reference_reused(s):
    """The same reference with other parameters: ErrorInfo REFERENCE_REUSED."""
    reference = s.unique("Reused")
    s.call(s.stub.CreateIntent, pb.CreateIntentRequest(reference=reference, amount=gbp(1000)))
    error = s.expect_error(s.stub.CreateIntent, pb.CreateIntentRequest(
        reference=reference, amount=gbp(2000)), grpc.StatusCode.ALREADY_EXISTS)
    check((error.reason, error.domain) == ("REFERENCE_REUSED", "payments.v1"),
          f"ErrorInfo {error.reason!r} in {error.domain!r}")
    print(f"  {error.code.name}: reason {error.reason}")


def retry_info(s):
    """Dojo rate limits the account (the emulator scripts a 429 with a
    Retry-After longer than the server waits): RetryInfo, and ErrorInfo with
    Dojo's trace id."""
    created = s.call(s.stub.CreateIntent, pb.CreateIntentRequest(
        reference=s.unique("Limited"), amount=gbp(1000)))
    intent_id = created.intent.id
    s.control("/faults", {"method": "GET", "path": f"/payment-intents/{intent_id}",
                          "responses": [{"status": 429, "retryAfter": "30"}]})
    error = s.expect_error(s.stub.GetIntent, pb.GetIntentRequest(id=intent_id),
                           grpc.StatusCode.RESOURCE_EXHAUSTED)
    check(error.retry_delay == 30, f"RetryInfo delay {error.retry_delay}")
    check(error.reason == "DOJO_RATE_LIMITED", f"ErrorInfo reason {error.reason!r}")
    check(error.metadata.get("trace_id"), f"no Dojo trace_id in {error.metadata}")
    print(f"  {error.code.name}: retry after {error.retry_delay:g}s, "
          f"Dojo trace id {error.metadata['trace_id']}")


def refund(s):
    """Manual capture, then a partial refund: idempotent by refund_key; the
    same key with another amount is ErrorInfo REFUND_KEY_REUSED."""
    order = s.unique("Manual")
    created = s.call(s.stub.CreateIntent, pb.CreateIntentRequest(
        reference=order, amount=gbp(5000), capture_mode=pb.CAPTURE_MODE_MANUAL))
    intent_id = created.intent.id
    s.control(f"/payment-intents/{intent_id}/authorize", {})  # the customer pays
    captured = s.call(s.stub.CaptureIntent, pb.CaptureIntentRequest(
        id=intent_id, capture_key=f"{order}-ship-1", amount=gbp(5000)))
    check(captured.capture_id, "no capture id")
    check(captured.intent.status == pb.PAYMENT_INTENT_STATUS_CAPTURED,
          f"captured intent is {pb.PaymentIntentStatus.Name(captured.intent.status)}")

    def refund_request(value):
        return pb.RefundIntentRequest(id=intent_id, refund_key=f"{order}-return-1",
                                      amount=gbp(value), reason="One item returned")

    first = s.call(s.stub.RefundIntent, refund_request(1500))
    check(first.refund.id, "no refund id")
    check(first.refund.amount == 1500, f"refund amount {first.refund.amount}")
    check(first.intent.refunded_amount == 1500,
          f"intent refunded_amount {first.intent.refunded_amount}")
    # Partly refunded: still CAPTURED (REFUNDED once all of it is refunded).
    check(first.intent.status == pb.PAYMENT_INTENT_STATUS_CAPTURED,
          f"partly refunded intent is {pb.PaymentIntentStatus.Name(first.intent.status)}")
    check(not first.idempotent_replay, "first refund is a replay")
    again = s.call(s.stub.RefundIntent, refund_request(1500))  # a retry
    check(again.idempotent_replay, "retry is not an idempotent replay")
    check(again.refund.id == first.refund.id,
          f"retry answers refund {again.refund.id!r}, not {first.refund.id!r}")
    check(again.intent.refunded_amount == 1500,
          f"after the retry refunded_amount {again.intent.refunded_amount}")
    error = s.expect_error(s.stub.RefundIntent, refund_request(2000),
                           grpc.StatusCode.ALREADY_EXISTS)
    check((error.reason, error.domain) == ("REFUND_KEY_REUSED", "payments.v1"),
          f"ErrorInfo {error.reason!r} in {error.domain!r}")
    print(f"  {intent_id}: captured {captured.intent.amount.value}, refund {first.refund.id} "
          f"of {first.refund.amount}, replayed; other amount {error.code.name}: "
          f"reason {error.reason}")


FLOWS = {f.__name__: f for f in (checkout, invalid_argument, reference_reused, retry_info,
                                 refund)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--emulator", default="http://127.0.0.1:8080/_emulator")
    parser.add_argument("flows", nargs="*", metavar="FLOW",
                        help="any of: " + ", ".join(FLOWS) + " (default: all)")
    args = parser.parse_args()
    for name in args.flows:
        if name not in FLOWS:
            parser.error(f"unknown flow {name!r}")
    with create_channel(args.target) as channel:
        session = Session(channel, args.emulator)
        for name in args.flows or FLOWS:
            try:
                FLOWS[name](session)
            except (FlowFailed, grpc.RpcError) as failure:
                print(f"FAIL {name}: {failure}", file=sys.stderr)
                return 1
            print(f"ok   {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
