package zones

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/dgraph"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/rules"
)

// Two servers of one zone on one Dgraph catalog, in one process: each
// server is a Zone with its own catalog client (its own connection, as a
// separate process has), its own server ID and so its own lock holders.
// They share the catalog, and the vault directory stands for storage both
// mount.

var dgraphPrefixSeq atomic.Int64

// dgraphServers starts n servers on a catalog of its own on the Dgraph at
// $ARCA_TEST_DGRAPH, with the rules of ruleYAML (none when empty) and the
// counting action "count" registered with each.
func dgraphServers(t *testing.T, n int, counter *jobCounter, ruleYAML string) ([]*Zone, catalog.User) {
	t.Helper()
	addr := os.Getenv("ARCA_TEST_DGRAPH")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ARCA_TEST_DGRAPH is not set: .ci/services/20-dgraph.sh must start Dgraph")
		}
		t.Skip("ARCA_TEST_DGRAPH is not set; start Dgraph with: source .ci/services/20-dgraph.sh")
	}
	// A prefix of its own: tests of this and other runs never meet.
	url := fmt.Sprintf("dgraph://%s?prefix=zs%x%d", addr, time.Now().UnixNano()&0xffffffffff, dgraphPrefixSeq.Add(1))
	vault := filepath.Join(t.TempDir(), "vault")
	quiet := slog.New(slog.DiscardHandler)
	var zs []*Zone
	for i := range n {
		server := fmt.Sprintf("server%d", i+1)
		daddr, dopts, err := dgraph.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		cat, err := dgraph.Open(t.Context(), daddr, dopts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cat.Close() })
		z := New(cat, Options{Drivers: drivers.Default(), Logger: quiet, ServerID: server, Lease: 3 * time.Second})
		if err := z.Bootstrap(t.Context(), BootstrapOptions{VaultDir: vault}); err != nil {
			t.Fatalf("bootstrap %s: %v", server, err)
		}
		if ruleYAML != "" {
			reg := rules.NewRegistry()
			if err := reg.Register(counter.action(server)); err != nil {
				t.Fatal(err)
			}
			e, err := rules.New(rules.Options{Registry: reg, Catalog: cat, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			set, err := e.Compile(map[string][]byte{"test.yaml": []byte(ruleYAML)})
			if err != nil {
				t.Fatal(err)
			}
			e.Load(set)
			z.UseRules(e)
		}
		zs = append(zs, z)
	}
	rods, err := zs[0].cat.User(t.Context(), catalog.UserID{Name: DefaultAdmin, Zone: DefaultZone})
	if err != nil {
		t.Fatal(err)
	}
	return zs, rods
}

