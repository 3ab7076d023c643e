package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// quotaCols read a quota with its usage and, for a collection, its path
// (NULL when the collection is gone).
const quotaCols = `q.kind, q.name, q.zone, q.resource, q.max_bytes, q.max_objects,
	CASE q.kind
		WHEN 'user' THEN coalesce((SELECT u.bytes FROM usage_owner u
			WHERE u.owner_name = q.name AND u.owner_zone = q.zone AND u.resource = q.resource), 0)
		WHEN 'group' THEN coalesce((SELECT sum(u.bytes) FROM users g JOIN group_members gm ON gm.group_id = g.id
			JOIN users m ON m.id = gm.user_id JOIN usage_owner u ON u.owner_name = m.name AND u.owner_zone = m.zone AND u.resource = q.resource
			WHERE g.name = q.name AND g.zone = q.zone), 0)
		ELSE coalesce((SELECT bytes FROM usage_coll WHERE coll_id = q.coll_id), 0) END,
	CASE q.kind
		WHEN 'user' THEN coalesce((SELECT u.objects FROM usage_owner u
			WHERE u.owner_name = q.name AND u.owner_zone = q.zone AND u.resource = q.resource), 0)
		WHEN 'group' THEN coalesce((SELECT sum(u.objects) FROM users g JOIN group_members gm ON gm.group_id = g.id
			JOIN users m ON m.id = gm.user_id JOIN usage_owner u ON u.owner_name = m.name AND u.owner_zone = m.zone AND u.resource = q.resource
			WHERE g.name = q.name AND g.zone = q.zone), 0)
		ELSE coalesce((SELECT objects FROM usage_coll WHERE coll_id = q.coll_id), 0) END,
	CASE q.kind WHEN 'collection' THEN (SELECT path FROM collections WHERE id = q.coll_id) ELSE '' END`

// quotasForWhere selects the quotas a replica owned by (?, ?) in the
// collection at path ? on resource ? counts against.
const quotasForWhere = `(q.resource = '' OR q.resource = ?4) AND (
	(q.kind = 'user' AND q.name = ?1 AND q.zone = ?2)
	OR (q.kind = 'group' AND EXISTS (SELECT 1 FROM users g JOIN group_members gm ON gm.group_id = g.id
		JOIN users me ON me.id = gm.user_id WHERE g.name = q.name AND g.zone = q.zone AND me.name = ?1 AND me.zone = ?2))
	OR (q.kind = 'collection' AND EXISTS (SELECT 1 FROM collections qc WHERE qc.id = q.coll_id
		AND (qc.path = '/' OR qc.path = ?3 OR substr(?3, 1, length(qc.path) + 1) = qc.path || '/'))))`

