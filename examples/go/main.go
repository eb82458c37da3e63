// Calls the payments gateway from Go with Debian's grpc-go (1.33) and
// protobuf-go packages, built in GOPATH mode (see the README, "Calling from
// other languages"). Runs each flow in flows (or the ones named) against a
// running server and its Dojo emulator; prints "ok <flow>" per flow and
// exits 1 at the first one that goes wrong.
//
//	GRPC_GO_RETRY=on payments-example [-target 127.0.0.1:50051] \
//	    [-emulator http://127.0.0.1:8080/_emulator] [-service_config FILE] [FLOW...]
//
// Plaintext unless PAYMENTS_CA_FILE (PEM CAs of the server's certificate) or
// PAYMENTS_CERT_FILE and PAYMENTS_KEY_FILE (a client certificate and its key,
// for mutual TLS) are set; then TLS.
//
// A flow is a function taking a *session; add one by writing it and listing
// it in flows.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	paymentsv1 "paymentsapi/payments/v1"
)

const deadline = 10 * time.Second // every call has a deadline

type flowFailed struct{ what string }

func (f flowFailed) Error() string { return f.what }

func check(condition bool, format string, args ...interface{}) {
	if !condition {
		panic(flowFailed{fmt.Sprintf(format, args...)})
	}
}

// session is what a flow needs: the client, the emulator, and call, which
// sends a request id and a deadline and checks that the id comes back.
type session struct {
	client   paymentsv1.PaymentsServiceClient
	emulator string
	calls    int
	runID    string
}

func (s *session) unique(prefix string) string {
	return fmt.Sprintf("%s-go-%s-%d", prefix, s.runID, s.calls)
}

// call runs one RPC, e.g. s.call(func(ctx context.Context, opts ...grpc.CallOption) error {
// r, err = s.client.GetIntent(ctx, req, opts...); return err }). The server
// echoes x-request-id in the response headers, on errors too.
func (s *session) call(rpc func(context.Context, ...grpc.CallOption) error) error {
	s.calls++
	requestID := fmt.Sprintf("go-%s-%d", s.runID, s.calls)
	ctx, cancel := context.WithTimeout(
		metadata.AppendToOutgoingContext(context.Background(), "x-request-id", requestID), deadline)
	defer cancel()
	var header metadata.MD
	err := rpc(ctx, grpc.Header(&header))
	echoed := header.Get("x-request-id")
	check(len(echoed) == 1 && echoed[0] == requestID, "x-request-id not echoed (error: %v): %v", err, echoed)
	return err
}

func (s *session) expectError(code codes.Code, rpc func(context.Context, ...grpc.CallOption) error) RPCErrorDetails {
	err := s.call(rpc)
	check(err != nil, "want %v, the call succeeded", code)
	decoded := DecodeError(err)
	check(decoded.Code == code, "want %v, got %v: %s", code, decoded.Code, decoded.Message)
	return decoded
}

// control POSTs JSON to the emulator's control API (/_emulator).
func (s *session) control(path string, body interface{}) {
	data, err := json.Marshal(body)
	check(err == nil, "%v", err)
	client := http.Client{Timeout: deadline}
	response, err := client.Post(s.emulator+path, "application/json", bytes.NewReader(data))
	check(err == nil, "emulator %s: %v", path, err)
	response.Body.Close()
	check(response.StatusCode == http.StatusOK, "emulator %s: HTTP %d", path, response.StatusCode)
}

func gbp(value int64) *paymentsv1.Money {
	return &paymentsv1.Money{Value: value, CurrencyCode: "GBP"}
}

