package sender_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
)

func TestThresholds(t *testing.T) {
	tests := []struct {
		name                string
		disableAfter        int
		wantWarn, wantLimit int
	}{
		{"default", 0, sender.DefaultDisableAfterFailures / 2, sender.DefaultDisableAfterFailures},
		{"even", 4, 2, 4},
		{"odd rounds up", 5, 3, 5},
		{"one", 1, 1, 1},
		{"never", -1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, newStore(), nil, func(c *sender.Config) { c.DisableAfterFailures = tt.disableAfter })
			warnAt, disableAt := s.Thresholds()
			require.Equal(t, tt.wantWarn, warnAt)
			require.Equal(t, tt.wantLimit, disableAt)
		})
	}
}
