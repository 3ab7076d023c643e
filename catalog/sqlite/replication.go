package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// CommitCopy marks an intermediate replica good as a copy of source.
func (c *Catalog) CommitCopy(ctx context.Context, rc catalog.ReplicaCommit, source int) ([]catalog.Replica, error) {
	fail := func(err error) ([]catalog.Replica, error) {
		return nil, fmt.Errorf("commit copy %d of replica %d of object %d: %w", rc.Number, source, rc.Object, err)
	}
	if err := rc.ValidateCopy(source); err != nil {
		return fail(err)
	}
	var superseded []catalog.Replica
	err := c.write(ctx, func(w *wtx) error {
		_, n := now()
		r, err := heldReplica(w, rc.Object, rc.Number, rc.Holder, n)
		if err != nil {
			return err
		}
		src, err := replicaOf(w, rc.Object, source)
		if errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("source replica %d is gone: %w", source, catalog.ErrConflict)
		} else if err != nil {
			return err
		}
		switch {
		case src.Status != catalog.ReplicaGood:
			return fmt.Errorf("source replica %d is %s now: %w", source, src.Status, catalog.ErrConflict)
		case src.Size != rc.Size || src.Checksum != rc.Checksum:
			return fmt.Errorf("source replica %d holds %d bytes with checksum %q, the copy %d with %q: %w",
				source, src.Size, src.Checksum, rc.Size, rc.Checksum, catalog.ErrConflict)
		}
		id := int64(rc.Object)
		if _, err := w.exec(`UPDATE replicas SET status = ?, size = ?, checksum = ?, lock_holder = '',
				lease_expiry_ns = 0, modify_ns = ? WHERE object_id = ? AND number = ?`,
			int(catalog.ReplicaGood), rc.Size, rc.Checksum, n, id, rc.Number); err != nil {
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
		// A copy takes bytes like a write: quotas count every replica.
		replaced := r.Size
		for _, s := range superseded {
			replaced += s.Size
		}
		return checkQuotas(w, id, r.Resource, rc.Size > replaced, false, len(superseded) == 0)
	})
	if err != nil {
		return fail(err)
	}
	return superseded, nil
}

// TrimReplica removes a replica that is not being written and not the last
// good one.
func (c *Catalog) TrimReplica(ctx context.Context, object catalog.ID, number int) (catalog.Replica, error) {
	fail := func(err error) (catalog.Replica, error) {
		return catalog.Replica{}, fmt.Errorf("trim replica %d of object %d: %w", number, object, err)
	}
	var out catalog.Replica
	err := c.write(ctx, func(w *wtx) error {
		r, err := replicaOf(w, object, number)
		if err != nil {
			return err
		}
		if r.Status == catalog.ReplicaIntermediate {
			return fmt.Errorf("replica is being written: %w", catalog.ErrLocked)
		}
		var others, good int
		if err := w.queryRow(`SELECT count(*), COALESCE(SUM(status = ?), 0) FROM replicas WHERE object_id = ? AND number <> ?`,
			int(catalog.ReplicaGood), int64(object), number).Scan(&others, &good); err != nil {
			return err
		}
		switch {
		case others == 0:
			return fmt.Errorf("it is the only replica: %w", catalog.ErrConflict)
		case r.Status == catalog.ReplicaGood && good == 0:
			return fmt.Errorf("it is the last good replica: %w", catalog.ErrConflict)
		}
		if r.Status == catalog.ReplicaGood {
			if err := trimRetained(w, object, r); err != nil {
				return err
			}
		}
		out = r
		_, err = w.exec(`DELETE FROM replicas WHERE object_id = ? AND number = ?`, int64(object), number)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// MarkStale marks a good replica stale.
func (c *Catalog) MarkStale(ctx context.Context, object catalog.ID, number int) error {
	err := c.write(ctx, func(w *wtx) error {
		r, err := replicaOf(w, object, number)
		if err != nil {
			return err
		}
		switch r.Status {
		case catalog.ReplicaIntermediate:
			return fmt.Errorf("replica is being written: %w", catalog.ErrConflict)
		case catalog.ReplicaStale:
			return nil
		}
		_, n := now()
		_, err = w.exec(`UPDATE replicas SET status = ?, modify_ns = ? WHERE object_id = ? AND number = ?`,
			int(catalog.ReplicaStale), n, int64(object), number)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark replica %d of object %d stale: %w", number, object, err)
	}
	return nil
}

// DataObjectByID returns the data object with id.
func (c *Catalog) DataObjectByID(ctx context.Context, id catalog.ID) (catalog.DataObject, error) {
	var o catalog.DataObject
	err := c.read(ctx, func(q *rtx) error {
		var coll string
		err := q.queryRow(`SELECT c.path FROM data_objects o JOIN collections c ON c.id = o.coll_id WHERE o.id = ?`,
			int64(id)).Scan(&coll)
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrNotFound
		}
		if err != nil {
			return err
		}
		cp, err := catalog.ParsePath(coll)
		if err != nil {
			return err
		}
		if o, err = scanObj(q.queryRow(`SELECT `+objCols+` FROM data_objects o WHERE o.id = ?`, int64(id)), cp); err != nil {
			return err
		}
		return fillObj(q, &o)
	})
	if err != nil {
		return catalog.DataObject{}, fmt.Errorf("data object %d: %w", id, err)
	}
	return o, nil
}

// trimRetained refuses to trim the good replica r of a locked object
// unless another good replica with the same checksum, a verified copy,
// stays: retention keeps the bytes, not only the name.
func trimRetained(w *wtx, object catalog.ID, r catalog.Replica) error {
	var (
		coll, name string
		lk         lockDest
	)
	err := w.queryRow(`SELECT (SELECT path FROM collections WHERE id = o.coll_id), o.name, `+lockCols+`
		FROM data_objects o WHERE o.id = ?`, int64(object)).Scan(append([]any{&coll, &name}, lk.dest()...)...)
	if err != nil {
		return err
	}
	t, _ := now()
	l := lk.lock()
	if !l.Locked(t) {
		return nil
	}
	var verified bool
	if r.Checksum != "" {
		if err := w.queryRow(`SELECT EXISTS (SELECT 1 FROM replicas WHERE object_id = ? AND number <> ? AND status = ? AND checksum = ?)`,
			int64(object), r.Number, int(catalog.ReplicaGood), r.Checksum).Scan(&verified); err != nil {
			return err
		}
	}
	if verified {
		return nil
	}
	cp, err := catalog.ParsePath(coll)
	if err != nil {
		return err
	}
	p, err := cp.Join(name)
	if err != nil {
		return err
	}
	return &catalog.LockError{Path: p, Lock: l, Action: fmt.Sprintf("trimmed of replica %d on %s", r.Number, r.Resource),
		Hint: "no other good replica with the same checksum (a verified copy) would stay"}
}
