package dgraph

import (
	"context"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// Register adds many existing data objects in one transaction. As the
// transaction's queries do not see its own mutations, the collections it
// makes and the paths it takes are tracked here.
func (c *Catalog) Register(ctx context.Context, objs []catalog.RegisteredObject, parents bool) error {
	for _, o := range objs {
		if err := o.Validate(); err != nil {
			return err
		}
	}
	var at catalog.Path
	err := c.write(ctx, func(t *tx) error {
		now := nowNS()
		colls := map[catalog.Path]*node{} // collections read or made here
		taken := map[catalog.Path]bool{}  // paths of objects registered here
		rkeys := map[string]bool{}
		rescs := map[string]bool{}
		var collAt func(p catalog.Path, owner catalog.UserID) (*node, error)
		collAt = func(p catalog.Path, owner catalog.UserID) (*node, error) {
			if n, ok := colls[p]; ok {
				return n, nil
			}
			if taken[p] {
				return nil, fmt.Errorf("parent %s: %w", p, catalog.ErrNotCollection)
			}
			n, err := t.at(p)
			if err != nil {
				return nil, err
			}
			if n != nil {
				if n.Kind != kindColl {
					return nil, fmt.Errorf("parent %s: %w", p, catalog.ErrNotCollection)
				}
				if err := t.lockChild(n.UID, at.String()); err != nil {
					return nil, err
				}
				colls[p] = n
				return n, nil
			}
			if !parents || p.IsRoot() {
				return nil, fmt.Errorf("parent collection %s: %w", p, catalog.ErrNotFound)
			}
			parent, err := collAt(p.Parent(), owner)
			if err != nil {
				return nil, err
			}
			acl, who := newACL(parent, owner)
			d, err := parent.retention()
			if err != nil {
				return nil, err
			}
			ref, err := t.create(c.defaultSets(map[string]any{
				c.p("kind"): kindColl, c.p("path"): p.String(), c.p("name"): p.Name(),
				c.p("parent"): map[string]string{"uid": parent.UID},
				c.p("owner"):  userKey(owner), c.p("ctime"): now, c.p("mtime"): now,
				c.p("inherit"): parent.Inherit, c.p("acl"): acl, c.p("who"): who,
			}, d))
			if err != nil {
				return nil, err
			}
			n = &node{UID: ref, Kind: kindColl, Path: p.String(), Inherit: parent.Inherit, ACL: acl,
				RDMode: parent.RDMode, RDPer: parent.RDPer}
			colls[p] = n
			return n, nil
		}
		for _, o := range objs {
			at = o.Path
			if taken[o.Path] || colls[o.Path] != nil {
				return fmt.Errorf("%s: %w", o.Path, catalog.ErrExists)
			}
			if n, err := t.at(o.Path); err != nil {
				return err
			} else if n != nil {
				if n.Kind == kindColl {
					return fmt.Errorf("a collection is at %s: %w", o.Path, catalog.ErrExists)
				}
				return fmt.Errorf("%s: %w", o.Path, catalog.ErrExists)
			}
			parent, err := collAt(o.Path.Parent(), o.Owner)
			if err != nil {
				return err
			}
			taken[o.Path] = true
			acl, who := newACL(parent, o.Owner)
			m := map[string]any{
				c.p("kind"): kindObj, c.p("path"): o.Path.String(), c.p("name"): o.Path.Name(),
				c.p("parent"): map[string]string{"uid": parent.UID},
				c.p("owner"):  userKey(o.Owner), c.p("ctime"): now, c.p("mtime"): now,
				c.p("acl"): acl, c.p("who"): who,
			}
			// An object registered into a collection with a default
			// retention gets its lock, as one put there does.
			if d, err := parent.retention(); err != nil {
				return err
			} else if !d.IsZero() {
				c.lockSets(m, d.LockAt(fromNanos(now), o.Owner))
			}
			ref, err := t.create(m)
			if err != nil {
				return err
			}
			for i, r := range o.Replicas {
				if !rescs[r.Resource] {
					if ru, err := t.resourceUID(r.Resource); err != nil {
						return err
					} else if ru == "" {
						return fmt.Errorf("resource %s: %w", r.Resource, catalog.ErrNotFound)
					}
					rescs[r.Resource] = true
				}
				k := rkey(r.Resource, r.PhysicalPath)
				if rkeys[k] {
					return fmt.Errorf("physical path %s on %s: %w", r.PhysicalPath, r.Resource, catalog.ErrExists)
				}
				if err := t.takeFile(r.Resource, r.PhysicalPath); err != nil {
					return fmt.Errorf("physical path %s on %s: %w", r.PhysicalPath, r.Resource, err)
				}
				rkeys[k] = true
				if _, err := t.create(map[string]any{
					c.p("kind"): kindRepl, c.p("obj"): map[string]string{"uid": ref}, c.p("num"): i,
					c.p("resc"): r.Resource, c.p("ppath"): r.PhysicalPath, c.p("rkey"): k,
					c.p("size"): r.Size, c.p("sum"): r.Checksum, c.p("status"): int(catalog.ReplicaGood),
					c.p("holder"): "", c.p("lease"): 0, c.p("ctime"): now, c.p("mtime"): now,
				}); err != nil {
					return err
				}
			}
			seen := map[catalog.AVU]bool{}
			for _, a := range o.Metadata {
				if seen[a] {
					continue
				}
				seen[a] = true
				if err := t.set(map[string]any{"uid": t.blank(), "dgraph.type": c.typ,
					c.p("kind"): kindAVU, c.p("of"): map[string]string{"uid": ref},
					c.p("attr"): a.Attribute, c.p("val"): a.Value, c.p("unit"): a.Unit}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("register %d data objects (at or after %s): %w", len(objs), at, err)
	}
	return nil
}
