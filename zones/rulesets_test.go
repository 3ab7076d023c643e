package zones

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/dgraph"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/rules"
)

// The rule set of a zone is one, in its catalog: a version loaded through
// one server is in use on every other within 2 s; a rule set that does not
// compile or fails its own test cases is refused everywhere, and the
// version in use stays.

const (
	// rulesPoll is how often the test servers follow the catalog, as
	// internal/server's.
	rulesPoll = 500 * time.Millisecond
	// maxPropagation is what the issue allows a new version to reach every
	// server.
	maxPropagation = 2 * time.Second
)

const (
	denyTmp = `rules:
  - name: no-tmp
    on: [put]
    condition: object.name.endsWith(".tmp")
    deny: "'no temporary files'"
  - name: keep
    on: [remove]
    condition: object.path.startsWith("/tempZone/home/rods/keep/")
    deny: "'kept'"
`
	denyTmpTests = `tests:
  - {name: tmp refused, op: put, path: /tempZone/home/rods/x.tmp, expect: deny, rule: no-tmp}
  - {name: kept, op: remove, path: /tempZone/home/rods/keep/a, object: {size: 1}, expect: deny, rule: keep}
  - {name: dat allowed, op: put, path: /tempZone/home/rods/x.dat, expect: allow}
`
	warnTmp = `rules:
  - name: tmp-warning
    on: [put]
    mode: warn
    condition: object.name.endsWith(".tmp")
    deny: "'temporary files will soon be refused'"
`
)

