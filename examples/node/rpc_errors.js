'use strict';
// Decodes the rich error details of a failed call.
//
// The server sends a google.rpc.Status, serialized, in the
// `grpc-status-details-bin` trailer. Its `details` are google.protobuf.Any
// messages: ErrorInfo (reason, domain, metadata such as Dojo's trace_id),
// BadRequest (field violations) and RetryInfo (how long to wait). The
// messages come from the repository's own proto/google/rpc, loaded with
// protobufjs (which @grpc/proto-loader uses too).

const path = require('path');
const protobuf = require('protobufjs');

const PROTO_DIR = path.join(__dirname, '..', '..', 'proto');
const DETAILS_TRAILER = 'grpc-status-details-bin';

const root = new protobuf.Root();
root.resolvePath = (origin, target) => path.join(PROTO_DIR, target);
root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], {keepCase: true});
const Status = root.lookupType('google.rpc.Status');
const ErrorInfo = root.lookupType('google.rpc.ErrorInfo');
const BadRequest = root.lookupType('google.rpc.BadRequest');
const RetryInfo = root.lookupType('google.rpc.RetryInfo');
const TYPE_URL_PREFIX = 'type.googleapis.com/';

// error: the ServiceError of a failed call (code, details, metadata).
// Returns {code, message, reason, domain, metadata, fieldViolations,
// retryDelaySeconds, otherDetails}.
function decodeError(error) {
  const decoded = {
    code: error.code,
    message: error.details || '',
    reason: '',
    domain: '',
    metadata: {},
    fieldViolations: [], // [{field, description}], fields named by proto path
    retryDelaySeconds: null,
    otherDetails: [], // type URLs this decoder does not know
  };
  const [bytes] = error.metadata ? error.metadata.get(DETAILS_TRAILER) : [];
  if (!bytes) return decoded;
  const status = Status.decode(bytes);
  decoded.message = status.message;
  for (const any of status.details) {
    const type = any.type_url.startsWith(TYPE_URL_PREFIX) ?
      any.type_url.slice(TYPE_URL_PREFIX.length) : any.type_url;
    if (type === 'google.rpc.ErrorInfo') {
      const info = ErrorInfo.decode(any.value);
      decoded.reason = info.reason;
      decoded.domain = info.domain;
      decoded.metadata = {...info.metadata};
    } else if (type === 'google.rpc.BadRequest') {
      for (const v of BadRequest.decode(any.value).field_violations) {
        decoded.fieldViolations.push({field: v.field, description: v.description});
      }
    } else if (type === 'google.rpc.RetryInfo') {
      const retry = RetryInfo.toObject(RetryInfo.decode(any.value), {longs: Number});
      const delay = retry.retry_delay || {};
      decoded.retryDelaySeconds = (delay.seconds || 0) + (delay.nanos || 0) / 1e9;
    } else {
      decoded.otherDetails.push(any.type_url);
    }
  }
  return decoded;
}

module.exports = {decodeError};