// checkout: a payment link, the customer pays, the status says so.
func checkout(s *session) {
	var link *paymentsv1.CreatePaymentLinkResponse
	check(s.call(func(ctx context.Context, opts ...grpc.CallOption) (err error) {
		link, err = s.client.CreatePaymentLink(ctx, &paymentsv1.CreatePaymentLinkRequest{
			Reference: s.unique("Order"), Amount: gbp(1000), Description: "Two coffees",
			Config: &paymentsv1.CheckoutConfig{Title: "Two coffees", RedirectUrl: "https://shop.example/thanks"},
		}, opts...)
		return err
	}) == nil, "CreatePaymentLink failed")
	id := link.Intent.Id
	check(strings.HasPrefix(id, "pi_sandbox_"), "intent id %q", id)
	check(strings.HasPrefix(link.PaymentLink, "https://"), "payment link %q", link.PaymentLink)
	get := func() *paymentsv1.PaymentIntent {
		var got *paymentsv1.GetIntentResponse
		err := s.call(func(ctx context.Context, opts ...grpc.CallOption) (err error) {
			got, err = s.client.GetIntent(ctx, &paymentsv1.GetIntentRequest{Id: id}, opts...)
			return err
		})
		check(err == nil, "GetIntent: %v", err)
		return got.Intent
	}
	intent := get()
	check(intent.Status == paymentsv1.PaymentIntentStatus_PAYMENT_INTENT_STATUS_CREATED, "new intent is %v", intent.Status)
	// The customer pays on the hosted page; the emulator plays that part.
	s.control("/payment-intents/"+id+"/status", map[string]string{"status": "Authorized"})
	intent = get()
	check(intent.Status == paymentsv1.PaymentIntentStatus_PAYMENT_INTENT_STATUS_AUTHORIZED, "paid intent is %v", intent.Status)
	fmt.Printf("  %s authorized, amount %d %s\n", id, intent.Amount.Value, intent.Amount.CurrencyCode)
}

// invalidArgument: a request the server refuses before calling Dojo: BadRequest.
func invalidArgument(s *session) {
	decoded := s.expectError(codes.InvalidArgument, func(ctx context.Context, opts ...grpc.CallOption) error {
		_, err := s.client.CreateIntent(ctx, &paymentsv1.CreateIntentRequest{
			Reference: s.unique("Bad"), Amount: &paymentsv1.Money{Value: 1000, CurrencyCode: "USD"}}, opts...)
		return err
	})
	found := false
	for _, v := range decoded.FieldViolations {
		found = found || v.Field == "amount.currency_code"
	}
	check(found, "field violations %v", decoded.FieldViolations)
	fmt.Printf("  %v: %v\n", decoded.Code, decoded.FieldViolations)
}

// referenceReused: the same reference with other parameters: ErrorInfo REFERENCE_REUSED.
func referenceReused(s *session) {
	reference := s.unique("Reused")
	create := func(value int64) func(context.Context, ...grpc.CallOption) error {
		return func(ctx context.Context, opts ...grpc.CallOption) error {
			_, err := s.client.CreateIntent(ctx, &paymentsv1.CreateIntentRequest{Reference: reference, Amount: gbp(value)}, opts...)
			return err
		}
	}
	check(s.call(create(1000)) == nil, "first CreateIntent failed")
	decoded := s.expectError(codes.AlreadyExists, create(2000))
	check(decoded.Reason == "REFERENCE_REUSED" && decoded.Domain == "payments.v1",
		"ErrorInfo %q in %q", decoded.Reason, decoded.Domain)
	fmt.Printf("  %v: reason %s\n", decoded.Code, decoded.Reason)
}

