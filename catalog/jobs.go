package catalog

import (
	"context"
	"time"
)

// Job is durable work for later: a rule's delayed, periodic or
// asynchronous actions. The catalog keeps jobs so that they survive
// restarts and so that the servers of a zone share one queue; what a job
// does (Work) is opaque to it.
type Job struct {
	ID ID
	// Key, when set, is unique among jobs: a periodic job a rule keeps
	// scheduling is stored once.
	Key  string
	Rule string
	// Path is the data object or collection the job acts on, if any (as
	// Path.String()). Of the jobs of one rule on one path at most one is
	// pending (neither running nor failed): AddJob replaces it.
	Path  string
	Owner UserID // the user whose operation scheduled it
	// Every is the cron schedule of a periodic job; "" runs it once.
	Every string
	Due   time.Time
	Work  []byte
	// State is how far the current run got, saved by the server running
	// it (SaveJobState), so that a run cut short resumes where it was;
	// FinishJob clears it, RetryJob keeps it.
	State []byte
	// MaxPending, when above zero, bounds the live (not failed) jobs of
	// Rule: AddJob refuses a job that would make more with
	// ErrQuotaExceeded. It is an instruction to AddJob, not stored.
	MaxPending int `json:"-"`
	// Attempts counts the runs that failed since the last success.
	Attempts  int
	LastError string
	// Failed is set when the job gave up retrying; it stays for an
	// administrator to see and remove.
	Failed bool
	// Holder and LeaseExpiry are set while a server runs the job.
	Holder      string
	LeaseExpiry time.Time
	CreateTime  time.Time
}

// Validate checks j for AddJob without a catalog. Work and Every are the
// job runner's to understand; the catalog stores them as they are.
func (j Job) Validate() error {
	if j.Rule == "" {
		return invalid("no rule")
	}
	if j.Due.IsZero() {
		return invalid("no due time")
	}
	if err := CheckUserID("owner", j.Owner); err != nil {
		return err
	}
	if err := CheckJobPath(j.Path); err != nil {
		return err
	}
	if j.MaxPending < 0 {
		return invalid("negative pending job limit")
	}
	return CheckTime("due time", j.Due)
}

// CheckJobPath checks the path of a job or a JobFilter: none, or an
// absolute path in canonical form.
func CheckJobPath(p string) error {
	if p == "" {
		return nil
	}
	parsed, err := ParsePath(p)
	if err != nil {
		return invalid("job path: %v", err)
	}
	if parsed.String() != p {
		return invalid("job path %q is not in canonical form (%s)", p, parsed)
	}
	return nil
}

// JobFilter selects the jobs CancelJobs removes: those of Rule, if set,
// and on Path (and, with Below, on paths below it), if set. At least one
// of Rule and Path is set.
type JobFilter struct {
	Rule  string
	Path  string
	Below bool
}

// Validate checks f without a catalog.
func (f JobFilter) Validate() error {
	if f.Rule == "" && f.Path == "" {
		return invalid("a job filter needs a rule or a path")
	}
	if f.Below && f.Path == "" {
		return invalid("a job filter below a path needs the path")
	}
	return CheckJobPath(f.Path)
}

// CheckJobClaim checks the holder and lease of ClaimJobs: a claim without
// them could never be told from an unclaimed job, nor taken over.
func CheckJobClaim(holder string, lease time.Duration) error {
	if holder == "" || lease <= 0 {
		return invalid("a claim needs a holder and a lease")
	}
	return nil
}

// CheckJobLease checks the new end of a job's lease (RenewJob).
func CheckJobLease(until time.Time) error {
	if until.IsZero() {
		return invalid("no lease end")
	}
	return CheckTime("lease end", until)
}

// Jobs is the queue of scheduled work. A job is claimed with a lease
// before it runs, so that of several servers on one catalog exactly one
// runs it; a claim whose server died is taken over when its lease ends.
type Jobs interface {
	// AddJob stores j (ID, Holder, Attempts and CreateTime are set by the
	// catalog) and returns it. A pending job of the same Rule and Path (a
	// Path being set) is replaced: removed in the same transaction. A job
	// whose Key is still taken then is ErrExists; with MaxPending set, a
	// job that would give Rule more than MaxPending live jobs is
	// ErrQuotaExceeded. Either way nothing changes.
	AddJob(ctx context.Context, j Job) (Job, error)
	// Job returns the job id.
	Job(ctx context.Context, id ID) (Job, error)
	// ListJobs returns up to limit jobs with IDs above after, by ID.
	ListJobs(ctx context.Context, after ID, limit int) ([]Job, error)
	// RemoveJob deletes the job id, claimed or not.
	RemoveJob(ctx context.Context, id ID) error
	// CancelJobs deletes the jobs f selects that are not running (not held
	// under an unexpired lease) and not failed, and says how many.
	CancelJobs(ctx context.Context, f JobFilter) (int, error)
	// SaveJobState records how far holder's run of the job id got (see
	// Job.State). ErrLocked when holder no longer holds the job.
	SaveJobState(ctx context.Context, id ID, holder string, state []byte) error
	// ClaimJobs claims up to limit jobs that are due at now, not failed,
	// and not held under an unexpired lease: each gets holder and a lease
	// until now+lease, atomically, so no two callers claim one job.
	// Jobs come in due order.
	ClaimJobs(ctx context.Context, holder string, now time.Time, lease time.Duration, limit int) ([]Job, error)
	// FinishJob ends a successful run: a one-shot job (next zero) is
	// deleted, a periodic one is released, due at next, with its attempts
	// and state reset; it is deleted instead when another job of its rule
	// and path is pending (it replaced this one). ErrLocked when holder no
	// longer holds the job.
	FinishJob(ctx context.Context, id ID, holder string, next time.Time) error
	// RenewJob extends holder's lease of the job id until until, for a run
	// that outlasts its lease. ErrLocked when holder no longer holds the
	// job: another server may be running it, and this run should stop.
	RenewJob(ctx context.Context, id ID, holder string, until time.Time) error
	// RetryJob ends a failed run: the job is released, due at at with one
	// more attempt and msg as its last error, its state kept; a zero at
	// marks it Failed. A job released while another of its rule and path
	// is pending is deleted instead. ErrLocked when holder no longer holds
	// the job.
	RetryJob(ctx context.Context, id ID, holder string, at time.Time, msg string) error
}
