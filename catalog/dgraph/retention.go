package dgraph

import (
	"context"
	"fmt"
	"time"

	"github.com/arca-data/arca/catalog"
)

// retainedIn refuses, with a *catalog.LockError, action on the collection
// within when one of the data objects subs below it is locked at now.
func retainedIn(subs []treeNode, within catalog.Path, now time.Time, action string) error {
	if ol, found, err := lockedAmong(subs, now); err != nil || found {
		if err != nil {
			return err
		}
		return &catalog.LockError{Path: ol.Path, Lock: ol.Lock, Within: within, Action: action}
	}
	return nil
}

// lockedAmong finds, in path order, a data object of subs locked at now.
func lockedAmong(subs []treeNode, now time.Time) (catalog.ObjectLock, bool, error) {
	var (
		best  catalog.ObjectLock
		found bool
	)
	for i := range subs {
		s := &subs[i]
		if s.Kind != kindObj {
			continue
		}
		if l := s.lock(); l.Locked(now) {
			p, err := s.path()
			if err != nil {
				return catalog.ObjectLock{}, false, err
			}
			if !found || p.String() < best.Path.String() {
				best, found = catalog.ObjectLock{Path: p, Lock: l}, true
			}
		}
	}
	return best, found, nil
}

// trimRetained refuses to trim the good replica r of the object o while o
// is locked, unless another good replica with the same checksum (a
// verified copy) stays.
func trimRetained(o *node, r *repl) error {
	l := o.lock()
	if !l.Locked(time.Now()) {
		return nil
	}
	for _, x := range o.Repls {
		if x.Num != r.Num && catalog.ReplicaStatus(x.Status) == catalog.ReplicaGood && r.Sum != "" && x.Sum == r.Sum {
			return nil
		}
	}
	p, err := o.path()
	if err != nil {
		return err
	}
	return &catalog.LockError{Path: p, Lock: l, Action: fmt.Sprintf("trimmed of replica %d on %s", r.Num, r.Resc),
		Hint: "no other good replica with the same checksum (a verified copy) would stay"}
}

// LockedBelow returns a data object below the collection p whose lock is in
// force at now.
func (c *Catalog) LockedBelow(ctx context.Context, p catalog.Path, now time.Time) (catalog.ObjectLock, bool, error) {
	fail := func(err error) (catalog.ObjectLock, bool, error) {
		return catalog.ObjectLock{}, false, fmt.Errorf("locked objects below %s: %w", p, err)
	}
	if err := catalog.CheckPath(p); err != nil {
		return fail(err)
	}
	if err := catalog.CheckTime("time", now); err != nil {
		return fail(err)
	}
	var (
		out   catalog.ObjectLock
		found bool
	)
	err := c.read(ctx, func(t *tx) error {
		if _, err := t.collAt(p); err != nil {
			return err
		}
		subs, err := t.below(p)
		if err != nil {
			return err
		}
		out, found, err = lockedAmong(subs, now)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, found, nil
}

// SetRetention sets the retention of a data object, keeping its hold.
func (c *Catalog) SetRetention(ctx context.Context, rc catalog.RetentionChange) (catalog.Lock, error) {
	fail := func(err error) (catalog.Lock, error) {
		return catalog.Lock{}, fmt.Errorf("set retention of %s: %w", rc.Path, err)
	}
	if err := rc.Validate(time.Now()); err != nil {
		return fail(err)
	}
	var out catalog.Lock
	err := c.write(ctx, func(t *tx) error {
		n, err := t.objAt(rc.Path)
		if err != nil {
			return err
		}
		now := nowNS()
		if err := catalog.CheckRetentionChange(n.lock(), rc, fromNanos(now)); err != nil {
			return err
		}
		out = catalog.Lock{Mode: rc.Mode, Until: fromNanos(nanos(rc.Until)), Hold: n.RHold, SetBy: rc.By, SetAt: fromNanos(now)}
		// The ver touch makes this conflict with every removal, rename and
		// overwrite of the object in flight (see the package comment).
		if err := t.set(c.lockSets(map[string]any{"uid": n.UID, c.p("ver"): randVer()}, out)); err != nil {
			return err
		}
		if out.IsZero() {
			out = catalog.Lock{}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// SetHold places or releases the legal hold of a data object.
func (c *Catalog) SetHold(ctx context.Context, hc catalog.HoldChange) (catalog.Lock, error) {
	fail := func(err error) (catalog.Lock, error) {
		return catalog.Lock{}, fmt.Errorf("set legal hold of %s: %w", hc.Path, err)
	}
	if err := hc.Validate(); err != nil {
		return fail(err)
	}
	var out catalog.Lock
	err := c.write(ctx, func(t *tx) error {
		n, err := t.objAt(hc.Path)
		if err != nil {
			return err
		}
		old := n.lock()
		out = catalog.Lock{Mode: old.Mode, Until: old.Until, Hold: hc.Hold, SetBy: hc.By, SetAt: fromNanos(nowNS())}
		if err := t.set(c.lockSets(map[string]any{"uid": n.UID, c.p("ver"): randVer()}, out)); err != nil {
			return err
		}
		if out.IsZero() {
			out = catalog.Lock{}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// SetDefaultRetention sets the default retention of a collection.
func (c *Catalog) SetDefaultRetention(ctx context.Context, p catalog.Path, d catalog.DefaultRetention) error {
	fail := func(err error) error { return fmt.Errorf("set default retention of %s: %w", p, err) }
	if err := catalog.CheckPath(p); err != nil {
		return fail(err)
	}
	if err := d.Validate(); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(t *tx) error {
		n, err := t.collAt(p)
		if err != nil {
			return err
		}
		// What is created in it reads the default: conflict with it.
		if err := t.lockAll(n.UID); err != nil {
			return err
		}
		if d.IsZero() {
			// Deleted, not emptied: the predicate is there only while the
			// collection has a default.
			if n.RDMode == "" {
				return nil
			}
			return t.del(map[string]any{"uid": n.UID, c.p("rdmode"): nil, c.p("rdper"): nil})
		}
		return t.set(c.defaultSets(map[string]any{"uid": n.UID}, d))
	})
	if err != nil {
		return fail(err)
	}
	return nil
}
