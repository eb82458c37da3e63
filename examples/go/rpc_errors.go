package main

// Decodes the rich error details of a failed call.
//
// The server sends a google.rpc.Status, serialized, in the
// `grpc-status-details-bin` trailer; grpc-go's status package decodes it and
// its google.protobuf.Any details with the standard googleapis messages
// (google.golang.org/genproto/googleapis/rpc/errdetails, Debian's
// golang-google-genproto-dev), which are wire-identical to the repository's
// proto/google/rpc. ErrorInfo carries a reason, a domain and metadata such
// as Dojo's trace_id; BadRequest field violations; RetryInfo how long to
// wait.

import (
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type FieldViolation struct {
	Field       string // proto path, e.g. "amount.currency_code"
	Description string
}

type RPCErrorDetails struct {
	Code            codes.Code
	Message         string
	Reason          string // ErrorInfo.reason; "" when the server sent none
	Domain          string
	Metadata        map[string]string
	FieldViolations []FieldViolation
	RetryDelay      *time.Duration // RetryInfo
	OtherDetails    []string       // details this decoder does not know
}

// DecodeError decodes a failed call's code, message and google.rpc details.
func DecodeError(err error) RPCErrorDetails {
	st := status.Convert(err)
	decoded := RPCErrorDetails{Code: st.Code(), Message: st.Message()}
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			decoded.Reason, decoded.Domain, decoded.Metadata = d.Reason, d.Domain, d.Metadata
		case *errdetails.BadRequest:
			for _, v := range d.FieldViolations {
				decoded.FieldViolations = append(decoded.FieldViolations,
					FieldViolation{v.Field, v.Description})
			}
		case *errdetails.RetryInfo:
			delay := d.RetryDelay.AsDuration()
			decoded.RetryDelay = &delay
		case error: // a detail whose type is not linked in
			decoded.OtherDetails = append(decoded.OtherDetails, d.Error())
		}
	}
	return decoded
}
