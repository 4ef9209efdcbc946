package sender

// QueuedOutcomes returns how many outcomes wait to be written, for tests.
func (s *Sender) QueuedOutcomes() int {
	s.settling.mu.Lock()
	defer s.settling.mu.Unlock()
	return len(s.settling.queue)
}