func collectQuotas(rows *sql.Rows, err error) ([]catalog.Quota, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.Quota
	for rows.Next() {
		var (
			q          catalog.Quota
			kind, name string
			zone       string
			path       sql.NullString
		)
		if err := rows.Scan(&kind, &name, &zone, &q.Resource, &q.MaxBytes, &q.MaxObjects, &q.UsedBytes, &q.UsedObjects, &path); err != nil {
			return nil, err
		}
		q.Kind = catalog.QuotaKind(kind)
		if q.Kind == catalog.QuotaCollection {
			if !path.Valid {
				continue // its collection is gone
			}
			if q.Path, err = catalog.ParsePath(path.String); err != nil {
				return nil, err
			}
		} else {
			q.Principal = catalog.UserID{Name: name, Zone: zone}
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

func quotasFor(q querier, owner catalog.UserID, collPath, resource string) ([]catalog.Quota, error) {
	// Most zones have no quota at all, and this driver parses every query it
	// runs: a trivial query first spares each put the parse of the big one
	// (once before the bytes and once in the writer at commit).
	if ok, err := anyQuota(q); err != nil || !ok {
		return nil, err
	}
	return collectQuotas(q.query(`SELECT `+quotaCols+` FROM quotas q WHERE `+quotasForWhere+`
		ORDER BY q.kind, q.name, q.zone, q.coll_id, q.resource`, owner.Name, owner.Zone, collPath, resource))
}

// anyQuota reports whether the zone has a quota at all.
func anyQuota(q querier) (bool, error) {
	var ok bool
	err := q.queryRow(`SELECT EXISTS (SELECT 1 FROM quotas)`).Scan(&ok)
	return ok, err
}

// SetQuota sets or removes a quota.
func (c *Catalog) SetQuota(ctx context.Context, q catalog.Quota) error {
	fail := func(err error) error { return fmt.Errorf("set quota of %s: %w", q.Name(), err) }
	if err := q.Validate(); err != nil {
		return fail(err)
	}
	remove := q.MaxBytes == 0 && q.MaxObjects == 0
	if !remove {
		c.mayHaveQuotas.Store(true)
	}
	err := c.write(ctx, func(w *wtx) error {
		var (
			name, zone string
			collID     int64
		)
		// q.Validate let no other kind through.
		switch q.Kind {
		case catalog.QuotaUser, catalog.QuotaGroup:
			_, typ, err := userRow(w, q.Principal)
			if err != nil {
				return err
			}
			if (typ == catalog.UserTypeGroup) != (q.Kind == catalog.QuotaGroup) {
				return invalid("%s is a %s, not a %s", q.Principal, typ, q.Kind)
			}
			name, zone = q.Principal.Name, q.Principal.Zone
			if q.Resource != "" {
				var id int64
				if err := w.queryRow(`SELECT id FROM resources WHERE name = ?`, q.Resource).Scan(&id); errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("resource %s: %w", q.Resource, catalog.ErrNotFound)
				} else if err != nil {
					return err
				}
			}
		case catalog.QuotaCollection:
			coll, err := collAt(w, q.Path)
			if err != nil {
				return err
			}
			collID = int64(coll.ID)
		}
		if remove {
			_, err := w.exec(`DELETE FROM quotas WHERE kind = ? AND name = ? AND zone = ? AND coll_id = ? AND resource = ?`,
				string(q.Kind), name, zone, collID, q.Resource)
			if err == nil && collID != 0 {
				_, err = w.exec(`DELETE FROM usage_coll WHERE coll_id = ?`, collID)
			}
			return err
		}
		if _, err := w.exec(`INSERT INTO quotas (kind, name, zone, coll_id, resource, max_bytes, max_objects) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET max_bytes = excluded.max_bytes, max_objects = excluded.max_objects`,
			string(q.Kind), name, zone, collID, q.Resource, q.MaxBytes, q.MaxObjects); err != nil {
			return err
		}
		if collID != 0 {
			// Counted once here; the triggers keep it from now on.
			if _, err := w.exec(`INSERT OR IGNORE INTO usage_coll (coll_id, bytes, objects) VALUES (?, 0, 0)`, collID); err != nil {
				return err
			}
			return recountCollections(w, `coll_id = ?`, collID)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// recountCollectionsSQL counts again the usage below the quota collections
// that the condition appended selects: the bytes of replicas that are not
// intermediate, and the data objects that have one (see migration 12).
const recountCollectionsSQL = `UPDATE usage_coll AS u SET
		bytes = coalesce((SELECT sum(r.size) FROM collections qc, collections c JOIN data_objects o ON o.coll_id = c.id JOIN replicas r ON r.object_id = o.id
			WHERE qc.id = u.coll_id AND r.status <> 0 AND (c.id = qc.id OR qc.path = '/' OR (c.path > qc.path || '/' AND c.path < qc.path || '0'))), 0),
		objects = coalesce((SELECT count(*) FROM collections qc, collections c JOIN data_objects o ON o.coll_id = c.id
			WHERE qc.id = u.coll_id AND (c.id = qc.id OR qc.path = '/' OR (c.path > qc.path || '/' AND c.path < qc.path || '0'))
			AND EXISTS (SELECT 1 FROM replicas r WHERE r.object_id = o.id AND r.status <> 0)), 0)
		WHERE `

// recountCollections counts again the usage below the quota collections
// that cond (on usage_coll) selects: when a quota is set, and after a
// collection moved, which the triggers do not follow.
func recountCollections(w *wtx, cond string, args ...any) error {
	_, err := w.exec(recountCollectionsSQL+cond, args...)
	return err
}

// ListQuotas returns every quota with its usage.
func (c *Catalog) ListQuotas(ctx context.Context) ([]catalog.Quota, error) {
	var out []catalog.Quota
	err := c.read(ctx, func(r *rtx) (err error) {
		out, err = collectQuotas(r.query(`SELECT ` + quotaCols + ` FROM quotas q ORDER BY q.kind, q.name, q.zone, q.coll_id, q.resource`))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list quotas: %w", err)
	}
	sortQuotas(out)
	return out, nil
}

func sortQuotas(qs []catalog.Quota) {
	// Collections by path (the query orders them by id).
	key := func(q catalog.Quota) string {
		return string(q.Kind) + "\x00" + q.Principal.Name + "\x00" + q.Principal.Zone + "\x00" + q.Path.String() + "\x00" + q.Resource
	}
	for i := 1; i < len(qs); i++ {
		for j := i; j > 0 && strings.Compare(key(qs[j-1]), key(qs[j])) > 0; j-- {
			qs[j-1], qs[j] = qs[j], qs[j-1]
		}
	}
}

// QuotasFor returns the quotas a replica by owner at p on resource counts against.
func (c *Catalog) QuotasFor(ctx context.Context, owner catalog.UserID, p catalog.Path, resource string) ([]catalog.Quota, error) {
	if !c.mayHaveQuotas.Load() {
		return nil, nil
	}
	var out []catalog.Quota
	err := c.read(ctx, func(r *rtx) (err error) {
		out, err = quotasFor(r, owner, p.Parent().String(), resource)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("quotas for %s: %w", p, err)
	}
	sortQuotas(out)
	return out, nil
}

// checkQuotas refuses a commit that took a quota of the object id on
// resource past its limit: grewBytes says whether the commit added bytes,
// newObject whether the data object counts from now on (its first replica
// that is not intermediate), newReplica whether resource holds one more
// counted replica (none was superseded there). It runs after the commit's
// changes, which the triggers have counted: puts in progress count
// nothing, and commits, one at a time in the single writer, never pass a
// limit together.
func checkQuotas(w *wtx, id int64, resource string, grewBytes, newObject, newReplica bool) error {
	if !grewBytes && !newObject && !newReplica {
		return nil
	}
	if ok, err := anyQuota(w); err != nil || !ok {
		return err
	}
	var (
		owner catalog.UserID
		coll  string
	)
	if err := w.queryRow(`SELECT o.owner_name, o.owner_zone, c.path FROM data_objects o JOIN collections c ON c.id = o.coll_id WHERE o.id = ?`,
		id).Scan(&owner.Name, &owner.Zone, &coll); err != nil {
		return err
	}
	qs, err := quotasFor(w, owner, coll, resource)
	if err != nil {
		return err
	}
	for _, q := range qs {
		// A quota on one resource counts replicas on it as its objects.
		moreObjects := newObject
		if q.Resource != "" {
			moreObjects = newReplica
		}
		switch {
		case grewBytes && q.MaxBytes > 0 && q.UsedBytes > q.MaxBytes:
			return fmt.Errorf("%w: %s: %d bytes would be used, limit %d", catalog.ErrQuotaExceeded, q.Name(), q.UsedBytes, q.MaxBytes)
		case moreObjects && q.MaxObjects > 0 && q.UsedObjects > q.MaxObjects:
			return fmt.Errorf("%w: %s: %d data objects would be used, limit %d", catalog.ErrQuotaExceeded, q.Name(), q.UsedObjects, q.MaxObjects)
		}
	}
	return nil
}
