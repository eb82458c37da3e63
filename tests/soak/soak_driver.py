#!/usr/bin/python3
"""Soak driver: mixed gRPC traffic against a running payments-server, with
upstream faults injected through the Dojo emulator, while the server process
is sampled every second. Started by scripts/soak.sh, which generates the
stubs (--gen), starts the stack and draws the samples.

Traffic (each of --workers threads, paced to --rate calls/s in total):
  create   CreateIntent with a fresh reference
  replay   CreateIntent again with one of the worker's finished references:
           must be OK, idempotent_replay, the same intent id
  get      GetIntent of one of the worker's intents
  webhook  VerifyWebhook of a correctly signed event (sometimes redelivered:
           must then say duplicate)
  badhook  VerifyWebhook of a tampered body, a foreign secret, a malformed
           or a missing signature: must be UNAUTHENTICATED with the reason
  resolve  CreateIntent again for a reference whose create ended
           OUTCOME_UNKNOWN, until it returns the intent

A share (--fault-rate) of creates and gets runs under one injected fault.
Exactly one fault is armed at a time (the fault lock), a GetIntent fault
matches only that call's intent path and a faulted create holds the create
lock exclusively (no other create in flight), so every injected fault is
attributed to the one call it hit. A call is "explained" only by its own
fault; every other non-OK answer is an unexplained error.

Writes DIR/samples.csv and DIR/summary.txt; prints the summary; exits 1 when
a bound fails. The webhook secret comes from SOAK_WEBHOOK_SECRET and is
never printed.
"""

import argparse
import collections
import hashlib
import hmac
import json
import os
import random
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", required=True, help="server address host:port")
    p.add_argument("--control", required=True,
                   help="emulator control URL, http://127.0.0.1:P/_emulator")
    p.add_argument("--server-pid", type=int, required=True)
    p.add_argument("--gen", required=True, help="directory of the generated stubs")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--rate", type=float, default=40, help="calls per second, all workers")
    p.add_argument("--fault-rate", type=float, default=0.05,
                   help="share of creates and gets run under an injected fault")
    p.add_argument("--warmup", type=float, default=10,
                   help="seconds before the reference sample of the growth bounds")
    p.add_argument("--resolve-timeout", type=float, default=12,
                   help="seconds after the traffic to settle OUTCOME_UNKNOWN references")
    p.add_argument("--rss-growth-mib", type=float, default=16)
    p.add_argument("--rss-growth-ratio", type=float, default=0.25)
    p.add_argument("--fd-slack", type=int, default=8)
    # gRPC's default executor starts threads on demand, up to 2 per core;
    # some may start after the warm-up.
    p.add_argument("--thread-slack", type=int, default=max(4, 2 * (os.cpu_count() or 1)))
    p.add_argument("--seed", type=int, default=None)
    return p.parse_args()


ARGS = parse_args()
sys.path.insert(0, ARGS.gen)

import grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from payments.v1 import payments_service_pb2 as pb  # noqa: E402
from payments.v1 import payments_service_pb2_grpc as pb_grpc  # noqa: E402

DEADLINE_S = 10
RUN_ID = secrets.token_hex(4)
REF_PREFIX = f"soak-{RUN_ID}-"
WEBHOOK_SECRET = os.environ.get("SOAK_WEBHOOK_SECRET", "")
if not WEBHOOK_SECRET:
    sys.exit("soak_driver: SOAK_WEBHOOK_SECRET is not set")

# Faults, by name: the emulator fault steps, and the outcome classes each
# explains. "ok" means the call must succeed anyway.
CREATE_FAULTS = {
    # Not processed: nothing was created, the call cannot know it.
    "create_503_unprocessed": ([{"status": 503}], {"outcome_unknown"}),
    "create_drop_unprocessed": ([{"drop": True}], {"outcome_unknown"}),
    # Processed, answer lost: the call's own search should find the intent.
    "create_503_after_processing": ([{"processThenStatus": 503}], {"ok", "outcome_unknown"}),
    "create_drop_after_processing": ([{"processThenDrop": True}], {"ok", "outcome_unknown"}),
    # Slow, within every timeout.
    "create_slow_answer": ([{"delayMs": 400}], {"ok"}),
    "create_slow_commit": ([{"commitDelayMs": 300}], {"ok"}),
}
GET_FAULTS = {
    # GETs are retried (3 attempts, retry budget): one failure is absorbed,
    # unless the budget is spent, then UNAVAILABLE.
    "get_503_once": ([{"status": 503}], {"ok", "unavailable"}),
    "get_drop_once": ([{"drop": True}], {"ok", "unavailable"}),
    "get_slow_answer": ([{"delayMs": 400}], {"ok"}),
    # Every attempt fails.
    "get_503_every_attempt": ([{"status": 503, "repeat": 3}], {"unavailable"}),
}
# Faults whose steps may stay unused: the server stops retrying early when
# its retry budget is spent (then the call is UNAVAILABLE).
MAY_LEAVE_STEPS = {"get_503_once", "get_drop_once", "get_503_every_attempt"}

