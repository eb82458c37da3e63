#!/usr/bin/env node
'use strict';
// Calls the payments gateway from Node.js with @grpc/grpc-js and
// @grpc/proto-loader (no generation step: the .proto files are loaded at
// run time). Runs each flow in FLOWS (or the ones named) against a running
// server and its Dojo emulator; prints "ok <flow>" per flow and exits 1 at
// the first one that goes wrong.
//
//   node examples/node/payments_example.js \
//       [--target 127.0.0.1:50051] [--emulator http://127.0.0.1:8080/_emulator] [FLOW...]
//
// Plaintext unless PAYMENTS_CA_FILE (PEM CAs of the server's certificate) or
// PAYMENTS_CERT_FILE and PAYMENTS_KEY_FILE (a client certificate and its key,
// for mutual TLS) are set; then TLS.
//
// A flow is an async function taking a Session; add one by writing it and
// listing it in FLOWS.

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const {decodeError} = require('./rpc_errors');

const PROTO_DIR = path.join(__dirname, '..', '..', 'proto');
const SERVICE_CONFIG = path.join(PROTO_DIR, 'service_config.json');
const DEADLINE_MS = 10000; // every call has a deadline

const definition = protoLoader.loadSync('payments/v1/payments_service.proto', {
  includeDirs: [PROTO_DIR],
  longs: Number, // int64 amounts as numbers (they stay far below 2^53)
  enums: String, // 'PAYMENT_INTENT_STATUS_AUTHORIZED'
  defaults: true,
});
const {PaymentsService} = grpc.loadPackageDefinition(definition).payments.v1;

// TLS credentials when PAYMENTS_CA_FILE or PAYMENTS_CERT_FILE is set, else
// plaintext. PAYMENTS_CA_FILE: PEM CAs for the server's certificate (default:
// the system roots); PAYMENTS_CERT_FILE and PAYMENTS_KEY_FILE: the client
// certificate and its key, for mutual TLS.
function credentialsFromEnv() {
  const [caFile, certFile, keyFile] = ['PAYMENTS_CA_FILE', 'PAYMENTS_CERT_FILE',
    'PAYMENTS_KEY_FILE'].map((name) => process.env[name] || null);
  if ((certFile === null) !== (keyFile === null)) {
    console.error('PAYMENTS_CERT_FILE and PAYMENTS_KEY_FILE go together');
    process.exit(2);
  }
  if (caFile === null && certFile === null) return grpc.credentials.createInsecure();
  const read = (file) => (file === null ? null : fs.readFileSync(file));
  return grpc.credentials.createSsl(read(caFile), read(keyFile), read(certFile));
}

// A client whose channel carries the repository's service config:
// wait-for-ready, retries of reads on UNAVAILABLE, retry throttling.
function createClient(target) {
  return new PaymentsService(target, credentialsFromEnv(), {
    'grpc.service_config': fs.readFileSync(SERVICE_CONFIG, 'utf8'),
    'grpc.enable_retries': 1,
  });
}

class FlowFailed extends Error {}

function check(condition, what) {
  if (!condition) throw new FlowFailed(what);
}

// What a flow needs: the client, the emulator, and call(), which sends a
// request id and a deadline and checks that the id comes back.
class Session {
  constructor(client, emulator) {
    this.client = client;
    this.emulator = emulator.replace(/\/$/, '');
    this.calls = 0;
    this.runId = String(Date.now());
  }

  unique(prefix) {
    return `${prefix}-node-${this.runId}-${this.calls}`;
  }

  // Resolves with the response or rejects with the ServiceError. The server
  // echoes x-request-id in the response headers, on errors too.
  call(method, request) {
    this.calls += 1;
    const requestId = `node-${this.runId}-${this.calls}`;
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', requestId);
    return new Promise((resolve, reject) => {
      let headers = null;
      const call = this.client[method](request, metadata,
          {deadline: Date.now() + DEADLINE_MS}, (error, response) => {
            const [echoed] = headers ? headers.get('x-request-id') : [];
            if (echoed !== requestId) {
              reject(new FlowFailed(`x-request-id not echoed${error ? ' on error' : ''}: ${echoed}`));
            } else if (error) {
              reject(error);
            } else {
              resolve(response);
            }
          });
      call.on('metadata', (received) => {
        headers = received;
      });
    });
  }

