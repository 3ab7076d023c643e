package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/arca-data/arca/catalog"
)

// TestRuleSetTwoOpens: two servers on one catalog file (each its own
// Catalog, as two processes have) append the same version at once:
// exactly one wins, and each sees the other's version at once.
func TestRuleSetTwoOpens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	var cats [2]*Catalog
	for i := range cats {
		c, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		cats[i] = c
	}
	rods := catalog.UserID{Name: "rods", Zone: "tempZone"}
	for round := int64(0); round < 5; round++ {
		var wg sync.WaitGroup
		var errs [2]error
		start := make(chan struct{})
		for i, c := range cats {
			wg.Go(func() {
				<-start
				files := map[string][]byte{"r.yaml": fmt.Appendf(nil, "# server %d round %d\n", i, round)}
				_, errs[i] = c.StoreRuleSet(ctx, catalog.RuleSet{Files: files, Author: rods}, round)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, catalog.ErrConflict):
				t.Fatalf("round %d, server %d: %v", round, i, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d stores won", round, won)
		}
		for i, c := range cats {
			v, _, err := c.RuleSetVersion(ctx)
			if err != nil || v != round+1 {
				t.Fatalf("round %d: server %d sees version %d (%v)", round, i, v, err)
			}
		}
	}
}
