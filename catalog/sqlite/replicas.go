package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/arca-data/arca/catalog"
)

// BeginReplica registers an intermediate replica of the object at r.Path.
func (c *Catalog) BeginReplica(ctx context.Context, r catalog.NewReplica) (catalog.DataObject, catalog.Replica, error) {
	fail := func(err error) (catalog.DataObject, catalog.Replica, error) {
		return catalog.DataObject{}, catalog.Replica{}, fmt.Errorf("begin replica of %s on %s: %w", r.Path, r.Resource, err)
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	var (
		obj  catalog.DataObject
		repl catalog.Replica
	)
	// The intermediate replica need not survive a power loss: the file it
	// announces is only being written, the client has not been told it is
	// stored, and the commit's fsync makes both durable together. What a
	// power loss forgets leaves at most a file the orphan scan reports.
	err := c.writeVolatile(ctx, func(w *wtx) error {
		parent, err := parentColl(w, r.Path)
		if err != nil {
			return err
		}
		var isColl bool
		if err := w.queryRow(`SELECT EXISTS (SELECT 1 FROM collections WHERE path = ?)`, r.Path.String()).Scan(&isColl); err != nil {
			return err
		} else if isColl {
			return fmt.Errorf("a collection is at %s: %w", r.Path, catalog.ErrExists)
		}
		var one int
		if err := w.queryRow(`SELECT 1 FROM resources WHERE name = ?`, r.Resource).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("resource %s: %w", r.Resource, catalog.ErrNotFound)
		} else if err != nil {
			return err
		}
		t, n := now()
		o, exists, err := objIn(w, parent, r.Path)
		if err != nil {
			return err
		}
		number := 0
		if !exists {
			var res sql.Result
			if parent.Retention.IsZero() {
				res, err = w.exec(`INSERT INTO data_objects (coll_id, name, owner_name, owner_zone, create_ns, modify_ns)
					VALUES (?, ?, ?, ?, ?, ?)`, int64(parent.ID), r.Path.Name(), r.Owner.Name, r.Owner.Zone, n, n)
			} else {
				o.Lock = parent.Retention.LockAt(t, r.Owner)
				res, err = w.exec(`INSERT INTO data_objects (coll_id, name, owner_name, owner_zone, create_ns, modify_ns,
						ret_mode, ret_until_ns, ret_by_name, ret_by_zone, ret_set_ns)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, int64(parent.ID), r.Path.Name(), r.Owner.Name, r.Owner.Zone, n, n,
					string(o.Lock.Mode), nanos(o.Lock.Until), r.Owner.Name, r.Owner.Zone, n)
			}
			if err != nil {
				return mapErr("insert data object", err)
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			o.ID = catalog.ID(id)
			if err := inheritACL(w, parent, kindObject, o.ID); err != nil {
				return err
			}
			if err := grant(w, kindObject, o.ID, r.Owner, catalog.AccessOwn); err != nil {
				return err
			}
		} else {
			if !r.Overwrite {
				return catalog.ErrExists
			}
			if err := lockedObj(w, o, n); err != nil {
				return err
			}
			if !r.Copy {
				if err := o.Lock.Refuse(r.Path, t, "overwritten"); err != nil {
					return err
				}
			}
			if err := w.queryRow(`SELECT COALESCE(MAX(number) + 1, 0) FROM replicas WHERE object_id = ?`,
				int64(o.ID)).Scan(&number); err != nil {
				return err
			}
		}
		_, err = w.exec(`INSERT INTO replicas (object_id, number, resource, physical_path, size, checksum, status,
				lock_holder, lease_expiry_ns, create_ns, modify_ns)
			VALUES (?, ?, ?, ?, 0, '', ?, ?, ?, ?, ?)`,
			int64(o.ID), number, r.Resource, r.PhysicalPath, int(catalog.ReplicaIntermediate),
			r.Holder, nanos(r.LeaseExpiry), n, n)
		if err != nil {
			return mapErr(fmt.Sprintf("insert replica (physical path %s)", r.PhysicalPath), err)
		}
		repl = catalog.Replica{
			ObjectID: o.ID, Number: number, Resource: r.Resource, PhysicalPath: r.PhysicalPath,
			Status: catalog.ReplicaIntermediate, LockHolder: r.Holder,
			LeaseExpiry: fromNanos(nanos(r.LeaseExpiry)), CreateTime: t, ModifyTime: t,
		}
		if exists {
			obj = o
			return fillObj(w, &obj)
		}
		// A new object is known without reading it back, and so is its ACL
		// unless the parent's inheritance copied grants. This runs inside
		// the single writer, where every statement saved counts (issue 2).
		obj = catalog.DataObject{ID: o.ID, Path: r.Path, Owner: r.Owner, CreateTime: t, ModifyTime: t,
			Replicas: []catalog.Replica{repl}, Lock: o.Lock}
		if !parent.Inherit {
			obj.ACL = []catalog.ACE{{Principal: r.Owner, Level: catalog.AccessOwn}}
			return nil
		}
		obj.ACL, err = loadACL(w, kindObject, o.ID)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return obj, repl, nil
}

// heldReplica reads replica number of object and checks that holder holds
// it: that it is intermediate, held by holder, and its lease has not ended.
func heldReplica(w *wtx, object catalog.ID, number int, holder string, nowNS int64) (catalog.Replica, error) {
	r, err := replicaOf(w, object, number)
	if err != nil {
		return r, err
	}
	switch {
	case r.Status != catalog.ReplicaIntermediate:
		return r, fmt.Errorf("replica is %s, not being written: %w", r.Status, catalog.ErrLocked)
	case r.LockHolder != holder:
		return r, fmt.Errorf("replica is held by %s, not %s: %w", r.LockHolder, holder, catalog.ErrLocked)
	case nanos(r.LeaseExpiry) <= nowNS:
		return r, fmt.Errorf("lease of %s ended at %s: %w", holder, r.LeaseExpiry.Format(time.RFC3339Nano), catalog.ErrLocked)
	}
	return r, nil
}

func replicaOf(q querier, object catalog.ID, number int) (catalog.Replica, error) {
	r, err := scanRepl(q.queryRow(`SELECT `+replCols+` FROM replicas r WHERE r.object_id = ? AND r.number = ?`,
		int64(object), number))
	if errors.Is(err, sql.ErrNoRows) {
		return r, catalog.ErrNotFound
	}
	return r, err
}

// RenewLease moves the lease of an intermediate replica held by holder.
func (c *Catalog) RenewLease(ctx context.Context, object catalog.ID, number int, holder string, until time.Time) error {
	fail := func(err error) error {
		return fmt.Errorf("renew lease of replica %d of object %d: %w", number, object, err)
	}
	if err := catalog.CheckLeaseExpiry(until); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(w *wtx) error {
		_, n := now()
		if _, err := heldReplica(w, object, number, holder, n); err != nil {
			return err
		}
		_, err := w.exec(`UPDATE replicas SET lease_expiry_ns = ? WHERE object_id = ? AND number = ?`,
			nanos(until), int64(object), number)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// CommitReplica marks an intermediate replica good.
func (c *Catalog) CommitReplica(ctx context.Context, rc catalog.ReplicaCommit) ([]catalog.Replica, error) {
	fail := func(err error) ([]catalog.Replica, error) {
		return nil, fmt.Errorf("commit replica %d of object %d: %w", rc.Number, rc.Object, err)
	}
	if err := rc.Validate(); err != nil {
		return fail(err)
	}
	var superseded []catalog.Replica
	err := c.write(ctx, func(w *wtx) error {
		_, n := now()
		r, err := heldReplica(w, rc.Object, rc.Number, rc.Holder, n)
		if err != nil {
			return err
		}
		id := int64(rc.Object)
		var others, counted int // other replicas; those of them that count (not intermediate)
		if err := w.queryRow(`SELECT count(*), coalesce(sum(status <> 0), 0) FROM replicas WHERE object_id = ? AND number <> ?`,
			id, rc.Number).Scan(&others, &counted); err != nil {
			return err
		}
		if _, err := w.exec(`UPDATE replicas SET status = ?, size = ?, checksum = ?, lock_holder = '',
				lease_expiry_ns = 0, modify_ns = ? WHERE object_id = ? AND number = ?`,
			int(catalog.ReplicaGood), rc.Size, rc.Checksum, n, id, rc.Number); err != nil {
			return err
		}
		// A new object's first replica has no others to make stale or
		// replace; skipping their statements shortens the single writer's
		// work per put.
		if others > 0 {
			if _, err := w.exec(`UPDATE replicas SET status = ? WHERE object_id = ? AND number <> ?
				AND status = ? AND resource <> ?`,
				int(catalog.ReplicaStale), id, rc.Number, int(catalog.ReplicaGood), r.Resource); err != nil {
				return err
			}
			if superseded, err = supersede(w, id, rc.Number, r.Resource); err != nil {
				return err
			}
			if n := catalog.CommittedNumber(rc.Number, superseded); n != rc.Number {
				if _, err := w.exec(`UPDATE replicas SET number = ? WHERE object_id = ? AND number = ?`, n, id, rc.Number); err != nil {
					return err
				}
			}
		}
		replaced := r.Size
		for _, s := range superseded {
			replaced += s.Size
		}
		if err := checkQuotas(w, id, r.Resource, rc.Size > replaced, counted == 0, len(superseded) == 0); err != nil {
			return err
		}
		if err := mergeAVUs(w, kindObject, id, rc.Metadata); err != nil {
			return err
		}
		_, err = w.exec(`UPDATE data_objects SET modify_ns = ? WHERE id = ?`, n, id)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return superseded, nil
}

// supersede removes the other replicas of object on resource, whose bytes
// the new replica number replaces, and returns them. Intermediate ones are
// left to whoever holds or resolves them.
func supersede(w *wtx, object int64, number int, resource string) ([]catalog.Replica, error) {
	old, err := collectReplicas(w.query(`SELECT `+replCols+` FROM replicas r
		WHERE r.object_id = ? AND r.number <> ? AND r.resource = ? AND r.status <> 0`,
		object, number, resource))
	if err != nil {
		return nil, err
	}
	sortReplicas(old)
	if _, err := w.exec(`DELETE FROM replicas WHERE object_id = ? AND number <> ? AND resource = ? AND status <> 0`,
		object, number, resource); err != nil {
		return nil, err
	}
	return old, nil
}

// removeReplica deletes a replica, and its object when no replica is left.
func removeReplica(w *wtx, object catalog.ID, number int) error {
	if _, err := w.exec(`DELETE FROM replicas WHERE object_id = ? AND number = ?`, int64(object), number); err != nil {
		return err
	}
	var left int
	if err := w.queryRow(`SELECT count(*) FROM (SELECT 1 FROM replicas WHERE object_id = ? LIMIT 1)`,
		int64(object)).Scan(&left); err != nil {
		return err
	}
	if left == 0 {
		return deleteObject(w, object)
	}
	return nil
}

// AbortReplica removes an intermediate replica held by holder.
func (c *Catalog) AbortReplica(ctx context.Context, object catalog.ID, number int, holder string) (catalog.Replica, error) {
	fail := func(err error) (catalog.Replica, error) {
		return catalog.Replica{}, fmt.Errorf("abort replica %d of object %d: %w", number, object, err)
	}
	var out catalog.Replica
	err := c.write(ctx, func(w *wtx) error {
		r, err := replicaOf(w, object, number)
		if err != nil {
			return err
		}
		switch {
		case r.Status != catalog.ReplicaIntermediate:
			return fmt.Errorf("replica is %s, not being written: %w", r.Status, catalog.ErrLocked)
		case r.LockHolder != holder:
			return fmt.Errorf("replica is held by %s, not %s: %w", r.LockHolder, holder, catalog.ErrLocked)
		}
		out = r
		return removeReplica(w, object, number)
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// ExpiredReplicas lists intermediate replicas whose lease ended before now.
func (c *Catalog) ExpiredReplicas(ctx context.Context, at time.Time, limit int) ([]catalog.Replica, error) {
	fail := func(err error) ([]catalog.Replica, error) {
		return nil, fmt.Errorf("list expired replicas: %w", err)
	}
	if err := catalog.CheckLimit(limit); err != nil {
		return fail(err)
	}
	if err := catalog.CheckTime("time", at); err != nil {
		return fail(err)
	}
	var out []catalog.Replica
	err := c.read(ctx, func(q *rtx) (err error) {
		out, err = collectReplicas(q.query(`SELECT `+replCols+` FROM replicas r
			WHERE r.status = 0 AND r.lease_expiry_ns < ?
			ORDER BY r.lease_expiry_ns, r.object_id, r.number LIMIT ?`, nanos(at), limit))
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// ResolveExpired removes an intermediate replica whose lease ended before at.
func (c *Catalog) ResolveExpired(ctx context.Context, object catalog.ID, number int, at time.Time) (catalog.Replica, error) {
	fail := func(err error) (catalog.Replica, error) {
		return catalog.Replica{}, fmt.Errorf("resolve expired replica %d of object %d: %w", number, object, err)
	}
	if err := catalog.CheckTime("time", at); err != nil {
		return fail(err)
	}
	var out catalog.Replica
	err := c.write(ctx, func(w *wtx) error {
		r, err := replicaOf(w, object, number)
		if err != nil {
			return err
		}
		switch {
		case r.Status != catalog.ReplicaIntermediate:
			// Committed meanwhile: there is no intermediate replica left.
			return fmt.Errorf("replica is %s, not intermediate: %w", r.Status, catalog.ErrNotFound)
		case !r.LeaseExpiry.Before(at):
			return fmt.Errorf("lease of %s runs until %s: %w", r.LockHolder, r.LeaseExpiry.Format(time.RFC3339Nano), catalog.ErrLocked)
		}
		out = r
		return removeReplica(w, object, number)
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// ReplicasOn calls fn for every replica on resource in physical-path order.
// It reads in pages and calls fn outside any transaction, so fn may use the
// catalog; a replica changed meanwhile may be seen in either state.
func (c *Catalog) ReplicasOn(ctx context.Context, resource string, fn func(catalog.Replica) error) error {
	const page = 1000
	after := ""
	first := true
	for {
		var batch []catalog.Replica
		err := c.read(ctx, func(q *rtx) error {
			if first {
				var one int
				err := q.queryRow(`SELECT 1 FROM resources WHERE name = ?`, resource).Scan(&one)
				if errors.Is(err, sql.ErrNoRows) {
					return catalog.ErrNotFound
				} else if err != nil {
					return err
				}
			}
			var err error
			batch, err = collectReplicas(q.query(`SELECT `+replCols+` FROM replicas r
				WHERE r.resource = ? AND r.physical_path > ? ORDER BY r.physical_path LIMIT ?`,
				resource, after, page))
			return err
		})
		if err != nil {
			return fmt.Errorf("replicas on %s: %w", resource, err)
		}
		first = false
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(batch) < page {
			return nil
		}
		after = batch[len(batch)-1].PhysicalPath
	}
}
