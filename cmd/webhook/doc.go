// Command webhook is webhookkit's tool for developing with webhooks locally,
// in the spirit of "stripe listen" and "stripe trigger", without a hosted
// service. It is built on the library itself: signing and verifying come from
// package signature, receiving from package receiver, delivering and retrying
// from package sender.
//
// Usage:
//
//	webhook secret [--asymmetric | --store-key [--key-id ID]]
//	webhook sign --secret S [--provider NAME] [--id ID] [--type T] [--timestamp UNIX] [FILE]
//	webhook verify --secret S [--provider NAME] (--id ID --timestamp UNIX --signature SIG | --headers FILE) [--tolerance D] [FILE]
//	webhook listen --secret S [--provider NAME] [--addr HOST:PORT] [--path P] [--store DSN] [--forward-to URL] [--mode M]
//	webhook send --url URL --secret S --type T [--provider NAME] [--data JSON | --data @FILE] [--id ID] [--mode test|live]
//	             [--max-attempts N] [--min-backoff D] [--max-backoff D] [--timeout D] [--header H]
//	webhook simulate [--catalog FILE] --url URL --secret S --type T [--data JSON | --data @FILE]
//	                 [delivery flags as for send] | [--catalog FILE] --list
//	webhook logs --store DSN [--endpoint ID] [--event ID] [--limit N] [--bodies]
//	webhook dashboard [--store DSN] [--addr 127.0.0.1:8080] [--mode M] [--catalog FILE] [--read-only]
//	                  [--theme-name NAME] [--theme-logo URL] [--theme-color KEY=COLOR]
//
// Every command prints its flags and an example with -h. Flags follow the
// standard flag package: -flag and --flag are the same, and flags come before
// the positional FILE argument. Where --secret is required, $WEBHOOK_SECRET
// is used when it is absent (keeping the secret out of shell history).
//
// # Providers
//
// --provider NAME names whose webhooks a command speaks: webhookkit (the
// default), standard, event-payload, github, stripe, shopify or slack, the
// receiver's providers (receiver.NameGitHub and the others). listen and
// verify receive and check them; sign and send produce them, signing as
// the provider's sender does (as package webhooktest's Sign functions
// do), to test one's own receiver of them.
//
// # Output and exit codes
//
// Output meant for programs goes to stdout, one compact JSON object per line:
// listen prints each received event's envelope (with --provider other than
// webhookkit, its provider, key, type, date and data), send and simulate one object
// per attempt ({"attempt":1,"status":200,"error":"","duration_ms":3}, plus
// "body", the start of the answer, for a status other than 2xx), logs
// one object per recorded attempt, simulate --list one per event type of the
// catalog;
// sign prints "name: value" header lines (the three Standard Webhooks
// headers, or the provider's) and verify "valid". Logs,
// progress and errors go to stderr.
//
// The exit code is 0 on success (or a valid signature), 1 for an invalid
// signature, a delivery given up or any other failure, and 2 for a usage
// error (bad flags or arguments). send and simulate give up at once on 401
// and 403, which say the receiver refused the signature: check --secret.
//
// # Event catalogs
//
// simulate sends the sample data an event catalog declares for a type, and
// dashboard offers the catalog's types as subscriptions and in its
// simulator (its sender refuses subscriptions that select none of them).
// The catalog comes from --catalog FILE, JSON as read by event.ParseCatalog:
//
//	{"types": [
//	  {"type": "order.paid", "description": "An order was paid in full",
//	   "sample": {"order_id": "ord_1042", "amount": 4200, "currency": "EUR"}},
//	  {"type": "invoice.finalized", "description": "An invoice can no longer change"}
//	]}
//
// Without --catalog it is the provider's catalog, the events of Fasten
// Connect (package event/fasten), for both commands. "ping" is in every
// catalog. For simulate, a type the catalog does not list is a usage error
// that names the listed types, unless --data gives the data to send.
//
// # Stores
//
// --store takes a DSN: "memory" (the default: nothing survives the process),
// "sqlite:PATH" (a SQLite file, created and migrated as needed) or
// "postgres://...[?schema=NAME]" (a PostgreSQL database; the store's schema,
// default "webhookkit", is migrated at start). The read-only commands, logs
// and dashboard --read-only, open only a store that exists and never write:
// a missing SQLite file, or a PostgreSQL schema that does not exist or holds
// no store's tables, is an error (exit 1), and nothing is created. listen and
// dashboard print the store they use, with the PostgreSQL schema.
//
// A SQL store keeps endpoint secrets in plaintext unless $WEBHOOK_STORE_KEYS
// holds key-encryption keys, comma-separated "ID=base64" items, the sealing
// key first (see package store/seal); "webhook secret --store-key" prints a
// new one, its id the date and a random suffix unless --key-id gives one:
//
//	export WEBHOOK_STORE_KEYS=$(webhook secret --store-key)
//
// See README.md in this directory for a walk-through.
package main
