package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/webhookkit/webhookkit/signature"
)

func runSign(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "sign", "--secret S [--id ID] [--timestamp UNIX] [FILE]", `
Sign a webhook body read from FILE (or stdin, when FILE is absent or "-")
and print the three Standard Webhooks headers on stdout, one "name: value"
line each: webhook-id, webhook-timestamp and webhook-signature. The body is
signed byte for byte as read (a trailing newline is part of it).

--id defaults to a fresh UUIDv4 and --timestamp to the current time.
--secret may repeat (one signature per secret, as during a rotation) and
accepts whsec_ secrets and whsk_ Ed25519 private keys; without it,
$WEBHOOK_SECRET is used. The output is what 'webhook verify --headers' reads.`, `
	$ webhook sign --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw body.json > headers.txt
	$ webhook verify --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --headers headers.txt body.json
	valid`)
	var secrets listFlag
	fs.Var(&secrets, "secret", "signing `key`: whsec_... or whsk_... (repeatable; default $WEBHOOK_SECRET)")
	id := fs.String("id", "", "webhook-id `ID` (default: a fresh UUIDv4)")
	ts := fs.String("timestamp", "", "webhook-timestamp in `UNIX` seconds (default: now)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 1); err != nil {
		return err
	}
	texts, err := secretsOrEnv(e, secrets)
	if err != nil {
		return err
	}
	sec, keys, err := parseSigningKeys(texts)
	if err != nil {
		return err
	}
	signer, err := signature.NewSigner(sec, keys...)
	if err != nil {
		return usagef("%v", err)
	}
	if *id == "" {
		*id = uuid.NewString()
	} else if err := signature.ValidateID(*id); err != nil {
		return usagef("--id: %v", err)
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
	sig := signer.Sign(*id, at, body)
	_, err = fmt.Fprintf(e.stdout, "%s: %s\n%s: %s\n%s: %s\n",
		signature.HeaderID, *id,
		signature.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10),
		signature.HeaderSignature, sig)
	return err
}
