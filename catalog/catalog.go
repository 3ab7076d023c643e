// Package catalog holds Arca's domain types and the Catalog interface that
// every metadata backend (SQLite, Dgraph) implements. The interface speaks of
// collections, data objects, replicas, users and resources, never of SQL or
// graph queries, and every backend passes the suite in catalog/catalogtest.
//
// What can be checked without a catalog is checked here, once: the Validate
// methods of the request types and the Check functions. Backends call them
// before they touch storage, so that both refuse the same requests in the
// same words, and check only what needs the stored state.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Sentinel errors. Backends wrap them with context; callers use errors.Is.
var (
	ErrNotFound        = errors.New("not found")
	ErrExists          = errors.New("already exists")
	ErrPermission      = errors.New("permission denied")
	ErrNotEmpty        = errors.New("collection is not empty")
	ErrLocked          = errors.New("locked by another writer")
	ErrConflict        = errors.New("conflicting change")
	ErrInvalidArgument = errors.New("invalid argument")
	ErrNotCollection   = errors.New("not a collection")
	ErrNotDataObject   = errors.New("not a data object")
)

// Catalog is the metadata store of one zone. Every method is one transaction:
// it commits entirely or not at all, and it returns only after the commit is
// durable. Implementations are safe for concurrent use. Methods that take a
// limit refuse a limit below one with ErrInvalidArgument.
type Catalog interface {
	Namespace
	Replicas
	Replication
	Accounts
	Groups
	Resources
	Sessions
	Metadata
	Querier
	Tickets
	Quotas
	Registrar
	Jobs
	Links
	Provenance
	Records
	RuleSets
	Deletions
	Retention
	AccessTimes
	QoS
	Close() error
}

// Namespace is the tree of collections and data objects.
type Namespace interface {
	// Stat returns the collection or data object at p.
	Stat(ctx context.Context, p Path) (Entry, error)
	Collection(ctx context.Context, p Path) (Collection, error)
	DataObject(ctx context.Context, p Path) (DataObject, error)

	// CreateCollection creates c.Path, whose parent must exist, and grants
	// c.Owner own on it. It fails with ErrExists when anything is at c.Path.
	// When the parent inherits, the new collection copies the parent's ACL
	// and its inheritance flag; c.Owner still gets own.
	CreateCollection(ctx context.Context, c Collection) (Collection, error)

	// ListObjects returns up to limit data objects of coll whose names sort
	// after the name after, in name order, with their replicas.
	ListObjects(ctx context.Context, coll Path, after string, limit int) ([]DataObject, error)
	// ListCollections is ListObjects for the sub-collections of coll.
	ListCollections(ctx context.Context, coll Path, after string, limit int) ([]Collection, error)

	// Rename moves a data object or a whole collection tree to to, whose
	// parent must exist and where nothing may be yet. A data object whose
	// lock is in force, or a tree holding one, is refused with a
	// *LockError.
	Rename(ctx context.Context, from, to Path) error

	// RemoveDataObject deletes the object and returns its replicas, whose
	// bytes the caller then removes from storage. It refuses with ErrLocked
	// while a writer holds an unexpired lease on the object, and with a
	// *LockError while its retention lock or legal hold is in force.
	RemoveDataObject(ctx context.Context, p Path) ([]Replica, error)
	// RemoveCollection deletes an empty collection, or with recursive the
	// whole tree, and returns the replicas of every data object removed.
	// A tree holding a data object whose lock is in force is refused with
	// a *LockError, and nothing is removed.
	RemoveCollection(ctx context.Context, p Path, recursive bool) ([]Replica, error)

	// SetAccess grants principal level on the collection or data object at p;
	// AccessNull removes the grant.
	SetAccess(ctx context.Context, p Path, principal UserID, level AccessLevel) error
	// SetInheritance sets the inheritance flag of the collection at p. It
	// changes no ACL: inheritance acts when something is created.
	SetInheritance(ctx context.Context, p Path, inherit bool) error
}

