package main

import (
	"context"
	"fmt"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// hiddenModeNote returns the line dashboard prints at start when the store
// holds no endpoint of mode (which the dashboard shows) but some of the
// other mode (which it hides): how many, and the --mode that shows them.
// It returns "" otherwise. It reads one endpoint of mode and at most one
// page of the other mode's, so a large store is counted as "more than
// store.MaxPageSize".
func hiddenModeNote(ctx context.Context, st store.Endpoints, mode event.Mode) (string, error) {
	shown, _, err := st.ListEndpoints(ctx, store.EndpointFilter{AllTenants: true, Mode: mode, Page: store.Page{Limit: 1}})
	if err != nil || len(shown) > 0 {
		return "", err
	}
	other := event.ModeLive
	if mode == event.ModeLive {
		other = event.ModeTest
	}
	hidden, next, err := st.ListEndpoints(ctx, store.EndpointFilter{AllTenants: true, Mode: other, Page: store.Page{Limit: store.MaxPageSize}})
	if err != nil || len(hidden) == 0 {
		return "", err
	}
	n := fmt.Sprint(len(hidden))
	if next != "" {
		n = fmt.Sprintf("more than %d", len(hidden))
	}
	verb := "are"
	noun := "endpoints"
	if len(hidden) == 1 {
		verb, noun = "is", "endpoint"
	}
	return fmt.Sprintf("%s %s-mode %s %s hidden: use --mode %s", n, other, noun, verb, other), nil
}
