package zones

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
)

// Retention locks and legal holds (issue 16): catalog state that the zone
// enforces whatever its rules say. The catalog refuses, in the very
// transaction, every removal, rename, overwrite and unverified trim of a
// locked data object (see catalog.Retention), so that no server of the
// zone gets past a lock; the zone checks the same before it does anything
// that a refusal would leave half done (moving to the trash, emptying the
// trash, copying bytes for a move), and decides who may change a lock:
//
//   - a retention or a hold is set by who owns the object (with -r: every
//     object below the collection), or a rodsadmin;
//   - a compliance lock is never shortened or removed before its date, by
//     anyone; the catalog refuses it too;
//   - a governance lock is shortened or removed only by a rodsadmin asking
//     to bypass governance (AdminMode), and every such change is audited;
//   - a legal hold is released only by a rodsadmin.
//
// The lock's refusal is a *catalog.LockError, which the transport maps to
// "denied by a policy" (exit status 5) naming the lock and its date.

// ErrLocked is what every refusal by a retention lock or a legal hold
// wraps (a *catalog.LockError says which).
var ErrLocked = catalog.ErrRetained

// SetAuditLogger gives the zone the audit log (DIR/audit.log), where it
// records every change of a lock; without one it records them in its log.
func (z *Zone) SetAuditLogger(l *slog.Logger) { z.audit = l }

// auditRetention records a change of a lock.
func (z *Zone) auditRetention(ctx context.Context, op *Op, p catalog.Path, outcome, msg string) {
	l := z.audit
	if l == nil {
		l = z.log
	}
	l.LogAttrs(ctx, slog.LevelInfo, "retention", slog.String("op", string(op.Name)),
		slog.String("user", op.Caller.UserID().String()), slog.String("path", p.String()),
		slog.String("outcome", outcome), slog.String("message", msg))
}

// RetentionRequest is iretention set (and, with Mode LockNone, rm).
type RetentionRequest struct {
	Path catalog.Path
	// Mode is the lock's mode; LockNone removes the retention.
	Mode catalog.LockMode
	// Until, or For counted from now, is the end of retention.
	Until time.Time
	For   catalog.Period
	// Recursive locks every data object below the collection Path.
	Recursive bool
	// BypassGovernance lets a rodsadmin shorten or remove a governance
	// lock; it is audited.
	BypassGovernance bool
}

