package catalogtest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/arca-data/arca/catalog"
)

func ruleFiles(kv ...string) map[string][]byte {
	m := map[string][]byte{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

func sameFiles(t testing.TB, what string, got, want map[string][]byte) {
	t.Helper()
	if !maps.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("%s: files %q, want %q", what, got, want)
	}
}

var ruleSetTests = []test{
	{"Empty", func(t *testing.T, f *fixture) {
		v, digest, err := f.cat.RuleSetVersion(f.ctx)
		ok(t, err)
		if v != 0 || digest != "" {
			t.Errorf("version of no rule set: %d %q, want 0 \"\"", v, digest)
		}
		_, err = f.cat.CurrentRuleSet(f.ctx)
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.RuleSetAt(f.ctx, 1)
		wantErr(t, err, catalog.ErrNotFound)
		if h := must(f.cat.RuleSetHistory(f.ctx, 10))(t); len(h) != 0 {
			t.Errorf("history of no rule set: %v", h)
		}
	}},
	{"StoreAndRead", func(t *testing.T, f *fixture) {
		one := ruleFiles("a.yaml", "rules: []\n", "a.test.yaml", "tests: []\n")
		rs := must(f.cat.StoreRuleSet(f.ctx, catalog.RuleSet{Files: one, Author: rods, Comment: "first"}, 0))(t)
		if rs.Version != 1 || rs.Digest != catalog.RuleSetDigest(one) || rs.Author != rods || rs.Comment != "first" {
			t.Errorf("stored %+v", rs)
		}
		checkTime(t, "created", rs.Created, f.start)
		v, digest := must2(f.cat.RuleSetVersion(f.ctx))(t)
		if v != 1 || digest != rs.Digest {
			t.Errorf("version %d %s, want 1 %s", v, digest, rs.Digest)
		}
		cur := must(f.cat.CurrentRuleSet(f.ctx))(t)
		sameFiles(t, "current", cur.Files, one)
		if cur.Version != 1 || cur.Digest != rs.Digest || cur.Author != rods || cur.Comment != "first" || !cur.Created.Equal(rs.Created) {
			t.Errorf("current %+v, stored %+v", cur, rs)
		}

		// An empty file is kept as a file, and a file that is no longer
		// there is gone from the next version.
		two := ruleFiles("b.yaml", "", "c.yaml", "rules:\n  - name: x\n")
		rs2 := must(f.cat.StoreRuleSet(f.ctx, catalog.RuleSet{Files: two, Author: alice}, 1))(t)
		if rs2.Version != 2 || rs2.Digest == rs.Digest {
			t.Errorf("second %+v", rs2)
		}
		sameFiles(t, "current after the second", must(f.cat.CurrentRuleSet(f.ctx))(t).Files, two)
		old := must(f.cat.RuleSetAt(f.ctx, 1))(t)
		sameFiles(t, "version 1", old.Files, one)
		if old.Digest != rs.Digest || old.Author != rods {
			t.Errorf("version 1: %+v", old)
		}
		_, err := f.cat.RuleSetAt(f.ctx, 3)
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.RuleSetAt(f.ctx, 0)
		wantErr(t, err, catalog.ErrInvalidArgument)

		// A rollback is a new version with old files: the same digest.
		rs3 := must(f.cat.StoreRuleSet(f.ctx, catalog.RuleSet{Files: old.Files, Author: rods, Comment: "rollback to 1"}, 2))(t)
		if rs3.Version != 3 || rs3.Digest != rs.Digest {
			t.Errorf("rollback %+v", rs3)
		}
		h := must(f.cat.RuleSetHistory(f.ctx, 10))(t)
		if len(h) != 3 || h[0].Version != 3 || h[1].Version != 2 || h[2].Version != 1 {
			t.Fatalf("history %+v", h)
		}
		for _, r := range h {
			if r.Files != nil {
				t.Errorf("history of version %d has files", r.Version)
			}
		}
		if h[0].Comment != "rollback to 1" || h[1].Author != alice || h[2].Digest != rs.Digest {
			t.Errorf("history %+v", h)
		}
		if h := must(f.cat.RuleSetHistory(f.ctx, 2))(t); len(h) != 2 || h[0].Version != 3 {
			t.Errorf("history limited to 2: %+v", h)
		}
		_, err = f.cat.RuleSetHistory(f.ctx, 0)
		wantErr(t, err, catalog.ErrInvalidArgument)
	}},
	{"Conflict", func(t *testing.T, f *fixture) {
		files := ruleFiles("a.yaml", "rules: []\n")
		_, err := f.cat.StoreRuleSet(f.ctx, catalog.RuleSet{Files: files, Author: rods}, 1)
		wantErr(t, err, catalog.ErrConflict)
		must(f.cat.StoreRuleSet(f.ctx, catalog.RuleSet{Files: files, Author: rods}, 0))(t)
		_, err = f.cat.StoreRuleSet(f.ctx, catalog.RuleSet{Files: files, Author: rods}, 0)
		wantErr(t, err, catalog.ErrConflict)
		_, err = f.cat.StoreRuleSet(f.ctx, catalog.RuleSet{Files: files, Author: rods}, 2)
		wantErr(t, err, catalog.ErrConflict)
		_, err = f.cat.StoreRuleSet(f.ctx, catalog.RuleSet{Files: files, Author: rods}, -1)
		wantErr(t, err, catalog.ErrInvalidArgument)
		if v, _ := must2(f.cat.RuleSetVersion(f.ctx))(t); v != 1 {
			t.Errorf("version %d after refused stores, want 1", v)
		}
	}},
	{"Invalid", func(t *testing.T, f *fixture) {
		for _, rs := range []catalog.RuleSet{
			{Files: ruleFiles("a.yaml", "x"), Author: catalog.UserID{}},
			{Files: ruleFiles("dir/a.yaml", "x"), Author: rods},
			{Files: ruleFiles(".hidden.yaml", "x"), Author: rods},
			{Files: ruleFiles("a.yaml", "x"), Author: rods, Digest: "0000"},
		} {
			_, err := f.cat.StoreRuleSet(f.ctx, rs, 0)
			wantErr(t, err, catalog.ErrInvalidArgument)
		}
		if v, _ := must2(f.cat.RuleSetVersion(f.ctx))(t); v != 0 {
			t.Errorf("version %d after invalid stores, want 0", v)
		}
	}},
	{"ConcurrentStores", func(t *testing.T, f *fixture) {
		// Servers that load at the same moment on the same version: exactly
		// one of each round becomes the next version.
		for round := int64(0); round < 3; round++ {
			const n = 4
			var wg sync.WaitGroup
			errs := make([]error, n)
			stored := make([]catalog.RuleSet, n)
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					files := ruleFiles(fmt.Sprintf("s%d.yaml", i), fmt.Sprintf("# round %d\n", round))
					stored[i], errs[i] = f.cat.StoreRuleSet(f.ctx, catalog.RuleSet{Files: files, Author: rods}, round)
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Fatalf("round %d: both %d and %d stored version %d", round, winner, i, round+1)
				case err == nil:
					winner = i
				case !errors.Is(err, catalog.ErrConflict):
					t.Fatalf("round %d: store %d: %v, want a conflict", round, i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: no store won", round)
			}
			cur := must(f.cat.CurrentRuleSet(f.ctx))(t)
			if cur.Version != round+1 || cur.Digest != stored[winner].Digest {
				t.Fatalf("round %d: current %d %s, winner stored %d %s", round, cur.Version, cur.Digest, stored[winner].Version, stored[winner].Digest)
			}
			sameFiles(t, "winner's files", cur.Files, ruleFiles(fmt.Sprintf("s%d.yaml", winner), fmt.Sprintf("# round %d\n", round)))
		}
		if h := must(f.cat.RuleSetHistory(f.ctx, 100))(t); len(h) != 3 {
			t.Errorf("history of %d versions, want 3", len(h))
		}
	}},
}
