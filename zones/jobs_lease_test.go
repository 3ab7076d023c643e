package zones

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/rules"
)

// slowAction runs until release is closed or its context ends, and says
// which server ran it and how it ended.
type slowAction struct {
	started chan string // server names, one per run
	release chan struct{}
	mu      sync.Mutex
	ended   []error // ctx.Err() of each run when it ended, nil if released
}

func (a *slowAction) action(server string) rules.Action {
	return rules.Action{Name: "slow", Run: func(ctx context.Context, call *rules.Call) error {
		a.started <- server
		var err error
		select {
		case <-a.release:
		case <-ctx.Done():
			err = ctx.Err()
		}
		a.mu.Lock()
		a.ended = append(a.ended, err)
		a.mu.Unlock()
		return err
	}}
}

func slowZone(t *testing.T, path, server string, a *slowAction) (*Zone, *sqlite.Catalog) {
	t.Helper()
	return actionZone(t, path, server, a.action(server))
}

func addSlowJob(t *testing.T, cat catalog.Catalog) catalog.Job {
	t.Helper()
	work, _ := json.Marshal(rules.JobWork{Op: "put", User: "alice", Zone: "tempZone", Actions: []rules.StoredCall{{Action: "slow"}}})
	j, err := cat.AddJob(context.Background(), catalog.Job{Rule: "test", Owner: catalog.UserID{Name: "alice", Zone: "tempZone"}, Due: time.Now(), Work: work})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestJobLeaseRenewed: a job that runs for several lease periods keeps its
// lease, so a second server on the catalog does not run it too.
func TestJobLeaseRenewed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	a := &slowAction{started: make(chan string, 4), release: make(chan struct{})}
	z1, cat := slowZone(t, path, "server1", a)
	z2, _ := slowZone(t, path, "server2", a)
	addSlowJob(t, cat)
	var wg sync.WaitGroup
	defer wg.Wait() // after the cancel below, which ends a run that hangs
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const lease = 150 * time.Millisecond
	wg.Go(func() { z1.RunJobs(ctx, JobOptions{Poll: 10 * time.Millisecond, Lease: lease}) })
	first := <-a.started
	wg.Go(func() { z2.RunJobs(ctx, JobOptions{Poll: 10 * time.Millisecond, Lease: lease}) })
	// Without renewal the lease ends after 150 ms and the other server,
	// polling every 10 ms, takes the job.
	select {
	case second := <-a.started:
		t.Fatalf("job started by %s and again by %s while the first run was going", first, second)
	case <-time.After(8 * lease):
	}
	close(a.release)
	waitJobs(t, cat, "slow job", func(js []catalog.Job) bool { return len(js) == 0 })
	cancel()
	wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.ended) != 1 || a.ended[0] != nil {
		t.Errorf("runs ended with %v, want one released run", a.ended)
	}
}

// TestJobLostLeaseCancelsRun: when the job of a running run is taken from
// its server (here removed by an administrator), the next renewal fails
// and the run is cancelled instead of going on.
func TestJobLostLeaseCancelsRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	a := &slowAction{started: make(chan string, 4), release: make(chan struct{})}
	z, cat := slowZone(t, path, "server1", a)
	j := addSlowJob(t, cat)
	var wg sync.WaitGroup
	defer wg.Wait() // after the cancel below, which ends a run that hangs
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wg.Go(func() { z.RunJobs(ctx, JobOptions{Poll: 10 * time.Millisecond, Lease: 150 * time.Millisecond}) })
	<-a.started
	if err := cat.RemoveJob(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.mu.Lock()
		ended := append([]error(nil), a.ended...)
		a.mu.Unlock()
		if len(ended) > 0 {
			if ended[0] == nil {
				t.Fatalf("run ended without cancellation: %v", ended)
			}
			break
		}
		if time.Now().After(deadline) {
			close(a.release)
			t.Fatal("the run of a removed job was not cancelled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
}
