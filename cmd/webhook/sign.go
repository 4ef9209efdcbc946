package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
)

func runSign(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "sign", "--secret S [--provider NAME] [--id ID] [--type T] [--timestamp UNIX] [FILE]", `
Sign a webhook body read from FILE (or stdin, when FILE is absent or "-")
and print the signature headers on stdout, one "name: value" line each. The
body is signed byte for byte as read (a trailing newline is part of it).
The output is what 'webhook verify --headers' reads, with the same
--provider.

--provider says whose signing to produce: webhookkit (the default),
standard and event-payload print the three Standard Webhooks headers,
webhook-id (--id, default a fresh UUIDv4), webhook-timestamp (--timestamp,
default now) and webhook-signature; --secret may then repeat (one signature
per secret, as during a rotation) and takes whsec_ secrets and whsk_ Ed25519
private keys. The other providers sign as their senders do, with --secret
the provider's signing secret (the webhook's secret, the app's signing
secret; repeatable for stripe only):

	github   X-Hub-Signature-256, X-GitHub-Event --type (default ping),
	         X-GitHub-Delivery --id (default a fresh UUIDv4)
	stripe   Stripe-Signature at --timestamp (default now); the event id
	         is the body's "id"
	shopify  X-Shopify-Hmac-Sha256, X-Shopify-Topic --type (default
	         orders/create), X-Shopify-Webhook-Id --id (default a fresh UUIDv4)
	slack    X-Slack-Signature and X-Slack-Request-Timestamp --timestamp
	         (default now); the event id is the body's "event_id"

A flag the provider does not sign is a usage error. Without --secret,
$WEBHOOK_SECRET is used.`, `
	$ webhook sign --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw body.json > headers.txt
	$ webhook verify --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --headers headers.txt body.json
	valid

	$ webhook sign --provider github --secret "$GH_SECRET" --type push push.json > gh.txt
	$ webhook verify --provider github --secret "$GH_SECRET" --headers gh.txt push.json
	valid`)
	var secrets listFlag
	fs.Var(&secrets, "secret", "signing `key`: whsec_... or whsk_..., or the provider's secret (repeatable; default $WEBHOOK_SECRET)")
	providerName := fs.String("provider", receiver.NameWebhookkit, providerHelp)
	id := fs.String("id", "", "webhook-id, X-GitHub-Delivery or X-Shopify-Webhook-Id `ID` (default: a fresh UUIDv4)")
	typ := fs.String("type", "", "X-GitHub-Event or X-Shopify-Topic `T` (default: ping, orders/create)")
	ts := fs.String("timestamp", "", "signed time in `UNIX` seconds, for Standard Webhooks, stripe and slack (default: now)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 1); err != nil {
		return err
	}
	prov, err := providerNamed(*providerName)
	if err != nil {
		return err
	}
	usesID, usesType, usesTime := providerUse(prov)
	switch {
	case isSet(fs, "id") && !usesID:
		return usagef("--id: %s signs no id header (the id is in the body)", prov.Name())
	case isSet(fs, "type") && !usesType:
		return usagef("--type: %s signs no type header", prov.Name())
	case isSet(fs, "timestamp") && !usesTime:
		return usagef("--timestamp: %s signs no time", prov.Name())
	}
	texts, err := secretsOrEnv(e, secrets)
	if err != nil {
		return err
	}
	if err := checkProviderSecrets(prov, texts); err != nil {
		return err
	}
	if *id == "" {
		*id = uuid.NewString()
	} else if standardKeys(prov) {
		if err := signature.ValidateID(*id); err != nil {
			return usagef("--id: %v", err)
		}
	} else if err := checkHeaderValue("--id", *id); err != nil {
		return err
	}
	if *typ == "" {
		*typ = defaultSignType(prov)
	} else if err := checkHeaderValue("--type", *typ); err != nil {
		return err
	}
	at := time.Now()
	if *ts != "" {
		n, err := strconv.ParseInt(*ts, 10, 64)
		if err != nil || n < 0 {
			return usagef("--timestamp must be Unix seconds, 0 or more")
		}
		at = time.Unix(n, 0)
	}
	body, err := readInput(e, fs.Arg(0))
	if err != nil {
		return err
	}
	if !standardKeys(prov) {
		h := make(http.Header)
		s := signing{prov: prov, secrets: texts, id: *id, typ: *typ}
		if err := s.sign(h, at, body); err != nil {
			return usagef("%v", err)
		}
		return printHeaders(e.stdout, h)
	}
	sec, keys, err := parseSigningKeys(texts)
	if err != nil {
		return err
	}
	signer, err := signature.NewSigner(sec, keys...)
	if err != nil {
		return usagef("%v", err)
	}
	sig := signer.Sign(*id, at, body)
	_, err = fmt.Fprintf(e.stdout, "%s: %s\n%s: %s\n%s: %s\n",
		signature.HeaderID, *id,
		signature.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10),
		signature.HeaderSignature, sig)
	return err
}