// retryInfo: Dojo rate limits the account (the emulator scripts a 429 with a
// Retry-After longer than the server waits): RetryInfo, and ErrorInfo with
// Dojo's trace id.
func retryInfo(s *session) {
	var created *paymentsv1.CreateIntentResponse
	check(s.call(func(ctx context.Context, opts ...grpc.CallOption) (err error) {
		created, err = s.client.CreateIntent(ctx, &paymentsv1.CreateIntentRequest{Reference: s.unique("Limited"), Amount: gbp(1000)}, opts...)
		return err
	}) == nil, "CreateIntent failed")
	id := created.Intent.Id
	s.control("/faults", map[string]interface{}{"method": "GET", "path": "/payment-intents/" + id,
		"responses": []map[string]interface{}{{"status": 429, "retryAfter": "30"}}})
	decoded := s.expectError(codes.ResourceExhausted, func(ctx context.Context, opts ...grpc.CallOption) error {
		_, err := s.client.GetIntent(ctx, &paymentsv1.GetIntentRequest{Id: id}, opts...)
		return err
	})
	check(decoded.RetryDelay != nil && *decoded.RetryDelay == 30*time.Second, "RetryInfo delay %v", decoded.RetryDelay)
	check(decoded.Reason == "DOJO_RATE_LIMITED", "ErrorInfo reason %q", decoded.Reason)
	check(decoded.Metadata["trace_id"] != "", "no Dojo trace_id in %v", decoded.Metadata)
	fmt.Printf("  %v: retry after %v, Dojo trace id %s\n", decoded.Code, *decoded.RetryDelay, decoded.Metadata["trace_id"])
}

// refund: manual capture, then a partial refund: idempotent by RefundKey; the
// same key with another amount is ErrorInfo REFUND_KEY_REUSED.
func refund(s *session) {
	order := s.unique("Manual")
	var created *paymentsv1.CreateIntentResponse
	err := s.call(func(ctx context.Context, opts ...grpc.CallOption) (err error) {
		created, err = s.client.CreateIntent(ctx, &paymentsv1.CreateIntentRequest{Reference: order,
			Amount: gbp(5000), CaptureMode: paymentsv1.CaptureMode_CAPTURE_MODE_MANUAL}, opts...)
		return err
	})
	check(err == nil, "CreateIntent: %v", err)
	id := created.Intent.Id
	s.control("/payment-intents/"+id+"/authorize", map[string]string{}) // the customer pays
	var captured *paymentsv1.CaptureIntentResponse
	err = s.call(func(ctx context.Context, opts ...grpc.CallOption) (err error) {
		captured, err = s.client.CaptureIntent(ctx, &paymentsv1.CaptureIntentRequest{Id: id,
			CaptureKey: order + "-ship-1", Amount: gbp(5000)}, opts...)
		return err
	})
	check(err == nil, "CaptureIntent: %v", err)
	check(captured.CaptureId != "", "no capture id")
	check(captured.Intent.Status == paymentsv1.PaymentIntentStatus_PAYMENT_INTENT_STATUS_CAPTURED,
		"captured intent is %v", captured.Intent.Status)
	refundIntent := func(value int64, response **paymentsv1.RefundIntentResponse) func(context.Context, ...grpc.CallOption) error {
		return func(ctx context.Context, opts ...grpc.CallOption) error {
			r, err := s.client.RefundIntent(ctx, &paymentsv1.RefundIntentRequest{Id: id,
				RefundKey: order + "-return-1", Amount: gbp(value), Reason: "One item returned"}, opts...)
			if response != nil {
				*response = r
			}
			return err
		}
	}
	var first, again *paymentsv1.RefundIntentResponse
	err = s.call(refundIntent(1500, &first))
	check(err == nil, "RefundIntent: %v", err)
	check(first.Refund.GetId() != "", "no refund id")
	check(first.Refund.GetAmount() == 1500, "refund amount %d", first.Refund.GetAmount())
	check(first.Intent.RefundedAmount == 1500, "intent refunded_amount %d", first.Intent.RefundedAmount)
	// Partly refunded: still CAPTURED (REFUNDED once all of it is refunded).
	check(first.Intent.Status == paymentsv1.PaymentIntentStatus_PAYMENT_INTENT_STATUS_CAPTURED,
		"partly refunded intent is %v", first.Intent.Status)
	check(!first.IdempotentReplay, "first refund is a replay")
	err = s.call(refundIntent(1500, &again)) // a retry
	check(err == nil, "RefundIntent retry: %v", err)
	check(again.IdempotentReplay, "retry is not an idempotent replay")
	check(again.Refund.GetId() == first.Refund.GetId(), "retry answers refund %q, not %q",
		again.Refund.GetId(), first.Refund.GetId())
	check(again.Intent.RefundedAmount == 1500, "after the retry refunded_amount %d", again.Intent.RefundedAmount)
	decoded := s.expectError(codes.AlreadyExists, refundIntent(2000, nil))
	check(decoded.Reason == "REFUND_KEY_REUSED" && decoded.Domain == "payments.v1",
		"ErrorInfo %q in %q", decoded.Reason, decoded.Domain)
	fmt.Printf("  %s: captured %d, refund %s of %d, replayed; other amount %v: reason %s\n",
		id, captured.Intent.Amount.Value, first.Refund.Id, first.Refund.Amount, decoded.Code, decoded.Reason)
}