// Replicas manages the physical copies of data objects and the protocol that
// makes a write safe: an intermediate replica holding a lease is registered
// before any byte is written, and only CommitReplica marks it good.
type Replicas interface {
	// BeginReplica registers an intermediate replica of the data object at
	// r.Path. A missing object is created, owned by r.Owner. An existing
	// object is refused with ErrExists unless r.Overwrite, and with ErrLocked
	// while another writer holds an unexpired lease on it. The resource must
	// be registered (ErrNotFound), and no other replica on it may have the
	// same physical path (ErrExists). A new object in a collection that
	// inherits copies the collection's ACL; r.Owner still gets own. A new
	// object in a collection with a default retention gets its lock. An
	// existing object whose lock is in force is refused with a *LockError
	// unless r.Copy: it cannot be overwritten.
	// Its effect must be visible at once and survive a crash of the process,
	// but a backend may let a power loss undo it until the next durable write
	// (CommitReplica's): the caller writes the file only after BeginReplica,
	// so what a power loss forgets is at most a file the orphan scan reports.
	BeginReplica(ctx context.Context, r NewReplica) (DataObject, Replica, error)
	// RenewLease moves the lease of an intermediate replica held by holder.
	RenewLease(ctx context.Context, object ID, number int, holder string, until time.Time) error
	// CommitReplica marks the intermediate replica good with its final size
	// and checksum, attaches c.Metadata to the object in the same
	// transaction (an AVU the object already has is kept, not an error), marks
	// the object's other good replicas stale, and returns
	// the replicas it superseded on the same resource (already removed from
	// the catalog) so that the caller deletes their bytes. The committed
	// replica takes the lowest number of those it superseded, if that is
	// lower than its own: an overwrite keeps the replica's number, as in
	// iRODS (see CommittedNumber). It fails with
	// ErrLocked if holder no longer holds the replica or its lease has ended;
	// the holder can still AbortReplica then. It fails with
	// ErrQuotaExceeded, changing nothing, when the commit would take a
	// quota's bytes, or for a new data object its objects, past the limit.
	CommitReplica(ctx context.Context, c ReplicaCommit) (superseded []Replica, err error)
	// AbortReplica removes an intermediate replica held by holder, and the
	// data object too when no other replica is left; it returns the removed
	// replica so that the caller deletes its bytes.
	AbortReplica(ctx context.Context, object ID, number int, holder string) (Replica, error)
	// ExpiredReplicas lists intermediate replicas whose lease ended before now.
	ExpiredReplicas(ctx context.Context, now time.Time, limit int) ([]Replica, error)
	// ResolveExpired removes an intermediate replica whose lease has ended,
	// whoever held it, like AbortReplica. It fails with ErrLocked if the lease
	// was renewed meanwhile, and with ErrNotFound if the replica is no longer
	// intermediate (it was committed or aborted).
	ResolveExpired(ctx context.Context, object ID, number int, now time.Time) (Replica, error)
	// ReplicasOn calls fn for every replica on resource, in physical-path order.
	ReplicasOn(ctx context.Context, resource string, fn func(Replica) error) error
}

// NewReplica asks BeginReplica for an intermediate replica.
type NewReplica struct {
	Path         Path
	Owner        UserID
	Resource     string
	PhysicalPath string
	Holder       string
	LeaseExpiry  time.Time
	Overwrite    bool
	// Copy marks the replica as a copy of the object's own bytes, which
	// CommitCopy finishes: it may be added to a locked object, which an
	// overwrite may not (see Retention).
	Copy bool
}

// ReplicaCommit asks CommitReplica to mark a replica good.
type ReplicaCommit struct {
	Object   ID
	Number   int
	Holder   string
	Size     int64
	Checksum string
	// Metadata is attached to the object with the commit, so that a new
	// object never appears good without its ingest metadata.
	Metadata []AVU
}

// Validate checks r without a catalog. A request for "/" is ErrExists
// rather than ErrInvalidArgument: the root collection is already there.
func (r NewReplica) Validate() error {
	switch {
	case r.Path.IsZero():
		return invalid("empty path")
	case r.Path.IsRoot():
		return fmt.Errorf("/ is a collection: %w", ErrExists)
	case r.Resource == "":
		return invalid("no resource")
	case r.PhysicalPath == "":
		return invalid("no physical path")
	case r.Holder == "":
		return invalid("no lock holder")
	}
	if err := CheckLeaseExpiry(r.LeaseExpiry); err != nil {
		return err
	}
	return CheckUserID("owner", r.Owner)
}

