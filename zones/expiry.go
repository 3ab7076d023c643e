package zones

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arca-data/arca/catalog"
)

// Expiry: when data is to be disposed of (iretention expire). It is an
// AVU, not catalog state like a lock: it is a plan, which the lifecycle
// policy's periodic rules act on (policies/lifecycle), and never a guard.
// Its value is an RFC 3339 time in UTC, so that a query compares it as a
// string (META_DATA_ATTR_VALUE < '2031-01-01T00:00:00Z'). Expiry never
// overrides a lock: the removal it leads to is refused while one stands.
const (
	// ExpiryAttribute carries when a data object or collection expires.
	ExpiryAttribute = "arca.expires"
	// ExpiryNoticeAttribute records the expiry the owner was told of, so
	// that a notice goes out once per expiry date.
	ExpiryNoticeAttribute = "arca.expiry_notified"
)

// ExpiryRequest is iretention expire.
type ExpiryRequest struct {
	Path catalog.Path
	// At, or After counted from now, is when it expires.
	At    time.Time
	After catalog.Period
	// Clear removes the expiry.
	Clear bool
}

// Expiry is one entry whose expiry SetExpiry changed; At is zero when it
// was cleared.
type Expiry struct {
	Path       catalog.Path
	Collection bool
	At         time.Time
}

// SetExpiry sets (or clears) the expiry of the data object req.Path, or of
// the collection req.Path and every collection and data object below it,
// as it is now. It needs own on all of it; it reports each entry changed.
func (z *Zone) SetExpiry(ctx context.Context, caller Principal, req ExpiryRequest, report func(Expiry) error) error {
	e, err := z.cat.Stat(ctx, req.Path)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return err
	}
	op := &Op{Name: OpRetentionExpire, Caller: caller, Path: req.Path, Recursive: e.Collection != nil}
	return z.do(ctx, op, func(ctx context.Context) error {
		now := time.Now()
		at := req.At
		switch {
		case req.Clear && (!req.At.IsZero() || !req.After.IsZero()):
			return fmt.Errorf("%w: clearing an expiry takes no date", catalog.ErrInvalidArgument)
		case req.Clear:
		case req.At.IsZero() == req.After.IsZero():
			return fmt.Errorf("%w: give when it expires as a date (--at) or a period from now (--after), one of them", catalog.ErrInvalidArgument)
		case !req.After.IsZero():
			if err := req.After.Validate(); err != nil {
				return err
			}
			at = req.After.From(now)
		}
		if !req.Clear && !at.After(now) {
			return fmt.Errorf("%w: expiry %s is in the past", catalog.ErrInvalidArgument, at.UTC().Format(time.RFC3339))
		}
		at = at.UTC().Truncate(time.Second)
		var targets []Expiry
		e, err := z.cat.Stat(ctx, req.Path)
		if err != nil {
			return err
		}
		if e.Collection != nil {
			targets = append(targets, Expiry{Path: req.Path, Collection: true})
			below, err := z.collectionsBelow(ctx, req.Path)
			if err != nil {
				return err
			}
			for _, c := range below {
				targets = append(targets, Expiry{Path: c.Path, Collection: true})
			}
		}
		err = z.eachObjectAt(ctx, caller, req.Path, true, catalog.AccessOwn, func(o catalog.DataObject) error {
			targets = append(targets, Expiry{Path: o.Path})
			return nil
		})
		if err != nil {
			return err
		}
		for _, t := range targets {
			target := catalog.ObjectTarget(t.Path)
			if t.Collection {
				target = catalog.CollectionTarget(t.Path)
			}
			outcome, msg := "expiry cleared", "no expiry"
			if req.Clear {
				_, err = z.cat.RemoveMetadataMatching(ctx, target, catalog.AVU{Attribute: "arca.expires", Value: "%", Unit: "%"})
				if errors.Is(err, catalog.ErrNotFound) {
					err = nil
				}
			} else {
				t.At = at
				outcome, msg = "expiry set", "expires "+at.Format(time.RFC3339)
				err = z.cat.SetMetadata(ctx, target, catalog.AVU{Attribute: ExpiryAttribute, Value: at.Format(time.RFC3339)})
			}
			if err != nil {
				return fmt.Errorf("expiry of %s: %w", t.Path, err)
			}
			z.auditRetention(ctx, op, t.Path, outcome, msg)
			if err := report(t); err != nil {
				return err
			}
		}
		return nil
	})
}
