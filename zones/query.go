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
		physical := z.physicalPaths(q)
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
			row = physical.rewrite(ctx, row)
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

// physicalPathColumns turns DATA_PATH, which the catalog keeps as the key
// of a replica in its resource, into the full physical path that ils -L
// shows (as iRODS's DATA_PATH is): it needs each row's resource, which it
// selects when the query does not (and drops again). An aggregate query's
// DATA_PATH stays the key: adding a column would change its groups.
type physicalPathColumns struct {
	z          *Zone
	path, resc int  // select positions; path -1: nothing to do
	hidden     bool // resc was added, and is cut from each row
	pathers    map[string]func(string) string
}

func (z *Zone) physicalPaths(q *query.Query) *physicalPathColumns {
	pc := &physicalPathColumns{z: z, path: -1, resc: -1}
	if q.Aggregated() {
		return pc
	}
	for i, s := range q.Select {
		switch s.Column.Name {
		case "DATA_PATH":
			pc.path = i
		case "DATA_RESC_NAME":
			pc.resc = i
		}
	}
	if pc.path < 0 {
		return pc
	}
	if pc.resc < 0 {
		c, ok := query.LookupColumn("DATA_RESC_NAME")
		if !ok {
			pc.path = -1
			return pc
		}
		q.Select = append(q.Select, query.SelectItem{Column: c})
		pc.resc, pc.hidden = len(q.Select)-1, true
	}
	pc.pathers = map[string]func(string) string{}
	return pc
}

func (pc *physicalPathColumns) rewrite(ctx context.Context, row []string) []string {
	if pc.path < 0 || len(row) <= pc.resc {
		return row
	}
	resc := row[pc.resc]
	full, ok := pc.pathers[resc]
	if !ok {
		full = func(key string) string { return key }
		type pather interface{ Path(key string) string }
		if r, _, err := pc.z.resource(ctx, resc); err == nil {
			if p, ok := r.(pather); ok {
				full = p.Path
			}
		}
		pc.pathers[resc] = full
	}
	row[pc.path] = full(row[pc.path])
	if pc.hidden {
		row = row[:pc.resc]
	}
	return row
}
