package oauth2

// Len returns how many endpoints' tokens s caches, for tests.
func (s *Source) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
