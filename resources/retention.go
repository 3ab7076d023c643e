package resources

import (
	"context"
	"time"
)

// Retainer is the capability of a store that locks files itself, as an
// S3 bucket with Object Lock does: defence in depth beside the catalog's
// retention locks, so that a stolen credential of the store cannot delete
// or overwrite the bytes before their date either. The zone gives every
// replica of a locked data object on such a store the object's lock.
type Retainer interface {
	// Locks reports whether the store locks files (for S3: whether the
	// bucket was made with Object Lock); Retain does nothing when not.
	Locks() bool
	// Retain gives the file at key the retention and legal hold of r.
	Retain(ctx context.Context, key string, r Retention) error
}

// Retention is what Retain gives a file.
type Retention struct {
	// Mode is "governance" or "compliance"; "" leaves the file without
	// retention (only possible, on a store that locks, for a governance
	// retention with Bypass, or one that has ended).
	Mode  string
	Until time.Time
	Hold  bool
	// Bypass shortens or removes a governance retention (S3's
	// x-amz-bypass-governance-retention, which the store's credentials
	// must be allowed).
	Bypass bool
}
