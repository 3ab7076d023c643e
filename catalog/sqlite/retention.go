package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/arca-data/arca/catalog"
)

// retainedWhere selects, on data_objects o, the objects that have a lock:
// verbatim the condition of the partial index data_objects_retained, so
// that the planner may use it.
const retainedWhere = `(o.ret_mode <> '' OR o.ret_hold = 1)`

// anyRetained reports whether any data object of the zone has a lock; a
// zone that does not use retention answers from the empty partial index.
func anyRetained(q querier) (bool, error) {
	var ok bool
	err := q.queryRow(`SELECT EXISTS (SELECT 1 FROM data_objects o INDEXED BY data_objects_retained WHERE ` + retainedWhere + `)`).Scan(&ok)
	return ok, err
}

// lockedBelow finds a data object below the collection p (at any depth)
// whose lock is in force at nowNS. It walks the collections of the tree and
// looks each up in the partial index of locked objects, so it costs one
// probe per collection, not one per object.
func lockedBelow(q querier, p catalog.Path, nowNS int64) (catalog.ObjectLock, bool, error) {
	if ok, err := anyRetained(q); err != nil || !ok {
		return catalog.ObjectLock{}, false, err
	}
	var (
		coll, name string
		lk         lockDest
	)
	args := append(subtreeArgs(p), nowNS)
	err := q.queryRow(`SELECT c.path, o.name, `+lockCols+`
		FROM collections c CROSS JOIN data_objects o INDEXED BY data_objects_retained
		WHERE `+subtree("c")+` AND o.coll_id = c.id AND `+retainedWhere+`
			AND (o.ret_hold = 1 OR o.ret_until_ns > ?)
		LIMIT 1`, args...).Scan(append([]any{&coll, &name}, lk.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.ObjectLock{}, false, nil
	}
	if err != nil {
		return catalog.ObjectLock{}, false, err
	}
	cp, err := catalog.ParsePath(coll)
	if err != nil {
		return catalog.ObjectLock{}, false, fmt.Errorf("stored collection path: %w", err)
	}
	op, err := cp.Join(name)
	if err != nil {
		return catalog.ObjectLock{}, false, fmt.Errorf("stored object name: %w", err)
	}
	return catalog.ObjectLock{Path: op, Lock: lk.lock()}, true, nil
}

// retainedIn refuses, with a *catalog.LockError, action on the collection
// p when a data object below it is locked at nowNS.
func retainedIn(q querier, p catalog.Path, nowNS int64, action string) error {
	ol, found, err := lockedBelow(q, p, nowNS)
	if err != nil || !found {
		return err
	}
	return &catalog.LockError{Path: ol.Path, Lock: ol.Lock, Within: p, Action: action}
}

// LockedBelow returns a data object below the collection p whose lock is in
// force at now.
func (c *Catalog) LockedBelow(ctx context.Context, p catalog.Path, at time.Time) (catalog.ObjectLock, bool, error) {
	if err := catalog.CheckPath(p); err != nil {
		return catalog.ObjectLock{}, false, fmt.Errorf("locked objects below: %w", err)
	}
	if err := catalog.CheckTime("time", at); err != nil {
		return catalog.ObjectLock{}, false, fmt.Errorf("locked objects below %s: %w", p, err)
	}
	var (
		out   catalog.ObjectLock
		found bool
	)
	err := c.read(ctx, func(q *rtx) error {
		if _, err := collAt(q, p); err != nil {
			return err
		}
		var err error
		out, found, err = lockedBelow(q, p, nanos(at))
		return err
	})
	if err != nil {
		return catalog.ObjectLock{}, false, fmt.Errorf("locked objects below %s: %w", p, err)
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
	err := c.write(ctx, func(w *wtx) error {
		o, err := objAt(w, rc.Path)
		if err != nil {
			return err
		}
		t, n := now()
		if err := catalog.CheckRetentionChange(o.Lock, rc, t); err != nil {
			return err
		}
		until := nanos(rc.Until)
		if _, err := w.exec(`UPDATE data_objects SET ret_mode = ?, ret_until_ns = ?, ret_by_name = ?, ret_by_zone = ?, ret_set_ns = ?
			WHERE id = ?`, string(rc.Mode), until, rc.By.Name, rc.By.Zone, n, int64(o.ID)); err != nil {
			return err
		}
		out = catalog.Lock{Mode: rc.Mode, Until: fromNanos(until), Hold: o.Lock.Hold, SetBy: rc.By, SetAt: t}
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
	err := c.write(ctx, func(w *wtx) error {
		o, err := objAt(w, hc.Path)
		if err != nil {
			return err
		}
		t, n := now()
		if _, err := w.exec(`UPDATE data_objects SET ret_hold = ?, ret_by_name = ?, ret_by_zone = ?, ret_set_ns = ?
			WHERE id = ?`, hc.Hold, hc.By.Name, hc.By.Zone, n, int64(o.ID)); err != nil {
			return err
		}
		out = catalog.Lock{Mode: o.Lock.Mode, Until: o.Lock.Until, Hold: hc.Hold, SetBy: hc.By, SetAt: t}
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
	err := c.write(ctx, func(w *wtx) error {
		coll, err := collAt(w, p)
		if err != nil {
			return err
		}
		_, err = w.exec(`UPDATE collections SET ret_default_mode = ?, ret_default_period = ? WHERE id = ?`,
			string(d.Mode), d.Period.String(), int64(coll.ID))
		return err
	})
	if err != nil {
		return fail(err)
	}
	return nil
}
