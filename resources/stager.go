package resources

import (
	"context"
	"errors"
)

// ErrStaging means a file is not online yet: a recall from tape is queued
// or under way. iRODS calls it REPLICA_IS_BEING_STAGED.
var ErrStaging = errors.New("being staged")

// Stager is a resource whose files must be brought online (recalled from
// tape) before they can be read. Its Open waits for the recall; a caller
// that must not wait asks Staged first and queues with Stage.
type Stager interface {
	// Staged reports whether key can be opened without waiting for a recall.
	Staged(ctx context.Context, key string) (bool, error)
	// Stage queues recalls of keys, all at once so that the library can
	// order them by cartridge and position, and returns without waiting.
	Stage(ctx context.Context, keys ...string) error
}
