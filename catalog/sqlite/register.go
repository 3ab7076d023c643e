package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// registerChunk is how many objects one multi-row INSERT takes: few
// statements per object, well below SQLite's limit on bound values.
const registerChunk = 200

// Register adds many existing data objects in one transaction. It inserts
// them many rows per statement and, with the usage triggers held, counts
// their usage itself, once per owner, resource and collection.
func (c *Catalog) Register(ctx context.Context, objs []catalog.RegisteredObject, parents bool) error {
	for _, o := range objs {
		if err := o.Validate(); err != nil {
			return err
		}
	}
	var at catalog.Path
	err := c.write(ctx, func(w *wtx) error {
		_, n := now()
		if err := registerNoCollections(w, objs); err != nil {
			return err
		}
		colls := map[catalog.Path]catalog.Collection{}
		rescs := map[string]bool{}
		u := newUsageDelta()
		if _, err := w.exec(`INSERT INTO usage_hold (one) VALUES (1)`); err != nil {
			return err
		}
		for start := 0; start < len(objs); start += registerChunk {
			chunk := objs[start:min(start+registerChunk, len(objs))]
			parentIDs := make([]catalog.Collection, len(chunk))
			for i, o := range chunk {
				at = o.Path
				p, err := registerParent(w, colls, o.Path.Parent(), o.Owner, parents, n)
				if err != nil {
					return err
				}
				parentIDs[i] = p
				for _, r := range o.Replicas {
					if !rescs[r.Resource] {
						var one int
						if err := w.queryRow(`SELECT 1 FROM resources WHERE name = ?`, r.Resource).Scan(&one); err != nil {
							return fmt.Errorf("resource %s: %w", r.Resource, catalog.ErrNotFound)
						}
						rescs[r.Resource] = true
					}
				}
			}
			at = chunk[0].Path
			ids, err := insertObjects(w, chunk, parentIDs, n)
			if err != nil {
				return err
			}
			if err := insertRegistered(w, chunk, parentIDs, ids, n, u); err != nil {
				return err
			}
		}
		if _, err := w.exec(`DELETE FROM usage_hold`); err != nil {
			return err
		}
		return u.apply(w)
	})
	if err != nil {
		return fmt.Errorf("register %d data objects (at or after %s): %w", len(objs), at, err)
	}
	return nil
}

