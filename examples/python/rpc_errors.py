"""Decodes the rich error details of a failed call.

The server sends a google.rpc.Status, serialized, in the
`grpc-status-details-bin` trailer. Its `details` are google.protobuf.Any
messages; this service sends ErrorInfo (reason, domain, metadata such as
Dojo's trace_id), BadRequest (field violations) and RetryInfo (how long to
wait). Debian packages neither grpcio-status nor googleapis-common-protos,
so the messages come from the repository's own proto/google/rpc, generated
next to the service's stubs.
"""

import dataclasses
from typing import Dict, List, Optional, Tuple

import grpc
from google.rpc import error_details_pb2, status_pb2

DETAILS_TRAILER = "grpc-status-details-bin"


@dataclasses.dataclass
class RpcErrorDetails:
    code: grpc.StatusCode
    message: str
    reason: str = ""  # ErrorInfo.reason; "" when the server sent none
    domain: str = ""
    metadata: Dict[str, str] = dataclasses.field(default_factory=dict)
    # BadRequest: (field, description), fields named by proto path.
    field_violations: List[Tuple[str, str]] = dataclasses.field(default_factory=list)
    retry_delay: Optional[float] = None  # RetryInfo, in seconds
    other_details: List[str] = dataclasses.field(default_factory=list)  # type URLs


def decode_error(error: grpc.RpcError) -> RpcErrorDetails:
    """Decodes a failed call's code, message and google.rpc details."""
    decoded = RpcErrorDetails(code=error.code(), message=error.details() or "")
    for key, value in error.trailing_metadata() or ():
        if key != DETAILS_TRAILER:
            continue
        status = status_pb2.Status.FromString(value)
        decoded.message = status.message
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            bad_request = error_details_pb2.BadRequest()
            retry = error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                decoded.reason, decoded.domain = info.reason, info.domain
                decoded.metadata = dict(info.metadata)
            elif detail.Unpack(bad_request):
                decoded.field_violations += [
                    (v.field, v.description) for v in bad_request.field_violations
                ]
            elif detail.Unpack(retry):
                decoded.retry_delay = retry.retry_delay.ToTimedelta().total_seconds()
            else:
                decoded.other_details.append(detail.type_url)
    return decoded
