package catalogtest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

func newJob(rule string, due time.Time) catalog.Job {
	return catalog.Job{Rule: rule, Owner: alice, Due: due, Work: []byte(`{"actions":[]}`)}
}

// pathJob is a job of rule acting on path.
func pathJob(rule, path string, due time.Time) catalog.Job {
	j := newJob(rule, due)
	j.Path = path
	return j
}

// jobIDs lists the IDs of every job, in ID order.
func jobIDs(t *testing.T, f *fixture) []catalog.ID {
	t.Helper()
	var ids []catalog.ID
	for _, j := range must(f.cat.ListJobs(f.ctx, 0, 1000))(t) {
		ids = append(ids, j.ID)
	}
	return ids
}

func sameIDs(t *testing.T, what string, got []catalog.ID, want ...catalog.ID) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: jobs %v, want %v", what, got, want)
	}
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
	{"PendingReplaced", func(t *testing.T, f *fixture) {
		// One pending job per rule and path: adding another replaces it.
		now := time.Now()
		a1 := must(f.cat.AddJob(f.ctx, pathJob("r", "/tempZone/a", now.Add(time.Hour))))(t)
		if a1.Path != "/tempZone/a" {
			t.Fatalf("AddJob = %+v", a1)
		}
		if got := must(f.cat.Job(f.ctx, a1.ID))(t); got.Path != "/tempZone/a" {
			t.Errorf("Job = %+v", got)
		}
		a2 := must(f.cat.AddJob(f.ctx, pathJob("r", "/tempZone/a", now.Add(-time.Second))))(t)
		b := must(f.cat.AddJob(f.ctx, pathJob("r", "/tempZone/b", now.Add(time.Hour))))(t)
		other := must(f.cat.AddJob(f.ctx, pathJob("s", "/tempZone/a", now.Add(time.Hour))))(t)
		free1 := must(f.cat.AddJob(f.ctx, newJob("r", now.Add(time.Hour))))(t)
		free2 := must(f.cat.AddJob(f.ctx, newJob("r", now.Add(time.Hour))))(t)
		sameIDs(t, "after adding twice on /tempZone/a", jobIDs(t, f), a2.ID, b.ID, other.ID, free1.ID, free2.ID)
		_, err := f.cat.Job(f.ctx, a1.ID)
		wantErr(t, err, catalog.ErrNotFound)

		// A running job is not pending: a new one goes beside it, and
		// replaces it when the running one is released.
		if got := must(f.cat.ClaimJobs(f.ctx, "h", now, time.Minute, 1))(t); len(got) != 1 || got[0].ID != a2.ID {
			t.Fatalf("ClaimJobs = %+v", got)
		}
		a3 := must(f.cat.AddJob(f.ctx, pathJob("r", "/tempZone/a", now.Add(time.Hour))))(t)
		sameIDs(t, "beside a running job", jobIDs(t, f), a2.ID, b.ID, other.ID, free1.ID, free2.ID, a3.ID)
		ok(t, f.cat.RetryJob(f.ctx, a2.ID, "h", now.Add(time.Minute), "again"))
		sameIDs(t, "after releasing the replaced job", jobIDs(t, f), b.ID, other.ID, free1.ID, free2.ID, a3.ID)

		// The same for a periodic job released by FinishJob; a failed job
		// stays for an administrator.
		if got := must(f.cat.ClaimJobs(f.ctx, "h", now.Add(2*time.Hour), time.Minute, 10))(t); len(got) != 5 {
			t.Fatalf("ClaimJobs = %+v", got)
		}
		b2 := must(f.cat.AddJob(f.ctx, pathJob("r", "/tempZone/b", now.Add(time.Hour))))(t)
		ok(t, f.cat.FinishJob(f.ctx, b.ID, "h", now.Add(24*time.Hour)))
		ok(t, f.cat.RetryJob(f.ctx, a3.ID, "h", time.Time{}, "gave up"))
		a4 := must(f.cat.AddJob(f.ctx, pathJob("r", "/tempZone/a", now.Add(time.Hour))))(t)
		ok(t, f.cat.FinishJob(f.ctx, other.ID, "h", now.Add(24*time.Hour)))
		if got := must(f.cat.Job(f.ctx, other.ID))(t); got.Holder != "" {
			t.Errorf("released job = %+v", got)
		}
		sameIDs(t, "after finishing", jobIDs(t, f), other.ID, free1.ID, free2.ID, a3.ID, b2.ID, a4.ID)
		if got := must(f.cat.Job(f.ctx, a3.ID))(t); !got.Failed {
			t.Errorf("failed job = %+v", got)
		}

		_, err = f.cat.AddJob(f.ctx, pathJob("r", "tempZone/a", now))
		wantErr(t, err, catalog.ErrInvalidArgument)
		_, err = f.cat.AddJob(f.ctx, pathJob("r", "/tempZone/a/", now))
		wantErr(t, err, catalog.ErrInvalidArgument)
	}},
	{"PendingUniqueConcurrently", func(t *testing.T, f *fixture) {
		// Servers scheduling for one rule and path at once leave one job.
		now := time.Now()
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				j := pathJob("r", "/tempZone/same", now.Add(time.Duration(i)*time.Second))
				if _, err := f.cat.AddJob(f.ctx, j); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ids := jobIDs(t, f); len(ids) != 1 {
			t.Fatalf("%d jobs of one rule and path: %v", len(ids), ids)
		}
	}},
	{"Cancel", func(t *testing.T, f *fixture) {
		now := time.Now()
		add := func(rule, path string) catalog.ID {
			return must(f.cat.AddJob(f.ctx, pathJob(rule, path, now.Add(time.Hour))))(t).ID
		}
		a := add("r", "/tempZone/c")
		a1 := add("r", "/tempZone/c/x")
		a2 := add("r", "/tempZone/c/x/y")
		sib := add("r", "/tempZone/c0")
		sib2 := add("r", "/tempZone/cc")
		s := add("s", "/tempZone/c/x")
		none := must(f.cat.AddJob(f.ctx, newJob("s", now.Add(time.Hour))))(t).ID
		if n := must(f.cat.CancelJobs(f.ctx, catalog.JobFilter{Path: "/tempZone/c/x"}))(t); n != 2 {
			t.Errorf("cancel on /tempZone/c/x: %d", n)
		}
		sameIDs(t, "after cancelling on a path", jobIDs(t, f), a, a2, sib, sib2, none)
		if n := must(f.cat.CancelJobs(f.ctx, catalog.JobFilter{Path: "/tempZone/c", Below: true}))(t); n != 2 {
			t.Errorf("cancel below /tempZone/c: %d", n)
		}
		sameIDs(t, "after cancelling below a path", jobIDs(t, f), sib, sib2, none)
		_, _ = a1, s // cancelled on their path
		if n := must(f.cat.CancelJobs(f.ctx, catalog.JobFilter{Rule: "s"}))(t); n != 1 {
			t.Errorf("cancel of rule s: %d", n)
		}
		sameIDs(t, "after cancelling a rule", jobIDs(t, f), sib, sib2)

		// Running and failed jobs stay; a job whose lease ran out is
		// pending again.
		run := add("t", "/tempZone/run")
		gone := add("t", "/tempZone/gone")
		failed := add("t", "/tempZone/failed")
		later := now.Add(2 * time.Hour)
		got := must(f.cat.ClaimJobs(f.ctx, "h", later, time.Hour, 10))(t)
		if len(got) != 5 {
			t.Fatalf("ClaimJobs = %+v", got)
		}
		ok(t, f.cat.RetryJob(f.ctx, failed, "h", time.Time{}, "gave up"))
		ok(t, f.cat.RetryJob(f.ctx, gone, "h", now.Add(-time.Minute), "later"))
		if n := must(f.cat.CancelJobs(f.ctx, catalog.JobFilter{Rule: "t", Path: "/", Below: true}))(t); n != 1 {
			t.Errorf("cancel of rule t: %d", n)
		}
		sameIDs(t, "after cancelling around running and failed jobs", jobIDs(t, f), sib, sib2, run, failed)

		for _, bad := range []catalog.JobFilter{{}, {Below: true, Rule: "r"}, {Path: "x"}} {
			_, err := f.cat.CancelJobs(f.ctx, bad)
			wantErr(t, err, catalog.ErrInvalidArgument)
		}
	}},
	{"MaxPending", func(t *testing.T, f *fixture) {
		now := time.Now()
		capped := func(path string) catalog.Job {
			j := pathJob("r", path, now.Add(-time.Second))
			j.MaxPending = 2
			return j
		}
		a := must(f.cat.AddJob(f.ctx, capped("/tempZone/a")))(t)
		if a.MaxPending != 0 {
			t.Errorf("AddJob kept MaxPending: %+v", a)
		}
		must(f.cat.AddJob(f.ctx, capped("/tempZone/b")))(t)
		_, err := f.cat.AddJob(f.ctx, capped("/tempZone/c"))
		wantErr(t, err, catalog.ErrQuotaExceeded)
		// Replacing a pending job adds none; other rules have their own.
		must(f.cat.AddJob(f.ctx, capped("/tempZone/a")))(t)
		must(f.cat.AddJob(f.ctx, pathJob("s", "/tempZone/c", now)))(t)
		// Running jobs count, failed ones do not.
		got := must(f.cat.ClaimJobs(f.ctx, "h", now, time.Minute, 10))(t)
		_, err = f.cat.AddJob(f.ctx, capped("/tempZone/c"))
		wantErr(t, err, catalog.ErrQuotaExceeded)
		for _, j := range got {
			if j.Rule == "r" {
				ok(t, f.cat.RetryJob(f.ctx, j.ID, "h", time.Time{}, "gave up"))
				break
			}
		}
		must(f.cat.AddJob(f.ctx, capped("/tempZone/c")))(t)
		if n := len(jobIDs(t, f)); n != 4 {
			t.Errorf("%d jobs, want 4", n)
		}
		_, err = f.cat.AddJob(f.ctx, capped("/tempZone/d"))
		wantErr(t, err, catalog.ErrQuotaExceeded)
		// Removed jobs no longer count.
		if _, err := f.cat.CancelJobs(f.ctx, catalog.JobFilter{Rule: "r", Path: "/tempZone/c"}); err != nil {
			t.Fatal(err)
		}
		must(f.cat.AddJob(f.ctx, capped("/tempZone/d")))(t)
		_, err = f.cat.AddJob(f.ctx, capped("/tempZone/e"))
		wantErr(t, err, catalog.ErrQuotaExceeded)
	}},
	{"State", func(t *testing.T, f *fixture) {
		now := time.Now()
		j := newJob("r", now.Add(-time.Second))
		j.Every = "@daily"
		j = must(f.cat.AddJob(f.ctx, j))(t)
		wantErr(t, f.cat.SaveJobState(f.ctx, j.ID, "h", []byte("x")), catalog.ErrLocked)
		must(f.cat.ClaimJobs(f.ctx, "h", now, time.Minute, 1))(t)
		ok(t, f.cat.SaveJobState(f.ctx, j.ID, "h", []byte(`{"after":7}`)))
		wantErr(t, f.cat.SaveJobState(f.ctx, j.ID, "other", []byte("x")), catalog.ErrLocked)
		wantErr(t, f.cat.SaveJobState(f.ctx, j.ID+1000, "h", []byte("x")), catalog.ErrNotFound)
		if got := must(f.cat.Job(f.ctx, j.ID))(t); string(got.State) != `{"after":7}` {
			t.Errorf("state = %q", got.State)
		}
		// A failed run keeps the state, and the next claim has it.
		ok(t, f.cat.RetryJob(f.ctx, j.ID, "h", now, "interrupted"))
		got := must(f.cat.ClaimJobs(f.ctx, "k", now, time.Minute, 1))(t)
		if len(got) != 1 || string(got[0].State) != `{"after":7}` {
			t.Fatalf("claim after a retry = %+v", got)
		}
		// So does a claim after the lease of a dead holder ran out.
		ok(t, f.cat.SaveJobState(f.ctx, j.ID, "k", []byte(`{"after":9}`)))
		got = must(f.cat.ClaimJobs(f.ctx, "m", now.Add(2*time.Minute), time.Minute, 1))(t)
		if len(got) != 1 || string(got[0].State) != `{"after":9}` {
			t.Fatalf("takeover = %+v", got)
		}
		// A finished run starts the next afresh.
		ok(t, f.cat.FinishJob(f.ctx, j.ID, "m", now.Add(time.Hour)))
		if got := must(f.cat.Job(f.ctx, j.ID))(t); len(got.State) != 0 {
			t.Errorf("state after the run = %q", got.State)
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
