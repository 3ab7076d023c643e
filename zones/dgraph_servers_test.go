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
	return dgraphServersWith(t, n, ruleYAML, func(server string) []rules.Action {
		if counter == nil {
			return nil
		}
		return []rules.Action{counter.action(server)}
	}, nil)
}

// dgraphServersWith is dgraphServers with the actions of each server
// given by actions, and each server's catalog wrapped by wrap (if set).
func dgraphServersWith(t *testing.T, n int, ruleYAML string, actions func(server string) []rules.Action,
	wrap func(server string, c catalog.Catalog) catalog.Catalog) ([]*Zone, catalog.User) {
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
		var c catalog.Catalog = cat
		if wrap != nil {
			c = wrap(server, cat)
		}
		z := New(c, Options{Drivers: drivers.Default(), Logger: quiet, ServerID: server, Lease: 3 * time.Second})
		if err := z.Bootstrap(t.Context(), BootstrapOptions{VaultDir: vault}); err != nil {
			t.Fatalf("bootstrap %s: %v", server, err)
		}
		if ruleYAML != "" {
			reg := rules.NewRegistry()
			for _, a := range actions(server) {
				if err := reg.Register(a); err != nil {
					t.Fatal(err)
				}
			}
			e, err := rules.New(rules.Options{Registry: reg, Catalog: c, Logger: quiet})
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
	_, _, rc, err := a.Open(ctx, As(rods), p, 0, 0)
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

// pathCounter is the action "count" that records which server evaluated
// which object, after a short wait.
type pathCounter struct {
	mu    sync.Mutex
	by    map[string][]string
	delay time.Duration
}

func (c *pathCounter) action(server string) rules.Action {
	return rules.Action{Name: "count", Run: func(ctx context.Context, call *rules.Call) error {
		select {
		case <-time.After(c.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.by[call.Request.Path.String()] = append(c.by[call.Request.Path.String()], server)
		return nil
	}}
}

func (c *pathCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.by)
}

// renewCut is a catalog whose RenewJob fails once cut: a server cut off
// from the catalog long enough for its job's lease to end.
type renewCut struct {
	catalog.Catalog
	cut atomic.Bool
}

func (r *renewCut) RenewJob(ctx context.Context, id catalog.ID, holder string, until time.Time) error {
	if r.cut.Load() {
		return fmt.Errorf("renew job %d: connection refused", id)
	}
	return r.Catalog.RenewJob(ctx, id, holder, until)
}

// TestDgraphTwoServersPeriodicSelectionOnce: a periodic rule's selection
// runs on two servers of one Dgraph catalog. The first server to claim the
// run is cut off from renewing its lease while it evaluates a batch it
// claimed; the other takes the run over when the lease ends and resumes
// after that batch. Every selected object is evaluated exactly once, by
// one of the two.
func TestDgraphTwoServersPeriodicSelectionOnce(t *testing.T) {
	const rule = `rules:
  - name: tiering
    every: "@every 1h"
    select: >-
      "select COLL_NAME, DATA_NAME where COLL_NAME = '/" + zone + "/home/rods/sel' and DATA_SIZE > 1"
    then:
      - count: {}
`
	counter := &pathCounter{by: map[string][]string{}, delay: 20 * time.Millisecond}
	cuts := map[string]*renewCut{}
	var mu sync.Mutex
	zs, rods := dgraphServersWith(t, 2, rule, func(server string) []rules.Action { return []rules.Action{counter.action(server)} },
		func(server string, c catalog.Catalog) catalog.Catalog {
			mu.Lock()
			defer mu.Unlock()
			cuts[server] = &renewCut{Catalog: c}
			return cuts[server]
		})
	ctx := t.Context()
	var objs []catalog.RegisteredObject
	var want []string
	for i := range 90 {
		p := catalog.MustPath(fmt.Sprintf("%s/sel/o%03d", zs[0].Home(DefaultAdmin), i))
		size := int64(2)
		if i%10 == 0 {
			size = 1 // not selected
		} else {
			want = append(want, p.String())
		}
		objs = append(objs, catalog.RegisteredObject{Path: p, Owner: rods.UserID(),
			Replicas: []catalog.RegisteredReplica{{Resource: DefaultResource, PhysicalPath: fmt.Sprintf("sel/%d", i), Size: size}}})
	}
	if err := zs[0].Register(ctx, As(rods), objs, true, false); err != nil {
		t.Fatal(err)
	}
	// The periodic job, due now.
	jobs, err := zs[0].cat.ListJobs(ctx, 0, 100)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs %+v %v", jobs, err)
	}
	j := jobs[0]
	if err := zs[0].cat.RemoveJob(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	j.Due = time.Now()
	if _, err := zs[0].cat.AddJob(ctx, j); err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	var running sync.WaitGroup
	defer running.Wait()
	defer cancel()
	opts := JobOptions{Poll: 20 * time.Millisecond, Lease: time.Second, SelectBatch: 15, Backoff: 20 * time.Millisecond}
	for _, z := range zs {
		running.Add(1)
		go func() { defer running.Done(); z.RunJobs(runCtx, opts) }()
	}
	// Whichever server claimed the run: cut it off once it is at work.
	deadline := time.Now().Add(time.Minute)
	var first string
	for first == "" {
		jobs, err := zs[1].cat.ListJobs(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 1 && jobs[0].Holder != "" && counter.count() >= 5 {
			first = strings.SplitN(jobs[0].Holder, "/", 2)[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no server at work: %+v", jobs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	cuts[first].cut.Store(true)
	mu.Unlock()
	for {
		jobs, err := zs[1].cat.ListJobs(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 1 && jobs[0].Holder == "" && len(jobs[0].State) == 0 && jobs[0].Due.After(time.Now().Add(30*time.Minute)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run did not end: %+v", jobs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	running.Wait()

	counter.mu.Lock()
	defer counter.mu.Unlock()
	perServer := map[string]int{}
	for _, p := range want {
		by := counter.by[p]
		if len(by) != 1 {
			t.Errorf("%s evaluated %d times: %v", p, len(by), by)
			continue
		}
		perServer[by[0]]++
	}
	if len(counter.by) != len(want) {
		t.Errorf("%d objects evaluated, want %d", len(counter.by), len(want))
	}
	if len(perServer) != 2 {
		t.Errorf("objects per server %v: the run was not taken over", perServer)
	}
	t.Logf("objects per server: %v (%s was cut off)", perServer, first)
}