OP_WEIGHTS = [("create", 30), ("replay", 20), ("get", 25), ("webhook", 15), ("badhook", 10)]
BAD_HOOK_KINDS = {
    "tampered_body": "SIGNATURE_MISMATCH",
    "foreign_secret": "SIGNATURE_MISMATCH",
    "malformed_signature": "SIGNATURE_MALFORMED",
    "missing_signature": "SIGNATURE_MISSING",
}


class Stats:
    """Counters shared by the workers and the sampler."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = collections.Counter()       # kind -> calls
        self.classes = collections.Counter()     # (kind, class) -> calls
        self.explained = collections.Counter()   # (fault, class) -> calls
        self.unexplained = []                    # descriptions, first 50 kept
        self.unexplained_count = 0
        self.faulted = 0
        self.total = 0

    def record(self, kind, cls):
        with self.lock:
            self.calls[kind] += 1
            self.classes[(kind, cls)] += 1
            self.total += 1

    def explain(self, fault, cls):
        with self.lock:
            self.faulted += 1
            self.explained[(fault, cls)] += 1

    def error(self, text):
        with self.lock:
            self.unexplained_count += 1
            if len(self.unexplained) < 50:
                self.unexplained.append(text)

    def snapshot(self):
        with self.lock:
            return self.total, self.unexplained_count, self.faulted


STATS = Stats()


class CreateLock:
    """Readers: ordinary creates. Writer: a faulted create, alone so that
    the POST /payment-intents fault can only hit it. Writers are preferred,
    so a faulted create does not starve."""

    def __init__(self):
        self.cond = threading.Condition()
        self.readers = 0
        self.writer = False
        self.waiting_writers = 0

    def acquire_read(self):
        with self.cond:
            while self.writer or self.waiting_writers:
                self.cond.wait()
            self.readers += 1

    def release_read(self):
        with self.cond:
            self.readers -= 1
            if self.readers == 0:
                self.cond.notify_all()

    def acquire_write(self):
        with self.cond:
            self.waiting_writers += 1
            while self.writer or self.readers:
                self.cond.wait()
            self.waiting_writers -= 1
            self.writer = True

    def release_write(self):
        with self.cond:
            self.writer = False
            self.cond.notify_all()


CREATE_LOCK = CreateLock()
FAULT_LOCK = threading.Lock()


def control(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(ARGS.control + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def sign(body, secret):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + "-".join(f"{b:02X}" for b in digest)


def classify(error):
    """(class, reason, retry delay in s) of a failed call."""
    reason, delay = "", None
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                reason = info.reason
            elif detail.Unpack(retry):
                delay = retry.retry_delay.ToTimedelta().total_seconds()
    code = error.code()
    if code == grpc.StatusCode.UNAVAILABLE and reason == "OUTCOME_UNKNOWN":
        return "outcome_unknown", reason, delay
    if code == grpc.StatusCode.UNAVAILABLE:
        return "unavailable", reason, delay
    if code == grpc.StatusCode.ABORTED and reason == "OPERATION_IN_PROGRESS":
        return "in_progress", reason, delay
    return f"{code.name.lower()}", reason, delay


class Reference:
    def __init__(self, reference, amount):
        self.reference = reference
        self.amount = amount
        self.intent_id = None       # once a call returned the intent
        self.unknown_since = None   # while its create's outcome is unknown
        self.retry_at = 0.0
        self.fault = None           # the fault that made it unknown


class Worker(threading.Thread):
    def __init__(self, index, stub, stop_traffic, rate):
        super().__init__(name=f"soak-worker-{index}", daemon=True)
        self.index = index
        self.stub = stub
        self.stop_traffic = stop_traffic
        self.interval = 1.0 / rate
        self.rng = random.Random(None if ARGS.seed is None else ARGS.seed + index)
        self.seq = 0
        self.finished = []      # References with an intent
        self.unknown = []       # References awaiting resolution
        self.hooks = []         # (body, signature) verified once, for redeliveries
        self.all_refs = []

    # --- calls -----------------------------------------------------------
    def call(self, method, request):
        """(response, None) or (None, (class, reason, delay))."""
        try:
            return method(request, timeout=DEADLINE_S,
                          metadata=[("x-request-id", f"soak-{RUN_ID}-{self.index}-{self.seq}")]), None
        except grpc.RpcError as error:
            return None, classify(error)
        finally:
            self.seq += 1

    def create_request(self, ref):
        return pb.CreateIntentRequest(
            reference=ref.reference, amount=pb.Money(value=ref.amount, currency_code="GBP"),
            description="soak")

    def run_fault(self, fault, steps, path, method, fn):
        """Runs fn() with `steps` armed for METHOD PATH; returns (result, leftover)."""
        with FAULT_LOCK:
            control("POST", "/faults", {"method": method, "path": path, "responses": steps})
            try:
                result = fn()
            finally:
                remaining = control("GET", "/faults").get("faults", [])
                if remaining:
                    control("DELETE", "/faults")
        return result, bool(remaining)

    # --- operations ------------------------------------------------------
    def op_create(self, faulted):
        ref = Reference(f"{REF_PREFIX}{self.index}-{len(self.all_refs)}",
                        self.rng.randrange(100, 100000))
        self.all_refs.append(ref)
        request = self.create_request(ref)
        fault = None
        if faulted:
            fault = self.rng.choice(sorted(CREATE_FAULTS))
            steps, allowed = CREATE_FAULTS[fault]
            CREATE_LOCK.acquire_write()
            try:
                (resp, err), leftover = self.run_fault(
                    fault, steps, "/payment-intents", "POST",
                    lambda: self.call(self.stub.CreateIntent, request))
            finally:
                CREATE_LOCK.release_write()
        else:
            CREATE_LOCK.acquire_read()
            try:
                resp, err = self.call(self.stub.CreateIntent, request)
            finally:
                CREATE_LOCK.release_read()
            leftover = False
        cls = "ok" if err is None else err[0]
        STATS.record("create", cls)
        what = f"create {ref.reference}" + (f" under {fault}" if fault else "")
        if fault:
            if leftover:
                STATS.error(f"{what}: the fault was not consumed ({cls})")
            elif cls not in CREATE_FAULTS[fault][1]:
                STATS.error(f"{what}: {cls} {err[1] if err else ''} is not explained by the fault")
            else:
                STATS.explain(fault, cls)
        elif cls != "ok":
            STATS.error(f"{what}: {cls} {err[1]}")
        if cls == "ok":
            self.accept_intent(ref, resp.intent, what, replay_expected=False,
                               replay=resp.idempotent_replay)
        elif cls == "outcome_unknown":
            ref.unknown_since = time.monotonic()
            ref.fault = fault
            ref.retry_at = time.monotonic() + min(max(err[2] or 1.0, 0.5), 5.0)
            self.unknown.append(ref)

    def accept_intent(self, ref, intent, what, replay_expected, replay):
        if intent.reference != ref.reference or intent.amount.value != ref.amount:
            STATS.error(f"{what}: answered intent {intent.id} is for {intent.reference!r}"
                        f" {intent.amount.value}")
            return
        if replay_expected is not None and replay != replay_expected:
            STATS.error(f"{what}: idempotent_replay={replay}, want {replay_expected}")
        if ref.intent_id is not None and ref.intent_id != intent.id:
            STATS.error(f"{what}: intent {intent.id}, earlier {ref.intent_id}")
            return
        ref.intent_id = intent.id
        self.finished.append(ref)

    def op_replay(self):
        ref = self.rng.choice(self.finished)
        CREATE_LOCK.acquire_read()
        try:
            resp, err = self.call(self.stub.CreateIntent, self.create_request(ref))
        finally:
            CREATE_LOCK.release_read()
        cls = "ok" if err is None else err[0]
        if cls == "ok" and (resp.intent.id != ref.intent_id or not resp.idempotent_replay):
            cls = "different_intent" if resp.intent.id != ref.intent_id else "not_marked_replay"
        STATS.record("replay", cls)
        if cls != "ok":
            got = resp.intent.id if resp is not None else (err[1] if err else "")
            STATS.error(f"replay {ref.reference}: {cls} {got}, want {ref.intent_id}")

    def op_resolve(self, ref):
        CREATE_LOCK.acquire_read()
        try:
            resp, err = self.call(self.stub.CreateIntent, self.create_request(ref))
        finally:
            CREATE_LOCK.release_read()
        cls = "ok" if err is None else err[0]
        STATS.record("resolve", cls)
        if cls == "ok":
            self.unknown.remove(ref)
            ref.unknown_since = None
            self.accept_intent(ref, resp.intent, f"resolve {ref.reference}",
                               replay_expected=None, replay=resp.idempotent_replay)
        elif cls in ("outcome_unknown", "in_progress"):
            ref.retry_at = time.monotonic() + min(max(err[2] or 1.0, 0.5), 5.0)
        else:
            STATS.error(f"resolve {ref.reference}: {cls} {err[1]}")
            self.unknown.remove(ref)

    def op_get(self, faulted):
        ref = self.rng.choice(self.finished)
        request = pb.GetIntentRequest(id=ref.intent_id)
        fault = None
        if faulted:
            fault = self.rng.choice(sorted(GET_FAULTS))
            steps, _ = GET_FAULTS[fault]
            (resp, err), leftover = self.run_fault(
                fault, steps, f"/payment-intents/{ref.intent_id}", "GET",
                lambda: self.call(self.stub.GetIntent, request))
        else:
            resp, err = self.call(self.stub.GetIntent, request)
            leftover = False
        cls = "ok" if err is None else err[0]
        STATS.record("get", cls)
        what = f"get {ref.intent_id}" + (f" under {fault}" if fault else "")
        if fault:
            if leftover and not (fault in MAY_LEAVE_STEPS and cls == "unavailable"):
                STATS.error(f"{what}: the fault was not consumed ({cls})")
            elif cls not in GET_FAULTS[fault][1]:
                STATS.error(f"{what}: {cls} {err[1] if err else ''} is not explained by the fault")
            else:
                STATS.explain(fault, cls)
        elif cls != "ok":
            STATS.error(f"{what}: {cls} {err[1]}")
        if cls == "ok" and (resp.intent.id != ref.intent_id or
                            resp.intent.reference != ref.reference):
            STATS.error(f"{what}: answered {resp.intent.id} {resp.intent.reference!r}")

    def event_body(self, intent_id):
        event = {
            "id": f"evt_soak_{RUN_ID}_{self.index}_{self.seq}",
            "event": "payment_intent.status_updated",
            "accountId": "acc_soak",
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "data": {"paymentIntentId": intent_id, "paymentStatus": "Authorized",
                     "captureMode": "Auto"},
        }
        return event, json.dumps(event, separators=(",", ":")).encode()

    def op_webhook(self):
        redelivery = bool(self.hooks) and self.rng.random() < 0.2
        if redelivery:
            event, body, signature = self.rng.choice(self.hooks)
        else:
            intent_id = self.rng.choice(self.finished).intent_id if self.finished else "pi_soak"
            event, body = self.event_body(intent_id)
            signature = sign(body, WEBHOOK_SECRET)
        resp, err = self.call(self.stub.VerifyWebhook,
                              pb.VerifyWebhookRequest(body=body, signature=signature))
        cls = "ok" if err is None else err[0]
        kind = "webhook_redelivery" if redelivery else "webhook"
        if cls == "ok":
            if resp.event.id != event["id"] or \
                    resp.event.payment_intent_id != event["data"]["paymentIntentId"]:
                cls = "wrong_event"
            elif resp.duplicate != redelivery:
                cls = "wrong_duplicate_flag"
        STATS.record(kind, cls)
        if cls != "ok":
            STATS.error(f"{kind} {event['id']}: {cls} {err[1] if err else ''}")
        elif not redelivery and len(self.hooks) < 200:
            self.hooks.append((event, body, signature))

    def op_badhook(self):
        kind = self.rng.choice(sorted(BAD_HOOK_KINDS))
        event, body = self.event_body("pi_soak")
        if kind == "tampered_body":
            signature = sign(body, WEBHOOK_SECRET)
            body = body.replace(b'"Authorized"', b'"Captured"')
        elif kind == "foreign_secret":
            signature = sign(body, "whsec_" + secrets.token_hex(16))
        elif kind == "malformed_signature":
            signature = "sha256=" + secrets.token_hex(8)
        else:
            signature = ""
        resp, err = self.call(self.stub.VerifyWebhook,
                              pb.VerifyWebhookRequest(body=body, signature=signature))
        want = BAD_HOOK_KINDS[kind]
        if err is None:
            cls = "accepted"
        elif err[0] == "unauthenticated" and err[1] == want:
            cls = "rejected"
        else:
            cls = f"{err[0]}:{err[1]}"
        STATS.record(f"badhook_{kind}", cls)
        if cls != "rejected":
            STATS.error(f"badhook {kind}: {cls}, want UNAUTHENTICATED {want}")

    # --- loop ------------------------------------------------------------
    def pick(self):
        total = sum(w for _, w in OP_WEIGHTS)
        r = self.rng.uniform(0, total)
        for op, weight in OP_WEIGHTS:
            r -= weight
            if r <= 0:
                return op
        return OP_WEIGHTS[-1][0]

    def due_unknown(self):
        now = time.monotonic()
        for ref in self.unknown:
            if ref.retry_at <= now:
                return ref
        return None

    def run(self):
        next_at = time.monotonic() + self.rng.uniform(0, self.interval)
        while True:
            traffic = not self.stop_traffic.is_set()
            if not traffic and not self.unknown:
                return
            now = time.monotonic()
            if next_at > now:
                time.sleep(next_at - now)
            next_at = max(next_at + self.interval, time.monotonic() - 1.0)
            ref = self.due_unknown()
            try:
                if ref is not None:
                    self.op_resolve(ref)
                elif not traffic:
                    continue
                else:
                    op = self.pick()
                    if op in ("replay", "get") and not self.finished:
                        op = "create"
                    faulted = self.rng.random() < ARGS.fault_rate
                    if op == "create":
                        self.op_create(faulted)
                    elif op == "replay":
                        self.op_replay()
                    elif op == "get":
                        self.op_get(faulted)
                    elif op == "webhook":
                        self.op_webhook()
                    else:
                        self.op_badhook()
            except Exception as exc:  # a driver fault is a failed soak, not a hang
                STATS.error(f"driver exception in {self.name}: {exc!r}")


class Sampler(threading.Thread):
    """Samples the server every second: RSS, fds, threads, calls, errors."""

    def __init__(self, pid, path):
        super().__init__(name="soak-sampler", daemon=True)
        self.pid = pid
        self.path = path
        self.stop = threading.Event()
        self.rows = []
        self.start_time = time.monotonic()
        self.alive = True

    def sample(self):
        status = {}
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    status[key] = value.split()
            fds = len(os.listdir(f"/proc/{self.pid}/fd"))
        except (FileNotFoundError, ProcessLookupError):
            self.alive = False
            return
        calls, errors, faulted = STATS.snapshot()
        t = time.monotonic() - self.start_time
        prev = self.rows[-1] if self.rows else None
        rate = (calls - prev["calls"]) / (t - prev["t"]) if prev and t > prev["t"] else 0.0
        self.rows.append({"t": t, "rss_kb": int(status["VmRSS"][0]), "fds": fds,
                          "threads": int(status["Threads"][0]), "calls": calls,
                          "errors": errors, "faulted": faulted, "calls_per_s": rate})

    def run(self):
        tick = self.start_time
        while not self.stop.is_set() and self.alive:
            self.sample()
            tick += 1.0
            self.stop.wait(max(0.0, tick - time.monotonic()))

    def write(self):
        cols = ["t", "rss_kb", "fds", "threads", "calls", "errors", "faulted", "calls_per_s"]
        with open(self.path, "w") as f:
            f.write(",".join(cols) + "\n")
            for r in self.rows:
                f.write(f"{r['t']:.2f},{r['rss_kb']},{r['fds']},{r['threads']},{r['calls']},"
                        f"{r['errors']},{r['faulted']},{r['calls_per_s']:.1f}\n")


def check_signature_format():
    """Our signer must agree with the emulator's (Dojo's format)."""
    body = b'{"id":"evt_soak_format","event":"payment_intent.status_updated"}'
    theirs = control("POST", "/webhooks/sign",
                     {"secret": WEBHOOK_SECRET, "body": body.decode()})["signature"]
    if theirs != sign(body, WEBHOOK_SECRET):
        sys.exit("soak_driver: our webhook signature differs from the emulator's")


def duplicates_check(workers):
    """Every reference sent must have exactly one intent at the emulator, the
    one the calls returned. Returns (references, duplicates, missing, mismatched)."""
    by_ref = collections.defaultdict(list)
    for intent in control("GET", "/payment-intents")["data"]:
        if intent.get("reference", "").startswith(REF_PREFIX):
            by_ref[intent["reference"]].append(intent["id"])
    refs = [r for w in workers for r in w.all_refs]
    dup = missing = mismatched = 0
    for ref in refs:
        ids = by_ref.get(ref.reference, [])
        if len(ids) > 1:
            dup += 1
            STATS.error(f"duplicate: {ref.reference} has {len(ids)} intents {ids}")
        elif ref.intent_id is not None and not ids:
            missing += 1
            STATS.error(f"missing: {ref.reference} answered {ref.intent_id}, emulator has none")
        elif ref.intent_id is not None and ids[0] != ref.intent_id:
            mismatched += 1
            STATS.error(f"mismatch: {ref.reference} answered {ref.intent_id}, emulator {ids[0]}")
    return len(refs), dup, missing, mismatched


def main():
    os.makedirs(ARGS.out, exist_ok=True)
    rng_seed = ARGS.seed
    if rng_seed is not None:
        random.seed(rng_seed)
    check_signature_format()

    channel = grpc.insecure_channel(ARGS.target)
    grpc.channel_ready_future(channel).result(timeout=10)
    stub = pb_grpc.PaymentsServiceStub(channel)

    sampler = Sampler(ARGS.server_pid, os.path.join(ARGS.out, "samples.csv"))
    sampler.sample()  # t = 0, before any traffic
    sampler.start()
    stop_traffic = threading.Event()
    workers = [Worker(i, stub, stop_traffic, ARGS.rate / ARGS.workers)
               for i in range(ARGS.workers)]
    started = time.monotonic()
    for w in workers:
        w.start()
    time.sleep(ARGS.duration)
    stop_traffic.set()
    traffic_s = time.monotonic() - started
    resolve_deadline = time.monotonic() + ARGS.resolve_timeout
    for w in workers:
        w.join(max(0.0, resolve_deadline - time.monotonic()))
    unresolved = sum(len(w.unknown) for w in workers)
    hung = sum(w.is_alive() for w in workers)
    time.sleep(1.0)  # one more sample, idle
    sampler.stop.set()
    sampler.join()
    sampler.write()
    channel.close()

    refs, dup, missing, mismatched = duplicates_check(workers)
    return report(sampler, workers, traffic_s, refs, dup, missing, mismatched,
                  unresolved, hung)


def report(sampler, workers, traffic_s, refs, dup, missing, mismatched, unresolved, hung):
    rows = sampler.rows
    lines, failures = [], []

    def bound(ok, text):
        lines.append(f"  [{'ok' if ok else 'FAIL'}] {text}")
        if not ok:
            failures.append(text)

    total = STATS.total
    lines.append(f"soak run {RUN_ID}: {ARGS.workers} workers, {traffic_s:.0f} s of traffic, "
                 f"{total} calls ({total / traffic_s:.1f}/s), fault rate {ARGS.fault_rate:.0%}")
    lines.append("calls by kind and outcome:")
    for kind in sorted(STATS.calls):
        outcomes = ", ".join(f"{c} {n}" for (k, c), n in sorted(STATS.classes.items())
                             if k == kind)
        lines.append(f"  {kind:32s} {STATS.calls[kind]:6d}  ({outcomes})")
    lines.append(f"injected faults: {STATS.faulted} (each hit exactly one call), explained outcomes:")
    for (fault, cls), n in sorted(STATS.explained.items()):
        lines.append(f"  {fault:32s} -> {cls:16s} {n}")
    resolved = STATS.classes[("resolve", "ok")]
    lines.append(f"OUTCOME_UNKNOWN creates resolved by a later call: {resolved}, "
                 f"unresolved: {unresolved}")

    warm = next((r for r in rows if r["t"] >= ARGS.warmup), rows[-1])
    end = rows[-1]
    peak_rss = max(r["rss_kb"] for r in rows)
    mib = lambda kb: kb / 1024.0  # noqa: E731
    rss_allowed = max(ARGS.rss_growth_mib * 1024, ARGS.rss_growth_ratio * warm["rss_kb"])
    late = [r for r in rows if r["t"] >= warm["t"]]
    slope = 0.0
    if len(late) >= 3:
        n = len(late)
        mt = sum(r["t"] for r in late) / n
        mr = sum(r["rss_kb"] for r in late) / n
        var = sum((r["t"] - mt) ** 2 for r in late)
        slope = sum((r["t"] - mt) * (r["rss_kb"] - mr) for r in late) / var if var else 0.0
    lines.append(f"server RSS (MiB): start {mib(rows[0]['rss_kb']):.1f}, at warm-up "
                 f"(t={warm['t']:.0f} s) {mib(warm['rss_kb']):.1f}, peak {mib(peak_rss):.1f}, "
                 f"end {mib(end['rss_kb']):.1f}; trend after warm-up {slope * 60 / 1024:+.2f} MiB/min")
    lines.append(f"server fds: start {rows[0]['fds']}, warm-up {warm['fds']}, "
                 f"peak {max(r['fds'] for r in rows)}, end {end['fds']}")
    lines.append(f"server threads: start {rows[0]['threads']}, warm-up {warm['threads']}, "
                 f"peak {max(r['threads'] for r in rows)}, end {end['threads']}")
    lines.append(f"samples: {len(rows)} in {os.path.join(ARGS.out, 'samples.csv')}")
    lines.append("bounds:")
    bound(sampler.alive, "the server process stayed up")
    bound(hung == 0, f"every worker finished ({hung} still running)")
    bound(dup == 0, f"zero duplicate intents ({refs} references checked at the emulator, "
                    f"{dup} with more than one intent)")
    bound(missing == 0 and mismatched == 0,
          f"every answered intent is the emulator's one for its reference "
          f"({missing} missing, {mismatched} different)")
    replays_bad = sum(n for (k, c), n in STATS.classes.items() if k == "replay" and c != "ok")
    bound(replays_bad == 0, f"replays returned the same intent, marked idempotent_replay "
                            f"({STATS.calls['replay'] - replays_bad}/{STATS.calls['replay']})")
    accepted = sum(n for (k, c), n in STATS.classes.items()
                   if k.startswith("badhook") and c == "accepted")
    bound(accepted == 0, f"no badly signed webhook accepted ({accepted})")
    bound(unresolved == 0, f"every OUTCOME_UNKNOWN create resolved ({unresolved} left)")
    bound(STATS.unexplained_count == 0,
          f"zero errors beyond the injected faults ({STATS.unexplained_count})")
    bound(end["rss_kb"] - warm["rss_kb"] <= rss_allowed,
          f"RSS growth warm-up -> end {mib(end['rss_kb'] - warm['rss_kb']):+.1f} MiB <= "
          f"{mib(rss_allowed):.1f} MiB (max of {ARGS.rss_growth_mib:g} MiB and "
          f"{ARGS.rss_growth_ratio:.0%} of the warm-up RSS)")
    bound(end["fds"] <= warm["fds"] + ARGS.fd_slack,
          f"fds flat: end {end['fds']} <= warm-up {warm['fds']} + {ARGS.fd_slack}")
    peak_threads = max(r["threads"] for r in rows)
    bound(peak_threads <= warm["threads"] + ARGS.thread_slack,
          f"threads bounded: peak {peak_threads} <= warm-up {warm['threads']} + {ARGS.thread_slack}")
    if STATS.unexplained:
        lines.append("unexplained errors (first 50):")
        lines += [f"  {e}" for e in STATS.unexplained]
    lines.append("result: " + ("PASS" if not failures else f"FAIL ({len(failures)} bounds)"))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(ARGS.out, "summary.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
