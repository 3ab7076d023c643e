package zones

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
)

// DefaultJobsPerRule is how many live jobs one rule may have, unless
// Options.JobsPerRule says otherwise.
const DefaultJobsPerRule = 10_000

// ruleJobs is what the zone keeps about the jobs of its rules.
type ruleJobs struct {
	perRule int // Options.JobsPerRule

	mu    sync.Mutex
	rules map[string]bool // the rules of the rule set in use
}

// maxPending is the catalog's MaxPending for a rule's job.
func (r *ruleJobs) maxPending() int {
	switch {
	case r.perRule == 0:
		return DefaultJobsPerRule
	case r.perRule < 0:
		return 0
	}
	return r.perRule
}

// jobScheduler keeps the jobs rules schedule in the catalog.
type jobScheduler struct{ z *Zone }

func (s jobScheduler) Schedule(ctx context.Context, j rules.ScheduledJob) error {
	work, err := json.Marshal(j.Work)
	if err != nil {
		return err
	}
	owner := catalog.UserID{Name: j.Work.User, Zone: j.Work.Zone}
	_, err = s.z.cat.AddJob(ctx, catalog.Job{Key: j.Key, Rule: j.Rule, Path: j.Path, Owner: owner, Every: j.Every, Due: j.Due, Work: work,
		MaxPending: s.z.jobs.maxPending()})
	if j.Key != "" && errors.Is(err, catalog.ErrExists) {
		return nil // the periodic job is scheduled already, and running
	}
	return err
}

// rulesLoaded cancels the pending jobs of the rules that set no longer
// has: the rule that scheduled them is removed. The first set a zone
// sees only tells it which rules there are.
func (z *Zone) rulesLoaded(set *rules.Set) {
	now := map[string]bool{}
	for _, r := range set.Rules {
		now[r.Name] = true
	}
	z.jobs.mu.Lock()
	before := z.jobs.rules
	z.jobs.rules = now
	z.jobs.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for name := range before {
		if now[name] {
			continue
		}
		n, err := z.cat.CancelJobs(ctx, catalog.JobFilter{Rule: name})
		if err != nil {
			z.log.Error("cancel the jobs of a removed rule", "rule", name, "err", err)
			continue
		}
		if n > 0 {
			z.rules.AuditJob(ctx, 0, name, "", "cancelled",
				fmt.Sprintf("%d pending jobs cancelled: the rule is no longer in the rule set (version %s)", n, set.Version))
			z.log.Info("pending jobs of a removed rule cancelled", "rule", name, "jobs", n)
		}
	}
}

// cancelJobsOn cancels the pending jobs that act on p or below it: its
// object is gone (removed, or renamed away: a job's arguments were
// evaluated for what was there).
func (z *Zone) cancelJobsOn(ctx context.Context, p catalog.Path, why string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	n, err := z.cat.CancelJobs(ctx, catalog.JobFilter{Path: p.String(), Below: true})
	if err != nil {
		z.log.Error("cancel the jobs of a removed object", "path", p.String(), "err", err)
		return
	}
	if n > 0 {
		z.rules.AuditJob(ctx, 0, "", p.String(), "cancelled", fmt.Sprintf("%d pending jobs on or below the path cancelled: %s", n, why))
	}
}

// JobOptions tunes RunJobs.
type JobOptions struct {
	// Poll is how often the queue is asked for due jobs.
	Poll time.Duration
	// Lease is how long a claimed job is this server's; a server that dies
	// running it loses it to another when the lease ends. A running job's
	// lease is renewed every third of it.
	Lease time.Duration
	// MaxRun bounds one run of a job, however often its lease is renewed.
	MaxRun time.Duration
	// MaxAttempts is how many failed runs in a row a job gets before it is
	// marked failed and kept for an administrator.
	MaxAttempts int
	// Backoff is the wait after the first failure; it doubles with every
	// further failure, up to an hour.
	Backoff time.Duration
	// Batch is how many jobs one claim takes.
	Batch int
	// SelectBatch is how many objects of a periodic rule's selection a
	// run claims at a time (rules.DefaultSelectBatch if 0).
	SelectBatch int
}

