package dgraph

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
)

// resourceUID returns the uid of the resource called name, "" if none.
func (t *tx) resourceUID(name string) (string, error) {
	var out struct {
		N []uidOnly `json:"n"`
	}
	if err := t.query(`query q($n: string) { n(func: eq(P.rname, $n)) @filter(eq(P.kind, "res")) { uid } }`,
		map[string]string{"$n": name}, &out); err != nil {
		return "", err
	}
	if len(out.N) == 0 {
		return "", nil
	}
	return out.N[0].UID, nil
}

// rkey is the stored unique key of a physical path on a resource.
// Resource names cannot hold ':', so rkey sorts by resource, then physical
// path, and the keys of one resource lie between "name:" and "name;".
func rkey(resource, physical string) string { return resource + ":" + physical }

// BeginReplica registers an intermediate replica of the object at r.Path.
func (c *Catalog) BeginReplica(ctx context.Context, r catalog.NewReplica) (catalog.DataObject, catalog.Replica, error) {
	fail := func(err error) (catalog.DataObject, catalog.Replica, error) {
		return catalog.DataObject{}, catalog.Replica{}, fmt.Errorf("begin replica of %s on %s: %w", r.Path, r.Resource, err)
	}
	switch {
	case r.Path.IsZero():
		return fail(invalid("empty path"))
	case r.Path.IsRoot():
		return fail(fmt.Errorf("/ is a collection: %w", catalog.ErrExists))
	case r.Resource == "":
		return fail(invalid("no resource"))
	case r.PhysicalPath == "":
		return fail(invalid("no physical path"))
	case r.Holder == "":
		return fail(invalid("no lock holder"))
	case r.LeaseExpiry.IsZero():
		return fail(invalid("no lease expiry"))
	}
	if err := checkTime("lease expiry", r.LeaseExpiry); err != nil {
		return fail(err)
	}
	if err := checkUser("owner", r.Owner); err != nil {
		return fail(err)
	}
	var (
		obj catalog.DataObject
		rep catalog.Replica
	)
	err := c.write(ctx, func(t *tx) error {
		parent, err := t.parentColl(r.Path)
		if err != nil {
			return err
		}
		n, err := t.at(r.Path)
		if err != nil {
			return err
		}
		if n != nil && n.Kind == kindColl {
			return fmt.Errorf("a collection is at %s: %w", r.Path, catalog.ErrExists)
		}
		if ru, err := t.resourceUID(r.Resource); err != nil {
			return err
		} else if ru == "" {
			return fmt.Errorf("resource %s: %w", r.Resource, catalog.ErrNotFound)
		}
		var taken struct {
			N []uidOnly `json:"n"`
		}
		if err := t.query(`query q($k: string) { n(func: eq(P.rkey, $k)) { uid } }`,
			map[string]string{"$k": rkey(r.Resource, r.PhysicalPath)}, &taken); err != nil {
			return err
		}
		if len(taken.N) > 0 {
			return fmt.Errorf("insert replica (physical path %s): %w", r.PhysicalPath, catalog.ErrExists)
		}
		now := nowNS()
		number := 0
		var objUID string
		if n == nil {
			if err := t.lockChild(parent.UID, r.Path.Name()); err != nil {
				return err
			}
			acl, who := newACL(parent, r.Owner)
			objUID, err = t.create(map[string]any{
				c.p("kind"): kindObj, c.p("path"): r.Path.String(), c.p("name"): r.Path.Name(),
				c.p("parent"): map[string]string{"uid": parent.UID},
				c.p("owner"):  userKey(r.Owner), c.p("ctime"): now, c.p("mtime"): now,
				c.p("acl"): acl, c.p("who"): who,
			})
			if err != nil {
				return err
			}
			n = &node{UID: objUID, Kind: kindObj, Path: r.Path.String(), Name: r.Path.Name(),
				Owner: userKey(r.Owner), CTime: now, MTime: now, ACL: acl}
		} else {
			if !r.Overwrite {
				return catalog.ErrExists
			}
			if err := locked(n, r.Path.String(), now); err != nil {
				return err
			}
			objUID = n.UID
			for _, x := range n.Repls {
				number = max(number, x.Num+1)
			}
			if err := t.touch(objUID); err != nil {
				return err
			}
		}
		lease := nanos(r.LeaseExpiry)
		ruid, err := t.create(map[string]any{
			c.p("kind"): kindRepl, c.p("obj"): map[string]string{"uid": objUID}, c.p("num"): number,
			c.p("resc"): r.Resource, c.p("ppath"): r.PhysicalPath, c.p("rkey"): rkey(r.Resource, r.PhysicalPath),
			c.p("size"): 0, c.p("sum"): "", c.p("status"): int(catalog.ReplicaIntermediate),
			c.p("holder"): r.Holder, c.p("lease"): lease, c.p("ctime"): now, c.p("mtime"): now,
		})
		if err != nil {
			return err
		}
		nr := repl{UID: ruid, Obj: uidOnly{objUID}, Num: number, Resc: r.Resource, PPath: r.PhysicalPath,
			Status: int(catalog.ReplicaIntermediate), Holder: r.Holder, Lease: lease, CTime: now, MTime: now}
		n.Repls = append(slices.Clone(n.Repls), nr)
		rep = nr.replica()
		obj, err = n.object()
		t.afterCommit(func(resolve func(string) string) {
			obj.ID = idOf(resolve(objUID))
			rep.ObjectID = obj.ID
			for i := range obj.Replicas {
				obj.Replicas[i].ObjectID = obj.ID
			}
		})
		return err
	})
	if err != nil {
		return fail(err)
	}
	return obj, rep, nil
}

