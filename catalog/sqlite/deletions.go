package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// The triggers of migration 13 record a file in pending_deletions when its
// replica row goes, and drop the record when a new replica takes the file.

// PendingDeletions returns recorded files in resource and path order.
func (c *Catalog) PendingDeletions(ctx context.Context, after catalog.Deletion, limit int) ([]catalog.Deletion, error) {
	if err := catalog.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("pending deletions: %w", err)
	}
	var out []catalog.Deletion
	err := c.read(ctx, func(q *rtx) error {
		rows, err := q.query(`SELECT resource, physical_path FROM pending_deletions
			WHERE (resource, physical_path) > (?, ?) ORDER BY resource, physical_path LIMIT ?`,
			after.Resource, after.PhysicalPath, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d catalog.Deletion
			if err := rows.Scan(&d.Resource, &d.PhysicalPath); err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("pending deletions: %w", err)
	}
	return out, nil
}

// ForgetDeletions removes the records of ds. A power loss may undo it (see
// writeVolatile): the files would be deleted again, which is harmless.
func (c *Catalog) ForgetDeletions(ctx context.Context, ds []catalog.Deletion) error {
	if len(ds) == 0 {
		return nil
	}
	list, err := json.Marshal(ds)
	if err != nil {
		return err
	}
	err = c.writeVolatile(ctx, func(w *wtx) error {
		_, err := w.exec(`DELETE FROM pending_deletions WHERE (resource, physical_path) IN
			(SELECT value ->> '$.Resource', value ->> '$.PhysicalPath' FROM json_each(?))`, string(list))
		return err
	})
	if err != nil {
		return fmt.Errorf("forget %d deletions: %w", len(ds), err)
	}
	return nil
}
