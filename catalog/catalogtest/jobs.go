package catalogtest

import (
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

func newJob(rule string, due time.Time) catalog.Job {
	return catalog.Job{Rule: rule, Owner: alice, Due: due, Work: []byte(`{"actions":[]}`)}
}

var jobTests = []test{
	{"AddListRemove", func(t *testing.T, f *fixture) {
		due := time.Now().Add(time.Hour).Truncate(time.Microsecond)
		j := must(f.cat.AddJob(f.ctx, catalog.Job{Rule: "r", Owner: alice, Every: "@daily", Due: due, Work: []byte("w"), Key: "r:/a"}))(t)
		if j.ID == 0 || j.Rule != "r" || !j.Due.Equal(due) || j.Every != "@daily" || j.Key != "r:/a" || j.Holder != "" || j.Attempts != 0 {
			t.Fatalf("AddJob = %+v", j)
		}
		checkTime(t, "create time", j.CreateTime, f.start)
		got := must(f.cat.Job(f.ctx, j.ID))(t)
		if got.ID != j.ID || got.Owner != alice || string(got.Work) != "w" || !got.Due.Equal(due) || got.Key != "r:/a" {
			t.Errorf("Job = %+v", got)
		}
		_, err := f.cat.AddJob(f.ctx, catalog.Job{Rule: "r", Owner: alice, Due: due, Work: []byte("w"), Key: "r:/a"})
		wantErr(t, err, catalog.ErrExists)
		j2 := must(f.cat.AddJob(f.ctx, newJob("s", due)))(t)
		j3 := must(f.cat.AddJob(f.ctx, newJob("s", due)))(t) // no key: any number
		all := must(f.cat.ListJobs(f.ctx, 0, 10))(t)
		if len(all) != 3 || all[0].ID != j.ID || all[1].ID != j2.ID || all[2].ID != j3.ID {
			t.Fatalf("ListJobs = %+v", all)
		}
		if page := must(f.cat.ListJobs(f.ctx, j.ID, 1))(t); len(page) != 1 || page[0].ID != j2.ID {
			t.Errorf("ListJobs after %d = %+v", j.ID, page)
		}
		ok(t, f.cat.RemoveJob(f.ctx, j2.ID))
		wantErr(t, f.cat.RemoveJob(f.ctx, j2.ID), catalog.ErrNotFound)
		_, err = f.cat.Job(f.ctx, j2.ID)
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.ListJobs(f.ctx, 0, 0)
		wantErr(t, err, catalog.ErrInvalidArgument)
		_, err = f.cat.AddJob(f.ctx, catalog.Job{Owner: alice, Due: due})
		wantErr(t, err, catalog.ErrInvalidArgument)
	}},
	{"ClaimLeaseFinish", func(t *testing.T, f *fixture) {
		now := time.Now()
		past := must(f.cat.AddJob(f.ctx, newJob("past", now.Add(-time.Minute))))(t)
		soon := must(f.cat.AddJob(f.ctx, newJob("soon", now.Add(-time.Second))))(t)
		must(f.cat.AddJob(f.ctx, newJob("future", now.Add(time.Hour))))(t)
		got := must(f.cat.ClaimJobs(f.ctx, "a", now, time.Minute, 10))(t)
		if len(got) != 2 || got[0].ID != past.ID || got[1].ID != soon.ID || got[0].Holder != "a" {
			t.Fatalf("ClaimJobs = %+v", got)
		}
		if again := must(f.cat.ClaimJobs(f.ctx, "b", now, time.Minute, 10))(t); len(again) != 0 {
			t.Errorf("claimed jobs under a lease: %+v", again)
		}
		wantErr(t, f.cat.FinishJob(f.ctx, past.ID, "b", time.Time{}), catalog.ErrLocked)
		ok(t, f.cat.FinishJob(f.ctx, past.ID, "a", time.Time{}))
		_, err := f.cat.Job(f.ctx, past.ID)
		wantErr(t, err, catalog.ErrNotFound)
		// After the lease ends another server takes the job over.
		later := now.Add(2 * time.Minute)
		taken := must(f.cat.ClaimJobs(f.ctx, "b", later, time.Minute, 10))(t)
		if len(taken) != 1 || taken[0].ID != soon.ID || taken[0].Holder != "b" {
			t.Fatalf("takeover = %+v", taken)
		}
		wantErr(t, f.cat.FinishJob(f.ctx, soon.ID, "a", time.Time{}), catalog.ErrLocked)
		// A periodic job is released with its next due time.
		next := later.Add(24 * time.Hour).Truncate(time.Microsecond)
		ok(t, f.cat.FinishJob(f.ctx, soon.ID, "b", next))
		j := must(f.cat.Job(f.ctx, soon.ID))(t)
		if j.Holder != "" || !j.Due.Equal(next) || j.Attempts != 0 {
			t.Errorf("released periodic job = %+v", j)
		}
		_, err = f.cat.ClaimJobs(f.ctx, "", now, time.Minute, 1)
		wantErr(t, err, catalog.ErrInvalidArgument)
	}},
	{"RenewLease", func(t *testing.T, f *fixture) {
		now := time.Now()
		j := must(f.cat.AddJob(f.ctx, newJob("long", now.Add(-time.Second))))(t)
		if got := must(f.cat.ClaimJobs(f.ctx, "a", now, time.Minute, 1))(t); len(got) != 1 {
			t.Fatalf("ClaimJobs = %+v", got)
		}
		until := now.Add(10 * time.Minute).Truncate(time.Microsecond)
		ok(t, f.cat.RenewJob(f.ctx, j.ID, "a", until))
		if got := must(f.cat.Job(f.ctx, j.ID))(t); got.Holder != "a" || !got.LeaseExpiry.Equal(until) {
			t.Errorf("after renewal: %+v", got)
		}
		// Past the first lease, the renewed one still keeps others out.
		if got := must(f.cat.ClaimJobs(f.ctx, "b", now.Add(2*time.Minute), time.Minute, 1))(t); len(got) != 0 {
			t.Errorf("claimed a job under a renewed lease: %+v", got)
		}
		wantErr(t, f.cat.RenewJob(f.ctx, j.ID, "b", until), catalog.ErrLocked)
		// Past the renewed lease another server takes it, and the first
		// holder's renewal tells it to stop.
		if got := must(f.cat.ClaimJobs(f.ctx, "b", until.Add(time.Second), time.Minute, 1))(t); len(got) != 1 {
			t.Fatalf("takeover after the renewed lease = %+v", got)
		}
		wantErr(t, f.cat.RenewJob(f.ctx, j.ID, "a", until.Add(time.Hour)), catalog.ErrLocked)
		wantErr(t, f.cat.RenewJob(f.ctx, j.ID+1000, "a", until), catalog.ErrNotFound)
		wantErr(t, f.cat.RenewJob(f.ctx, j.ID, "b", time.Time{}), catalog.ErrInvalidArgument)
	}},
	{"Retry", func(t *testing.T, f *fixture) {
		now := time.Now()
		j := must(f.cat.AddJob(f.ctx, newJob("r", now.Add(-time.Second))))(t)
		must(f.cat.ClaimJobs(f.ctx, "a", now, time.Minute, 1))(t)
		retry := now.Add(time.Minute).Truncate(time.Microsecond)
		ok(t, f.cat.RetryJob(f.ctx, j.ID, "a", retry, "boom"))
		got := must(f.cat.Job(f.ctx, j.ID))(t)
		if got.Attempts != 1 || got.LastError != "boom" || !got.Due.Equal(retry) || got.Holder != "" || got.Failed {
			t.Errorf("after retry: %+v", got)
		}
		if c := must(f.cat.ClaimJobs(f.ctx, "a", now, time.Minute, 1))(t); len(c) != 0 {
			t.Errorf("claimed before its retry time: %+v", c)
		}
		must(f.cat.ClaimJobs(f.ctx, "a", retry, time.Minute, 1))(t)
		ok(t, f.cat.RetryJob(f.ctx, j.ID, "a", time.Time{}, "gave up"))
		got = must(f.cat.Job(f.ctx, j.ID))(t)
		if !got.Failed || got.Attempts != 2 || got.LastError != "gave up" {
			t.Errorf("after giving up: %+v", got)
		}
		if c := must(f.cat.ClaimJobs(f.ctx, "a", now.Add(time.Hour), time.Minute, 1))(t); len(c) != 0 {
			t.Errorf("claimed a failed job: %+v", c)
		}
	}},
	{"ClaimConcurrently", func(t *testing.T, f *fixture) {
		now := time.Now()
		const n = 40
		for i := 0; i < n; i++ {
			must(f.cat.AddJob(f.ctx, newJob("r", now.Add(-time.Second))))(t)
		}
		var mu sync.Mutex
		seen := map[catalog.ID]string{}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			holder := string(rune('a' + w))
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := f.cat.ClaimJobs(f.ctx, holder, now, time.Minute, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, j := range got {
						if h, dup := seen[j.ID]; dup {
							t.Errorf("job %d claimed by %s and %s", j.ID, h, holder)
						}
						seen[j.ID] = holder
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Errorf("claimed %d jobs of %d", len(seen), n)
		}
	}},
}