  async expectError(method, request, code) {
    try {
      await this.call(method, request);
    } catch (error) {
      if (error instanceof FlowFailed) throw error;
      const decoded = decodeError(error);
      check(decoded.code === code,
          `want ${grpc.status[code]}, got ${grpc.status[decoded.code]}: ${decoded.message}`);
      return decoded;
    }
    throw new FlowFailed(`want ${grpc.status[code]}, the call succeeded`);
  }

  // POSTs JSON to the emulator's control API (/_emulator).
  async control(urlPath, body) {
    const response = await fetch(this.emulator + urlPath, {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(DEADLINE_MS),
    });
    check(response.ok, `emulator ${urlPath}: HTTP ${response.status}`);
    return response.json();
  }
}

const gbp = (value) => ({value, currencyCode: 'GBP'});

// Hosted checkout: a payment link, the customer pays, the status says so.
async function checkout(s) {
  const link = await s.call('CreatePaymentLink', {
    reference: s.unique('Order'), amount: gbp(1000), description: 'Two coffees',
    config: {title: 'Two coffees', redirectUrl: 'https://shop.example/thanks'},
  });
  const id = link.intent.id;
  check(id.startsWith('pi_sandbox_'), `intent id ${id}`);
  check(link.paymentLink.startsWith('https://'), `payment link ${link.paymentLink}`);
  let got = await s.call('GetIntent', {id});
  check(got.intent.status === 'PAYMENT_INTENT_STATUS_CREATED', `new intent is ${got.intent.status}`);
  // The customer pays on the hosted page; the emulator plays that part.
  await s.control(`/payment-intents/${id}/status`, {status: 'Authorized'});
  got = await s.call('GetIntent', {id});
  check(got.intent.status === 'PAYMENT_INTENT_STATUS_AUTHORIZED', `paid intent is ${got.intent.status}`);
  console.log(`  ${id} authorized, amount ${got.intent.amount.value} ${got.intent.amount.currencyCode}`);
}

// A request the server refuses before calling Dojo: BadRequest.
async function invalidArgument(s) {
  const error = await s.expectError('CreateIntent', {
    reference: s.unique('Bad'), amount: {value: 1000, currencyCode: 'USD'},
  }, grpc.status.INVALID_ARGUMENT);
  check(error.fieldViolations.some((v) => v.field === 'amount.currency_code'),
      `field violations ${JSON.stringify(error.fieldViolations)}`);
  console.log(`  INVALID_ARGUMENT: ${JSON.stringify(error.fieldViolations)}`);
}

// The same reference with other parameters: ErrorInfo REFERENCE_REUSED.
async function referenceReused(s) {
  const reference = s.unique('Reused');
  await s.call('CreateIntent', {reference, amount: gbp(1000)});
  const error = await s.expectError('CreateIntent', {reference, amount: gbp(2000)},
      grpc.status.ALREADY_EXISTS);
  check(error.reason === 'REFERENCE_REUSED' && error.domain === 'payments.v1',
      `ErrorInfo ${error.reason} in ${error.domain}`);
  console.log(`  ALREADY_EXISTS: reason ${error.reason}`);
}

// Dojo rate limits the account (the emulator scripts a 429 with a
// Retry-After longer than the server waits): RetryInfo, and ErrorInfo with
// Dojo's trace id.
async function retryInfo(s) {
  const created = await s.call('CreateIntent', {reference: s.unique('Limited'), amount: gbp(1000)});
  const id = created.intent.id;
  await s.control('/faults', {method: 'GET', path: `/payment-intents/${id}`,
    responses: [{status: 429, retryAfter: '30'}]});
  const error = await s.expectError('GetIntent', {id}, grpc.status.RESOURCE_EXHAUSTED);
  check(error.retryDelaySeconds === 30, `RetryInfo delay ${error.retryDelaySeconds}`);
  check(error.reason === 'DOJO_RATE_LIMITED', `ErrorInfo reason ${error.reason}`);
  check(error.metadata.trace_id, `no Dojo trace_id in ${JSON.stringify(error.metadata)}`);
  console.log(`  RESOURCE_EXHAUSTED: retry after ${error.retryDelaySeconds}s, ` +
      `Dojo trace id ${error.metadata.trace_id}`);
}

