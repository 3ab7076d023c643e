package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// AVU target kinds of the avus table, beside kindCollection and kindObject.
const (
	kindResource = "resource"
	kindUser     = "user"
)

// resolveTarget finds the row that t names: its kind in the avus table and
// its id.
func resolveTarget(q querier, t catalog.AVUTarget) (string, int64, error) {
	switch t.Kind {
	case catalog.TargetDataObject:
		o, err := objAt(q, t.Path)
		return kindObject, int64(o.ID), err
	case catalog.TargetCollection:
		c, err := collAt(q, t.Path)
		return kindCollection, int64(c.ID), err
	case catalog.TargetResource:
		var id int64
		err := q.queryRow(`SELECT id FROM resources WHERE name = ?`, t.Name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			err = catalog.ErrNotFound
		}
		return kindResource, id, err
	case catalog.TargetUser:
		var id int64
		err := q.queryRow(`SELECT id FROM users WHERE name = ? AND zone = ?`, t.User.Name, t.User.Zone).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			err = catalog.ErrNotFound
		}
		return kindUser, id, err
	}
	return "", 0, invalid("unknown AVU target kind %d", int(t.Kind))
}

// insertAVU adds one AVU; an existing one is ErrExists naming it.
func insertAVU(w *wtx, kind string, id int64, a catalog.AVU) error {
	_, err := w.exec(`INSERT INTO avus (kind, target_id, attribute, value, unit) VALUES (?, ?, ?, ?, ?)`,
		kind, id, a.Attribute, a.Value, a.Unit)
	if err != nil {
		return mapErr("add AVU "+a.String(), err)
	}
	return nil
}

