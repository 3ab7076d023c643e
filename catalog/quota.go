package catalog

import (
	"context"
	"errors"
	"fmt"
)

// ErrQuotaExceeded means a write would take usage past a quota.
var ErrQuotaExceeded = errors.New("quota exceeded")

// QuotaKind is what a quota limits.
type QuotaKind string

const (
	// QuotaUser limits the data objects a user owns.
	QuotaUser QuotaKind = "user"
	// QuotaGroup limits the data objects the members of a group own
	// together, as iRODS's group quotas.
	QuotaGroup QuotaKind = "group"
	// QuotaCollection limits the data objects below a collection, whoever
	// owns them.
	QuotaCollection QuotaKind = "collection"
)

// Quota is a limit on bytes and data objects, with the usage it counts.
// Bytes are the sizes of all replicas; objects are data objects (for a
// quota on one resource: replicas on it).
type Quota struct {
	Kind      QuotaKind
	Principal UserID // the user or group of QuotaUser and QuotaGroup
	Path      Path   // the collection of QuotaCollection
	// Resource limits a user or group quota to replicas on one resource;
	// "" is the total over all resources (iRODS's "total").
	Resource string
	// MaxBytes and MaxObjects are 0 for no limit.
	MaxBytes, MaxObjects int64
	// UsedBytes and UsedObjects are filled in by the catalog.
	UsedBytes, UsedObjects int64
}

// Validate checks q for SetQuota without a catalog: limits of 0 or more,
// a known kind, and no resource on a collection quota. That its user,
// group, collection and resource exist is the catalog's to check.
func (q Quota) Validate() error {
	if q.MaxBytes < 0 || q.MaxObjects < 0 {
		return invalid("quota limits are 0 or more")
	}
	switch q.Kind {
	case QuotaUser, QuotaGroup:
	case QuotaCollection:
		if q.Resource != "" {
			return invalid("a collection quota counts every resource")
		}
	default:
		return invalid("unknown quota kind %q", string(q.Kind))
	}
	return nil
}

// Name is how messages name the quota: "user alice#z total",
// "group lab on demoResc", "collection /z/home/lab".
func (q Quota) Name() string {
	if q.Kind == QuotaCollection {
		return fmt.Sprintf("collection %s", q.Path)
	}
	scope := "total"
	if q.Resource != "" {
		scope = "on " + q.Resource
	}
	return fmt.Sprintf("%s %s %s", q.Kind, q.Principal, scope)
}

// Exceeded explains how adding bytes and objects would pass q, or is "".
func (q Quota) Exceeded(bytes, objects int64) string {
	switch {
	case q.MaxBytes > 0 && bytes > 0 && q.UsedBytes+bytes > q.MaxBytes:
		return fmt.Sprintf("%s: %d bytes used + %d > limit %d bytes", q.Name(), q.UsedBytes, bytes, q.MaxBytes)
	case q.MaxObjects > 0 && objects > 0 && q.UsedObjects+objects > q.MaxObjects:
		return fmt.Sprintf("%s: %d data objects + %d > limit %d", q.Name(), q.UsedObjects, objects, q.MaxObjects)
	}
	return ""
}

// Quotas stores quotas and keeps their usage as counters that every write
// maintains in its own transaction: no scan per write, and exact under
// concurrent writes and removals.
type Quotas interface {
	// SetQuota sets the quota q names (Kind with Principal or Path, and
	// Resource) to its maxima; with both maxima 0 it removes the quota.
	// The user, group, collection and resource must exist (ErrNotFound);
	// a collection quota has no resource (ErrInvalidArgument).
	SetQuota(ctx context.Context, q Quota) error
	// ListQuotas returns every quota with its usage, ordered by kind,
	// principal or path, and resource.
	ListQuotas(ctx context.Context) ([]Quota, error)
	// QuotasFor returns, with their usage, the quotas that a replica of a
	// data object owned by owner at p on resource counts against: the
	// owner's, those of the owner's groups, and those of the collections
	// above p.
	QuotasFor(ctx context.Context, owner UserID, p Path, resource string) ([]Quota, error)
}
