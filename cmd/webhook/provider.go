package main

import (
	"slices"
	"strings"

	"github.com/webhookkit/webhookkit/receiver"
)

// providers are the --provider names of listen and verify.
var providers = []receiver.Provider{
	receiver.Webhookkit{},
	receiver.StandardWebhooks{},
	receiver.EventPayload{},
	receiver.GitHub{},
	receiver.Stripe{},
	receiver.Shopify{},
	receiver.Slack{},
}

const providerHelp = "`NAME` of the sender's format: webhookkit, standard, event-payload, github, stripe, shopify or slack"

// providerNamed returns the provider called name.
func providerNamed(name string) (receiver.Provider, error) {
	i := slices.IndexFunc(providers, func(p receiver.Provider) bool { return p.Name() == name })
	if i < 0 {
		names := make([]string, len(providers))
		for i, p := range providers {
			names[i] = p.Name()
		}
		return nil, usagef("--provider %q: want one of %s", name, strings.Join(names, ", "))
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