func (o *JobOptions) defaults() {
	if o.Poll == 0 {
		o.Poll = time.Second
	}
	if o.Lease == 0 {
		o.Lease = 5 * time.Minute
	}
	if o.MaxRun == 0 {
		o.MaxRun = 6 * time.Hour
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 10
	}
	if o.Backoff == 0 {
		o.Backoff = 10 * time.Second
	}
	if o.Batch == 0 {
		o.Batch = 8
	}
}

// RunJobs runs the zone's due jobs until ctx ends. Each job is claimed
// with a lease first, so of several servers on one catalog exactly one
// runs it; a job that fails is retried with exponential backoff.
func (z *Zone) RunJobs(ctx context.Context, opts JobOptions) {
	if z.rules == nil && z.qos == nil {
		return
	}
	opts.defaults()
	holder := z.holderBase + "jobs"
	t := time.NewTicker(opts.Poll)
	defer t.Stop()
	for {
		for {
			n, err := z.runDueJobs(ctx, holder, opts)
			if err != nil && ctx.Err() == nil {
				z.log.Warn("run jobs", "err", err)
			}
			if n < opts.Batch || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runDueJobs claims and runs one batch of due jobs, and says how many.
func (z *Zone) runDueJobs(ctx context.Context, holder string, opts JobOptions) (int, error) {
	jobs, err := z.cat.ClaimJobs(ctx, holder, time.Now(), opts.Lease, opts.Batch)
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		z.runJob(ctx, holder, j, opts)
	}
	return len(jobs), nil
}

func (z *Zone) runJob(ctx context.Context, holder string, j catalog.Job, opts JobOptions) {
	// The jobs of a batch run one after another: a job's lease, taken at
	// the claim, is renewed before it starts, and it is skipped when
	// another server took it over meanwhile.
	if err := z.cat.RenewJob(ctx, j.ID, holder, time.Now().Add(opts.Lease)); err != nil {
		if errors.Is(err, catalog.ErrLocked) || errors.Is(err, catalog.ErrNotFound) {
			z.log.Info("job taken over before it ran", "job", j.ID, "rule", j.Rule)
		} else if ctx.Err() == nil {
			z.log.Warn("renew job lease", "job", j.ID, "err", err)
		}
		return
	}
	var work rules.JobWork
	var err error
	if j.Rule == QoSJobRule {
		// The zone's own convergence of QoS requirements (qos.go).
		work.Path = j.Path
		runCtx, cancel := context.WithTimeoutCause(ctx, opts.MaxRun,
			fmt.Errorf("job %d ran longer than %s", j.ID, opts.MaxRun))
		stopRenewing := z.renewJobLease(runCtx, cancel, holder, j, opts.Lease)
		err = z.runQoSJob(runCtx, j)
		stopRenewing()
		cancel()
	} else if z.rules == nil {
		err = fmt.Errorf("job %d of rule %s: this zone runs no rules", j.ID, j.Rule)
	} else if err = json.Unmarshal(j.Work, &work); err == nil {
		runCtx, cancel := context.WithTimeoutCause(ctx, opts.MaxRun,
			fmt.Errorf("job %d ran longer than %s", j.ID, opts.MaxRun))
		lost := make(chan struct{})
		stopRenewing := z.renewJobLease(runCtx, func() { close(lost) }, holder, j, opts.Lease)
		err = z.rules.Run(runCtx, &rules.JobRun{
			ID: int64(j.ID), Rule: j.Rule, Every: j.Every, Created: j.CreateTime, Work: work, State: j.State, Batch: opts.SelectBatch,
			Save: func(ctx context.Context, state []byte) error { return z.cat.SaveJobState(ctx, j.ID, holder, state) },
			Lost: lost,
		})
		if cause := context.Cause(runCtx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
			err = fmt.Errorf("%w: %w", err, cause)
		}
		stopRenewing()
		cancel()
	}
	if errors.Is(err, rules.ErrRuleGone) {
		// Its rule was removed or rescheduled: the job goes too.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if ferr := z.cat.FinishJob(ctx, j.ID, holder, time.Time{}); ferr != nil {
			z.log.Warn("remove job of a removed rule", "job", j.ID, "err", ferr)
		}
		z.log.Info("job of a removed rule removed", "job", j.ID, "rule", j.Rule)
		return
	}
	// The outcome is recorded even when the server is stopping.
	done, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err == nil {
		next, nerr := nextRun(j, time.Now())
		if nerr != nil {
			err = nerr
		} else {
			if ferr := z.cat.FinishJob(done, j.ID, holder, next); ferr != nil {
				z.log.Warn("finish job", "job", j.ID, "err", ferr)
			}
			z.log.Info("job done", "job", j.ID, "rule", j.Rule)
			return
		}
	}
	retry := time.Time{}
	switch {
	case errors.Is(err, rules.ErrActionLoop):
		// It would fail the same way every time: kept, failed, for an
		// administrator.
	case j.Attempts+1 < opts.MaxAttempts:
		wait := opts.Backoff << min(j.Attempts, 20)
		retry = time.Now().Add(min(wait, time.Hour))
	case j.Every != "":
		// A periodic job gives up this run, not its schedule: it runs
		// again, afresh, at its next time.
		if next, nerr := nextRun(j, time.Now()); nerr == nil {
			if ferr := z.cat.FinishJob(done, j.ID, holder, next); ferr != nil {
				z.log.Warn("finish job", "job", j.ID, "err", ferr)
			}
			if z.rules != nil {
				z.rules.AuditJob(done, int64(j.ID), j.Rule, work.Path, "abandoned",
					fmt.Sprintf("the run failed %d times and is abandoned; the next runs at %s: %v", j.Attempts+1, next.Format(time.RFC3339), err))
			}
			z.log.Warn("periodic job run abandoned", "job", j.ID, "rule", j.Rule, "attempts", j.Attempts+1, "next", next, "err", err)
			return
		}
	}
	if rerr := z.cat.RetryJob(done, j.ID, holder, retry, err.Error()); rerr != nil {
		z.log.Warn("record failed job", "job", j.ID, "err", rerr)
	}
	z.log.Warn("job failed", "job", j.ID, "rule", j.Rule, "attempt", j.Attempts+1, "retry_at", retry, "err", err)
}

// renewJobLease renews the lease of the running job j every third of
// lease until the returned stop is called. When the lease cannot be kept
// (another server holds the job now) it calls lost, once, and the run
// stops (rules.JobRun.Lost), so that two servers do not go on doing the
// same work.
func (z *Zone) renewJobLease(ctx context.Context, lost func(), holder string, j catalog.Job, lease time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := z.cat.RenewJob(ctx, j.ID, holder, time.Now().Add(lease))
			switch {
			case err == nil:
			case errors.Is(err, catalog.ErrLocked), errors.Is(err, catalog.ErrNotFound):
				z.log.Warn("job lease lost; run stopped", "job", j.ID, "rule", j.Rule, "err", err)
				lost()
				return
			default:
				// A catalog hiccup: the lease still runs, try again
				// at the next tick.
				z.log.Warn("renew job lease", "job", j.ID, "err", err)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// nextRun is when a periodic job runs next; zero for a one-shot job.
func nextRun(j catalog.Job, after time.Time) (time.Time, error) {
	if j.Every == "" {
		return time.Time{}, nil
	}
	s, err := cron.ParseStandard(j.Every)
	if err != nil {
		return time.Time{}, fmt.Errorf("job %d: schedule %q: %w", j.ID, j.Every, err)
	}
	return s.Next(after), nil
}