// mergeAVUs adds AVUs, keeping those the target already has.
func mergeAVUs(w *wtx, kind string, id int64, avus []catalog.AVU) error {
	for _, a := range avus {
		_, err := w.exec(`INSERT INTO avus (kind, target_id, attribute, value, unit) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, kind, id, a.Attribute, a.Value, a.Unit)
		if err != nil {
			return mapErr("add AVU "+a.String(), err)
		}
	}
	return nil
}

// deleteAVUsOf removes every AVU of one target.
func deleteAVUsOf(w *wtx, kind string, id int64) error {
	_, err := w.exec(`DELETE FROM avus WHERE kind = ? AND target_id = ?`, kind, id)
	return err
}

func listAVUs(q querier, kind string, id int64) ([]catalog.AVU, error) {
	return collectAVUs(q.query(`SELECT attribute, value, unit FROM avus WHERE kind = ? AND target_id = ?
		ORDER BY attribute, value, unit`, kind, id))
}

// AddMetadata attaches avus to t in one transaction.
func (c *Catalog) AddMetadata(ctx context.Context, t catalog.AVUTarget, avus ...catalog.AVU) error {
	return c.AddMetadataBulk(ctx, []catalog.AVUBatch{{Target: t, AVUs: avus}})
}

// AddMetadataBulk attaches the AVUs of every item of batch in one transaction.
func (c *Catalog) AddMetadataBulk(ctx context.Context, batch []catalog.AVUBatch) error {
	fail := func(err error) error {
		if len(batch) == 1 {
			return fmt.Errorf("add metadata to %s: %w", batch[0].Target, err)
		}
		return fmt.Errorf("add metadata: %w", err)
	}
	if err := catalog.ValidateBatch(batch); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(w *wtx) error {
		for _, b := range batch {
			kind, id, err := resolveTarget(w, b.Target)
			if err != nil {
				if len(batch) > 1 {
					return fmt.Errorf("%s: %w", b.Target, err)
				}
				return err
			}
			for _, a := range b.AVUs {
				if err := insertAVU(w, kind, id, a); err != nil {
					if len(batch) > 1 {
						return fmt.Errorf("%s: %w", b.Target, err)
					}
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// SetMetadata replaces every AVU of t with avu's attribute by avu.
func (c *Catalog) SetMetadata(ctx context.Context, t catalog.AVUTarget, avu catalog.AVU) error {
	err := c.changeAVUs(ctx, t, avu.Validate(), func(w *wtx, kind string, id int64) error {
		if _, err := w.exec(`DELETE FROM avus WHERE kind = ? AND target_id = ? AND attribute = ?`,
			kind, id, avu.Attribute); err != nil {
			return err
		}
		return insertAVU(w, kind, id, avu)
	})
	if err != nil {
		return fmt.Errorf("set metadata %s on %s: %w", avu, t, err)
	}
	return nil
}

// changeAVUs checks t and invalid (the validation error of the AVUs the
// caller brings, or nil), then runs fn in one write transaction with t
// resolved to its row: the shape every single-target change shares.
func (c *Catalog) changeAVUs(ctx context.Context, t catalog.AVUTarget, invalid error, fn func(w *wtx, kind string, id int64) error) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if invalid != nil {
		return invalid
	}
	return c.write(ctx, func(w *wtx) error {
		kind, id, err := resolveTarget(w, t)
		if err != nil {
			return err
		}
		return fn(w, kind, id)
	})
}

// RemoveMetadata removes the AVU avu of t.
func (c *Catalog) RemoveMetadata(ctx context.Context, t catalog.AVUTarget, avu catalog.AVU) error {
	err := c.changeAVUs(ctx, t, avu.Validate(), func(w *wtx, kind string, id int64) error {
		res, err := w.exec(`DELETE FROM avus WHERE kind = ? AND target_id = ? AND attribute = ? AND value = ? AND unit = ?`,
			kind, id, avu.Attribute, avu.Value, avu.Unit)
		if err := affected(res, err); errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("no such AVU: %w", catalog.ErrNotFound)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove metadata %s from %s: %w", avu, t, err)
	}
	return nil
}

// RemoveMetadataMatching removes every AVU of t that matches pattern.
// Matching is done here, not by SQLite's LIKE, which ignores the case of
// ASCII letters: catalog.MatchLike is the one definition for every backend.
func (c *Catalog) RemoveMetadataMatching(ctx context.Context, t catalog.AVUTarget, pattern catalog.AVU) ([]catalog.AVU, error) {
	fail := func(err error) ([]catalog.AVU, error) {
		return nil, fmt.Errorf("remove metadata matching %s from %s: %w", pattern, t, err)
	}
	if err := t.Validate(); err != nil {
		return fail(err)
	}
	if err := catalog.ValidatePattern(pattern); err != nil {
		return fail(err)
	}
	var removed []catalog.AVU
	err := c.write(ctx, func(w *wtx) error {
		kind, id, err := resolveTarget(w, t)
		if err != nil {
			return err
		}
		var candidates []catalog.AVU
		if catalog.HasWildcard(pattern.Attribute) {
			candidates, err = listAVUs(w, kind, id)
		} else {
			candidates, err = collectAVUs(w.query(`SELECT attribute, value, unit FROM avus
				WHERE kind = ? AND target_id = ? AND attribute = ? ORDER BY attribute, value, unit`,
				kind, id, catalog.UnescapeLike(pattern.Attribute)))
		}
		if err != nil {
			return err
		}
		for _, a := range candidates {
			if !catalog.MatchLike(pattern.Attribute, a.Attribute) || !catalog.MatchLike(pattern.Value, a.Value) ||
				!catalog.MatchLike(pattern.Unit, a.Unit) {
				continue
			}
			if _, err := w.exec(`DELETE FROM avus WHERE kind = ? AND target_id = ? AND attribute = ? AND value = ? AND unit = ?`,
				kind, id, a.Attribute, a.Value, a.Unit); err != nil {
				return err
			}
			removed = append(removed, a)
		}
		if len(removed) == 0 {
			return fmt.Errorf("no AVU matches: %w", catalog.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return removed, nil
}

func collectAVUs(rows *sql.Rows, err error) ([]catalog.AVU, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.AVU
	for rows.Next() {
		var a catalog.AVU
		if err := rows.Scan(&a.Attribute, &a.Value, &a.Unit); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ModifyMetadata replaces the AVU old of t by new.
func (c *Catalog) ModifyMetadata(ctx context.Context, t catalog.AVUTarget, old, new catalog.AVU) error {
	err := c.changeAVUs(ctx, t, catalog.ValidateAVUChange(old, new), func(w *wtx, kind string, id int64) error {
		res, err := w.exec(`UPDATE avus SET attribute = ?, value = ?, unit = ?
			WHERE kind = ? AND target_id = ? AND attribute = ? AND value = ? AND unit = ?`,
			new.Attribute, new.Value, new.Unit, kind, id, old.Attribute, old.Value, old.Unit)
		if err := affected(res, mapErr("update", err)); errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("no such AVU: %w", catalog.ErrNotFound)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("modify metadata %s of %s to %s: %w", old, t, new, err)
	}
	return nil
}

// ListMetadata returns the AVUs of t.
func (c *Catalog) ListMetadata(ctx context.Context, t catalog.AVUTarget) ([]catalog.AVU, error) {
	fail := func(err error) ([]catalog.AVU, error) { return nil, fmt.Errorf("list metadata of %s: %w", t, err) }
	if err := t.Validate(); err != nil {
		return fail(err)
	}
	var out []catalog.AVU
	err := c.read(ctx, func(q *rtx) error {
		kind, id, err := resolveTarget(q, t)
		if err != nil {
			return err
		}
		out, err = listAVUs(q, kind, id)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}
