package catalog

import "context"

// Deletion is a file that no replica references any more: the transaction
// that removed its replica recorded it, so that a crash before the file is
// deleted does not leave it behind unknown (issue 23).
type Deletion struct {
	Resource     string
	PhysicalPath string
}

// Deletions are the files of removed replicas still to be deleted. Every
// method that removes a replica (RemoveDataObject, RemoveCollection,
// CommitReplica and CommitCopy for what they supersede, TrimReplica,
// AbortReplica, ResolveExpired) records its file in the same transaction.
// The caller deletes the file, then forgets the record; a server that
// starts deletes what its predecessor could not. A new replica at a
// recorded file (on the same resource) takes it over: the record goes, and
// the file is not deleted under it.
type Deletions interface {
	// PendingDeletions returns up to limit recorded files, ordered by
	// resource and physical path, after the one after names (the zero
	// Deletion for the first).
	PendingDeletions(ctx context.Context, after Deletion, limit int) ([]Deletion, error)
	// ForgetDeletions removes the records of ds, whose files are gone.
	// A record that does not exist is no error. A backend may let a power
	// loss undo it: a file deleted twice is deleted.
	ForgetDeletions(ctx context.Context, ds []Deletion) error
}
