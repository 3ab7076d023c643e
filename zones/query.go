package zones

import (
	"context"
	"fmt"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
)

// queryPage is how many rows one streamed message holds.
const queryPage = 500

// Query parses text and runs it, calling fn with the column names and pages
// of rows. The catalog returns only what the caller may read.
func (z *Zone) Query(ctx context.Context, caller Principal, text string, fn func(columns []string, rows [][]string) error) error {
	return z.do(ctx, &Op{Name: "query", Caller: caller}, func(ctx context.Context) error {
		q, err := query.Parse(text)
		if err != nil {
			return fmt.Errorf("%w: %w", catalog.ErrInvalidArgument, err)
		}
		columns := make([]string, len(q.Select))
		for i, s := range q.Select {
			columns[i] = s.String()
		}
		var page [][]string
		sent := false
		flush := func() error {
			sent = true
			err := fn(columns, page)
			page = page[:0]
			return err
		}
		groups, err := z.groupsOf(ctx, caller.User)
		if err != nil {
			return err
		}
		who := catalog.Caller{User: caller.UserID(), Admin: isAdmin(caller.User, z.name), Groups: groups}
		err = z.cat.Query(ctx, q, who, func(row []string) error {
			page = append(page, append([]string(nil), row...)) // the catalog reuses row
			if len(page) == queryPage {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(page) > 0 || !sent {
			return flush()
		}
		return nil
	})
}
