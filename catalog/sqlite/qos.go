package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// The QoS requirements of collections and data objects (catalog.QoS):
// rows of qos_requirements (migration 19) that name their target by kind
// and id, so that they follow it through renames; the transactions that
// remove a target remove its requirements.

// qosSelect reads requirements with their target's path: %s is the WHERE
// condition, on q (the requirement), c (the collection) and o (the data
// object, or NULLs).
const qosSelect = `SELECT q.id, q.kind, q.expr, q.replicas, q.creator_name, q.creator_zone, q.create_ns, c.path, COALESCE(o.name, '')
	FROM qos_requirements q
	LEFT JOIN data_objects o ON q.kind = 'object' AND o.id = q.target_id
	JOIN collections c ON c.id = CASE q.kind WHEN 'object' THEN o.coll_id ELSE q.target_id END
	WHERE %s`

func scanQoS(rows *sql.Rows) ([]catalog.QoSRequirement, error) {
	defer rows.Close()
	var out []catalog.QoSRequirement
	for rows.Next() {
		var (
			r               catalog.QoSRequirement
			id, created     int64
			kind, coll, obj string
		)
		if err := rows.Scan(&id, &kind, &r.Expr, &r.Replicas, &r.Creator.Name, &r.Creator.Zone, &created, &coll, &obj); err != nil {
			return nil, err
		}
		r.ID, r.CreateTime, r.Collection = catalog.ID(id), fromNanos(created), kind == kindCollection
		p := coll
		if !r.Collection {
			p = strings.TrimSuffix(coll, "/") + "/" + obj
		}
		var err error
		if r.Path, err = catalog.ParsePath(p); err != nil {
			return nil, fmt.Errorf("qos requirement %d: %w", id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	catalog.SortQoSRequirements(out)
	return out, nil
}

func qosWhere(q querier, where string, args ...any) ([]catalog.QoSRequirement, error) {
	rows, err := q.query(fmt.Sprintf(qosSelect, where), args...)
	if err != nil {
		return nil, err
	}
	return scanQoS(rows)
}

// AddQoSRequirement stores a requirement on a collection or data object.
func (c *Catalog) AddQoSRequirement(ctx context.Context, r catalog.QoSRequirement) (catalog.QoSRequirement, error) {
	fail := func(err error) (catalog.QoSRequirement, error) {
		return catalog.QoSRequirement{}, fmt.Errorf("add qos requirement on %s: %w", r.Path, err)
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(w *wtx) error {
		kind, target := kindCollection, int64(0)
		if coll, ok, err := lookupColl(w, r.Path); err != nil {
			return err
		} else if ok {
			target = int64(coll.ID)
		} else if obj, ok, err := lookupObj(w, r.Path); err != nil {
			return err
		} else if ok {
			kind, target = kindObject, int64(obj.ID)
		} else {
			return catalog.ErrNotFound
		}
		t, n := now()
		res, err := w.exec(`INSERT INTO qos_requirements (kind, target_id, expr, replicas, creator_name, creator_zone, create_ns)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, kind, target, r.Expr, r.Replicas, r.Creator.Name, r.Creator.Zone, n)
		if err != nil {
			return mapErr(fmt.Sprintf("requirement %q", r.Expr), err)
		}
		id, err := res.LastInsertId()
		r.ID, r.CreateTime, r.Collection = catalog.ID(id), t, kind == kindCollection
		return err
	})
	if err != nil {
		return fail(err)
	}
	return r, nil
}

// QoSRequirement returns one requirement.
func (c *Catalog) QoSRequirement(ctx context.Context, id catalog.ID) (catalog.QoSRequirement, error) {
	var out []catalog.QoSRequirement
	err := c.read(ctx, func(q *rtx) (err error) {
		out, err = qosWhere(q, `q.id = ?`, int64(id))
		return err
	})
	if err == nil && len(out) == 0 {
		err = catalog.ErrNotFound
	}
	if err != nil {
		return catalog.QoSRequirement{}, fmt.Errorf("qos requirement %d: %w", id, err)
	}
	return out[0], nil
}

// RemoveQoSRequirement deletes one requirement; no replica goes with it.
func (c *Catalog) RemoveQoSRequirement(ctx context.Context, id catalog.ID) (catalog.QoSRequirement, error) {
	var out []catalog.QoSRequirement
	err := c.write(ctx, func(w *wtx) (err error) {
		if out, err = qosWhere(w, `q.id = ?`, int64(id)); err != nil {
			return err
		}
		if len(out) == 0 {
			return catalog.ErrNotFound
		}
		_, err = w.exec(`DELETE FROM qos_requirements WHERE id = ?`, int64(id))
		return err
	})
	if err != nil {
		return catalog.QoSRequirement{}, fmt.Errorf("remove qos requirement %d: %w", id, err)
	}
	return out[0], nil
}

// QoSRequirementsOn returns the requirements that apply to p.
func (c *Catalog) QoSRequirementsOn(ctx context.Context, p catalog.Path) ([]catalog.QoSRequirement, error) {
	if err := catalog.CheckPath(p); err != nil {
		return nil, fmt.Errorf("qos requirements on %s: %w", p, err)
	}
	above := catalog.PathsAbove(p)
	args := make([]any, 0, len(above)+2)
	marks := make([]string, 0, len(above))
	for _, a := range above {
		args = append(args, a.String())
		marks = append(marks, "?")
	}
	args = append(args, p.Parent().String(), p.Name())
	var out []catalog.QoSRequirement
	err := c.read(ctx, func(q *rtx) (err error) {
		// Asked on every trim and move: a zone without requirements
		// answers from one cached statement, not a join planned anew.
		var any int
		switch err := q.queryRow(`SELECT 1 FROM qos_requirements LIMIT 1`).Scan(&any); {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		out, err = qosWhere(q, `(q.kind = 'collection' AND c.path IN (`+strings.Join(marks, ",")+`))
			OR (q.kind = 'object' AND c.path = ? AND o.name = ?)`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("qos requirements on %s: %w", p, err)
	}
	return out, nil
}

// QoSRequirementsBelow returns the requirements on p and below it.
func (c *Catalog) QoSRequirementsBelow(ctx context.Context, p catalog.Path) ([]catalog.QoSRequirement, error) {
	if err := catalog.CheckPath(p); err != nil {
		return nil, fmt.Errorf("qos requirements below %s: %w", p, err)
	}
	args := append(subtreeArgs(p), p.Parent().String(), p.Name())
	if p.IsRoot() {
		args = []any{"/", "/", "0", "", ""}
	}
	var out []catalog.QoSRequirement
	err := c.read(ctx, func(q *rtx) (err error) {
		out, err = qosWhere(q, subtree("c")+` OR (q.kind = 'object' AND c.path = ? AND o.name = ?)`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("qos requirements below %s: %w", p, err)
	}
	return out, nil
}
