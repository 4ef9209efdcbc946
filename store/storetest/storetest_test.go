package storetest_test

import (
	"testing"

	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// The suite runs against the memory store here too, so `go test` on this
// package exercises every case.
func TestRunMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return memory.New(nil) })
}
