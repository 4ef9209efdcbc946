package sender

import "net/netip"

// QueuedOutcomes returns how many outcomes wait to be written, for tests.
func (s *Sender) QueuedOutcomes() int { return s.queued() }

// AllowAddrForTest makes the guard of a sender built from cfg treat the
// addresses allowed reports as public, and every other as private.
func AllowAddrForTest(cfg *Config, allowed func(netip.Addr) bool) { cfg.allowAddr = allowed }
