package main

import (
	"slices"
	"strings"

	"github.com/webhookkit/webhookkit/receiver"
)

// providers are the providers --provider names, for listen and verify: the
// one list of them in the command (their names are the receiver's Name*
// constants).
var providers = []receiver.Provider{
	receiver.Webhookkit{},
	receiver.StandardWebhooks{},
	receiver.EventPayload{},
	receiver.GitHub{},
	receiver.Stripe{},
	receiver.Shopify{},
	receiver.Slack{},
}

// providerHelp is the usage of --provider, naming the providers.
var providerHelp = "`NAME` of the sender's format: " + providerNames(" or ")

// providerNames returns the names of providers, separated by commas and
// last before the last.
func providerNames(last string) string {
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.Name()
	}
	return strings.Join(names[:len(names)-1], ", ") + last + names[len(names)-1]
}

// providerNamed returns the provider called name.
func providerNamed(name string) (receiver.Provider, error) {
	i := slices.IndexFunc(providers, func(p receiver.Provider) bool { return p.Name() == name })
	if i < 0 {
		return nil, usagef("--provider %q: want one of %s", name, providerNames(", "))
	}
	return providers[i], nil
}

// standardKeys reports whether p's keys are Standard Webhooks keys
// (whsec_ or whpk_).
func standardKeys(p receiver.Provider) bool {
	switch p.(type) {
	case receiver.Webhookkit, receiver.StandardWebhooks, receiver.EventPayload:
		return true
	}
	return false
}
