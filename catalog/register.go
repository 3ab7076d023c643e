package catalog

import (
	"context"
	"fmt"
)

// RegisteredObject is a data object whose bytes are already on resources,
// for Register: as iRODS's ireg, the catalog learns of files it did not
// write.
type RegisteredObject struct {
	Path     Path
	Owner    UserID
	Replicas []RegisteredReplica // at least one
	Metadata []AVU
}

// RegisteredReplica is one existing file: good, with its size and (if
// known) checksum.
type RegisteredReplica struct {
	Resource     string
	PhysicalPath string
	Size         int64
	Checksum     string
}

// Validate checks o without a catalog.
func (o RegisteredObject) Validate() error {
	if o.Path.IsZero() || o.Path.IsRoot() {
		return fmt.Errorf("%w: register: no data object path", ErrInvalidArgument)
	}
	if len(o.Replicas) == 0 {
		return fmt.Errorf("%w: register %s: no replica", ErrInvalidArgument, o.Path)
	}
	for _, r := range o.Replicas {
		if r.Resource == "" || r.PhysicalPath == "" || r.Size < 0 {
			return fmt.Errorf("%w: register %s: a replica needs a resource, a physical path and a size of 0 or more", ErrInvalidArgument, o.Path)
		}
	}
	for _, a := range o.Metadata {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("register %s: %w", o.Path, err)
		}
	}
	if err := CheckUserID("owner", o.Owner); err != nil {
		return fmt.Errorf("register %s: %w", o.Path, err)
	}
	return nil
}

// Registrar registers many existing data objects at once.
type Registrar interface {
	// Register adds objs, with their good replicas and AVUs, in one
	// transaction: all of them or none. Each object's collection must exist
	// (ErrNotFound), unless parents, which creates missing collections
	// owned by the object's owner; nothing may be at an object's path yet
	// (ErrExists), and no replica may share a physical path on its resource
	// with another (ErrExists). Objects get the ACL of a collection that
	// inherits, and their owner gets own, as with BeginReplica.
	Register(ctx context.Context, objs []RegisteredObject, parents bool) error
}
