package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/arca-data/arca/catalog"
)

// SetAccessTimes sets the access time of every data object of times that
// is still there, in one transaction; a later time already kept stays.
func (c *Catalog) SetAccessTimes(ctx context.Context, times map[catalog.Path]time.Time) error {
	if err := catalog.CheckAccessTimes(times); err != nil {
		return fmt.Errorf("set access times: %w", err)
	}
	if len(times) == 0 {
		return nil
	}
	err := c.write(ctx, func(w *wtx) error {
		for p, t := range times {
			o, ok, err := lookupObj(w, p)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			value := catalog.AccessTimeValue(t)
			var have string
			err = w.queryRow(`SELECT value FROM avus WHERE kind = ? AND target_id = ? AND attribute = ?`,
				kindObject, int64(o.ID), catalog.AccessTimeAttr).Scan(&have)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			case len(have) > len(value) || len(have) == len(value) && have >= value:
				continue
			}
			if _, err := w.exec(`DELETE FROM avus WHERE kind = ? AND target_id = ? AND attribute = ?`,
				kindObject, int64(o.ID), catalog.AccessTimeAttr); err != nil {
				return err
			}
			if err := insertAVU(w, kindObject, int64(o.ID), catalog.AVU{Attribute: catalog.AccessTimeAttr, Value: value}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set access times: %w", err)
	}
	return nil
}
