package dgraph

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/dgo/v240"
	"github.com/dgraph-io/dgo/v240/protos/api"

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
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	obj, rep, ok, err := c.beginNew(ctx, r)
	if err != nil {
		return fail(err)
	}
	if ok {
		return obj, rep, nil
	}
	err = c.write(ctx, func(t *tx) error {
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
		if err := t.takeFile(r.Resource, r.PhysicalPath); err != nil {
			return fmt.Errorf("insert replica (physical path %s): %w", r.PhysicalPath, err)
		}
		now := nowNS()
		number := 0
		var objUID string
		if n == nil {
			if err := t.lockChild(parent.UID, r.Path.String()); err != nil {
				return err
			}
			acl, who := newACL(parent, r.Owner)
			d, err := parent.retention()
			if err != nil {
				return err
			}
			m := map[string]any{
				c.p("kind"): kindObj, c.p("path"): r.Path.String(), c.p("name"): r.Path.Name(),
				c.p("parent"): map[string]string{"uid": parent.UID},
				c.p("owner"):  userKey(r.Owner), c.p("ctime"): now, c.p("mtime"): now,
				c.p("acl"): acl, c.p("who"): who,
			}
			l := d.LockAt(fromNanos(now), r.Owner)
			if !d.IsZero() {
				c.lockSets(m, l)
			}
			if objUID, err = t.create(m); err != nil {
				return err
			}
			n = &node{UID: objUID, Kind: kindObj, Path: r.Path.String(), Name: r.Path.Name(),
				Owner: userKey(r.Owner), CTime: now, MTime: now, ACL: acl,
				RMode: string(l.Mode), RUntil: nanos(l.Until), RBy: userKey(l.SetBy), RSet: nanos(l.SetAt)}
		} else {
			if !r.Overwrite {
				return catalog.ErrExists
			}
			if err := locked(n, r.Path.String(), now); err != nil {
				return err
			}
			if !r.Copy {
				if err := n.lock().Refuse(r.Path, fromNanos(now), "overwritten"); err != nil {
					return err
				}
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

// beginNew is BeginReplica in the common case, a new data object in a
// collection that does not inherit, in one request: the request reads,
// in its own snapshot, that the parent is such a collection, that nothing
// is at the path, that the resource exists and that the physical path is
// free, and creates the object and its replica and commits only if so.
// Otherwise nothing is written and ok is false: the caller takes the
// general path, which tells what is wrong or handles the other cases
// (an existing object, an inheriting parent). The conflict keys written
// are those of the general path: the stripes of the lineage of the
// parent, and the unique path and physical path.
func (c *Catalog) beginNew(ctx context.Context, r catalog.NewReplica) (catalog.DataObject, catalog.Replica, bool, error) {
	parent := r.Path.Parent()
	vars := map[string]string{"$p": r.Path.String(), "$res": r.Resource, "$k": rkey(r.Resource, r.PhysicalPath)}
	decl := []string{"$p: string", "$res: string", "$k: string"}
	var blocks strings.Builder
	var refs []string
	for i, a := range lineage(parent) {
		v := fmt.Sprintf("a%d", i)
		vars["$"+v] = a.String()
		decl = append(decl, "$"+v+": string")
		if i == 0 {
			// The parent must be a collection that does not inherit: an
			// inheriting parent's grants go into the new object's ACL,
			// which needs a read. Only collections have inherit, so this
			// is also the test of kind, without the kind index (see at).
			// Nor may it have a default retention, whose lock the new
			// object would get: eq reads the index entry of the
			// collections with that default, few (has() would cost more
			// than the whole put).
			fmt.Fprintf(&blocks, "%s as var(func: eq(P.path, $%s)) @filter(eq(P.inherit, false) AND NOT eq(P.rdmode, \"governance\") AND NOT eq(P.rdmode, \"compliance\"))\n", v, v)
		} else {
			// The parent's ancestors are collections.
			fmt.Fprintf(&blocks, "%s as var(func: eq(P.path, $%s))\n", v, v)
		}
		refs = append(refs, "uid("+v+")")
	}
	q := "query q(" + strings.Join(decl, ", ") + ") {\n" + blocks.String() + `
		here as var(func: eq(P.path, $p))
		res as var(func: eq(P.rname, $res))
		taken as var(func: eq(P.rkey, $k))
		pending as var(func: eq(P.dkey, $k))
	}`
	now := nowNS()
	lease := nanos(r.LeaseExpiry)
	acl, who := newACL(&node{}, r.Owner)
	sets := []map[string]any{{
		"uid": "_:o", "dgraph.type": c.typ,
		c.p("kind"): kindObj, c.p("path"): r.Path.String(), c.p("name"): r.Path.Name(),
		c.p("parent"): map[string]string{"uid": "uid(a0)"},
		c.p("owner"):  userKey(r.Owner), c.p("ctime"): now, c.p("mtime"): now,
		c.p("acl"): acl, c.p("who"): who,
	}, {
		"uid": "_:r", "dgraph.type": c.typ,
		c.p("kind"): kindRepl, c.p("obj"): map[string]string{"uid": "_:o"}, c.p("num"): 0,
		c.p("resc"): r.Resource, c.p("ppath"): r.PhysicalPath, c.p("rkey"): rkey(r.Resource, r.PhysicalPath),
		c.p("size"): 0, c.p("sum"): "", c.p("status"): int(catalog.ReplicaIntermediate),
		c.p("holder"): r.Holder, c.p("lease"): lease, c.p("ctime"): now, c.p("mtime"): now,
	}}
	sets = append(sets, c.stripeSets(refs, r.Path.String())...)
	js, err := json.Marshal(sets)
	if err != nil {
		return catalog.DataObject{}, catalog.Replica{}, false, err
	}
	resp, err := c.upsert(ctx, q, vars, &api.Mutation{SetJson: js,
		Cond: "@if(eq(len(a0), 1) AND eq(len(here), 0) AND eq(len(res), 1) AND eq(len(taken), 0) AND eq(len(pending), 0))"})
	if err != nil {
		return catalog.DataObject{}, catalog.Replica{}, false, err
	}
	objUID, replUID := resp.Uids["o"], resp.Uids["r"]
	if objUID == "" || replUID == "" {
		return catalog.DataObject{}, catalog.Replica{}, false, nil
	}
	nr := repl{UID: replUID, Obj: uidOnly{objUID}, Resc: r.Resource, PPath: r.PhysicalPath,
		Status: int(catalog.ReplicaIntermediate), Holder: r.Holder, Lease: lease, CTime: now, MTime: now}
	n := node{UID: objUID, Kind: kindObj, Path: r.Path.String(), Name: r.Path.Name(),
		Owner: userKey(r.Owner), CTime: now, MTime: now, ACL: acl, Repls: []repl{nr}}
	obj, err := n.object()
	if err != nil {
		return catalog.DataObject{}, catalog.Replica{}, false, err
	}
	return obj, obj.Replicas[0], true, nil
}

// upsert sends the query q and mutations, whose conditions are evaluated
// on q's variables, in one request that commits: a read-decide-write
// operation in one round trip instead of a query and a commit. Like
// write, it is retried when Dgraph aborts it or is unavailable. The
// answer holds q's named blocks and the uids of blank nodes made.
func (c *Catalog) upsert(ctx context.Context, q string, vars map[string]string, muts ...*api.Mutation) (*api.Response, error) {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		resp, err := c.upsertOnce(ctx, q, vars, muts)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		if !retryable(err) {
			return nil, err
		}
		if !errors.Is(err, dgo.ErrAborted) && time.Since(start) > c.retryFor {
			return nil, fmt.Errorf("dgraph unavailable for %s: %w", c.retryFor.Round(time.Second), err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return nil, err
		}
	}
}

// upsertOnce sends one upsert request; like writeOnce, it tells an error
// after which nothing was committed from one whose outcome is unknown.
func (c *Catalog) upsertOnce(ctx context.Context, q string, vars map[string]string, muts []*api.Mutation) (*api.Response, error) {
	resp, err := c.dg.NewTxn().Do(ctx, &api.Request{Query: c.dql(q), Vars: vars, Mutations: muts, CommitNow: true})
	if err != nil {
		return nil, commitError(err)
	}
	return resp, nil
}

// objectByID reads the data object id with its replicas; nil if none.
func (t *tx) objectByID(id catalog.ID) (*node, error) {
	uid := uidOf(id)
	if uid == "" {
		return nil, nil
	}
	var out struct {
		N []node `json:"n"`
	}
	// The kind is checked here rather than by a filter, which would read
	// the index entry of every data object (see at).
	if err := t.query(`query q($u: string) { n(func: uid($u)) { `+objFields+` } }`,
		map[string]string{"$u": uid}, &out); err != nil {
		return nil, err
	}
	if len(out.N) == 0 || out.N[0].Kind != kindObj {
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
	if err := catalog.CheckLeaseExpiry(until); err != nil {
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
	if err := rc.Validate(); err != nil {
		return fail(err)
	}
	if len(rc.Metadata) == 0 {
		if ok, err := c.commitOnly(ctx, rc); err != nil {
			return fail(err)
		} else if ok {
			return nil, nil
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
		var gone []repl
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
				gone = append(gone, x)
			}
		}
		slices.SortFunc(superseded, func(a, b catalog.Replica) int { return cmp.Compare(a.Number, b.Number) })
		if n := catalog.CommittedNumber(rc.Number, superseded); n != rc.Number {
			sets[0][c.p("num")] = n
		}
		replaced := r.Size
		for _, s := range superseded {
			replaced += s.Size
		}
		// The object counts from its first replica that is not
		// intermediate on; puts in progress count nothing.
		newObject := !slices.ContainsFunc(o.Repls, func(x repl) bool {
			return x.Num != rc.Number && catalog.ReplicaStatus(x.Status) != catalog.ReplicaIntermediate
		})
		if err := t.checkQuotas(o, r.Resc, rc.Size-replaced, newObject, len(superseded) == 0); err != nil {
			return err
		}
		if err := t.del(dels...); err != nil {
			return err
		}
		if err := t.recordDeletions(gone...); err != nil {
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

// commitOnly is CommitReplica in the common case, the only replica of its
// object while no quota exists, in one request: it marks the replica good
// only if, in the request's snapshot, holder holds it, the object has no
// other replica and there is no quota. Otherwise nothing is written and ok
// is false: the caller takes the general path, which tells what is wrong
// or handles other replicas and quotas. It writes what the general path
// writes, so it conflicts with what that would conflict with.
func (c *Catalog) commitOnly(ctx context.Context, rc catalog.ReplicaCommit) (bool, error) {
	uid := uidOf(rc.Object)
	if uid == "" {
		return false, nil
	}
	now := nowNS()
	// The replica is tested on value variables rather than by filters on
	// its predicates: Dgraph evaluates eq on an indexed predicate by
	// reading the whole index entry (num 0 is every first replica of the
	// catalog, status 0 every replica being written), and gt by walking
	// the index. Only replicas have an obj edge, so the object is one if
	// the replica is found.
	q := `query q($o: string, $num: int, $h: string, $now: int) {
		o as var(func: uid($o)) { reps as ~P.obj }
		var(func: uid(reps)) { n as P.num st as P.status h as P.holder l as P.lease }
		r as var(func: uid(reps)) @filter(eq(val(n), $num) AND eq(val(st), 0) AND eq(val(h), $h) AND gt(val(l), $now))
		quotas as var(func: eq(P.kind, "quota"), first: 1)
		held(func: uid(r)) { uid }
		all(func: uid(reps)) { n: count(uid) }
		quota(func: uid(quotas)) { uid }
	}`
	vars := map[string]string{"$o": uid, "$num": fmt.Sprint(rc.Number), "$h": rc.Holder, "$now": fmt.Sprint(now)}
	js, err := json.Marshal([]map[string]any{
		{"uid": "uid(r)", c.p("status"): int(catalog.ReplicaGood), c.p("size"): rc.Size, c.p("sum"): rc.Checksum,
			c.p("holder"): "", c.p("lease"): 0, c.p("mtime"): now, c.p("ver"): randVer()},
		{"uid": "uid(o)", c.p("mtime"): now, c.p("ver"): randVer()},
	})
	if err != nil {
		return false, err
	}
	resp, err := c.upsert(ctx, q, vars, &api.Mutation{SetJson: js,
		Cond: "@if(eq(len(r), 1) AND eq(len(reps), 1) AND eq(len(quotas), 0))"})
	if err != nil {
		return false, err
	}
	var out struct {
		Held []uidOnly `json:"held"`
		All  []struct {
			N int `json:"n"`
		} `json:"all"`
		Quota []uidOnly `json:"quota"`
	}
	if err := json.Unmarshal(resp.Json, &out); err != nil {
		return false, fmt.Errorf("decode dgraph answer: %w", err)
	}
	// The same snapshot as the condition: they agree.
	return len(out.Held) == 1 && len(out.All) == 1 && out.All[0].N == 1 && len(out.Quota) == 0, nil
}

// removeReplica deletes a replica, and its object when no replica is left.
func (t *tx) removeReplica(o *node, r *repl) error {
	if len(o.Repls) > 1 {
		if err := t.touch(o.UID); err != nil {
			return err
		}
		if err := t.recordDeletions(*r); err != nil {
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
	if err := catalog.CheckLimit(limit); err != nil {
		return fail(err)
	}
	if err := catalog.CheckTime("time", at); err != nil {
		return fail(err)
	}
	var out []catalog.Replica
	err := c.read(ctx, func(t *tx) error {
		var res struct {
			N []repl `json:"n"`
		}
		// Intermediate replicas are few: filter on status, order here.
		// Only replicas have a status.
		if err := t.query(`query q($at: int) {
			n(func: eq(P.status, 0)) @filter(lt(P.lease, $at)) { `+replFields+` }
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
	if err := catalog.CheckTime("time", at); err != nil {
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
				n(func: gt(P.rkey, $lo), orderasc: P.rkey, first: $n) @filter(lt(P.rkey, $hi)) { `+replFields+` }
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
