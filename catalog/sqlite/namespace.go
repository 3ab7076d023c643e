package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// lookupColl reads the collection at p, without its ACL.
func lookupColl(q querier, p catalog.Path) (catalog.Collection, bool, error) {
	c, err := scanColl(q.queryRow(`SELECT `+collCols+` FROM collections WHERE path = ?`, p.String()))
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}

// lookupObj reads the data object at p, without its ACL and replicas.
func lookupObj(q querier, p catalog.Path) (catalog.DataObject, bool, error) {
	if p.IsRoot() {
		return catalog.DataObject{}, false, nil
	}
	o, err := scanObj(q.queryRow(`SELECT `+objCols+` FROM data_objects o
		WHERE o.coll_id = (SELECT id FROM collections WHERE path = ?) AND o.name = ?`,
		p.Parent().String(), p.Name()), p.Parent())
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	return o, err == nil, err
}

// objIn reads the data object at p, whose parent collection coll has been
// read already, without its ACL and replicas.
func objIn(q querier, coll catalog.Collection, p catalog.Path) (catalog.DataObject, bool, error) {
	o, err := scanObj(q.queryRow(`SELECT `+objCols+` FROM data_objects o WHERE o.coll_id = ? AND o.name = ?`,
		int64(coll.ID), p.Name()), coll.Path)
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	return o, err == nil, err
}

// parentColl reads the collection that is to hold p.
func parentColl(q querier, p catalog.Path) (catalog.Collection, error) {
	parent := p.Parent()
	c, ok, err := lookupColl(q, parent)
	if err != nil || ok {
		return c, err
	}
	if _, isObj, err := lookupObj(q, parent); err != nil {
		return c, err
	} else if isObj {
		return c, fmt.Errorf("parent %s: %w", parent, catalog.ErrNotCollection)
	}
	return c, fmt.Errorf("parent collection %s: %w", parent, catalog.ErrNotFound)
}

// existsAt reports whether a collection or a data object is at p.
func existsAt(q querier, p catalog.Path) (bool, error) {
	if _, ok, err := lookupColl(q, p); err != nil || ok {
		return ok, err
	}
	_, ok, err := lookupObj(q, p)
	return ok, err
}

func loadACL(q querier, kind string, id catalog.ID) ([]catalog.ACE, error) {
	// kind is one of two constants: a literal keeps the plan fixed.
	rows, err := q.query(`SELECT user_name, user_zone, level FROM access
		WHERE kind = '`+kind+`' AND target_id = ?`, int64(id))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var acl []catalog.ACE
	for rows.Next() {
		var a catalog.ACE
		if err := rows.Scan(&a.Principal.Name, &a.Principal.Zone, &a.Level); err != nil {
			return nil, err
		}
		acl = append(acl, a)
	}
	sortACL(acl)
	return acl, rows.Err()
}

// sortACL orders grants by principal name, then zone.
func sortACL(acl []catalog.ACE) {
	slices.SortFunc(acl, func(a, b catalog.ACE) int {
		return cmp.Or(strings.Compare(a.Principal.Name, b.Principal.Name), strings.Compare(a.Principal.Zone, b.Principal.Zone))
	})
}

// sortReplicas orders replicas by object, then number.
func sortReplicas(rs []catalog.Replica) {
	slices.SortFunc(rs, func(a, b catalog.Replica) int {
		return cmp.Or(cmp.Compare(a.ObjectID, b.ObjectID), cmp.Compare(a.Number, b.Number))
	})
}

func loadReplicas(q querier, id catalog.ID) ([]catalog.Replica, error) {
	rs, err := collectReplicas(q.query(`SELECT `+replCols+` FROM replicas r WHERE r.object_id = ?`, int64(id)))
	sortReplicas(rs)
	return rs, err
}

func fillColl(q querier, c *catalog.Collection) (err error) {
	c.ACL, err = loadACL(q, kindCollection, c.ID)
	return err
}

func fillObj(q querier, o *catalog.DataObject) (err error) {
	if o.ACL, err = loadACL(q, kindObject, o.ID); err != nil {
		return err
	}
	o.Replicas, err = loadReplicas(q, o.ID)
	return err
}