// Validate checks c for CommitReplica without a catalog. The holder is not
// checked here: whether it still holds the replica is the catalog's to say.
func (c ReplicaCommit) Validate() error {
	if c.Size < 0 {
		return invalid("size %d", c.Size)
	}
	for _, a := range c.Metadata {
		if err := a.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// ValidateCopy checks c for CommitCopy of replica source without a catalog.
func (c ReplicaCommit) ValidateCopy(source int) error {
	switch {
	case c.Size < 0:
		return invalid("size %d", c.Size)
	case len(c.Metadata) > 0:
		return invalid("a copy carries no metadata")
	case source == c.Number:
		return invalid("a replica cannot be a copy of itself")
	}
	return nil
}

// CheckLeaseExpiry checks the end of a replica's lease (BeginReplica,
// RenewLease): a lease must end, or a dead writer's replica would stay
// locked for ever.
func CheckLeaseExpiry(until time.Time) error {
	if until.IsZero() {
		return invalid("no lease expiry")
	}
	return CheckTime("lease expiry", until)
}

// CheckLimit refuses a limit below one, as every method that takes one does.
func CheckLimit(n int) error {
	if n < 1 {
		return invalid("limit %d", n)
	}
	return nil
}

// CheckTime refuses a time that unix nanoseconds cannot hold (before 1678 or
// after 2262): both backends store times so, and such a time would wrap
// around silently. The zero time, which means "none", passes; what names
// the time in the error.
func CheckTime(what string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if t.Before(time.Unix(0, math.MinInt64+1)) || t.After(time.Unix(0, math.MaxInt64)) {
		return fmt.Errorf("%w: %s %s is out of range", ErrInvalidArgument, what, t)
	}
	return nil
}

// CheckRename checks the paths of Rename: the root has nowhere to go.
func CheckRename(from, to Path) error {
	if err := CheckPath(from); err != nil {
		return err
	}
	if err := CheckPath(to); err != nil {
		return err
	}
	if from.IsRoot() {
		return invalid("cannot rename /")
	}
	return nil
}

// CheckRemoveCollection checks the path of RemoveCollection: the root stays.
func CheckRemoveCollection(p Path) error {
	if err := CheckPath(p); err != nil {
		return err
	}
	if p.IsRoot() {
		return invalid("cannot remove /")
	}
	return nil
}

// invalid is an ErrInvalidArgument that says what is wrong.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// Accounts manages users.
type Accounts interface {
	CreateUser(ctx context.Context, u User) (User, error)
	User(ctx context.Context, id UserID) (User, error)
	Users(ctx context.Context) ([]User, error)
	// UpdateUser stores the type, password hash, authentication and info of u.
	UpdateUser(ctx context.Context, u User) error
	// RemoveUser deletes the user with its grants, sessions and
	// group memberships.
	RemoveUser(ctx context.Context, id UserID) error
}

// Groups manages groups: accounts of type rodsgroup that users belong to.
// A grant to a group gives its level to every member. Membership of
// "public", which holds everyone, is implicit and not stored.
type Groups interface {
	// CreateGroup adds an account of type rodsgroup named g.
	CreateGroup(ctx context.Context, g UserID) (User, error)
	// RemoveGroup deletes the group with its memberships, grants and AVUs;
	// ErrNotFound when g is not a group.
	RemoveGroup(ctx context.Context, g UserID) error
	// ListGroups returns every group, ordered by name and zone.
	ListGroups(ctx context.Context) ([]User, error)
	// AddMember puts user in group: ErrNotFound when either is missing or
	// group is not a group, ErrInvalidArgument when user is a group,
	// ErrExists when it is a member already.
	AddMember(ctx context.Context, group, user UserID) error
	// RemoveMember takes user out of group; ErrNotFound when it was not in.
	RemoveMember(ctx context.Context, group, user UserID) error
	// Members returns the members of group ordered by name and zone;
	// ErrNotFound when group is not a group.
	Members(ctx context.Context, group UserID) ([]UserID, error)
	// GroupsOf returns the groups user belongs to, ordered by name and zone.
	GroupsOf(ctx context.Context, user UserID) ([]UserID, error)
}

// Resources manages the registry of storage resources.
type Resources interface {
	CreateResource(ctx context.Context, r Resource) (Resource, error)
	Resource(ctx context.Context, name string) (Resource, error)
	ListResources(ctx context.Context) ([]Resource, error)
	UpdateResource(ctx context.Context, r Resource) error
	// RemoveResource refuses with ErrNotEmpty while replicas or child
	// resources remain on it.
	RemoveResource(ctx context.Context, name string) error
}

// Sessions stores login sessions, so that every server of a zone accepts a
// token that any of them issued.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	// Session returns a session even after it expired, until it is removed,
	// so that the caller can tell "expired" from "ended".
	Session(ctx context.Context, tokenHash string) (Session, error)
	RemoveSession(ctx context.Context, tokenHash string) error
	// RemoveSessions ends every session of user, and returns how many ended.
	RemoveSessions(ctx context.Context, user UserID) (int, error)
	// RemoveExpiredSessions deletes sessions that expired before now.
	RemoveExpiredSessions(ctx context.Context, now time.Time) (int, error)
	// SessionUsers returns the users with a session that has not expired
	// at now, each once, sorted by name and zone: whom a re-check of the
	// directory concerns.
	SessionUsers(ctx context.Context, now time.Time) ([]UserID, error)
}
