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

// at reads the collection or data object at p with its ACL and replicas;
// nil when nothing is there.
//
// Only collections and data objects have a path, so lookups by path need
// no filter on kind. Such a filter would be costly: Dgraph evaluates eq on
// an indexed predicate by reading the index entry, here the list of every
// collection or every data object of the catalog, which every creation
// writes.
func (t *tx) at(p catalog.Path) (*node, error) {
	var out struct {
		N []node `json:"n"`
	}
	err := t.query(`query q($p: string) {
		n(func: eq(P.path, $p)) { `+objFields+` }
	}`, map[string]string{"$p": p.String()}, &out)
	if err != nil || len(out.N) == 0 {
		return nil, err
	}
	return &out.N[0], nil
}

// collAt reads the collection at p, telling a missing one from a data object.
func (t *tx) collAt(p catalog.Path) (*node, error) {
	n, err := t.at(p)
	switch {
	case err != nil:
		return nil, err
	case n == nil:
		return nil, catalog.ErrNotFound
	case n.Kind != kindColl:
		return nil, catalog.ErrNotCollection
	}
	return n, nil
}

// objAt reads the data object at p, telling a missing one from a collection.
func (t *tx) objAt(p catalog.Path) (*node, error) {
	n, err := t.at(p)
	switch {
	case err != nil:
		return nil, err
	case n == nil:
		return nil, catalog.ErrNotFound
	case n.Kind != kindObj:
		return nil, catalog.ErrNotDataObject
	}
	return n, nil
}

// parentColl reads the collection that is to hold p.
func (t *tx) parentColl(p catalog.Path) (*node, error) {
	parent := p.Parent()
	n, err := t.at(parent)
	switch {
	case err != nil:
		return nil, err
	case n == nil:
		return nil, fmt.Errorf("parent collection %s: %w", parent, catalog.ErrNotFound)
	case n.Kind != kindColl:
		return nil, fmt.Errorf("parent %s: %w", parent, catalog.ErrNotCollection)
	}
	return n, nil
}

// newACL is the ACL of something created in parent by owner: the parent's
// grants when it inherits, and own for the owner.
func newACL(parent *node, owner catalog.UserID) (acl, who []string) {
	levels := map[catalog.UserID]catalog.AccessLevel{}
	if parent.Inherit {
		for _, a := range parseACL(parent.ACL) {
			levels[a.Principal] = a.Level
		}
	}
	levels[owner] = catalog.AccessOwn
	for u, l := range levels {
		acl = append(acl, aceValue(u, l))
		who = append(who, userKey(u))
	}
	slices.Sort(acl)
	slices.Sort(who)
	return acl, who
}

// Stat returns the collection or data object at p.
func (c *Catalog) Stat(ctx context.Context, p catalog.Path) (catalog.Entry, error) {
	if err := catalog.CheckPath(p); err != nil {
		return catalog.Entry{}, fmt.Errorf("stat: %w", err)
	}
	var e catalog.Entry
	err := c.read(ctx, func(t *tx) error {
		e = catalog.Entry{}
		n, err := t.at(p)
		if err != nil {
			return err
		}
		if n == nil {
			return catalog.ErrNotFound
		}
		if n.Kind == kindColl {
			coll, err := n.collection()
			e.Collection = &coll
			return err
		}
		o, err := n.object()
		e.Object = &o
		return err
	})
	if err != nil {
		return catalog.Entry{}, fmt.Errorf("stat %s: %w", p, err)
	}
	return e, nil
}

// Collection returns the collection at p.
func (c *Catalog) Collection(ctx context.Context, p catalog.Path) (catalog.Collection, error) {
	if err := catalog.CheckPath(p); err != nil {
		return catalog.Collection{}, fmt.Errorf("collection: %w", err)
	}
	var coll catalog.Collection
	err := c.read(ctx, func(t *tx) error {
		n, err := t.collAt(p)
		if err != nil {
			return err
		}
		coll, err = n.collection()
		return err
	})
	if err != nil {
		return catalog.Collection{}, fmt.Errorf("collection %s: %w", p, err)
	}
	return coll, nil
}

