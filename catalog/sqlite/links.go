package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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

func collectLinks(rows *sql.Rows, err error) ([]catalog.Link, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.Link
	for rows.Next() {
		var from, rel, to string
		if err := rows.Scan(&from, &rel, &to); err != nil {
			return nil, err
		}
		fp, err := catalog.ParsePath(from)
		if err != nil {
			return nil, err
		}
		tp, err := catalog.ParsePath(to)
		if err != nil {
			return nil, err
		}
		out = append(out, catalog.Link{From: fp, Relation: rel, To: tp})
	}
	return out, rows.Err()
}

// LinksOf returns the links from or to p.
func (c *Catalog) LinksOf(ctx context.Context, p catalog.Path) ([]catalog.Link, error) {
	var out []catalog.Link
	err := c.read(ctx, func(q *rtx) error {
		k, id, err := entryAt(q, p)
		if err != nil {
			return err
		}
		out, err = collectLinks(q.query(`SELECT ef.path, l.relation, et.path FROM links l
			JOIN entries ef ON ef.kind = l.from_kind AND ef.id = l.from_id
			JOIN entries et ON et.kind = l.to_kind AND et.id = l.to_id
			WHERE (l.from_kind = ?1 AND l.from_id = ?2) OR (l.to_kind = ?1 AND l.to_id = ?2)
			ORDER BY ef.path, l.relation, et.path`, k, id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("links of %s: %w", p, err)
	}
	return out, nil
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
		out, err = collectLinks(q.query(`WITH RECURSIVE
			reach(kind, id, lvl) AS (
				SELECT ?1, ?2, 0
				UNION
				SELECT l.to_kind, l.to_id, r.lvl + 1 FROM reach r
				JOIN links l ON l.from_kind = r.kind AND l.from_id = r.id AND l.relation = ?3
				JOIN entries x ON x.kind = l.to_kind AND x.id = l.to_id
				WHERE r.lvl < ?4),
			first(kind, id, lvl) AS (SELECT kind, id, min(lvl) FROM reach GROUP BY kind, id)
			SELECT ef.path, l.relation, et.path FROM first v
			JOIN links l ON l.from_kind = v.kind AND l.from_id = v.id AND l.relation = ?3
			JOIN entries ef ON ef.kind = l.from_kind AND ef.id = l.from_id
			JOIN entries et ON et.kind = l.to_kind AND et.id = l.to_id
			WHERE v.lvl < ?4
			ORDER BY v.lvl, ef.path, et.path`, k, id, relation, depth))
		return err
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
			edges(ak, ai, bk, bi) AS (
				SELECT from_kind, from_id, to_kind, to_id FROM links
				UNION ALL SELECT to_kind, to_id, from_kind, from_id FROM links),
			reach(kind, id, lvl) AS (
				SELECT ?1, ?2, 0
				UNION
				SELECT e.bk, e.bi, r.lvl + 1 FROM reach r
				JOIN edges e ON e.ak = r.kind AND e.ai = r.id
				JOIN entries x ON x.kind = e.bk AND x.id = e.bi
				WHERE r.lvl < ?3)
			SELECT DISTINCT x.path FROM reach r JOIN entries x ON x.kind = r.kind AND x.id = r.id
			WHERE NOT (r.kind = ?1 AND r.id = ?2) ORDER BY x.path`, k, id, depth)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			lp, err := catalog.ParsePath(s)
			if err != nil {
				return err
			}
			out = append(out, lp)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("linked to %s: %w", p, err)
	}
	return out, nil
}