// TestDgraphTwoServersJobsRunOnce: puts through two servers schedule a
// delayed job each (rule action schedule); both servers run the queue at
// once, and every job runs exactly once.
func TestDgraphTwoServersJobsRunOnce(t *testing.T) {
	const rule = `rules:
  - name: later
    on: [put]
    when: post
    then:
      - schedule:
          after: 0s
          do:
            - count: {}
`
	counter := &jobCounter{runs: map[int64][]string{}, tries: map[int64]int{}}
	zs, rods := dgraphServers(t, 2, counter, rule)
	ctx := t.Context()
	home := zs[0].Home(DefaultAdmin)

	// Puts through both servers at once: each schedules one job.
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := catalog.MustPath(fmt.Sprintf("%s/f%02d", home, i))
			_, err := zs[i%2].Put(ctx, As(rods), PutRequest{Path: p, Size: 1}, strings.NewReader("x"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := zs[1].cat.ListJobs(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != n {
		t.Fatalf("%d puts scheduled %d jobs, want %d", n, len(jobs), n)
	}

	runCtx, cancel := context.WithCancel(ctx)
	var running sync.WaitGroup
	for _, z := range zs {
		running.Add(1)
		go func() { defer running.Done(); z.RunJobs(runCtx, JobOptions{Poll: 10 * time.Millisecond, Batch: 3}) }()
	}
	waitJobs(t, zs[0].cat, "two servers on Dgraph", func(js []catalog.Job) bool { return len(js) == 0 })
	cancel()
	running.Wait()

	counter.mu.Lock()
	defer counter.mu.Unlock()
	perServer := map[string]int{}
	for _, j := range jobs {
		runs := counter.runs[int64(j.ID)]
		if len(runs) != 1 {
			t.Errorf("job %d ran %d times: %v", j.ID, len(runs), runs)
			continue
		}
		perServer[runs[0]]++
	}
	if len(counter.runs) != n {
		t.Errorf("%d jobs ran, want %d", len(counter.runs), n)
	}
	t.Logf("jobs run per server: %v", perServer)
}

// TestDgraphTwoServersLeaseBlocks: while a put through one server holds
// its replica's lease, renewing it as the bytes flow, a put of the same
// path through the other server is refused as locked; once the first
// put ends, the other server's put goes through.
func TestDgraphTwoServersLeaseBlocks(t *testing.T) {
	zs, rods := dgraphServers(t, 2, nil, "")
	a, b := zs[0], zs[1]
	ctx := t.Context()
	p := catalog.MustPath(a.Home(DefaultAdmin).String() + "/held")

	body, w := io.Pipe()
	putA := make(chan error, 1)
	go func() {
		_, err := a.Put(ctx, As(rods), PutRequest{Path: p, Size: -1}, body)
		putA <- err
	}()
	if _, err := w.Write([]byte("from A, ")); err != nil {
		t.Fatal(err)
	}
	// A has begun its replica once the write above was taken: the body is
	// read only after the catalog has registered the replica.
	first := heldReplica(t, b, p, time.Time{})
	if !strings.HasPrefix(first.LockHolder, "server1") {
		t.Fatalf("replica held by %q, want a holder of server1", first.LockHolder)
	}

	tests := []struct {
		name      string
		overwrite bool
		want      error
	}{
		{"overwrite", true, catalog.ErrLocked},
		{"create", false, catalog.ErrExists},
	}
	for _, tc := range tests {
		_, err := b.Put(ctx, As(rods), PutRequest{Path: p, Size: 4, Overwrite: tc.overwrite}, strings.NewReader("B!!!"))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s through B while A writes: %v, want %v", tc.name, err, tc.want)
		}
	}

	// A's renewals reach B: once B sees the lease moved, it is still locked.
	heldReplica(t, b, p, first.LeaseExpiry)
	if _, err := b.Put(ctx, As(rods), PutRequest{Path: p, Size: 4, Overwrite: true}, strings.NewReader("B!!!")); !errors.Is(err, catalog.ErrLocked) {
		t.Errorf("overwrite through B after A renewed its lease: %v, want ErrLocked", err)
	}

	if _, err := w.Write([]byte("done")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := <-putA; err != nil {
		t.Fatalf("put through A: %v", err)
	}
	if _, err := b.Put(ctx, As(rods), PutRequest{Path: p, Size: 4, Overwrite: true}, strings.NewReader("B!!!")); err != nil {
		t.Fatalf("overwrite through B after A finished: %v", err)
	}
	_, _, rc, err := a.Open(ctx, As(rods), p, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != "B!!!" {
		t.Errorf("read through A after B's overwrite: %q, %v", got, err)
	}
}

// heldReplica waits until z's catalog shows an intermediate replica of p
// whose lease ends after after, and returns it.
func heldReplica(t *testing.T, z *Zone, p catalog.Path, after time.Time) catalog.Replica {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		o, err := z.cat.DataObject(t.Context(), p)
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			t.Fatal(err)
		}
		for _, r := range o.Replicas {
			if r.Status == catalog.ReplicaIntermediate && r.LeaseExpiry.After(after) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no intermediate replica of %s with a lease after %s: %+v", p, after, o.Replicas)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
