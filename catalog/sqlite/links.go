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

// entryAt resolves p to its kind in the links table and its id.
func entryAt(q querier, p catalog.Path) (string, int64, error) {
	if c, ok, err := lookupColl(q, p); err != nil {
		return "", 0, err
	} else if ok {
		return kindCollection, int64(c.ID), nil
	}
	o, ok, err := lookupObj(q, p)
	if err != nil {
		return "", 0, err
	}
	if !ok {
		return "", 0, fmt.Errorf("%s: %w", p, catalog.ErrNotFound)
	}
	return kindObject, int64(o.ID), nil
}

// AddLink records l.
func (c *Catalog) AddLink(ctx context.Context, l catalog.Link) error {
	if err := l.Validate(); err != nil {
		return err
	}
	err := c.write(ctx, func(w *wtx) error {
		fk, fid, err := entryAt(w, l.From)
		if err != nil {
			return err
		}
		tk, tid, err := entryAt(w, l.To)
		if err != nil {
			return err
		}
		_, err = w.exec(`INSERT INTO links (from_kind, from_id, relation, to_kind, to_id) VALUES (?, ?, ?, ?, ?)`,
			fk, fid, l.Relation, tk, tid)
		return mapErr("insert link", err)
	})
	if err != nil {
		return fmt.Errorf("add link %s: %w", l, err)
	}
	return nil
}

// RemoveLink removes l.
func (c *Catalog) RemoveLink(ctx context.Context, l catalog.Link) error {
	if err := l.Validate(); err != nil {
		return err
	}
	err := c.write(ctx, func(w *wtx) error {
		fk, fid, err := entryAt(w, l.From)
		if err != nil {
			return err
		}
		tk, tid, err := entryAt(w, l.To)
		if err != nil {
			return err
		}
		return affected(w.exec(`DELETE FROM links WHERE from_kind = ? AND from_id = ? AND relation = ? AND to_kind = ? AND to_id = ?`,
			fk, fid, l.Relation, tk, tid))
	})
	if err != nil {
		return fmt.Errorf("remove link %s: %w", l, err)
	}
	return nil
}

// linkEnd is one end of a stored link.
type linkEnd struct {
	kind string
	id   int64
}

// alive is SQL that is true when the entry (kind, id) of the columns k and
// i exists: a single-table lookup per kind, not a join with the entries
// view, which SQLite would materialize whole (every collection and data
// object) for each query.
func alive(k, i string) string {
	return `(CASE ` + k + ` WHEN 'collection' THEN EXISTS (SELECT 1 FROM collections WHERE id = ` + i + `)
		ELSE EXISTS (SELECT 1 FROM data_objects WHERE id = ` + i + `) END)`
}

