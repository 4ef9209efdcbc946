// Package providertest proves the receiver's providers against the
// providers' own code: requests signed by stripe-go and the svix library,
// and checked with go-github and slack-go. It is a module of its own so
// that those SDKs never enter the core module's graph; it holds tests only.
package providertest