// Manual capture, then a partial refund: idempotent by refundKey; the same
// key with another amount is ErrorInfo REFUND_KEY_REUSED.
async function refund(s) {
  const order = s.unique('Manual');
  const created = await s.call('CreateIntent', {
    reference: order, amount: gbp(5000), captureMode: 'CAPTURE_MODE_MANUAL',
  });
  const id = created.intent.id;
  await s.control(`/payment-intents/${id}/authorize`, {}); // the customer pays
  const captured = await s.call('CaptureIntent', {
    id, captureKey: `${order}-ship-1`, amount: gbp(5000),
  });
  check(captured.captureId, 'no capture id');
  check(captured.intent.status === 'PAYMENT_INTENT_STATUS_CAPTURED',
      `captured intent is ${captured.intent.status}`);
  const refundRequest = (value) => ({
    id, refundKey: `${order}-return-1`, amount: gbp(value), reason: 'One item returned',
  });
  const first = await s.call('RefundIntent', refundRequest(1500));
  check(first.refund.id, 'no refund id');
  check(first.refund.amount === 1500, `refund amount ${first.refund.amount}`);
  check(first.intent.refundedAmount === 1500, `intent refundedAmount ${first.intent.refundedAmount}`);
  // Partly refunded: still CAPTURED (REFUNDED once all of it is refunded).
  check(first.intent.status === 'PAYMENT_INTENT_STATUS_CAPTURED',
      `partly refunded intent is ${first.intent.status}`);
  check(!first.idempotentReplay, 'first refund is a replay');
  const again = await s.call('RefundIntent', refundRequest(1500)); // a retry
  check(again.idempotentReplay, 'retry is not an idempotent replay');
  check(again.refund.id === first.refund.id,
      `retry answers refund ${again.refund.id}, not ${first.refund.id}`);
  check(again.intent.refundedAmount === 1500,
      `after the retry refundedAmount ${again.intent.refundedAmount}`);
  const error = await s.expectError('RefundIntent', refundRequest(2000),
      grpc.status.ALREADY_EXISTS);
  check(error.reason === 'REFUND_KEY_REUSED' && error.domain === 'payments.v1',
      `ErrorInfo ${error.reason} in ${error.domain}`);
  console.log(`  ${id}: captured ${captured.intent.amount.value}, refund ${first.refund.id} ` +
      `of ${first.refund.amount}, replayed; other amount ALREADY_EXISTS: reason ${error.reason}`);
}

const FLOWS = {checkout, invalid_argument: invalidArgument,
  reference_reused: referenceReused, retry_info: retryInfo, refund};

function parseArgs(argv) {
  const args = {target: '127.0.0.1:50051', emulator: 'http://127.0.0.1:8080/_emulator', flows: []};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--target' || argv[i] === '--emulator') {
      args[argv[i].slice(2)] = argv[++i];
    } else if (argv[i] in FLOWS) {
      args.flows.push(argv[i]);
    } else {
      console.error(`usage: payments_example.js [--target HOST:PORT] [--emulator URL] ` +
          `[${Object.keys(FLOWS).join('|')}]...`);
      process.exit(2);
    }
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const client = createClient(args.target);
  const session = new Session(client, args.emulator);
  try {
    for (const name of args.flows.length ? args.flows : Object.keys(FLOWS)) {
      try {
        await FLOWS[name](session);
      } catch (failure) {
        console.error(`FAIL ${name}: ${failure.message}`);
        return 1;
      }
      console.log(`ok   ${name}`);
    }
    return 0;
  } finally {
    client.close();
  }
}

main().then((code) => process.exit(code));