// DataObject returns the data object at p with its ACL and replicas.
func (c *Catalog) DataObject(ctx context.Context, p catalog.Path) (catalog.DataObject, error) {
	if err := catalog.CheckPath(p); err != nil {
		return catalog.DataObject{}, fmt.Errorf("data object: %w", err)
	}
	var o catalog.DataObject
	err := c.read(ctx, func(t *tx) error {
		n, err := t.objAt(p)
		if err != nil {
			return err
		}
		o, err = n.object()
		return err
	})
	if err != nil {
		return catalog.DataObject{}, fmt.Errorf("data object %s: %w", p, err)
	}
	return o, nil
}

// CreateCollection creates c.Path, whose parent must exist, owned by c.Owner.
func (c *Catalog) CreateCollection(ctx context.Context, in catalog.Collection) (catalog.Collection, error) {
	p := in.Path
	fail := func(err error) (catalog.Collection, error) {
		return catalog.Collection{}, fmt.Errorf("create collection %s: %w", p, err)
	}
	if err := in.Validate(); err != nil {
		return fail(err)
	}
	var out catalog.Collection
	err := c.write(ctx, func(t *tx) error {
		parent, err := t.parentColl(p)
		if err != nil {
			return err
		}
		if n, err := t.at(p); err != nil {
			return err
		} else if n != nil {
			return catalog.ErrExists
		}
		if err := t.lockChild(parent.UID, p.String()); err != nil {
			return err
		}
		n := nowNS()
		acl, who := newACL(parent, in.Owner)
		d, err := parent.retention()
		if err != nil {
			return err
		}
		uid, err := t.create(c.defaultSets(map[string]any{
			c.p("kind"): kindColl, c.p("path"): p.String(), c.p("name"): p.Name(),
			c.p("parent"): map[string]string{"uid": parent.UID},
			c.p("owner"):  userKey(in.Owner), c.p("ctime"): n, c.p("mtime"): n,
			c.p("inherit"): parent.Inherit, c.p("acl"): acl, c.p("who"): who,
		}, d))
		if err != nil {
			return err
		}
		t.afterCommit(func(resolve func(string) string) { out.ID = idOf(resolve(uid)) })
		out = catalog.Collection{
			Path: p, Owner: in.Owner, CreateTime: fromNanos(n), ModifyTime: fromNanos(n),
			Inherit: parent.Inherit, ACL: parseACL(acl), Retention: d,
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// ListObjects returns up to limit data objects of coll named after after.
func (c *Catalog) ListObjects(ctx context.Context, coll catalog.Path, after string, limit int) ([]catalog.DataObject, error) {
	fail := func(err error) ([]catalog.DataObject, error) {
		return nil, fmt.Errorf("list data objects of %s: %w", coll, err)
	}
	if err := catalog.CheckPath(coll); err != nil {
		return fail(err)
	}
	if err := catalog.CheckLimit(limit); err != nil {
		return fail(err)
	}
	var out []catalog.DataObject
	err := c.read(ctx, func(t *tx) error {
		out = nil
		nodes, err := t.children(coll, kindObj, after, limit, objFields)
		if err != nil {
			return err
		}
		for i := range nodes {
			o, err := nodes[i].object()
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// children reads up to limit children of kind of the collection at coll,
// named after after, in name order.
func (t *tx) children(coll catalog.Path, kind, after string, limit int, fields string) ([]node, error) {
	var out struct {
		N []struct {
			UID  string `json:"uid"`
			Kind string `json:"kind"`
			Subs []node `json:"subs"`
		} `json:"n"`
	}
	err := t.query(`query q($p: string, $after: string, $kind: string, $n: int) {
		n(func: eq(P.path, $p)) {
			uid kind: P.kind
			subs: ~P.parent @filter(eq(P.kind, $kind) AND gt(P.name, $after)) (orderasc: P.name, first: $n) { `+fields+` }
		}
	}`, map[string]string{"$p": coll.String(), "$after": after, "$kind": kind, "$n": fmt.Sprint(limit)}, &out)
	if err != nil {
		return nil, err
	}
	if len(out.N) == 0 {
		return nil, catalog.ErrNotFound
	}
	if out.N[0].Kind != kindColl {
		return nil, catalog.ErrNotCollection
	}
	subs := out.N[0].Subs
	// Dgraph orders by the index, byte-wise; sort again so that no
	// collation difference can reorder a page.
	slices.SortFunc(subs, func(a, b node) int { return strings.Compare(a.Name, b.Name) })
	return subs, nil
}

// ListCollections returns up to limit sub-collections of coll named after after.
func (c *Catalog) ListCollections(ctx context.Context, coll catalog.Path, after string, limit int) ([]catalog.Collection, error) {
	fail := func(err error) ([]catalog.Collection, error) {
		return nil, fmt.Errorf("list collections of %s: %w", coll, err)
	}
	if err := catalog.CheckPath(coll); err != nil {
		return fail(err)
	}
	if err := catalog.CheckLimit(limit); err != nil {
		return fail(err)
	}
	var out []catalog.Collection
	err := c.read(ctx, func(t *tx) error {
		out = nil
		nodes, err := t.children(coll, kindColl, after, limit, nodeFields)
		if err != nil {
			return err
		}
		for i := range nodes {
			sub, err := nodes[i].collection()
			if err != nil {
				return err
			}
			out = append(out, sub)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// treeNode is a collection or data object below a collection, with what
// removing it needs.
type treeNode struct {
	node
	Parent uidOnly   `json:"parent"`
	AVUs   []uidOnly `json:"avus"`
	QoS    []uidOnly `json:"qos"` // QoS requirements on it
}

// below reads every collection and data object strictly below p, with
// their replicas and AVU nodes.
func (t *tx) below(p catalog.Path) ([]treeNode, error) {
	lo, hi := p.String()+"/", p.String()+"0" // '0' is the byte after '/'
	if p.IsRoot() {
		lo, hi = "/", "0"
	}
	var out struct {
		N []treeNode `json:"n"`
	}
	err := t.query(`query q($lo: string, $hi: string) {
		n(func: gt(P.path, $lo)) @filter(lt(P.path, $hi)) {
			`+objFields+` parent: P.parent { uid } avus: ~P.of { uid } qos: ~P.qon { uid }
		}
	}`, map[string]string{"$lo": lo, "$hi": hi}, &out)
	if err != nil {
		return nil, err
	}
	// gt(lo) leaves out lo itself, which is p + "/": no valid path.
	return out.N, nil
}

// Rename moves a data object or a collection tree from from to to.
func (c *Catalog) Rename(ctx context.Context, from, to catalog.Path) error {
	fail := func(err error) error {
		return fmt.Errorf("rename %s to %s: %w", from, to, err)
	}
	if err := catalog.CheckRename(from, to); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(t *tx) error {
		src, err := t.at(from)
		if err != nil {
			return err
		}
		if src == nil {
			return catalog.ErrNotFound
		}
		if n, err := t.at(to); err != nil {
			return err
		} else if n != nil {
			return fmt.Errorf("%s: %w", to, catalog.ErrExists)
		}
		isColl := src.Kind == kindColl
		if isColl && to.HasPrefix(from) {
			return invalid("cannot move a collection below itself")
		}
		now := fromNanos(nowNS())
		if !isColl {
			if err := src.lock().Refuse(from, now, "moved or renamed"); err != nil {
				return err
			}
		}
		parent, err := t.parentColl(to)
		if err != nil {
			return err
		}
		if err := t.lockChild(parent.UID, to.String()); err != nil {
			return err
		}
		if isColl {
			if err := t.lockAll(src.UID); err != nil {
				return err
			}
		}
		muts := []map[string]any{{
			"uid": src.UID, c.p("path"): to.String(), c.p("name"): to.Name(),
			c.p("parent"): map[string]string{"uid": parent.UID}, c.p("ver"): randVer(),
		}}
		if isColl {
			subs, err := t.below(from)
			if err != nil {
				return err
			}
			if err := retainedIn(subs, from, now, "moved or renamed"); err != nil {
				return err
			}
			for _, s := range subs {
				sp, err := s.path()
				if err != nil {
					return err
				}
				muts = append(muts, map[string]any{
					"uid": s.UID, c.p("path"): sp.Rebase(from, to).String(), c.p("ver"): randVer(),
				})
			}
		}
		return t.set(muts...)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// locked reports, with ErrLocked, an unexpired intermediate replica of o.
func locked(o *node, path string, now int64) error {
	for _, r := range o.Repls {
		if catalog.ReplicaStatus(r.Status) == catalog.ReplicaIntermediate && r.Lease > now {
			return fmt.Errorf("replica %d of %s is being written by %s until %s: %w",
				r.Num, path, r.Holder, fromNanos(r.Lease).Format(time.RFC3339), catalog.ErrLocked)
		}
	}
	return nil
}

// deleteObjectNodes deletes a data object node with its replicas and AVUs,
// and records the replicas' files for deletion.
func (t *tx) deleteObjectNodes(o *node, avus []uidOnly) error {
	dels := []map[string]any{{"uid": o.UID}}
	for _, r := range o.Repls {
		dels = append(dels, map[string]any{"uid": r.UID})
	}
	if err := t.recordDeletions(o.Repls...); err != nil {
		return err
	}
	for _, a := range avus {
		dels = append(dels, map[string]any{"uid": a.UID})
	}
	return t.del(dels...)
}

// avusOf reads the AVU nodes of the node uid, and the QoS requirements on
// it: what goes with it when it is removed.
func (t *tx) avusOf(uid string) ([]uidOnly, error) {
	var out struct {
		N []struct {
			AVUs []uidOnly `json:"avus"`
			QoS  []uidOnly `json:"qos"`
		} `json:"n"`
	}
	if err := t.query(`query q($u: string) { n(func: uid($u)) { avus: ~P.of { uid } qos: ~P.qon { uid } } }`,
		map[string]string{"$u": uid}, &out); err != nil {
		return nil, err
	}
	if len(out.N) == 0 {
		return nil, nil
	}
	return append(out.N[0].AVUs, out.N[0].QoS...), nil
}

// RemoveDataObject deletes the object at p and returns its replicas.
func (c *Catalog) RemoveDataObject(ctx context.Context, p catalog.Path) ([]catalog.Replica, error) {
	fail := func(err error) ([]catalog.Replica, error) {
		return nil, fmt.Errorf("remove data object %s: %w", p, err)
	}
	if err := catalog.CheckPath(p); err != nil {
		return fail(err)
	}
	var out []catalog.Replica
	err := c.write(ctx, func(t *tx) error {
		n, err := t.objAt(p)
		if err != nil {
			return err
		}
		if err := locked(n, p.String(), nowNS()); err != nil {
			return err
		}
		if err := n.lock().Refuse(p, fromNanos(nowNS()), "removed"); err != nil {
			return err
		}
		o, err := n.object()
		if err != nil {
			return err
		}
		out = o.Replicas
		avus, err := t.avusOf(n.UID)
		if err != nil {
			return err
		}
		return t.deleteObjectNodes(n, avus)
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// RemoveCollection deletes an empty collection, or a whole tree.
func (c *Catalog) RemoveCollection(ctx context.Context, p catalog.Path, recursive bool) ([]catalog.Replica, error) {
	fail := func(err error) ([]catalog.Replica, error) {
		return nil, fmt.Errorf("remove collection %s: %w", p, err)
	}
	if err := catalog.CheckRemoveCollection(p); err != nil {
		return fail(err)
	}
	var out []catalog.Replica
	err := c.write(ctx, func(t *tx) error {
		out = nil
		coll, err := t.collAt(p)
		if err != nil {
			return err
		}
		subs, err := t.below(p)
		if err != nil {
			return err
		}
		if len(subs) > 0 && !recursive {
			return catalog.ErrNotEmpty
		}
		now := nowNS()
		if err := retainedIn(subs, p, fromNanos(now), "removed"); err != nil {
			return err
		}
		type objRepls struct {
			parent, name string
			repls        []catalog.Replica
		}
		var objs []objRepls
		dels := []map[string]any{}
		for i := range subs {
			s := &subs[i]
			if s.Kind == kindObj {
				if err := locked(&s.node, s.Path, now); err != nil {
					return err
				}
				o, err := s.object()
				if err != nil {
					return err
				}
				objs = append(objs, objRepls{o.Path.Parent().String(), o.Path.Name(), o.Replicas})
				for _, r := range s.Repls {
					dels = append(dels, map[string]any{"uid": r.UID})
				}
				if err := t.recordDeletions(s.Repls...); err != nil {
					return err
				}
			}
			dels = append(dels, map[string]any{"uid": s.UID})
			for _, a := range append(s.AVUs, s.QoS...) {
				dels = append(dels, map[string]any{"uid": a.UID})
			}
		}
		slices.SortFunc(objs, func(a, b objRepls) int {
			return cmp.Or(strings.Compare(a.parent, b.parent), strings.Compare(a.name, b.name))
		})
		for _, o := range objs {
			out = append(out, o.repls...)
		}
		avus, err := t.avusOf(coll.UID)
		if err != nil {
			return err
		}
		if err := t.lockAll(coll.UID); err != nil {
			return err
		}
		dels = append(dels, map[string]any{"uid": coll.UID})
		for _, a := range avus {
			dels = append(dels, map[string]any{"uid": a.UID})
		}
		return t.del(dels...)
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// SetInheritance sets the inheritance flag of the collection at p.
func (c *Catalog) SetInheritance(ctx context.Context, p catalog.Path, inherit bool) error {
	fail := func(err error) error { return fmt.Errorf("set inheritance of %s: %w", p, err) }
	if err := catalog.CheckPath(p); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(t *tx) error {
		n, err := t.collAt(p)
		if err != nil {
			return err
		}
		if err := t.lockAll(n.UID); err != nil {
			return err
		}
		return t.set(map[string]any{"uid": n.UID, c.p("inherit"): inherit})
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// SetAccess grants principal level on the collection or data object at p.
func (c *Catalog) SetAccess(ctx context.Context, p catalog.Path, principal catalog.UserID, level catalog.AccessLevel) error {
	fail := func(err error) error {
		return fmt.Errorf("set access of %s on %s: %w", principal, p, err)
	}
	if err := catalog.CheckPath(p); err != nil {
		return fail(err)
	}
	if err := (catalog.ACE{Principal: principal, Level: level}).Validate(); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(t *tx) error {
		n, err := t.at(p)
		if err != nil {
			return err
		}
		if n == nil {
			return catalog.ErrNotFound
		}
		if n.Kind == kindColl && n.Inherit {
			// What is created in it copies its ACL.
			if err := t.lockAll(n.UID); err != nil {
				return err
			}
		}
		return t.setGrant(n.UID, n.ACL, principal, level)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// setGrant replaces the grant of principal in the ACL acl of the node uid.
func (t *tx) setGrant(uid string, acl []string, principal catalog.UserID, level catalog.AccessLevel) error {
	var old []string
	for _, v := range acl {
		if parseACE(v).Principal == principal && (level == catalog.AccessNull || v != aceValue(principal, level)) {
			old = append(old, v)
		}
	}
	if len(old) > 0 {
		del := map[string]any{"uid": uid, t.c.p("acl"): old}
		if level == catalog.AccessNull {
			del[t.c.p("who")] = []string{userKey(principal)}
		}
		if err := t.del(del); err != nil {
			return err
		}
	}
	set := map[string]any{"uid": uid, t.c.p("ver"): randVer()}
	if level != catalog.AccessNull {
		set[t.c.p("acl")] = []string{aceValue(principal, level)}
		set[t.c.p("who")] = []string{userKey(principal)}
	}
	return t.set(set)
}
