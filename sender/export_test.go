package sender

// QueuedOutcomes returns how many outcomes wait to be written, for tests.
func (s *Sender) QueuedOutcomes() int { return s.queued() }