// inheritACL copies the ACL of parent to the new collection or data object
// id when parent inherits, as iRODS does at creation time.
func inheritACL(q querier, parent catalog.Collection, kind string, id catalog.ID) error {
	if !parent.Inherit {
		return nil
	}
	_, err := q.exec(`INSERT INTO access (kind, target_id, user_name, user_zone, level)
		SELECT '`+kind+`', ?, user_name, user_zone, level FROM access
		WHERE kind = 'collection' AND target_id = ?`, int64(id), int64(parent.ID))
	return err
}

func grant(q querier, kind string, id catalog.ID, u catalog.UserID, level catalog.AccessLevel) error {
	_, err := q.exec(`INSERT INTO access (kind, target_id, user_name, user_zone, level)
		VALUES ('`+kind+`', ?, ?, ?, ?)
		ON CONFLICT (kind, target_id, user_name, user_zone) DO UPDATE SET level = excluded.level`,
		int64(id), u.Name, u.Zone, int(level))
	return err
}

// Stat returns the collection or data object at p.
func (c *Catalog) Stat(ctx context.Context, p catalog.Path) (catalog.Entry, error) {
	if err := catalog.CheckPath(p); err != nil {
		return catalog.Entry{}, fmt.Errorf("stat: %w", err)
	}
	var e catalog.Entry
	err := c.read(ctx, func(q *rtx) error {
		if coll, ok, err := lookupColl(q, p); err != nil {
			return err
		} else if ok {
			e.Collection = &coll
			return fillColl(q, e.Collection)
		}
		o, ok, err := lookupObj(q, p)
		if err != nil {
			return err
		}
		if !ok {
			return catalog.ErrNotFound
		}
		e.Object = &o
		return fillObj(q, e.Object)
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
	err := c.read(ctx, func(q *rtx) error {
		var err error
		coll, err = collAt(q, p)
		if err != nil {
			return err
		}
		return fillColl(q, &coll)
	})
	if err != nil {
		return catalog.Collection{}, fmt.Errorf("collection %s: %w", p, err)
	}
	return coll, nil
}

// collAt reads the collection at p, telling a missing one from a data object.
func collAt(q querier, p catalog.Path) (catalog.Collection, error) {
	coll, ok, err := lookupColl(q, p)
	if err != nil || ok {
		return coll, err
	}
	if _, isObj, err := lookupObj(q, p); err != nil {
		return coll, err
	} else if isObj {
		return coll, catalog.ErrNotCollection
	}
	return coll, catalog.ErrNotFound
}

// objAt reads the data object at p, telling a missing one from a collection.
func objAt(q querier, p catalog.Path) (catalog.DataObject, error) {
	o, ok, err := lookupObj(q, p)
	if err != nil || ok {
		return o, err
	}
	if _, isColl, err := lookupColl(q, p); err != nil {
		return o, err
	} else if isColl {
		return o, catalog.ErrNotDataObject
	}
	return o, catalog.ErrNotFound
}

// DataObject returns the data object at p with its ACL and replicas.
func (c *Catalog) DataObject(ctx context.Context, p catalog.Path) (catalog.DataObject, error) {
	if err := catalog.CheckPath(p); err != nil {
		return catalog.DataObject{}, fmt.Errorf("data object: %w", err)
	}
	var o catalog.DataObject
	err := c.read(ctx, func(q *rtx) error {
		var err error
		if o, err = objAt(q, p); err != nil {
			return err
		}
		return fillObj(q, &o)
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
	err := c.write(ctx, func(w *wtx) error {
		parent, err := parentColl(w, p)
		if err != nil {
			return err
		}
		if exists, err := existsAt(w, p); err != nil {
			return err
		} else if exists {
			return catalog.ErrExists
		}
		t, n := now()
		res, err := w.exec(`INSERT INTO collections (path, parent_id, name, owner_name, owner_zone, create_ns, modify_ns, inherit,
				ret_default_mode, ret_default_period)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.String(), int64(parent.ID), p.Name(), in.Owner.Name, in.Owner.Zone, n, n, parent.Inherit,
			string(parent.Retention.Mode), parent.Retention.Period.String())
		if err != nil {
			return mapErr("insert", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if err := inheritACL(w, parent, kindCollection, catalog.ID(id)); err != nil {
			return err
		}
		if err := grant(w, kindCollection, catalog.ID(id), in.Owner, catalog.AccessOwn); err != nil {
			return err
		}
		out = catalog.Collection{
			ID: catalog.ID(id), Path: p, Owner: in.Owner, CreateTime: t, ModifyTime: t, Inherit: parent.Inherit,
			Retention: parent.Retention,
		}
		out.ACL, err = loadACL(w, kindCollection, out.ID)
		return err
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
	err := c.read(ctx, func(q *rtx) error {
		parent, err := collAt(q, coll)
		if err != nil {
			return err
		}
		// The page with its replicas in one query, the ACLs in another:
		// SQLite's cost here is mostly per column read, so the object
		// columns are not read twice.
		rows, err := q.query(`SELECT `+objCols+`,
				COALESCE(r.number, -1), COALESCE(r.resource, ''), COALESCE(r.physical_path, ''),
				COALESCE(r.size, 0), COALESCE(r.checksum, ''), COALESCE(r.status, 0),
				COALESCE(r.lock_holder, ''), COALESCE(r.lease_expiry_ns, 0),
				COALESCE(r.create_ns, 0), COALESCE(r.modify_ns, 0)
			FROM (SELECT * FROM data_objects WHERE coll_id = ? AND name > ? ORDER BY name LIMIT ?) o
			LEFT JOIN replicas r ON r.object_id = o.id`, int64(parent.ID), after, limit)
		if err != nil {
			return err
		}
		byID := map[catalog.ID]int{}
		for rows.Next() {
			var (
				o                  catalog.DataObject
				id                 int64
				name, oname, ozone string
				ocr, omo           int64
				lk                 lockDest
				r                  catalog.Replica
				status             int
				lease, rcr, rmo    int64
			)
			dest := append([]any{&id, &name, &oname, &ozone, &ocr, &omo}, lk.dest()...)
			err := rows.Scan(append(dest, &r.Number, &r.Resource, &r.PhysicalPath, &r.Size, &r.Checksum, &status,
				&r.LockHolder, &lease, &rcr, &rmo)...)
			if err != nil {
				rows.Close()
				return err
			}
			i, seen := byID[catalog.ID(id)]
			if !seen {
				p, err := coll.Join(name)
				if err != nil {
					rows.Close()
					return fmt.Errorf("stored object name: %w", err)
				}
				o.ID, o.Path = catalog.ID(id), p
				o.Owner = catalog.UserID{Name: oname, Zone: ozone}
				o.CreateTime, o.ModifyTime = fromNanos(ocr), fromNanos(omo)
				o.Lock = lk.lock()
				i = len(out)
				byID[o.ID] = i
				out = append(out, o)
			}
			if r.Number >= 0 {
				r.ObjectID, r.Status = catalog.ID(id), catalog.ReplicaStatus(status)
				r.LeaseExpiry, r.CreateTime, r.ModifyTime = fromNanos(lease), fromNanos(rcr), fromNanos(rmo)
				out[i].Replicas = append(out[i].Replicas, r)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(out) == 0 {
			return err
		}
		slices.SortFunc(out, func(a, b catalog.DataObject) int { return strings.Compare(a.Path.Name(), b.Path.Name()) })
		for i := range out {
			byID[out[i].ID] = i
			sortReplicas(out[i].Replicas)
		}
		last := out[len(out)-1].Path.Name()
		rows, err = q.query(`SELECT a.target_id, a.user_name, a.user_zone, a.level
			FROM data_objects o JOIN access a ON a.kind = 'object' AND a.target_id = o.id
			WHERE o.coll_id = ? AND o.name > ? AND o.name <= ?`,
			int64(parent.ID), after, last)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id int64
				a  catalog.ACE
			)
			if err := rows.Scan(&id, &a.Principal.Name, &a.Principal.Zone, &a.Level); err != nil {
				return err
			}
			if i, ok := byID[catalog.ID(id)]; ok {
				out[i].ACL = append(out[i].ACL, a)
			}
		}
		for i := range out {
			sortACL(out[i].ACL)
		}
		return rows.Err()
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
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
	err := c.read(ctx, func(q *rtx) error {
		parent, err := collAt(q, coll)
		if err != nil {
			return err
		}
		rows, err := q.query(`SELECT `+collCols+` FROM collections
			WHERE parent_id = ? AND name > ? ORDER BY name LIMIT ?`, int64(parent.ID), after, limit)
		if err != nil {
			return err
		}
		byID := map[catalog.ID]int{}
		for rows.Next() {
			sub, err := scanColl(rows)
			if err != nil {
				rows.Close()
				return err
			}
			byID[sub.ID] = len(out)
			out = append(out, sub)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(out) == 0 {
			return err
		}
		last := out[len(out)-1].Path.Name()
		rows, err = q.query(`SELECT target_id, user_name, user_zone, level FROM access
			WHERE kind = 'collection' AND target_id IN (
				SELECT id FROM collections WHERE parent_id = ? AND name > ? AND name <= ?)
			ORDER BY target_id, user_name, user_zone`,
			int64(parent.ID), after, last)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id int64
				a  catalog.ACE
			)
			if err := rows.Scan(&id, &a.Principal.Name, &a.Principal.Zone, &a.Level); err != nil {
				return err
			}
			if i, ok := byID[catalog.ID(id)]; ok {
				out[i].ACL = append(out[i].ACL, a)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// subtree is the WHERE condition on a collections alias that selects the
// collection at a path and everything below it; its arguments come from
// subtreeArgs. '0' is the byte after '/', so the range is exactly the paths
// that start with path + "/".
func subtree(alias string) string {
	return `(` + alias + `.path = ? OR (` + alias + `.path > ? AND ` + alias + `.path < ?))`
}

func subtreeArgs(p catalog.Path) []any {
	s := p.String()
	return []any{s, s + "/", s + "0"}
}

// Rename moves a data object or a collection tree from from to to.
func (c *Catalog) Rename(ctx context.Context, from, to catalog.Path) error {
	fail := func(err error) error {
		return fmt.Errorf("rename %s to %s: %w", from, to, err)
	}
	if err := catalog.CheckRename(from, to); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(w *wtx) error {
		coll, isColl, err := lookupColl(w, from)
		if err != nil {
			return err
		}
		var obj catalog.DataObject
		if !isColl {
			var ok bool
			if obj, ok, err = lookupObj(w, from); err != nil {
				return err
			} else if !ok {
				return catalog.ErrNotFound
			}
		}
		if exists, err := existsAt(w, to); err != nil {
			return err
		} else if exists {
			return fmt.Errorf("%s: %w", to, catalog.ErrExists)
		}
		if isColl && to.HasPrefix(from) {
			return invalid("cannot move a collection below itself")
		}
		_, nowNS := now()
		if !isColl {
			if err := obj.Lock.Refuse(from, fromNanos(nowNS), "moved or renamed"); err != nil {
				return err
			}
		} else if err := retainedIn(w, from, nowNS, "moved or renamed"); err != nil {
			return err
		}
		parent, err := parentColl(w, to)
		if err != nil {
			return err
		}
		if !isColl {
			_, err := w.exec(`UPDATE data_objects SET coll_id = ?, name = ? WHERE id = ?`,
				int64(parent.ID), to.Name(), int64(obj.ID))
			return mapErr("update data object", err)
		}
		if _, err := w.exec(`UPDATE collections SET parent_id = ?, name = ? WHERE id = ?`,
			int64(parent.ID), to.Name(), int64(coll.ID)); err != nil {
			return mapErr("update collection", err)
		}
		// Rewrite the paths of the whole tree. Substring on a blob counts
		// bytes, as len does, where on text it would count characters.
		args := append([]any{to.String(), len(from.String()) + 1}, subtreeArgs(from)...)
		_, err = w.exec(`UPDATE collections AS c
			SET path = ? || CAST(substr(CAST(c.path AS BLOB), ?) AS TEXT)
			WHERE `+subtree("c"), args...)
		if err != nil {
			return mapErr("update paths", err)
		}
		// The usage below quota collections moved with the tree, which
		// the triggers do not follow: count again (only when quotas exist).
		return recountCollections(w, `1`)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// lockedObj reports, with ErrLocked, an unexpired intermediate replica of
// the data object o.
func lockedObj(w *wtx, o catalog.DataObject, nowNS int64) error {
	var (
		num    int
		holder string
		until  int64
	)
	err := w.queryRow(`SELECT number, lock_holder, lease_expiry_ns FROM replicas
		WHERE object_id = ? AND status = 0 AND lease_expiry_ns > ? LIMIT 1`, int64(o.ID), nowNS).
		Scan(&num, &holder, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("replica %d of %s is being written by %s until %s: %w",
		num, o.Path, holder, fromNanos(until).Format("2006-01-02T15:04:05Z07:00"), catalog.ErrLocked)
}

// lockedIn reports, with ErrLocked, an unexpired intermediate replica of the
// data objects that cond selects (on data_objects o and their collections c).
func lockedIn(w *wtx, cond string, nowNS int64, args ...any) error {
	var (
		holder string
		until  int64
		num    int
		path   string
		name   string
	)
	args = append(args, nowNS)
	err := w.queryRow(`SELECT c.path, o.name, r.number, r.lock_holder, r.lease_expiry_ns
		FROM data_objects o JOIN collections c ON c.id = o.coll_id
		JOIN replicas r ON r.object_id = o.id
		WHERE `+cond+` AND r.status = 0 AND r.lease_expiry_ns > ? LIMIT 1`, args...).
		Scan(&path, &name, &num, &holder, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("replica %d of %s/%s is being written by %s until %s: %w",
		num, path, name, holder, fromNanos(until).Format("2006-01-02T15:04:05Z07:00"), catalog.ErrLocked)
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
	err := c.write(ctx, func(w *wtx) error {
		o, err := objAt(w, p)
		if err != nil {
			return err
		}
		t, n := now()
		if err := lockedObj(w, o, n); err != nil {
			return err
		}
		if err := o.Lock.Refuse(p, t, "removed"); err != nil {
			return err
		}
		if out, err = loadReplicas(w, o.ID); err != nil {
			return err
		}
		return deleteObject(w, o.ID)
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

func deleteObject(w *wtx, id catalog.ID) error {
	if _, err := w.exec(`DELETE FROM replicas WHERE object_id = ?`, int64(id)); err != nil {
		return err
	}
	if _, err := w.exec(`DELETE FROM access WHERE kind = 'object' AND target_id = ?`, int64(id)); err != nil {
		return err
	}
	if _, err := w.exec(`DELETE FROM avus WHERE kind = 'object' AND target_id = ?`, int64(id)); err != nil {
		return err
	}
	if _, err := w.exec(`DELETE FROM qos_requirements WHERE kind = 'object' AND target_id = ?`, int64(id)); err != nil {
		return err
	}
	if err := deleteTicketsOf(w, kindObject, `= ?`, int64(id)); err != nil {
		return err
	}
	_, err := w.exec(`DELETE FROM data_objects WHERE id = ?`, int64(id))
	return err
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
	err := c.write(ctx, func(w *wtx) error {
		coll, err := collAt(w, p)
		if err != nil {
			return err
		}
		if !recursive {
			var n int
			err := w.queryRow(`SELECT (SELECT count(*) FROM (SELECT 1 FROM collections WHERE parent_id = ? LIMIT 1))
				+ (SELECT count(*) FROM (SELECT 1 FROM data_objects WHERE coll_id = ? LIMIT 1))`,
				int64(coll.ID), int64(coll.ID)).Scan(&n)
			if err != nil {
				return err
			}
			if n > 0 {
				return catalog.ErrNotEmpty
			}
		} else {
			_, n := now()
			if err := lockedIn(w, subtree("c"), n, subtreeArgs(p)...); err != nil {
				return err
			}
			if err := retainedIn(w, p, n, "removed"); err != nil {
				return err
			}
			out, err = collectReplicas(w.query(`SELECT `+replCols+`
				FROM collections c JOIN data_objects o ON o.coll_id = c.id JOIN replicas r ON r.object_id = o.id
				WHERE `+subtree("c")+` ORDER BY c.path, o.name, r.number`, subtreeArgs(p)...))
			if err != nil {
				return err
			}
			objects := `SELECT o.id FROM collections c JOIN data_objects o ON o.coll_id = c.id WHERE ` + subtree("c")
			colls := `SELECT c.id FROM collections c WHERE ` + subtree("c")
			for _, stmt := range []string{
				`DELETE FROM replicas WHERE object_id IN (` + objects + `)`,
				`DELETE FROM access WHERE kind = 'object' AND target_id IN (` + objects + `)`,
				`DELETE FROM avus WHERE kind = 'object' AND target_id IN (` + objects + `)`,
				`DELETE FROM qos_requirements WHERE kind = 'object' AND target_id IN (` + objects + `)`,
				`DELETE FROM ticket_allowed WHERE ticket_id IN (SELECT id FROM tickets WHERE kind = 'object' AND target_id IN (` + objects + `))`,
				`DELETE FROM tickets WHERE kind = 'object' AND target_id IN (` + objects + `)`,
				`DELETE FROM data_objects WHERE coll_id IN (` + colls + `)`,
				`DELETE FROM access WHERE kind = 'collection' AND target_id IN (` + colls + `)`,
				`DELETE FROM avus WHERE kind = 'collection' AND target_id IN (` + colls + `)`,
				`DELETE FROM qos_requirements WHERE kind = 'collection' AND target_id IN (` + colls + `)`,
				`DELETE FROM ticket_allowed WHERE ticket_id IN (SELECT id FROM tickets WHERE kind = 'collection' AND target_id IN (` + colls + `))`,
				`DELETE FROM tickets WHERE kind = 'collection' AND target_id IN (` + colls + `)`,
				`DELETE FROM quotas WHERE kind = 'collection' AND coll_id IN (` + colls + `)`,
				`DELETE FROM usage_coll WHERE coll_id IN (` + colls + `)`,
			} {
				if _, err := w.exec(stmt, subtreeArgs(p)...); err != nil {
					return err
				}
			}
			if _, err := w.exec(`DELETE FROM collections AS c WHERE `+subtree("c"), subtreeArgs(p)...); err != nil {
				return err
			}
			return nil
		}
		if _, err := w.exec(`DELETE FROM access WHERE kind = 'collection' AND target_id = ?`, int64(coll.ID)); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM avus WHERE kind = 'collection' AND target_id = ?`, int64(coll.ID)); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM qos_requirements WHERE kind = 'collection' AND target_id = ?`, int64(coll.ID)); err != nil {
			return err
		}
		if err := deleteTicketsOf(w, kindCollection, `= ?`, int64(coll.ID)); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM quotas WHERE kind = 'collection' AND coll_id = ?`, int64(coll.ID)); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM usage_coll WHERE coll_id = ?`, int64(coll.ID)); err != nil {
			return err
		}
		_, err = w.exec(`DELETE FROM collections WHERE id = ?`, int64(coll.ID))
		return err
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
	err := c.write(ctx, func(w *wtx) error {
		coll, err := collAt(w, p)
		if err != nil {
			return err
		}
		_, err = w.exec(`UPDATE collections SET inherit = ? WHERE id = ?`, inherit, int64(coll.ID))
		return err
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
	err := c.write(ctx, func(w *wtx) error {
		kind, id := kindCollection, catalog.ID(0)
		if coll, ok, err := lookupColl(w, p); err != nil {
			return err
		} else if ok {
			id = coll.ID
		} else if o, ok, err := lookupObj(w, p); err != nil {
			return err
		} else if ok {
			kind, id = kindObject, o.ID
		} else {
			return catalog.ErrNotFound
		}
		if level == catalog.AccessNull {
			_, err := w.exec(`DELETE FROM access WHERE kind = '`+kind+`' AND target_id = ? AND user_name = ? AND user_zone = ?`,
				int64(id), principal.Name, principal.Zone)
			return err
		}
		return mapErr("grant", grant(w, kind, id, principal, level))
	})
	if err != nil {
		return fail(err)
	}
	return nil
}
