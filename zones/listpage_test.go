package zones

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/resources/drivers"
)

// TestListPage pages through a collection of sub-collections and data
// objects, some of them unreadable to the caller, with every page size, and
// finds each readable entry once, in order, collections first.
func TestListPage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	z := New(cat, Options{Drivers: drivers.Default(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := z.Bootstrap(ctx, BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	rods, err := cat.User(ctx, catalog.UserID{Name: DefaultAdmin, Zone: DefaultZone})
	if err != nil {
		t.Fatal(err)
	}
	admin := As(rods)
	alice, err := z.MakeUser(ctx, admin, "alice", catalog.UserTypeUser, "")
	if err != nil {
		t.Fatal(err)
	}
	base := catalog.MustPath("/tempZone/home/rods/many")
	if _, err := z.MakeCollection(ctx, admin, base, true); err != nil {
		t.Fatal(err)
	}
	if err := z.SetAccess(ctx, admin, base, "alice", catalog.AccessRead, false, false); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 7 {
		p := catalog.MustPath(fmt.Sprintf("%s/c%02d", base, i))
		if _, err := z.MakeCollection(ctx, admin, p, false); err != nil {
			t.Fatal(err)
		}
		if i%3 != 1 {
			if err := z.SetAccess(ctx, admin, p, "alice", catalog.AccessRead, false, false); err != nil {
				t.Fatal(err)
			}
			want = append(want, p.Name())
		}
	}
	for i := range 11 {
		p := catalog.MustPath(fmt.Sprintf("%s/o%02d", base, i))
		if _, err := z.Put(ctx, admin, PutRequest{Path: p, Size: 1}, bytes.NewReader([]byte{'x'})); err != nil {
			t.Fatal(err)
		}
		if i%4 != 2 {
			if err := z.SetAccess(ctx, admin, p, "alice", catalog.AccessRead, false, false); err != nil {
				t.Fatal(err)
			}
			want = append(want, p.Name())
		}
	}
	for limit := 1; limit <= len(want)+1; limit++ {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(want)+1 {
				t.Fatalf("limit %d: more pages than entries", limit)
			}
			page, next, err := z.ListPage(ctx, As(alice), base, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > limit || len(page) == 0 && len(want) > 0 {
				t.Fatalf("limit %d: a page of %d", limit, len(page))
			}
			for _, e := range page {
				got = append(got, e.Path().Name())
			}
			if next == "" {
				break
			}
			after = next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("limit %d: got %v, want %v", limit, got, want)
		}
	}
	if _, _, err := z.ListPage(ctx, As(alice), base, "x:nonsense", 10); !errors.Is(err, catalog.ErrInvalidArgument) {
		t.Errorf("a made-up cursor: %v, want an invalid argument", err)
	}
	if page, next, err := z.ListPage(ctx, As(alice), catalog.MustPath(base.String()+"/o00"), "", 10); err != nil || len(page) != 1 || page[0].Object == nil || next != "" {
		t.Errorf("ListPage of a data object: %v %q %v", page, next, err)
	}
}
