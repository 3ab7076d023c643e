package dgraph

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/arca-data/arca/catalog"
)

// CommitCopy marks the intermediate replica rc.Number good as a copy of
// replica source.
func (c *Catalog) CommitCopy(ctx context.Context, rc catalog.ReplicaCommit, source int) ([]catalog.Replica, error) {
	fail := func(err error) ([]catalog.Replica, error) {
		return nil, fmt.Errorf("commit copy %d of replica %d of object %d: %w", rc.Number, source, rc.Object, err)
	}
	if err := rc.ValidateCopy(source); err != nil {
		return fail(err)
	}
	var superseded []catalog.Replica
	err := c.write(ctx, func(t *tx) error {
		superseded = nil
		o, r, err := t.replicaOf(rc.Object, rc.Number)
		if err != nil {
			return err
		}
		now := nowNS()
		if err := heldReplica(r, rc.Holder, now); err != nil {
			return err
		}
		var src *repl
		for i := range o.Repls {
			if o.Repls[i].Num == source {
				src = &o.Repls[i]
			}
		}
		switch {
		case src == nil:
			return fmt.Errorf("source replica %d is gone: %w", source, catalog.ErrConflict)
		case catalog.ReplicaStatus(src.Status) != catalog.ReplicaGood:
			return fmt.Errorf("source replica %d is %s now: %w", source, catalog.ReplicaStatus(src.Status), catalog.ErrConflict)
		case src.Size != rc.Size || src.Sum != rc.Checksum:
			return fmt.Errorf("source replica %d holds %d bytes with checksum %q, the copy %d with %q: %w",
				source, src.Size, src.Sum, rc.Size, rc.Checksum, catalog.ErrConflict)
		}
		var dels []map[string]any
		var gone []repl
		replaced := r.Size
		for _, x := range o.Repls {
			if x.Num != rc.Number && x.Resc == r.Resc && catalog.ReplicaStatus(x.Status) != catalog.ReplicaIntermediate {
				rep := x.replica()
				rep.ObjectID = rc.Object
				superseded = append(superseded, rep)
				dels = append(dels, map[string]any{"uid": x.UID})
				gone = append(gone, x)
				replaced += x.Size
			}
		}
		slices.SortFunc(superseded, func(a, b catalog.Replica) int { return cmp.Compare(a.Number, b.Number) })
		if err := t.checkQuotas(o, r.Resc, rc.Size-replaced, false, len(superseded) == 0); err != nil {
			return err
		}
		if err := t.del(dels...); err != nil {
			return err
		}
		if err := t.recordDeletions(gone...); err != nil {
			return err
		}
		done := map[string]any{"uid": r.UID, c.p("status"): int(catalog.ReplicaGood), c.p("size"): rc.Size,
			c.p("sum"): rc.Checksum, c.p("holder"): "", c.p("lease"): 0, c.p("mtime"): now, c.p("ver"): randVer()}
		if n := catalog.CommittedNumber(rc.Number, superseded); n != rc.Number {
			done[c.p("num")] = n
		}
		return t.set(done, map[string]any{"uid": o.UID, c.p("ver"): randVer()})
	})
	if err != nil {
		return fail(err)
	}
	return superseded, nil
}

// TrimReplica removes a good or stale replica that is not the last good one.
func (c *Catalog) TrimReplica(ctx context.Context, object catalog.ID, number int) (catalog.Replica, error) {
	fail := func(err error) (catalog.Replica, error) {
		return catalog.Replica{}, fmt.Errorf("trim replica %d of object %d: %w", number, object, err)
	}
	var out catalog.Replica
	err := c.write(ctx, func(t *tx) error {
		o, r, err := t.replicaOf(object, number)
		if err != nil {
			return err
		}
		if catalog.ReplicaStatus(r.Status) == catalog.ReplicaIntermediate {
			return fmt.Errorf("replica is being written: %w", catalog.ErrLocked)
		}
		others, good := 0, 0
		for _, x := range o.Repls {
			if x.Num != number {
				others++
				if catalog.ReplicaStatus(x.Status) == catalog.ReplicaGood {
					good++
				}
			}
		}
		switch {
		case others == 0:
			return fmt.Errorf("it is the only replica: %w", catalog.ErrConflict)
		case catalog.ReplicaStatus(r.Status) == catalog.ReplicaGood && good == 0:
			return fmt.Errorf("it is the last good replica: %w", catalog.ErrConflict)
		}
		if catalog.ReplicaStatus(r.Status) == catalog.ReplicaGood {
			if err := trimRetained(o, r); err != nil {
				return err
			}
		}
		out = r.replica()
		out.ObjectID = object
		if err := t.touch(o.UID); err != nil {
			return err
		}
		if err := t.recordDeletions(*r); err != nil {
			return err
		}
		return t.del(map[string]any{"uid": r.UID})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// MarkStale marks a good replica stale.
func (c *Catalog) MarkStale(ctx context.Context, object catalog.ID, number int) error {
	err := c.write(ctx, func(t *tx) error {
		_, r, err := t.replicaOf(object, number)
		if err != nil {
			return err
		}
		switch catalog.ReplicaStatus(r.Status) {
		case catalog.ReplicaIntermediate:
			return fmt.Errorf("replica is being written: %w", catalog.ErrConflict)
		case catalog.ReplicaStale:
			return nil
		}
		return t.set(map[string]any{"uid": r.UID, c.p("status"): int(catalog.ReplicaStale), c.p("mtime"): nowNS(), c.p("ver"): randVer()})
	})
	if err != nil {
		return fmt.Errorf("mark replica %d of object %d stale: %w", number, object, err)
	}
	return nil
}

// DataObjectByID returns the data object id with its replicas.
func (c *Catalog) DataObjectByID(ctx context.Context, id catalog.ID) (catalog.DataObject, error) {
	var o catalog.DataObject
	err := c.read(ctx, func(t *tx) error {
		n, err := t.objectByID(id)
		if err != nil {
			return err
		}
		if n == nil {
			return catalog.ErrNotFound
		}
		o, err = n.object()
		return err
	})
	if err != nil {
		return catalog.DataObject{}, fmt.Errorf("data object %d: %w", id, err)
	}
	return o, nil
}
