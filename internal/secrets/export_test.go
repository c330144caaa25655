package secrets

// CursorListings reports how many listings have checkpoints built, for
// tests that wait for the background build.
func CursorListings(s *Service) int {
	s.cursors.mu.Lock()
	defer s.cursors.mu.Unlock()
	return len(s.cursors.m)
}