var flowOrder = []string{"checkout", "invalid_argument", "reference_reused", "retry_info", "refund"}
var flows = map[string]func(*session){
	"checkout": checkout, "invalid_argument": invalidArgument,
	"reference_reused": referenceReused, "retry_info": retryInfo, "refund": refund,
}

// run runs one flow, turning a failed check into an error.
func run(flow func(*session), s *session) (err error) {
	defer func() {
		if r := recover(); r != nil {
			failure, ok := r.(flowFailed)
			if !ok {
				panic(r)
			}
			err = failure
		}
	}()
	flow(s)
	return nil
}

// transportCredentialsFromEnv: TLS when PAYMENTS_CA_FILE or PAYMENTS_CERT_FILE
// is set, else plaintext. PAYMENTS_CA_FILE: PEM CAs for the server's
// certificate (default: the system roots); PAYMENTS_CERT_FILE and
// PAYMENTS_KEY_FILE: the client certificate and its key, for mutual TLS.
func transportCredentialsFromEnv() (grpc.DialOption, error) {
	caFile, certFile, keyFile := os.Getenv("PAYMENTS_CA_FILE"), os.Getenv("PAYMENTS_CERT_FILE"), os.Getenv("PAYMENTS_KEY_FILE")
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("PAYMENTS_CERT_FILE and PAYMENTS_KEY_FILE go together")
	}
	if caFile == "" && certFile == "" {
		return grpc.WithInsecure(), nil
	}
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		config.RootCAs = x509.NewCertPool()
		if !config.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("PAYMENTS_CA_FILE: no PEM certificate in %s", caFile)
		}
	}
	if certFile != "" {
		certificate, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{certificate}
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(config)), nil
}

func main() {
	target := flag.String("target", "127.0.0.1:50051", "server address")
	emulator := flag.String("emulator", "http://127.0.0.1:8080/_emulator", "the emulator's control API")
	serviceConfig := flag.String("service_config", "../../proto/service_config.json", "service config file")
	flag.Parse()
	if os.Getenv("GRPC_GO_RETRY") != "on" {
		// grpc-go before 1.40 ignores retryPolicy unless this is set.
		fmt.Fprintln(os.Stderr, "warning: GRPC_GO_RETRY=on is not set: grpc-go 1.33 will not retry reads")
	}
	config, err := os.ReadFile(*serviceConfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// The repository's service config: wait-for-ready, retries of reads on
	// UNAVAILABLE, retry throttling.
	security, err := transportCredentialsFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	conn, err := grpc.Dial(*target, security, grpc.WithDefaultServiceConfig(string(config)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer conn.Close()
	s := &session{client: paymentsv1.NewPaymentsServiceClient(conn),
		emulator: strings.TrimSuffix(*emulator, "/"), runID: fmt.Sprint(time.Now().UnixMilli())}
	names := flag.Args()
	if len(names) == 0 {
		names = flowOrder
	}
	for _, name := range names {
		flow, ok := flows[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown flow %q (flows: %s)\n", name, strings.Join(flowOrder, ", "))
			os.Exit(2)
		}
		if err := run(flow, s); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", name, err)
			conn.Close()
			os.Exit(1)
		}
		fmt.Printf("ok   %s\n", name)
	}
}