// objectRepls reads the data object id with its replicas; nil if none.
func (t *tx) objectByID(id catalog.ID) (*node, error) {
	uid := uidOf(id)
	if uid == "" {
		return nil, nil
	}
	var out struct {
		N []node `json:"n"`
	}
	if err := t.query(`query q($u: string) { n(func: uid($u)) @filter(eq(P.kind, "o")) { `+objFields+` } }`,
		map[string]string{"$u": uid}, &out); err != nil {
		return nil, err
	}
	if len(out.N) == 0 {
		return nil, nil
	}
	return &out.N[0], nil
}

// replicaOf finds replica number of the object id.
func (t *tx) replicaOf(id catalog.ID, number int) (*node, *repl, error) {
	o, err := t.objectByID(id)
	if err != nil {
		return nil, nil, err
	}
	if o == nil {
		return nil, nil, catalog.ErrNotFound
	}
	for i := range o.Repls {
		if o.Repls[i].Num == number {
			o.Repls[i].Obj.UID = o.UID
			return o, &o.Repls[i], nil
		}
	}
	return nil, nil, catalog.ErrNotFound
}

// heldReplica checks that holder holds the replica: intermediate, held by
// holder, lease not ended.
func heldReplica(r *repl, holder string, now int64) error {
	switch {
	case catalog.ReplicaStatus(r.Status) != catalog.ReplicaIntermediate:
		return fmt.Errorf("replica is %s, not being written: %w", catalog.ReplicaStatus(r.Status), catalog.ErrLocked)
	case r.Holder != holder:
		return fmt.Errorf("replica is held by %s, not %s: %w", r.Holder, holder, catalog.ErrLocked)
	case r.Lease <= now:
		return fmt.Errorf("lease of %s ended at %s: %w", holder, fromNanos(r.Lease).Format(time.RFC3339Nano), catalog.ErrLocked)
	}
	return nil
}

// RenewLease moves the lease of an intermediate replica held by holder.
func (c *Catalog) RenewLease(ctx context.Context, object catalog.ID, number int, holder string, until time.Time) error {
	fail := func(err error) error {
		return fmt.Errorf("renew lease of replica %d of object %d: %w", number, object, err)
	}
	if until.IsZero() {
		return fail(invalid("no lease expiry"))
	}
	if err := checkTime("lease expiry", until); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(t *tx) error {
		_, r, err := t.replicaOf(object, number)
		if err != nil {
			return err
		}
		if err := heldReplica(r, holder, nowNS()); err != nil {
			return err
		}
		return t.set(map[string]any{"uid": r.UID, c.p("lease"): nanos(until), c.p("ver"): randVer()})
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
	if rc.Size < 0 {
		return fail(invalid("size %d", rc.Size))
	}
	for _, a := range rc.Metadata {
		if err := a.Validate(); err != nil {
			return fail(err)
		}
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
		sets := []map[string]any{
			{"uid": r.UID, c.p("status"): int(catalog.ReplicaGood), c.p("size"): rc.Size, c.p("sum"): rc.Checksum,
				c.p("holder"): "", c.p("lease"): 0, c.p("mtime"): now, c.p("ver"): randVer()},
			{"uid": o.UID, c.p("mtime"): now, c.p("ver"): randVer()},
		}
		var dels []map[string]any
		for _, x := range o.Repls {
			if x.Num == rc.Number {
				continue
			}
			st := catalog.ReplicaStatus(x.Status)
			switch {
			case x.Resc != r.Resc && st == catalog.ReplicaGood:
				sets = append(sets, map[string]any{"uid": x.UID, c.p("status"): int(catalog.ReplicaStale)})
			case x.Resc == r.Resc && st != catalog.ReplicaIntermediate:
				rep := x.replica()
				rep.ObjectID = rc.Object
				superseded = append(superseded, rep)
				dels = append(dels, map[string]any{"uid": x.UID})
			}
		}
		slices.SortFunc(superseded, func(a, b catalog.Replica) int { return cmp.Compare(a.Number, b.Number) })
		replaced := r.Size
		for _, s := range superseded {
			replaced += s.Size
		}
		newObject := 0
		if len(o.Repls) == 1 {
			newObject = 1
		}
		if err := t.checkQuotas(o, r.Resc, rc.Size-replaced, newObject); err != nil {
			return err
		}
		if err := t.del(dels...); err != nil {
			return err
		}
		if err := t.set(sets...); err != nil {
			return err
		}
		return t.mergeAVUs(o.UID, rc.Metadata)
	})
	if err != nil {
		return fail(err)
	}
	return superseded, nil
}

