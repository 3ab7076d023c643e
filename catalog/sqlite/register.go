package sqlite

import (
	"context"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// Register adds many existing data objects in one transaction.
func (c *Catalog) Register(ctx context.Context, objs []catalog.RegisteredObject, parents bool) error {
	for _, o := range objs {
		if err := o.Validate(); err != nil {
			return err
		}
		if err := checkPath(o.Path); err != nil {
			return fmt.Errorf("register %s: %w", o.Path, err)
		}
		if err := checkUser("owner", o.Owner); err != nil {
			return fmt.Errorf("register %s: %w", o.Path, err)
		}
	}
	var at catalog.Path
	err := c.write(ctx, func(w *wtx) error {
		_, n := now()
		colls := map[catalog.Path]catalog.Collection{}
		rescs := map[string]bool{}
		for _, o := range objs {
			at = o.Path
			parent, err := registerParent(w, colls, o.Path.Parent(), o.Owner, parents, n)
			if err != nil {
				return err
			}
			if _, isColl, err := lookupColl(w, o.Path); err != nil {
				return err
			} else if isColl {
				return fmt.Errorf("a collection is at %s: %w", o.Path, catalog.ErrExists)
			}
			res, err := w.exec(`INSERT INTO data_objects (coll_id, name, owner_name, owner_zone, create_ns, modify_ns)
				VALUES (?, ?, ?, ?, ?, ?)`, int64(parent.ID), o.Path.Name(), o.Owner.Name, o.Owner.Zone, n, n)
			if err != nil {
				return mapErr("insert data object", err)
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			if err := inheritACL(w, parent, kindObject, catalog.ID(id)); err != nil {
				return err
			}
			if err := grant(w, kindObject, catalog.ID(id), o.Owner, catalog.AccessOwn); err != nil {
				return err
			}
			for i, r := range o.Replicas {
				if !rescs[r.Resource] {
					var one int
					if err := w.queryRow(`SELECT 1 FROM resources WHERE name = ?`, r.Resource).Scan(&one); err != nil {
						return fmt.Errorf("resource %s: %w", r.Resource, catalog.ErrNotFound)
					}
					rescs[r.Resource] = true
				}
				if _, err := w.exec(`INSERT INTO replicas (object_id, number, resource, physical_path, size, checksum, status,
						lock_holder, lease_expiry_ns, create_ns, modify_ns)
					VALUES (?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?)`,
					id, i, r.Resource, r.PhysicalPath, r.Size, r.Checksum, int(catalog.ReplicaGood), n, n); err != nil {
					return mapErr(fmt.Sprintf("insert replica (physical path %s)", r.PhysicalPath), err)
				}
			}
			for _, a := range o.Metadata {
				if _, err := w.exec(`INSERT OR IGNORE INTO avus (kind, target_id, attribute, value, unit) VALUES ('object', ?, ?, ?, ?)`,
					id, a.Attribute, a.Value, a.Unit); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("register %d data objects (at %s): %w", len(objs), at, err)
	}
	return nil
}

// registerParent finds the collection p, through the batch's cache, and
// with parents creates it and what is missing above it, owned by owner.
func registerParent(w *wtx, cache map[catalog.Path]catalog.Collection, p catalog.Path, owner catalog.UserID, parents bool, n int64) (catalog.Collection, error) {
	if c, ok := cache[p]; ok {
		return c, nil
	}
	c, ok, err := lookupColl(w, p)
	if err != nil {
		return c, err
	}
	if !ok {
		if !parents || p.IsRoot() {
			if _, isObj, err := lookupObj(w, p); err == nil && isObj {
				return c, fmt.Errorf("parent %s: %w", p, catalog.ErrNotCollection)
			}
			return c, fmt.Errorf("parent collection %s: %w", p, catalog.ErrNotFound)
		}
		above, err := registerParent(w, cache, p.Parent(), owner, parents, n)
		if err != nil {
			return c, err
		}
		if _, isObj, err := lookupObj(w, p); err != nil {
			return c, err
		} else if isObj {
			return c, fmt.Errorf("%s is a data object: %w", p, catalog.ErrNotCollection)
		}
		res, err := w.exec(`INSERT INTO collections (path, parent_id, name, owner_name, owner_zone, create_ns, modify_ns, inherit)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, p.String(), int64(above.ID), p.Name(), owner.Name, owner.Zone, n, n, above.Inherit)
		if err != nil {
			return c, mapErr("insert collection", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return c, err
		}
		c = catalog.Collection{ID: catalog.ID(id), Path: p, Owner: owner, Inherit: above.Inherit}
		if err := inheritACL(w, above, kindCollection, c.ID); err != nil {
			return c, err
		}
		if err := grant(w, kindCollection, c.ID, owner, catalog.AccessOwn); err != nil {
			return c, err
		}
	}
	cache[p] = c
	return c, nil
}