// SetRetention sets the retention of the data object req.Path, or with
// Recursive of every data object below the collection req.Path, and
// reports each lock set. Every object is checked first: if the lock of one
// refuses the change, nothing changes.
func (z *Zone) SetRetention(ctx context.Context, caller Principal, req RetentionRequest, report func(catalog.ObjectLock) error) error {
	op := &Op{Name: OpRetentionSet, Caller: caller, Path: req.Path, AdminMode: req.BypassGovernance, Recursive: req.Recursive}
	return z.do(ctx, op, func(ctx context.Context) error {
		now := time.Now()
		until := req.Until
		switch {
		case req.Mode == catalog.LockNone && (!req.Until.IsZero() || !req.For.IsZero()):
			return fmt.Errorf("%w: removing a retention takes no date", catalog.ErrInvalidArgument)
		case req.Mode != catalog.LockNone && req.Until.IsZero() == req.For.IsZero():
			return fmt.Errorf("%w: give the end of retention as a date (--until) or a period (--for), one of them", catalog.ErrInvalidArgument)
		case !req.For.IsZero():
			if err := req.For.Validate(); err != nil {
				return err
			}
			until = req.For.From(now)
		}
		change := func(p catalog.Path) catalog.RetentionChange {
			return catalog.RetentionChange{Path: p, Mode: req.Mode, Until: until, By: caller.UserID(), BypassGovernance: req.BypassGovernance}
		}
		if err := change(req.Path).Validate(now); err != nil {
			return err
		}
		objs, err := z.lockTargets(ctx, caller, req.Path, req.Recursive)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := catalog.CheckRetentionChange(o.Lock, change(o.Path), now); err != nil {
				return err
			}
		}
		for _, o := range objs {
			old := o.Lock
			l, err := z.cat.SetRetention(ctx, change(o.Path))
			if err != nil {
				return err
			}
			outcome := "set"
			if req.BypassGovernance && old.Retains(now) && old.Mode == catalog.LockGovernance && (l.Mode == catalog.LockNone || l.Until.Before(old.Until)) {
				outcome = "governance bypassed"
				z.log.Warn("governance retention bypassed", "path", o.Path, "by", caller.UserID(), "was", old.Describe(), "now", l.Describe())
			}
			z.auditRetention(ctx, op, o.Path, outcome, fmt.Sprintf("was %s; now %s", old.Describe(), l.Describe()))
			o.Lock = l
			z.retainBytes(ctx, o, o.Replicas, req.BypassGovernance)
			if err := report(catalog.ObjectLock{Path: o.Path, Lock: l}); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetHold places (hold) or releases the legal hold of the data object p,
// or with recursive of every data object below the collection p. Placing
// one needs own; releasing one is for rodsadmin.
func (z *Zone) SetHold(ctx context.Context, caller Principal, p catalog.Path, hold, recursive bool, report func(catalog.ObjectLock) error) error {
	name := OpRetentionHold
	if !hold {
		name = OpRetentionRelease
	}
	op := &Op{Name: name, Caller: caller, Path: p, Recursive: recursive}
	return z.do(ctx, op, func(ctx context.Context) error {
		objs, err := z.lockTargets(ctx, caller, p, recursive)
		if err != nil {
			return err
		}
		for _, o := range objs {
			l, err := z.cat.SetHold(ctx, catalog.HoldChange{Path: o.Path, Hold: hold, By: caller.UserID()})
			if err != nil {
				return err
			}
			outcome := "hold placed"
			if !hold {
				outcome = "hold released"
			}
			z.auditRetention(ctx, op, o.Path, outcome, fmt.Sprintf("was %s; now %s", o.Lock.Describe(), l.Describe()))
			o.Lock = l
			z.retainBytes(ctx, o, o.Replicas, false)
			if err := report(catalog.ObjectLock{Path: o.Path, Lock: l}); err != nil {
				return err
			}
		}
		return nil
	})
}

// lockTargets are the data objects a change of locks acts on: the object
// p, or with recursive every object below the collection p (which the
// operation's table row has checked the caller owns).
func (z *Zone) lockTargets(ctx context.Context, caller Principal, p catalog.Path, recursive bool) ([]catalog.DataObject, error) {
	e, err := z.cat.Stat(ctx, p)
	if err != nil {
		return nil, err
	}
	if e.Collection != nil && !recursive {
		return nil, fmt.Errorf("%w: %s is a collection: a lock is on data objects; use -r to lock every data object below it, or --default to set what objects created in it get",
			catalog.ErrInvalidArgument, p)
	}
	var objs []catalog.DataObject
	err = z.eachObjectAt(ctx, caller, p, recursive, catalog.AccessOwn, func(o catalog.DataObject) error {
		objs = append(objs, o)
		return nil
	})
	return objs, err
}

// SetDefaultRetention sets the default retention of the collection p (the
// zero value removes it), and with recursive of every collection below it,
// and reports each collection changed. Data objects created in a
// collection get its default lock; collections created in it copy it.
func (z *Zone) SetDefaultRetention(ctx context.Context, caller Principal, p catalog.Path, d catalog.DefaultRetention, recursive bool, report func(catalog.Collection) error) error {
	op := &Op{Name: OpRetentionDefault, Caller: caller, Path: p, Recursive: recursive}
	return z.do(ctx, op, func(ctx context.Context) error {
		if err := d.Validate(); err != nil {
			return err
		}
		coll, err := z.cat.Collection(ctx, p)
		if errors.Is(err, catalog.ErrNotCollection) {
			return fmt.Errorf("%w: %s is a data object: a default retention is for collections; lock the object with iretention set", catalog.ErrNotCollection, p)
		}
		if err != nil {
			return err
		}
		colls := []catalog.Collection{coll}
		if recursive {
			below, err := z.collectionsBelow(ctx, p)
			if err != nil {
				return err
			}
			colls = append(colls, below...)
		}
		for _, c := range colls {
			if err := z.cat.SetDefaultRetention(ctx, c.Path, d); err != nil {
				return err
			}
			z.auditRetention(ctx, op, c.Path, "default set", fmt.Sprintf("was %q; now %q", c.Retention.String(), d.String()))
			c.Retention = d
			if err := report(c); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListRetention calls fn with pages of the entries at p, as List does:
// data objects carry their locks, collections their default retention.
func (z *Zone) ListRetention(ctx context.Context, caller Principal, p catalog.Path, recursive bool, fn func([]catalog.Entry) error) error {
	op := &Op{Name: OpRetentionList, Caller: caller, Path: p, Recursive: recursive}
	return z.do(ctx, op, func(ctx context.Context) error {
		e, err := z.cat.Stat(ctx, p)
		if err != nil {
			return err
		}
		if e.Object != nil {
			return fn([]catalog.Entry{e})
		}
		readable, err := z.readable(ctx, op)
		if err != nil {
			return err
		}
		if err := fn([]catalog.Entry{e}); err != nil {
			return err
		}
		return z.listCollection(ctx, readable, p, recursive, fn)
	})
}

// refuseLockedBelow refuses action on the collection p when a data object
// below it is locked: checked before an operation that the catalog would
// otherwise refuse half way (the trash's parents made, part of a trash
// emptied).
func (z *Zone) refuseLockedBelow(ctx context.Context, p catalog.Path, action string) error {
	ol, found, err := z.cat.LockedBelow(ctx, p, time.Now())
	if err != nil || !found {
		return err
	}
	return &catalog.LockError{Path: ol.Path, Lock: ol.Lock, Within: p, Action: action}
}

// retainBytes gives the replicas reps of obj that lie on a store locking
// files itself (an S3 bucket with Object Lock) obj's lock: defence in
// depth, so that the store's own credentials cannot delete the bytes
// either. The catalog's lock is the authority: a store that refuses is
// logged, and the operation stands.
func (z *Zone) retainBytes(ctx context.Context, obj catalog.DataObject, reps []catalog.Replica, bypass bool) {
	now := time.Now()
	ret := resources.Retention{Hold: obj.Lock.Hold, Bypass: bypass}
	if obj.Lock.Retains(now) {
		ret.Mode, ret.Until = string(obj.Lock.Mode), obj.Lock.Until
	}
	for _, r := range reps {
		if r.Status == catalog.ReplicaIntermediate {
			continue
		}
		resc, _, err := z.resource(ctx, r.Resource)
		if err != nil {
			continue
		}
		rt, ok := resc.(resources.Retainer)
		if !ok || !rt.Locks() {
			continue
		}
		if err := rt.Retain(ctx, r.PhysicalPath, ret); err != nil {
			z.log.Warn("the store did not take the lock of a replica; the catalog's lock stands",
				"path", obj.Path, "resource", r.Resource, "replica", r.Number, "err", err)
		}
	}
}

// collectionsBelow returns every collection below the collection p, each
// before the collections it holds.
func (z *Zone) collectionsBelow(ctx context.Context, p catalog.Path) ([]catalog.Collection, error) {
	var out []catalog.Collection
	var walk func(q catalog.Path) error
	walk = func(q catalog.Path) error {
		subs, err := z.allCollections(ctx, q)
		if err != nil {
			return err
		}
		for _, s := range subs {
			out = append(out, s)
			if err := walk(s.Path); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(p)
}
