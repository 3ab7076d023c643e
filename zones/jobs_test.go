package zones

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/rules"
)

// jobCounter is an action that records which server ran which job, and
// fails the first failFirst runs of every job.
type jobCounter struct {
	mu        sync.Mutex
	runs      map[int64][]string
	failFirst int
	tries     map[int64]int
}

func (c *jobCounter) action(server string) rules.Action {
	return rules.Action{Name: "count", Run: func(ctx context.Context, call *rules.Call) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.tries[call.JobID]++
		if c.tries[call.JobID] <= c.failFirst {
			return errors.New("not yet")
		}
		c.runs[call.JobID] = append(c.runs[call.JobID], server)
		return nil
	}}
}

// jobZone is a zone with a rule engine whose registry holds the counter.
func jobZone(t *testing.T, path, server string, counter *jobCounter) (*Zone, *sqlite.Catalog) {
	t.Helper()
	return actionZone(t, path, server, counter.action(server))
}

// actionZone is a zone on the catalog at path with a rule engine whose
// registry holds action.
func actionZone(t *testing.T, path, server string, action rules.Action) (*Zone, *sqlite.Catalog) {
	t.Helper()
	cat, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	quiet := slog.New(slog.DiscardHandler)
	z := New(cat, Options{Drivers: drivers.Default(), Logger: quiet, ServerID: server})
	reg := rules.NewRegistry()
	if err := reg.Register(action); err != nil {
		t.Fatal(err)
	}
	e, err := rules.New(rules.Options{Registry: reg, Catalog: cat, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	z.UseRules(e)
	return z, cat
}

func addCountJob(t *testing.T, cat catalog.Catalog, due time.Time, every string) catalog.Job {
	t.Helper()
	work, _ := json.Marshal(rules.JobWork{Op: "put", User: "alice", Zone: "tempZone", Actions: []rules.StoredCall{{Action: "count"}}})
	j, err := cat.AddJob(context.Background(), catalog.Job{Rule: "test", Owner: catalog.UserID{Name: "alice", Zone: "tempZone"}, Due: due, Every: every, Work: work})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func waitJobs(t *testing.T, cat catalog.Catalog, what string, done func([]catalog.Job) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		jobs, err := cat.ListJobs(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if done(jobs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: jobs left: %+v", what, jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestJobsTwoServersOneCatalog: two zones on one catalog file share its
// queue, and every job runs exactly once.
func TestJobsTwoServersOneCatalog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	counter := &jobCounter{runs: map[int64][]string{}, tries: map[int64]int{}}
	z1, cat1 := jobZone(t, path, "server1", counter)
	z2, _ := jobZone(t, path, "server2", counter)
	const n = 120
	ids := map[int64]bool{}
	for i := 0; i < n; i++ {
		ids[int64(addCountJob(t, cat1, time.Now().Add(time.Duration(i%10)*20*time.Millisecond), "").ID)] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	opts := JobOptions{Poll: 10 * time.Millisecond, Batch: 3}
	for _, z := range []*Zone{z1, z2} {
		wg.Add(1)
		go func() { defer wg.Done(); z.RunJobs(ctx, opts) }()
	}
	waitJobs(t, cat1, "two servers", func(js []catalog.Job) bool { return len(js) == 0 })
	cancel()
	wg.Wait()
	counter.mu.Lock()
	defer counter.mu.Unlock()
	perServer := map[string]int{}
	for id := range ids {
		runs := counter.runs[id]
		if len(runs) != 1 {
			t.Errorf("job %d ran %d times: %v", id, len(runs), runs)
			continue
		}
		perServer[runs[0]]++
	}
	t.Logf("jobs run per server: %v", perServer)
}

// TestJobsRetryAndTakeover: a failing job is retried with backoff until it
// succeeds; a job whose server died is taken over when its lease ends; a
// periodic job is rescheduled.
func TestJobsRetryAndTakeover(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	counter := &jobCounter{runs: map[int64][]string{}, tries: map[int64]int{}, failFirst: 2}
	z, cat := jobZone(t, path, "server1", counter)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	retried := addCountJob(t, cat, time.Now(), "")
	orphan := addCountJob(t, cat, time.Now(), "")
	// A server claims the orphan and dies with it.
	claimed, err := cat.ClaimJobs(ctx, "dead-server", time.Now(), 300*time.Millisecond, 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := cat.RetryJob(ctx, retried.ID, "dead-server", time.Now(), "released"); err != nil {
		t.Fatal(err)
	}

	go z.RunJobs(ctx, JobOptions{Poll: 20 * time.Millisecond, Backoff: 50 * time.Millisecond, MaxAttempts: 5})
	sawRetry := false
	waitJobs(t, cat, "retry and takeover", func(js []catalog.Job) bool {
		for _, j := range js {
			sawRetry = sawRetry || (j.ID == retried.ID && j.LastError == "count: not yet")
		}
		return len(js) == 0
	})
	if !sawRetry {
		t.Error("never saw the failing job waiting for its retry")
	}
	counter.mu.Lock()
	if len(counter.runs[int64(retried.ID)]) != 1 || len(counter.runs[int64(orphan.ID)]) != 1 {
		t.Errorf("runs: %v", counter.runs)
	}
	counter.failFirst = 0
	counter.mu.Unlock()

	// Periodic: runs, and stays scheduled for its next time.
	periodic := addCountJob(t, cat, time.Now(), "@every 1h")
	waitJobs(t, cat, "periodic", func(js []catalog.Job) bool {
		return len(js) == 1 && js[0].ID == periodic.ID && js[0].Due.After(time.Now().Add(50*time.Minute)) && js[0].Holder == ""
	})
	counter.mu.Lock()
	if n := len(counter.runs[int64(periodic.ID)]); n != 1 {
		t.Errorf("periodic job ran %d times", n)
	}
	counter.mu.Unlock()
}

// TestJobsGiveUp: a job that always fails is marked failed after
// MaxAttempts and kept.
func TestJobsGiveUp(t *testing.T) {
	counter := &jobCounter{runs: map[int64][]string{}, tries: map[int64]int{}, failFirst: 1000}
	z, cat := jobZone(t, filepath.Join(t.TempDir(), "catalog.db"), "s", counter)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j := addCountJob(t, cat, time.Now(), "")
	go z.RunJobs(ctx, JobOptions{Poll: 10 * time.Millisecond, Backoff: 10 * time.Millisecond, MaxAttempts: 3})
	waitJobs(t, cat, "give up", func(js []catalog.Job) bool { return len(js) == 1 && js[0].Failed })
	got, err := cat.Job(ctx, j.ID)
	if err != nil || got.Attempts != 3 || got.LastError != "count: not yet" {
		t.Errorf("failed job: %+v %v", got, err)
	}
}

// TestPeriodicJobGivesUpARun: a periodic job that keeps failing gives up
// the run after MaxAttempts, not its schedule: it is due again at its next
// time, with its attempts reset, instead of failing for good (or retrying
// for ever).
func TestPeriodicJobGivesUpARun(t *testing.T) {
	counter := &jobCounter{runs: map[int64][]string{}, tries: map[int64]int{}, failFirst: 1000}
	z, cat := jobZone(t, filepath.Join(t.TempDir(), "catalog.db"), "s", counter)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j := addCountJob(t, cat, time.Now(), "@every 1h")
	go z.RunJobs(ctx, JobOptions{Poll: 10 * time.Millisecond, Backoff: 10 * time.Millisecond, MaxAttempts: 3})
	waitJobs(t, cat, "give up the run", func(js []catalog.Job) bool {
		return len(js) == 1 && js[0].Due.After(time.Now().Add(50*time.Minute)) && js[0].Holder == ""
	})
	got, err := cat.Job(ctx, j.ID)
	if err != nil || got.Failed || got.Attempts != 0 {
		t.Errorf("periodic job after an abandoned run: %+v %v", got, err)
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	if n := counter.tries[int64(j.ID)]; n != 3 {
		t.Errorf("%d tries, want 3", n)
	}
}
