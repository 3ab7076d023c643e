package dgraph

import (
	"context"
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
	err := c.write(ctx, func(t *tx) error {
		for p, at := range times {
			n, err := t.objAt(p)
			if errors.Is(err, catalog.ErrNotFound) || errors.Is(err, catalog.ErrNotDataObject) {
				continue
			}
			if err != nil {
				return err
			}
			have, err := t.avuNodes(n.UID)
			if err != nil {
				return err
			}
			value := catalog.AccessTimeValue(at)
			var dels []map[string]any
			later := false
			for _, a := range have {
				if a.Attr != catalog.AccessTimeAttr {
					continue
				}
				if len(a.Val) > len(value) || len(a.Val) == len(value) && a.Val >= value {
					later = true
				}
				dels = append(dels, map[string]any{"uid": a.UID})
			}
			if later {
				continue
			}
			if err := t.del(dels...); err != nil {
				return err
			}
			if err := t.addAVUs(n.UID, []catalog.AVU{{Attribute: catalog.AccessTimeAttr, Value: value}}, true); err != nil {
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
