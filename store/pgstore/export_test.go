package pgstore

import "context"

// SetMetaForTest overwrites a meta row, to fake a database of another
// version.
func (s *Store) SetMetaForTest(ctx context.Context, key, value string) error {
	_, err := s.pool.Exec(ctx, `UPDATE meta SET value = $2 WHERE key = $1`, key, value)
	return err
}
