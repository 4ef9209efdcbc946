package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
)

func runVerify(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify", "--secret S [--provider NAME] (--id ID --timestamp UNIX --signature SIG | --headers FILE) [--tolerance DURATION] [FILE]", `
Verify a signed webhook body read from FILE (or stdin, when FILE is absent
or "-"). On success print "valid" on stdout and exit 0; otherwise print the
reason on stderr and exit 1.

--provider says whose signature it is: webhookkit (the default), standard,
event-payload (all three Standard Webhooks), github, stripe, shopify or
slack; it verifies the signature only, as the receiver does before it reads
the body. The headers come either from --id, --timestamp and --signature
(Standard Webhooks providers only), or from --headers FILE: "name: value"
lines as 'webhook sign' prints them, or as copied from a request (other
header lines are ignored, blank lines skipped; "-" reads them from stdin,
the body must then come from FILE). --secret may repeat (any one matching
is enough, as during a rotation): whsec_ secrets and whpk_ Ed25519 public
keys for the Standard Webhooks providers, the provider's signing secret
otherwise; without it, $WEBHOOK_SECRET is used. A signed timestamp must lie
within --tolerance of now, both ways.`, `
	$ webhook sign --secret "$S" body.json | webhook verify --secret "$S" --headers - body.json
	valid

	$ printf '{"test": 2432232314}' > vector.json    # the Standard Webhooks test vector, signed in 2021
	$ webhook verify --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --id msg_p5jXN8AQM9LWM0D4loKWxJek \
		--timestamp 1614265330 --signature v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= \
		--tolerance 876000h vector.json
	valid

	$ printf 'X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n' > h.txt
	$ printf 'Hello, World!' | webhook verify --provider github --secret "It's a Secret to Everybody" --headers h.txt
	valid`)
	var secrets listFlag
	fs.Var(&secrets, "secret", "verifying `key`: whsec_... or whpk_..., or the provider's secret (repeatable; default $WEBHOOK_SECRET)")
	providerName := fs.String("provider", receiver.NameWebhookkit, providerHelp)
	id := fs.String("id", "", "webhook-id header `value`")
	ts := fs.String("timestamp", "", "webhook-timestamp header value, `UNIX` seconds")
	sig := fs.String("signature", "", "webhook-signature header `value` (space-separated entries)")
	headers := fs.String("headers", "", "read the headers from `FILE` of \"name: value\" lines (- for stdin)")
	tolerance := fs.Duration("tolerance", signature.DefaultTolerance, "accepted distance between the timestamp and now")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 1); err != nil {
		return err
	}
	direct := isSet(fs, "id") || isSet(fs, "timestamp") || isSet(fs, "signature")
	switch {
	case *headers != "" && direct:
		return usagef("give either --headers or --id, --timestamp and --signature, not both")
	case *headers == "" && !direct:
		return usagef("give --headers FILE, or --id, --timestamp and --signature")
	case *headers == "-" && (fs.Arg(0) == "" || fs.Arg(0) == "-"):
		return usagef("--headers - reads stdin, so give the body as FILE")
	}
	if *tolerance <= 0 {
		return usagef("--tolerance must be positive")
	}
	texts, err := secretsOrEnv(e, secrets)
	if err != nil {
		return err
	}
	prov, err := providerNamed(*providerName)
	if err != nil {
		return err
	}
	if prov.Name() != receiver.NameWebhookkit {
		return verifyProvider(e, prov, texts, *headers, direct, *id, *ts, *sig, *tolerance, fs.Arg(0))
	}
	sec, keys, err := parseVerifyingKeys(texts)
	if err != nil {
		return err
	}
	v, err := signature.NewVerifier(sec, keys, &signature.VerifyOptions{Tolerance: *tolerance})
	if err != nil {
		return usagef("%v", err)
	}

	var h http.Header
	if *headers != "" {
		raw, err := readInput(e, *headers)
		if err != nil {
			return err
		}
		if h, err = parseHeaderLines(raw); err != nil {
			return usagef("--headers: %v", err)
		}
	}
	body, err := readInput(e, fs.Arg(0))
	if err != nil {
		return err
	}
	if h != nil {
		err = v.Verify(h, body)
	} else {
		err = v.VerifyValues(*id, *ts, *sig, body)
	}
	if err != nil {
		return &exitError{code: exitFailure, msg: "invalid: " + err.Error()}
	}
	_, err = fmt.Fprintln(e.stdout, "valid")
	return err
}

// verifyProvider verifies a request of a provider other than webhookkit
// with the provider's verifier, as its receiver does.
func verifyProvider(e *env, prov receiver.Provider, texts []string, headers string, direct bool, id, ts, sig string, tolerance time.Duration, bodyPath string) error {
	if standardKeys(prov) {
		if _, _, err := parseVerifyingKeys(texts); err != nil {
			return err
		}
	} else if direct {
		return usagef("--id, --timestamp and --signature are Standard Webhooks headers; give the %s headers with --headers FILE", prov.Name())
	}
	v, err := prov.NewVerifier(texts, &signature.VerifyOptions{Tolerance: tolerance})
	if err != nil {
		return usagef("--secret: %v", err)
	}
	h := make(http.Header)
	if headers != "" {
		raw, err := readInput(e, headers)
		if err != nil {
			return err
		}
		if h, err = parseHeaderLines(raw); err != nil {
			return usagef("--headers: %v", err)
		}
	} else {
		h.Set(signature.HeaderID, id)
		h.Set(signature.HeaderTimestamp, ts)
		h.Set(signature.HeaderSignature, sig)
	}
	body, err := readInput(e, bodyPath)
	if err != nil {
		return err
	}
	if err := v.Verify(h, body); err != nil {
		return &exitError{code: exitFailure, msg: "invalid: " + err.Error()}
	}
	_, err = fmt.Fprintln(e.stdout, "valid")
	return err
}

// parseHeaderLines reads "name: value" lines. Blank lines are skipped;
// repeated names are kept (the verifier refuses a repeated webhook header).
func parseHeaderLines(raw []byte) (http.Header, error) {
	h := make(http.Header)
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("line %d is not a \"name: value\" header", n)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return h, nil
}
