#!/usr/bin/python3
"""Reads one intent with GetIntent in a loop, on one channel, for a while.

  read_loop.py --target HOST:PORT --stubs DIR --service-config FILE
               (--create | --id ID) [--seconds 10] [--interval 0.1]

--create makes an intent first and prints "created ID". The first three
failed calls print "FAIL <code> after <s>"; the summary line is
"calls N failed F slowest S". Exits 1 if any call failed. The channel is
built by examples/python/payments_example.py's create_channel.
"""

import argparse
import os
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--target", required=True)
parser.add_argument("--stubs", required=True, help="directory of the generated Python stubs")
parser.add_argument("--service-config", required=True)
parser.add_argument("--create", action="store_true")
parser.add_argument("--id")
parser.add_argument("--seconds", type=float, default=10)
parser.add_argument("--interval", type=float, default=0.1)
args = parser.parse_args()

examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python")
sys.path[:0] = [args.stubs, examples]
import grpc  # noqa: E402
from payments.v1 import payments_service_pb2 as pb  # noqa: E402
from payments.v1 import payments_service_pb2_grpc as pb_grpc  # noqa: E402
from payments_example import create_channel  # noqa: E402

with create_channel(args.target, args.service_config) as channel:
    stub = pb_grpc.PaymentsServiceStub(channel)
    intent_id = args.id
    if args.create:
        created = stub.CreateIntent(pb.CreateIntentRequest(
            reference=f"restart-{time.time_ns()}", amount=pb.Money(value=500, currency_code="GBP")),
            timeout=10)
        intent_id = created.intent.id
        print(f"created {intent_id}", flush=True)
    calls = failed = 0
    slowest = 0.0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        start = time.monotonic()
        calls += 1
        try:
            got = stub.GetIntent(pb.GetIntentRequest(id=intent_id), timeout=20)
            assert got.intent.id == intent_id
        except grpc.RpcError as error:
            failed += 1
            if failed <= 3:  # the first few; the summary counts them all
                print(f"FAIL {error.code().name} after {time.monotonic() - start:.2f}s: "
                      f"{error.details()}", flush=True)
        slowest = max(slowest, time.monotonic() - start)
        time.sleep(args.interval)
    print(f"calls {calls} failed {failed} slowest {slowest:.2f}", flush=True)
    sys.exit(1 if failed else 0)