// ruleServers are two servers of one zone, each with its own catalog
// client, its own rule engine and its own follower of the catalog's rule
// set.
func ruleServers(t *testing.T, open func(t *testing.T) catalog.Catalog) [2]*Zone {
	t.Helper()
	vault := filepath.Join(t.TempDir(), "vault")
	quiet := slog.New(slog.DiscardHandler)
	var zs [2]*Zone
	for i := range zs {
		cat := open(t)
		z := New(cat, Options{Drivers: drivers.Default(), Logger: quiet, ServerID: fmt.Sprintf("server%d", i+1)})
		if err := z.Bootstrap(t.Context(), BootstrapOptions{VaultDir: vault}); err != nil {
			t.Fatal(err)
		}
		e, err := rules.New(rules.Options{Catalog: cat, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		z.UseRules(e)
		if err := z.SyncRules(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); z.FollowRules(ctx, rulesPoll) }()
		t.Cleanup(func() { cancel(); <-done })
		zs[i] = z
	}
	return zs
}

// waitVersion waits until z uses version v, and returns how long it took.
func waitVersion(t *testing.T, z *Zone, v int64) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if got, _ := z.RuleSetInUse(); got == v && z.Rules().Current().Version == fmt.Sprint(v) {
			return time.Since(start)
		}
		if time.Since(start) > 10*time.Second {
			got, _ := z.RuleSetInUse()
			t.Fatalf("%s: rule set version %d in use after 10s, want %d", z.holderBase, got, v)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// denies reports whether z's rules refuse a put of path by rods.
func denies(t *testing.T, z *Zone, path string) bool {
	t.Helper()
	rods, err := z.RuleActor(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = z.Rules().Before(t.Context(), &rules.Request{Op: "put", Path: catalog.MustPath(path), User: rods.User, Zone: z.name, Resource: DefaultResource})
	return errors.Is(err, rules.ErrDenied)
}

func TestRuleSetSQLiteServers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	testRuleSetServers(t, func(t *testing.T) catalog.Catalog {
		c, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}

func TestRuleSetDgraphServers(t *testing.T) {
	addr := os.Getenv("ARCA_TEST_DGRAPH")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ARCA_TEST_DGRAPH is not set: .ci/services/20-dgraph.sh must start Dgraph")
		}
		t.Skip("ARCA_TEST_DGRAPH is not set; start Dgraph with: source .ci/services/20-dgraph.sh")
	}
	prefix := fmt.Sprintf("rs%x%d", time.Now().UnixNano()&0xffffffffff, dgraphPrefixSeq.Add(1))
	testRuleSetServers(t, func(t *testing.T) catalog.Catalog {
		c, err := dgraph.Open(t.Context(), addr, dgraph.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}

func testRuleSetServers(t *testing.T, open func(t *testing.T) catalog.Catalog) {
	zs := ruleServers(t, open)
	ctx := t.Context()
	rods, err := zs[0].RuleActor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var worst time.Duration
	propagated := func(from, to int, v int64) {
		t.Helper()
		d := waitVersion(t, zs[to], v)
		t.Logf("version %d, loaded through server %d, in use on server %d after %v", v, from+1, to+1, d.Round(time.Millisecond))
		if d > maxPropagation {
			t.Errorf("version %d took %v to reach server %d, more than %v", v, d, to+1, maxPropagation)
		}
		worst = max(worst, d)
	}

	// Version 1 through server 1: in use there at once, on server 2 within 2 s.
	good := map[string][]byte{"steward.yaml": []byte(denyTmp), "steward.test.yaml": []byte(denyTmpTests)}
	l, err := zs[0].LoadRules(ctx, rods, good, "first")
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != 1 || l.Rules != 2 || l.Tests != 3 || l.Digest != catalog.RuleSetDigest(good) || l.Unchanged {
		t.Errorf("loaded %+v", l)
	}
	if v, _ := zs[0].RuleSetInUse(); v != 1 {
		t.Errorf("server 1 uses version %d right after its load", v)
	}
	propagated(0, 1, 1)
	if !denies(t, zs[1], "/tempZone/home/rods/x.tmp") {
		t.Error("server 2 does not deny what version 1 denies")
	}
	if d := zs[1].Rules().Current().Digest; d != l.Digest {
		t.Errorf("server 2's digest %s, want %s", d, l.Digest)
	}

	// The same files again: no new version.
	if l, err := zs[1].LoadRules(ctx, rods, good, "again"); err != nil || !l.Unchanged || l.Version != 1 {
		t.Errorf("loading version 1's files again: %+v, %v", l, err)
	}

	// Refused through server 2, version 1 stays on both: a half-written
	// file that is a valid prefix (its deny on remove is cut off) fails
	// the set's own test cases; a broken one does not compile; a user may
	// not load at all.
	prefix := denyTmp[:strings.Index(denyTmp, "  - name: keep")]
	for _, bad := range []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"valid prefix", map[string][]byte{"steward.yaml": []byte(prefix), "steward.test.yaml": []byte(denyTmpTests)}, "1 of 3 test cases of the rule set fail"},
		{"broken", map[string][]byte{"steward.yaml": []byte(denyTmp + "  - name: x\n    on: [put]\n    condition: object.size + 1\n    deny: \"'x'\"\n")}, "condition must evaluate to bool"},
		{"not a rule file", map[string][]byte{"notes.txt": []byte("x")}, "neither a rule file"},
		{"a path", map[string][]byte{"../steward.yaml": []byte(denyTmp)}, "a plain file name"},
	} {
		_, err := zs[1].LoadRules(ctx, rods, bad.files, bad.name)
		if !errors.Is(err, catalog.ErrInvalidArgument) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want invalid argument containing %q", bad.name, err, bad.want)
		}
	}
	alice, err := zs[0].cat.CreateUser(ctx, catalog.User{Name: "alice", Zone: DefaultZone, Type: catalog.UserTypeUser})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zs[0].LoadRules(ctx, As(alice), map[string][]byte{"w.yaml": []byte(warnTmp)}, ""); !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("alice loads rules: %v", err)
	}
	if _, err := zs[0].RollbackRules(ctx, As(alice), 1, ""); !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("alice rolls back: %v", err)
	}
	time.Sleep(2 * rulesPoll)
	for i, z := range zs {
		if v, _ := z.RuleSetInUse(); v != 1 || !denies(t, z, "/tempZone/home/rods/x.tmp") {
			t.Errorf("server %d after refused loads: version %d", i+1, v)
		}
	}

	// Version 2 through server 2 drops the deny; server 1 follows.
	if l, err := zs[1].LoadRules(ctx, rods, map[string][]byte{"steward.yaml": []byte(warnTmp)}, "warn only"); err != nil || l.Version != 2 {
		t.Fatalf("version 2: %+v, %v", l, err)
	}
	propagated(1, 0, 2)
	if denies(t, zs[0], "/tempZone/home/rods/x.tmp") {
		t.Error("server 1 still denies under version 2")
	}

	// Rollback to 1 through server 1: version 3, version 1's digest, on both.
	rb, err := zs[0].RollbackRules(ctx, rods, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if rb.Version != 3 || rb.Digest != l.Digest || rb.Comment != "rollback to version 1" || rb.Tests != 3 {
		t.Errorf("rollback: %+v", rb)
	}
	propagated(0, 1, 3)
	if !denies(t, zs[1], "/tempZone/home/rods/x.tmp") {
		t.Error("server 2 does not deny after the rollback")
	}
	if _, err := zs[0].RollbackRules(ctx, rods, 9, ""); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("rollback to a version that is not: %v", err)
	}

	// Two loads at once through both servers: each that succeeds is a
	// version of its own (when they truly overlap, one is refused as a
	// conflict), and both servers use the last.
	var wg sync.WaitGroup
	var errs [2]error
	var got [2]LoadedRules
	for i, z := range zs {
		wg.Go(func() {
			files := map[string][]byte{"steward.yaml": []byte(denyTmp + fmt.Sprintf("# server %d\n", i+1))}
			got[i], errs[i] = z.LoadRules(ctx, rods, files, "race")
		})
	}
	wg.Wait()
	last := LoadedRules{}
	for i, err := range errs {
		switch {
		case err == nil && got[i].Version == last.Version:
			t.Errorf("both racing loads stored version %d", last.Version)
		case err == nil && got[i].Version > last.Version:
			last = got[i]
		case err != nil && !errors.Is(err, catalog.ErrConflict):
			t.Errorf("racing load through server %d: %v", i+1, err)
		}
	}
	if last.Version < 4 {
		t.Fatalf("racing loads: %v", errs)
	}
	for i := range zs {
		waitVersion(t, zs[i], last.Version)
		if d := zs[i].Rules().Current().Digest; d != last.Digest {
			t.Errorf("server %d uses digest %s, the last load stored %s", i+1, d, last.Digest)
		}
	}

	h, err := zs[1].RuleHistory(ctx, As(alice), 0)
	if err != nil {
		t.Fatal(err)
	}
	n := len(h)
	if n != int(last.Version) || h[0].Version != last.Version || h[n-1].Comment != "first" || h[n-3].Comment != "rollback to version 1" || h[n-2].Author != rods.UserID() {
		t.Errorf("history %+v", h)
	}
	t.Logf("slowest propagation: %v (poll every %v)", worst.Round(time.Millisecond), rulesPoll)
}

// TestRuleSetAuditNamesVersion: audit records name the version and digest
// of the rule set that decided.
func TestRuleSetAuditNamesVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	cat, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	quiet := slog.New(slog.DiscardHandler)
	z := New(cat, Options{Drivers: drivers.Default(), Logger: quiet})
	if err := z.Bootstrap(t.Context(), BootstrapOptions{VaultDir: filepath.Join(t.TempDir(), "vault")}); err != nil {
		t.Fatal(err)
	}
	var audit strings.Builder
	var mu sync.Mutex
	e, err := rules.New(rules.Options{Catalog: cat, Logger: quiet, Audit: slog.New(slog.NewJSONHandler(lockedWriter{&mu, &audit}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	z.UseRules(e)
	rods, err := z.RuleActor(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	l, err := z.LoadRules(t.Context(), rods, map[string][]byte{"steward.yaml": []byte(denyTmp)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !denies(t, z, "/tempZone/home/rods/x.tmp") {
		t.Fatal("not denied")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(audit.String(), `"rules_version":"1","rules_digest":"`+l.Digest+`"`) {
		t.Errorf("audit:\n%s", audit.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