// removeReplica deletes a replica, and its object when no replica is left.
func (t *tx) removeReplica(o *node, r *repl) error {
	if len(o.Repls) > 1 {
		if err := t.touch(o.UID); err != nil {
			return err
		}
		return t.del(map[string]any{"uid": r.UID})
	}
	avus, err := t.avusOf(o.UID)
	if err != nil {
		return err
	}
	return t.deleteObjectNodes(o, avus)
}

// AbortReplica removes an intermediate replica held by holder.
func (c *Catalog) AbortReplica(ctx context.Context, object catalog.ID, number int, holder string) (catalog.Replica, error) {
	fail := func(err error) (catalog.Replica, error) {
		return catalog.Replica{}, fmt.Errorf("abort replica %d of object %d: %w", number, object, err)
	}
	var out catalog.Replica
	err := c.write(ctx, func(t *tx) error {
		o, r, err := t.replicaOf(object, number)
		if err != nil {
			return err
		}
		switch {
		case catalog.ReplicaStatus(r.Status) != catalog.ReplicaIntermediate:
			return fmt.Errorf("replica is %s, not being written: %w", catalog.ReplicaStatus(r.Status), catalog.ErrLocked)
		case r.Holder != holder:
			return fmt.Errorf("replica is held by %s, not %s: %w", r.Holder, holder, catalog.ErrLocked)
		}
		out = r.replica()
		return t.removeReplica(o, r)
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// ExpiredReplicas lists intermediate replicas whose lease ended before at.
func (c *Catalog) ExpiredReplicas(ctx context.Context, at time.Time, limit int) ([]catalog.Replica, error) {
	fail := func(err error) ([]catalog.Replica, error) {
		return nil, fmt.Errorf("list expired replicas: %w", err)
	}
	if limit <= 0 {
		return fail(invalid("limit %d", limit))
	}
	if err := checkTime("time", at); err != nil {
		return fail(err)
	}
	var out []catalog.Replica
	err := c.read(ctx, func(t *tx) error {
		var res struct {
			N []repl `json:"n"`
		}
		// Intermediate replicas are few: filter on status, order here.
		if err := t.query(`query q($at: int) {
			n(func: eq(P.status, 0)) @filter(eq(P.kind, "r") AND lt(P.lease, $at)) { `+replFields+` }
		}`, map[string]string{"$at": fmt.Sprint(nanos(at))}, &res); err != nil {
			return err
		}
		out = nil
		for _, r := range res.N {
			out = append(out, r.replica())
		}
		slices.SortFunc(out, func(a, b catalog.Replica) int {
			return cmp.Or(a.LeaseExpiry.Compare(b.LeaseExpiry), cmp.Compare(a.ObjectID, b.ObjectID), cmp.Compare(a.Number, b.Number))
		})
		if len(out) > limit {
			out = out[:limit]
		}
		return nil
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
	if err := checkTime("time", at); err != nil {
		return fail(err)
	}
	var out catalog.Replica
	err := c.write(ctx, func(t *tx) error {
		o, r, err := t.replicaOf(object, number)
		if err != nil {
			return err
		}
		switch {
		case catalog.ReplicaStatus(r.Status) != catalog.ReplicaIntermediate:
			return fmt.Errorf("replica is %s, not intermediate: %w", catalog.ReplicaStatus(r.Status), catalog.ErrNotFound)
		case !fromNanos(r.Lease).Before(at):
			return fmt.Errorf("lease of %s runs until %s: %w", r.Holder, fromNanos(r.Lease).Format(time.RFC3339Nano), catalog.ErrLocked)
		}
		out = r.replica()
		return t.removeReplica(o, r)
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// ReplicasOn calls fn for every replica on resource in physical-path order,
// reading in pages outside any transaction while fn runs.
func (c *Catalog) ReplicasOn(ctx context.Context, resource string, fn func(catalog.Replica) error) error {
	const page = 1000
	after := ""
	first := true
	for {
		var batch []catalog.Replica
		err := c.read(ctx, func(t *tx) error {
			if first {
				if ru, err := t.resourceUID(resource); err != nil {
					return err
				} else if ru == "" {
					return catalog.ErrNotFound
				}
			}
			// rkey sorts as the physical path within one resource.
			var res struct {
				N []repl `json:"n"`
			}
			if err := t.query(`query q($lo: string, $hi: string, $n: int) {
				n(func: gt(P.rkey, $lo), orderasc: P.rkey, first: $n) @filter(lt(P.rkey, $hi) AND eq(P.kind, "r")) { `+replFields+` }
			}`, map[string]string{"$lo": rkey(resource, after), "$hi": resource + ";", "$n": fmt.Sprint(page)}, &res); err != nil {
				return err
			}
			batch = batch[:0]
			for _, r := range res.N {
				batch = append(batch, r.replica())
			}
			slices.SortFunc(batch, func(a, b catalog.Replica) int { return strings.Compare(a.PhysicalPath, b.PhysicalPath) })
			return nil
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