// registerNoCollections refuses objects at the path of a collection, with
// one query for the batch.
func registerNoCollections(w *wtx, objs []catalog.RegisteredObject) error {
	paths := make([]string, len(objs))
	for i, o := range objs {
		paths[i] = o.Path.String()
	}
	list, err := json.Marshal(paths)
	if err != nil {
		return err
	}
	var taken string
	err = w.queryRow(`SELECT path FROM collections WHERE path IN (SELECT value FROM json_each(?)) LIMIT 1`, string(list)).Scan(&taken)
	if err == nil {
		return fmt.Errorf("a collection is at %s: %w", taken, catalog.ErrExists)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

func placeholders(rows int, row string) string {
	var b strings.Builder
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// insertObjects inserts the data objects of chunk in one statement and
// returns their ids: AUTOINCREMENT gives the rows of one INSERT
// consecutive ids, ending at the last insert rowid.
func insertObjects(w *wtx, chunk []catalog.RegisteredObject, parents []catalog.Collection, n int64) ([]int64, error) {
	retained := false
	for _, p := range parents {
		retained = retained || !p.Retention.IsZero()
	}
	var (
		res sql.Result
		err error
	)
	if !retained {
		args := make([]any, 0, 6*len(chunk))
		for i, o := range chunk {
			args = append(args, int64(parents[i].ID), o.Path.Name(), o.Owner.Name, o.Owner.Zone, n, n)
		}
		res, err = w.exec(`INSERT INTO data_objects (coll_id, name, owner_name, owner_zone, create_ns, modify_ns) VALUES `+
			placeholders(len(chunk), "(?, ?, ?, ?, ?, ?)"), args...)
	} else {
		// Objects registered into a collection with a default retention
		// get its lock, as those put there do.
		args := make([]any, 0, 11*len(chunk))
		for i, o := range chunk {
			l := parents[i].Retention.LockAt(fromNanos(n), o.Owner)
			args = append(args, int64(parents[i].ID), o.Path.Name(), o.Owner.Name, o.Owner.Zone, n, n,
				string(l.Mode), nanos(l.Until), l.SetBy.Name, l.SetBy.Zone, nanos(l.SetAt))
		}
		res, err = w.exec(`INSERT INTO data_objects (coll_id, name, owner_name, owner_zone, create_ns, modify_ns,
				ret_mode, ret_until_ns, ret_by_name, ret_by_zone, ret_set_ns) VALUES `+
			placeholders(len(chunk), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), args...)
	}
	if err != nil {
		return nil, mapErr("insert data objects", err)
	}
	last, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(chunk))
	for i := range ids {
		ids[i] = last - int64(len(chunk)-1-i)
	}
	return ids, nil
}

// insertRegistered adds the ACLs, replicas and AVUs of the objects ids.
func insertRegistered(w *wtx, chunk []catalog.RegisteredObject, parents []catalog.Collection, ids []int64, n int64, u *usageDelta) error {
	var acl, repl, avus []any
	nacl, nrepl, navus := 0, 0, 0
	for i, o := range chunk {
		if err := inheritACL(w, parents[i], kindObject, catalog.ID(ids[i])); err != nil {
			return err
		}
		acl = append(acl, ids[i], o.Owner.Name, o.Owner.Zone)
		nacl++
		var size int64
		for j, r := range o.Replicas {
			repl = append(repl, ids[i], j, r.Resource, r.PhysicalPath, r.Size, r.Checksum, int(catalog.ReplicaGood), n, n)
			nrepl++
			size += r.Size
			u.replica(o.Owner, r.Resource, r.Size)
		}
		u.object(o.Owner, parents[i].ID, size)
		for _, a := range o.Metadata {
			avus = append(avus, ids[i], a.Attribute, a.Value, a.Unit)
			navus++
		}
	}
	if _, err := w.exec(`INSERT INTO access (kind, target_id, user_name, user_zone, level) VALUES `+
		placeholders(nacl, "('object', ?, ?, ?, 3)")+`
		ON CONFLICT (kind, target_id, user_name, user_zone) DO UPDATE SET level = excluded.level`, acl...); err != nil {
		return err
	}
	if _, err := w.exec(`INSERT INTO replicas (object_id, number, resource, physical_path, size, checksum, status,
			lock_holder, lease_expiry_ns, create_ns, modify_ns) VALUES `+placeholders(nrepl, "(?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?)"), repl...); err != nil {
		return mapErr("insert replicas", err)
	}
	for start := 0; start < navus; start += 2 * registerChunk {
		end := min(start+2*registerChunk, navus)
		if _, err := w.exec(`INSERT OR IGNORE INTO avus (kind, target_id, attribute, value, unit) VALUES `+
			placeholders(end-start, "('object', ?, ?, ?, ?)"), avus[4*start:4*end]...); err != nil {
			return err
		}
	}
	return nil
}

// usageDelta is the usage Register adds, counted in aggregate while the
// per-row triggers are held.
type usageDelta struct {
	byResource map[[3]string][2]int64      // owner name, zone, resource -> bytes, replicas
	byOwner    map[catalog.UserID][2]int64 // -> bytes, objects
	byColl     map[catalog.ID][2]int64     // parent collection -> bytes, objects
}

func newUsageDelta() *usageDelta {
	return &usageDelta{byResource: map[[3]string][2]int64{}, byOwner: map[catalog.UserID][2]int64{}, byColl: map[catalog.ID][2]int64{}}
}

func (u *usageDelta) replica(owner catalog.UserID, resource string, size int64) {
	k := [3]string{owner.Name, owner.Zone, resource}
	v := u.byResource[k]
	u.byResource[k] = [2]int64{v[0] + size, v[1] + 1}
}

func (u *usageDelta) object(owner catalog.UserID, coll catalog.ID, size int64) {
	v := u.byOwner[owner]
	u.byOwner[owner] = [2]int64{v[0] + size, v[1] + 1}
	c := u.byColl[coll]
	u.byColl[coll] = [2]int64{c[0] + size, c[1] + 1}
}

// apply adds the delta to the usage tables, as the triggers would have.
func (u *usageDelta) apply(w *wtx) error {
	for k, v := range u.byResource {
		if _, err := w.exec(`INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects`, k[0], k[1], k[2], v[0], v[1]); err != nil {
			return err
		}
	}
	for k, v := range u.byOwner {
		if _, err := w.exec(`INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects) VALUES (?, ?, '', ?, ?)
			ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects`, k.Name, k.Zone, v[0], v[1]); err != nil {
			return err
		}
	}
	var quotaColls int
	if err := w.queryRow(`SELECT count(*) FROM usage_coll`).Scan(&quotaColls); err != nil || quotaColls == 0 {
		return err
	}
	for id, v := range u.byColl {
		if _, err := w.exec(`UPDATE usage_coll SET bytes = bytes + ?, objects = objects + ? WHERE coll_id IN (
			SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = ?
			WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/')`, v[0], v[1], int64(id)); err != nil {
			return err
		}
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
		res, err := w.exec(`INSERT INTO collections (path, parent_id, name, owner_name, owner_zone, create_ns, modify_ns, inherit,
				ret_default_mode, ret_default_period)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.String(), int64(above.ID), p.Name(), owner.Name, owner.Zone, n, n, above.Inherit,
			string(above.Retention.Mode), above.Retention.Period.String())
		if err != nil {
			return c, mapErr("insert collection", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return c, err
		}
		c = catalog.Collection{ID: catalog.ID(id), Path: p, Owner: owner, Inherit: above.Inherit, Retention: above.Retention}
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
