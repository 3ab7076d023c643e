package zones

import (
	"context"
	"fmt"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// MaxListPage is the most entries one ListPage returns.
const MaxListPage = 1000

// ListPage returns up to limit entries of the collection p, after the
// cursor after ("" for the first page): its sub-collections, then its data
// objects, each in name order, leaving out what the caller may not read. It
// returns the cursor of the next page, or "" after the last. A cursor is
// opaque to callers; a wrong one is an invalid argument. Unlike List, it
// costs the same whatever the page's place in the collection, so a browser
// can page through a collection of any size. For a data object p it
// returns the object itself.
func (z *Zone) ListPage(ctx context.Context, caller Principal, p catalog.Path, after string, limit int) ([]catalog.Entry, string, error) {
	if limit <= 0 || limit > MaxListPage {
		limit = MaxListPage
	}
	inObjects, name, err := parseListCursor(after)
	if err != nil {
		return nil, "", err
	}
	var (
		page []catalog.Entry
		next string
	)
	op := &Op{Name: OpList, Caller: caller, Path: p}
	err = z.do(ctx, op, func(ctx context.Context) error {
		e, err := z.cat.Stat(ctx, p)
		if err != nil {
			return err
		}
		if e.Object != nil {
			page = []catalog.Entry{e}
			return nil
		}
		readable, err := z.readable(ctx, op)
		if err != nil {
			return err
		}
		// One row more than asked says whether a next page exists.
		if !inObjects {
			for len(page) <= limit {
				want := limit + 1 - len(page)
				colls, err := z.cat.ListCollections(ctx, p, name, want)
				if err != nil {
					return err
				}
				for i := range colls {
					if readable(colls[i].Path, colls[i].ACL) {
						page = append(page, catalog.Entry{Collection: &colls[i]})
					}
				}
				if len(colls) < want {
					break
				}
				name = colls[len(colls)-1].Path.Name()
			}
			if len(page) > limit {
				page = page[:limit]
				next = "c:" + page[limit-1].Path().Name()
				return nil
			}
			name = ""
		}
		for len(page) <= limit {
			want := limit + 1 - len(page)
			objs, err := z.cat.ListObjects(ctx, p, name, want)
			if err != nil {
				return err
			}
			for i := range objs {
				if readable(objs[i].Path, objs[i].ACL) {
					page = append(page, catalog.Entry{Object: &objs[i]})
				}
			}
			if len(objs) < want {
				break
			}
			name = objs[len(objs)-1].Path.Name()
		}
		if len(page) > limit {
			page = page[:limit]
			last := page[limit-1]
			if last.Collection != nil {
				next = "c:" + last.Path().Name()
			} else {
				next = "o:" + last.Path().Name()
			}
		}
		return nil
	})
	return page, next, err
}

func parseListCursor(s string) (inObjects bool, name string, err error) {
	switch {
	case s == "":
		return false, "", nil
	case strings.HasPrefix(s, "c:") && len(s) > 2:
		return false, s[2:], nil
	case strings.HasPrefix(s, "o:") && len(s) > 2:
		return true, s[2:], nil
	}
	return false, "", fmt.Errorf("%w: page cursor %q: want one a listing returned", catalog.ErrInvalidArgument, s)
}
