package catalog

import "context"

// Replication manages replicas beyond the write protocol of Replicas: copies
// of good data to more resources (irepl, replication and compound
// resources), removal of surplus replicas (itrim, iphymv) and the verdicts
// of a consistency check (arca fsck).
//
// A copy uses BeginReplica (with Overwrite) to register its intermediate
// replica, so that the object is locked against writers while the bytes
// flow, and CommitCopy instead of CommitReplica to finish it.
type Replication interface {
	// CommitCopy marks the intermediate replica c.Number good as a copy of
	// replica source, like CommitReplica but leaving the object's other good
	// replicas good. The source must still be good, with size c.Size and
	// checksum c.Checksum; otherwise the commit fails with ErrConflict and
	// the caller aborts the copy. Replicas on the same resource as the copy
	// (an older, stale one it refreshes) are removed and returned so that
	// the caller deletes their bytes; the copy takes the lowest of their
	// numbers, as CommitReplica's replica does. c.Metadata must be empty. It fails
	// with ErrLocked as CommitReplica does.
	CommitCopy(ctx context.Context, c ReplicaCommit, source int) (superseded []Replica, err error)
	// TrimReplica removes a good or stale replica and returns it, so that
	// the caller deletes its bytes. It refuses with ErrLocked an
	// intermediate replica, and with ErrConflict the last good replica of
	// an object. The object itself always keeps at least one replica. A good
	// replica of an object whose lock is in force is refused with a
	// *LockError unless another good replica with the same checksum (a
	// verified copy) stays.
	TrimReplica(ctx context.Context, object ID, number int) (Replica, error)
	// MarkStale marks a good replica stale: its bytes were found missing or
	// different from the catalog. A replica that is not good is left as it
	// is (ErrConflict for an intermediate one).
	MarkStale(ctx context.Context, object ID, number int) error
	// DataObjectByID returns the data object with the given id, with its
	// replicas (a replica names its object only by id).
	DataObjectByID(ctx context.Context, id ID) (DataObject, error)
}
