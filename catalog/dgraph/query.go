package dgraph

import (
	"context"
	"errors"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
)

// Query runs q for caller.
func (c *Catalog) Query(ctx context.Context, q *query.Query, caller catalog.Caller, fn func(row []string) error) error {
	return errors.New("not yet")
}
