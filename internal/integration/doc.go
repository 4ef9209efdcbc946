// Package integration holds no code of its own: it is a module of tests that
// need what the core module must not depend on, so that a program importing
// webhookkit's core never sees a database driver, a browser driver or the
// reference library in its module graph.
//
// Each folder holds the tests of the core package of the same name that need
// such a dependency:
//
//   - signature: interoperability with the Standard Webhooks reference
//     library (github.com/standard-webhooks/standard-webhooks/libraries/go),
//     and the benchmarks that compare the package with it and with raw
//     crypto/hmac.
//   - receiver: the receiver over the durable SQLite and PostgreSQL inboxes,
//     and the HTTP benchmarks (a bare handler, the receiver on the memory,
//     SQLite and PostgreSQL inboxes, and the handler alone).
//   - sender: a PostgreSQL notification waking another sender instance, and
//     PublishTx to an organization's account in the application's own
//     SQLite or PostgreSQL transaction.
//   - dashboard: the dashboard driven by headless Chromium (chromedp).
//
// The PostgreSQL tests read WEBHOOKKIT_TEST_POSTGRES_DSN (see
// store/postgres/pgtest); the browser test needs /usr/bin/chromium. Both
// skip without them, and fail without them when CI=true.
package integration