// endPath is the path of a link's end; false when it is gone.
func endPath(q querier, e linkEnd) (catalog.Path, bool, error) {
	var (
		path string
		err  error
	)
	if e.kind == kindCollection {
		err = q.queryRow(`SELECT path FROM collections WHERE id = ?`, e.id).Scan(&path)
	} else {
		var coll, name string
		err = q.queryRow(`SELECT (SELECT path FROM collections WHERE id = o.coll_id), o.name FROM data_objects o WHERE o.id = ?`, e.id).Scan(&coll, &name)
		path = coll + "/" + name
		if coll == "/" {
			path = "/" + name
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.Path{}, false, nil
	}
	if err != nil {
		return catalog.Path{}, false, err
	}
	p, err := catalog.ParsePath(path)
	return p, err == nil, err
}

// ends resolves link ends to paths, each once.
type ends struct {
	q     querier
	paths map[linkEnd]catalog.Path
}

func newEnds(q querier) *ends { return &ends{q: q, paths: map[linkEnd]catalog.Path{}} }

// link is the link between two ends; false when one of them is gone.
func (r *ends) link(from linkEnd, rel string, to linkEnd) (catalog.Link, bool, error) {
	var l catalog.Link
	for i, e := range []linkEnd{from, to} {
		p, seen := r.paths[e]
		if !seen {
			var err error
			if p, _, err = endPath(r.q, e); err != nil {
				return l, false, err
			}
			r.paths[e] = p
		}
		if p.IsZero() {
			return l, false, nil
		}
		if i == 0 {
			l.From = p
		} else {
			l.To = p
		}
	}
	l.Relation = rel
	return l, true, nil
}

// collectLinks reads rows of (from_kind, from_id, relation, to_kind,
// to_id) and resolves their ends, leaving out links with an end gone.
func collectLinks(q querier, rows *sql.Rows, err error) ([]catalog.Link, error) {
	if err != nil {
		return nil, err
	}
	type raw struct {
		from, to linkEnd
		rel      string
	}
	var raws []raw
	for rows.Next() {
		var r raw
		if err := rows.Scan(&r.from.kind, &r.from.id, &r.rel, &r.to.kind, &r.to.id); err != nil {
			rows.Close()
			return nil, err
		}
		raws = append(raws, r)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	res := newEnds(q)
	var out []catalog.Link
	for _, r := range raws {
		l, ok, err := res.link(r.from, r.rel, r.to)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// LinksOf returns the links from or to p.
func (c *Catalog) LinksOf(ctx context.Context, p catalog.Path) ([]catalog.Link, error) {
	var out []catalog.Link
	err := c.read(ctx, func(q *rtx) error {
		k, id, err := entryAt(q, p)
		if err != nil {
			return err
		}
		rows, err := q.query(`SELECT from_kind, from_id, relation, to_kind, to_id FROM links WHERE from_kind = ?1 AND from_id = ?2
			UNION SELECT from_kind, from_id, relation, to_kind, to_id FROM links WHERE to_kind = ?1 AND to_id = ?2`, k, id)
		if out, err = collectLinks(q, rows, err); err != nil {
			return err
		}
		sortLinks(out)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("links of %s: %w", p, err)
	}
	return out, nil
}

// sortLinks orders links by From, Relation and To.
func sortLinks(ls []catalog.Link) {
	slices.SortFunc(ls, func(a, b catalog.Link) int {
		return cmp.Or(strings.Compare(a.From.String(), b.From.String()), strings.Compare(a.Relation, b.Relation),
			strings.Compare(a.To.String(), b.To.String()))
	})
}

// Chain follows links of relation out of p with a recursive query.
func (c *Catalog) Chain(ctx context.Context, p catalog.Path, relation string, depth int) ([]catalog.Link, error) {
	if err := catalog.CheckChain(relation, depth); err != nil {
		return nil, fmt.Errorf("chain of %s: %w", p, err)
	}
	var out []catalog.Link
	err := c.read(ctx, func(q *rtx) error {
		k, id, err := entryAt(q, p)
		if err != nil {
			return err
		}
		rows, err := q.query(`WITH RECURSIVE
			reach(kind, id, lvl) AS (
				SELECT ?1, ?2, 0
				UNION
				SELECT l.to_kind, l.to_id, r.lvl + 1 FROM reach r
				JOIN links l ON l.from_kind = r.kind AND l.from_id = r.id AND l.relation = ?3
				WHERE r.lvl < ?4 AND `+alive("l.to_kind", "l.to_id")+`),
			first(kind, id, lvl) AS (SELECT kind, id, min(lvl) FROM reach GROUP BY kind, id)
			SELECT v.lvl, l.from_kind, l.from_id, l.relation, l.to_kind, l.to_id FROM first v
			JOIN links l ON l.from_kind = v.kind AND l.from_id = v.id AND l.relation = ?3
			WHERE v.lvl < ?4`, k, id, relation, depth)
		if err != nil {
			return err
		}
		type step struct {
			lvl      int
			from, to linkEnd
			rel      string
		}
		var raws []step
		for rows.Next() {
			var s step
			if err := rows.Scan(&s.lvl, &s.from.kind, &s.from.id, &s.rel, &s.to.kind, &s.to.id); err != nil {
				rows.Close()
				return err
			}
			raws = append(raws, s)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		// Nearest first, each step ordered by From and To.
		type resolved struct {
			lvl int
			l   catalog.Link
		}
		res := newEnds(q)
		var steps []resolved
		for _, s := range raws {
			l, ok, err := res.link(s.from, s.rel, s.to)
			if err != nil {
				return err
			}
			if ok {
				steps = append(steps, resolved{s.lvl, l})
			}
		}
		slices.SortFunc(steps, func(a, b resolved) int {
			return cmp.Or(cmp.Compare(a.lvl, b.lvl), strings.Compare(a.l.From.String(), b.l.From.String()),
				strings.Compare(a.l.To.String(), b.l.To.String()))
		})
		out = out[:0]
		for _, s := range steps {
			out = append(out, s.l)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chain of %s: %w", p, err)
	}
	return out, nil
}

// Linked returns what is reachable from p through links in either direction.
func (c *Catalog) Linked(ctx context.Context, p catalog.Path, depth int) ([]catalog.Path, error) {
	if err := catalog.CheckDepth(depth); err != nil {
		return nil, fmt.Errorf("linked to %s: %w", p, err)
	}
	var out []catalog.Path
	err := c.read(ctx, func(q *rtx) error {
		k, id, err := entryAt(q, p)
		if err != nil {
			return err
		}
		rows, err := q.query(`WITH RECURSIVE
			reach(kind, id, lvl) AS (
				SELECT ?1, ?2, 0
				UNION
				SELECT l.to_kind, l.to_id, r.lvl + 1 FROM reach r
				JOIN links l ON l.from_kind = r.kind AND l.from_id = r.id
				WHERE r.lvl < ?3 AND `+alive("l.to_kind", "l.to_id")+`
				UNION
				SELECT l.from_kind, l.from_id, r.lvl + 1 FROM reach r
				JOIN links l ON l.to_kind = r.kind AND l.to_id = r.id
				WHERE r.lvl < ?3 AND `+alive("l.from_kind", "l.from_id")+`)
			SELECT DISTINCT kind, id FROM reach WHERE NOT (kind = ?1 AND id = ?2)`, k, id, depth)
		if err != nil {
			return err
		}
		var reached []linkEnd
		for rows.Next() {
			var e linkEnd
			if err := rows.Scan(&e.kind, &e.id); err != nil {
				rows.Close()
				return err
			}
			reached = append(reached, e)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		out = out[:0]
		for _, e := range reached {
			lp, ok, err := endPath(q, e)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, lp)
			}
		}
		slices.SortFunc(out, func(a, b catalog.Path) int { return strings.Compare(a.String(), b.String()) })
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("linked to %s: %w", p, err)
	}
	return out, nil
}
