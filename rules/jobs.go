package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/robfig/cron/v3"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
)

// Jobs: what rules leave for later (schedule, the data-moving actions of
// post rules, periodic rules) is kept as a job in the catalog, and the
// zone's job runner hands each run of a job to Run.

// ErrRuleGone is the error of a job whose rule is no longer in use (or,
// for a periodic rule, whose schedule changed): the job is to be removed.
var ErrRuleGone = errors.New("the rule of this job is no longer in use")

// DefaultSelectBatch is how many objects of a periodic rule's selection
// a run claims and evaluates at a time.
const DefaultSelectBatch = 100

// JobRun is one run of a job, as the zone's job runner hands it to Run.
type JobRun struct {
	ID      int64
	Rule    string
	Every   string    // the job's cron schedule, "" for a one-shot job
	Created time.Time // when the job was scheduled
	Work    JobWork
	// State is how far an earlier run of this job got, as it saved it.
	State []byte
	// Save records how far this run got, so that a run cut short resumes
	// there; its error (the job is no longer this server's) stops the run.
	// Nil: nothing is saved.
	Save func(ctx context.Context, state []byte) error
	// Batch is how many objects of a selection are claimed at a time;
	// DefaultSelectBatch if 0.
	Batch int
	// Lost, closed when the job is no longer this server's (another took
	// it over when its lease ran out), stops the run: its actions are
	// cancelled, except that a periodic rule's run finishes the objects it
	// claimed, which the other server skips, and then stops at its next
	// claim. Nil: never.
	Lost <-chan struct{}
}

// ErrLeaseLost is the cause of a job's run stopped because the job is
// another server's now.
var ErrLeaseLost = errors.New("the job is another server's now")

// untilLost is ctx, cancelled when j's lease is lost.
func untilLost(ctx context.Context, j *JobRun) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	if j.Lost == nil {
		return ctx, func() { cancel(nil) }
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-j.Lost:
			cancel(ErrLeaseLost)
		case <-done:
		}
	}()
	return ctx, func() { close(done); cancel(nil) }
}

// PeriodicWork is the work of the job that runs periodic rule r.
func PeriodicWork(r *Rule, zone, admin string) JobWork {
	return JobWork{Periodic: r.Name, Op: PeriodicOp, User: admin, UserType: catalog.UserTypeAdmin, Zone: zone}
}

// RunJob runs the actions of a scheduled job. The first failing action
// stops it and its error is the job's, so that the job is retried.
func (e *Engine) RunJob(ctx context.Context, id int64, rule string, w JobWork) error {
	return e.Run(ctx, &JobRun{ID: id, Rule: rule, Work: w})
}

// RunJobEvery is RunJob for a job with the cron schedule every: a
// periodic rule's job runs only while that rule, with that schedule, is in
// use (else ErrRuleGone).
func (e *Engine) RunJobEvery(ctx context.Context, id int64, rule, every string, w JobWork) error {
	return e.Run(ctx, &JobRun{ID: id, Rule: rule, Every: every, Work: w})
}

// Run runs one run of a job. Its actions run under ctx, which carries the
// job's own time budget: only the evaluation of conditions and arguments
// has the deadline of a rule phase (Options.Timeout). A periodic rule's
// job evaluates the rule (with its selection, object by object); a job
// with Recheck evaluates its rule's condition again first; any other runs
// its stored actions.
func (e *Engine) Run(ctx context.Context, j *JobRun) error {
	ctx = context.WithValue(ctx, actionDepthKey{}, j.Work.Depth)
	if j.Work.Periodic != "" {
		return e.runPeriodic(ctx, j)
	}
	ctx, stop := untilLost(ctx, j)
	defer stop()
	req, err := jobRequest(j.Work, time.Now())
	if err != nil {
		return fmt.Errorf("job %d: %w", j.ID, err)
	}
	if j.Work.Recheck {
		holds, err := e.recheck(ctx, j, req)
		if err != nil || !holds {
			return err
		}
	}
	for _, sc := range j.Work.Actions {
		a, ok := e.reg.Lookup(sc.Action)
		if !ok {
			return fmt.Errorf("job %d: action %q is not registered on this server", j.ID, sc.Action)
		}
		actx := WithActing(ctx, Acting{Rule: j.Rule, RuleSetVersion: e.Current().Version, User: req.User.UserID(), Job: j.ID})
		err := e.runAction(actx, a, &Call{Rule: j.Rule, Phase: Post, Request: req, Args: sc.Args, JobID: j.ID})
		e.audit.LogAttrs(ctx, slog.LevelInfo, "job action", slog.Int64("job", j.ID), slog.String("rule", j.Rule),
			slog.String("action", sc.Action), slog.String("path", pathString(req.Path)), slog.String("outcome", outcome(err)), errAttr(err))
		if err != nil {
			return fmt.Errorf("%s: %w", sc.Action, err)
		}
	}
	return nil
}

// runAction runs a one level deeper in actions than ctx, or refuses past
// MaxActionDepth.
func (e *Engine) runAction(ctx context.Context, a *Action, c *Call) error {
	if depth := actionDepth(ctx); depth >= MaxActionDepth {
		return fmt.Errorf("%w: actions of rules set off rules %d deep; a rule's action sets off a rule that acts again",
			ErrActionLoop, depth)
	}
	return a.Run(withActionDepth(ctx), c)
}

// jobRequest is the operation that scheduled w, as rules saw it.
func jobRequest(w JobWork, now time.Time) (*Request, error) {
	req := &Request{Op: w.Op, Zone: w.Zone, Resource: w.Resource, Size: w.Size, Group: w.Group, AdminMode: w.AdminMode, Now: now}
	req.User.Name, req.User.Zone, req.User.Type = w.User, w.Zone, w.UserType
	for _, p := range []struct {
		s   string
		dst *catalog.Path
	}{{w.Path, &req.Path}, {w.Dest, &req.Dest}} {
		if p.s == "" {
			continue
		}
		parsed, err := parsePath(p.s)
		if err != nil {
			return nil, err
		}
		*p.dst = parsed
	}
	return req, nil
}

// ruleOf returns the rule name of set, nil if it has none.
func (s *Set) ruleOf(name string) *Rule {
	for _, r := range s.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// recheck evaluates the condition of the rule that scheduled j on the
// object as it is now, and says whether it still holds. A rule gone from a
// rule set loaded after the job was scheduled is ErrRuleGone; from an
// older one, this server may not have the newer set yet: an error, so
// that the job is retried.
func (e *Engine) recheck(ctx context.Context, j *JobRun, req *Request) (bool, error) {
	set := e.set.Load()
	r := set.ruleOf(j.Rule)
	if r == nil {
		if set.LoadedAt.After(j.Created) {
			return false, ErrRuleGone
		}
		return false, fmt.Errorf("rule %s is not in this server's rules (version %s)", j.Rule, set.Version)
	}
	fctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	holds, err := e.condition(fctx, r, activation{f: newFacts(fctx, e.cat, req)})
	switch {
	case err != nil:
		e.record(ctx, set, r, req, "error", "recheck: "+err.Error())
		return false, fmt.Errorf("recheck: %w", err)
	case !holds:
		e.audit.LogAttrs(ctx, slog.LevelInfo, "job recheck", slog.Int64("job", j.ID), slog.String("rule", r.Name),
			slog.String("rules_version", set.Version), slog.String("path", pathString(req.Path)), slog.String("outcome", "skipped"),
			slog.String("message", "the rule's condition no longer holds: the job's actions do not run"))
	}
	return holds, nil
}

// schedule keeps the actions of the schedule action a, their arguments
// evaluated now, as a job. The job carries the depth in actions it was
// scheduled at; a job scheduled past MaxActionDepth is refused.
func (e *Engine) schedule(ctx context.Context, set *Set, r *Rule, a *compiledAction, act activation) error {
	j, err := e.job(ctx, set, r, a, act)
	if err != nil {
		return err
	}
	return e.submit(ctx, set, r, j)
}

// job evaluates the job of the schedule action a.
func (e *Engine) job(ctx context.Context, set *Set, r *Rule, a *compiledAction, act activation) (ScheduledJob, error) {
	depth := actionDepth(ctx)
	if depth >= MaxActionDepth {
		return ScheduledJob{}, fmt.Errorf("%w: rules scheduled jobs from jobs %d deep; a rule's job sets off a rule that schedules again",
			ErrActionLoop, depth)
	}
	req := act.f.req
	work := JobWork{Op: req.Op, Resource: req.Resource, Size: req.Size, Group: req.Group, AdminMode: req.AdminMode,
		User: req.User.Name, UserType: req.User.Type, Zone: req.Zone, Depth: depth, Recheck: a.recheck, RulesVersion: set.Version}
	work.Path, work.Dest = pathString(req.Path), pathString(req.Dest)
	for _, d := range a.do {
		args, err := evalArgs(ctx, d, act)
		if err != nil {
			return ScheduledJob{}, fmt.Errorf("%s: %w", d.name, err)
		}
		work.Actions = append(work.Actions, StoredCall{Action: d.name, Args: args})
	}
	// The job acts on the operation's object; for rename and copy, on the
	// destination, as the source is gone or is not the new object.
	object := work.Path
	if work.Dest != "" {
		object = work.Dest
	}
	j := ScheduledJob{Rule: r.Name, Path: object, Due: req.Now.Add(a.after), Work: work}
	if a.every != "" {
		sched, err := cron.ParseStandard(a.every)
		if err != nil {
			return ScheduledJob{}, err
		}
		j.Every, j.Due = a.every, sched.Next(req.Now)
		j.Key = r.Name + ":" + object
	}
	return j, nil
}

// submit hands j to the job queue.
func (e *Engine) submit(ctx context.Context, set *Set, r *Rule, j ScheduledJob) error {
	if e.sched == nil {
		return errors.New("this server keeps no job queue")
	}
	err := e.sched.Schedule(ctx, j)
	if errors.Is(err, catalog.ErrQuotaExceeded) {
		e.capped(ctx, set, r, err)
	}
	return err
}

// capRecordEvery is how often a rule held at the job cap is audited.
const capRecordEvery = time.Minute

// capped records, at most once a minute for each rule, that r has as
// many jobs as the zone allows a rule and schedules no more.
func (e *Engine) capped(ctx context.Context, set *Set, r *Rule, err error) {
	now := time.Now()
	if last, ok := e.cappedAt.Load(r.Name); ok && now.Sub(last.(time.Time)) < capRecordEvery {
		return
	}
	e.cappedAt.Store(r.Name, now)
	e.audit.LogAttrs(ctx, slog.LevelWarn, "job cap", slog.String("rule", r.Name), slog.String("rules_version", set.Version),
		slog.String("outcome", "stopped"), slog.String("message", "the rule has as many jobs as the zone allows a rule; it schedules no more until they drain"),
		errAttr(err))
	e.log.Warn("rule stops scheduling: job cap reached", "rule", r.Name, "err", err)
}

// AuditJob writes a record about job id of rule to the audit log, for the
// job runner's decisions (a run abandoned, jobs cancelled).
func (e *Engine) AuditJob(ctx context.Context, id int64, rule, path, outcome, msg string) {
	e.audit.LogAttrs(ctx, slog.LevelInfo, "job", slog.Int64("job", id), slog.String("rule", rule),
		slog.String("rules_version", e.set.Load().Version), slog.String("path", path), slog.String("outcome", outcome),
		slog.String("message", msg))
}

// periodicRule returns the periodic rule of job j in use, with the job's
// schedule, or ErrRuleGone.
func (e *Engine) periodicRule(j *JobRun) (*Set, *Rule, error) {
	set := e.set.Load()
	for _, r := range set.Periodic() {
		if r.Name == j.Work.Periodic && r.Schedule == j.Every {
			return set, r, nil
		}
	}
	return set, nil, ErrRuleGone
}

// periodicRequest is the request a periodic rule's run sees: the zone's
// administrator acting at now, on no object yet.
func periodicRequest(w JobWork, now time.Time) *Request {
	req := &Request{Op: PeriodicOp, Zone: w.Zone, Now: now}
	req.User.Name, req.User.Zone, req.User.Type = w.User, w.Zone, catalog.UserTypeAdmin
	return req
}

// runPeriodic runs periodic rule's job j: once, or, with a selection, on
// every object it selects.
func (e *Engine) runPeriodic(ctx context.Context, j *JobRun) error {
	set, rule, err := e.periodicRule(j)
	if err != nil {
		return err
	}
	if rule.selectPrg != nil {
		return e.runSelection(ctx, set, rule, j)
	}
	ctx, stop := untilLost(ctx, j)
	defer stop()
	_, err = e.evaluate(ctx, set, rule, periodicRequest(j.Work, time.Now()))
	return err
}

// evaluate evaluates rule r on req and, if its condition holds, runs its
// actions: conditions and arguments under the phase deadline, actions
// under ctx (the job's budget). It says whether the condition held.
func (e *Engine) evaluate(ctx context.Context, set *Set, r *Rule, req *Request) (bool, error) {
	type step struct {
		a    *compiledAction
		args map[string]any
		job  *ScheduledJob
	}
	var steps []step
	holds, err := func() (bool, error) {
		fctx, cancel := context.WithTimeout(ctx, e.timeout)
		defer cancel()
		act := activation{f: newFacts(fctx, e.cat, req)}
		holds, err := e.condition(fctx, r, act)
		if err != nil {
			e.record(ctx, set, r, req, "error", err.Error())
			return false, err
		}
		if !holds {
			return false, nil
		}
		// Arguments first, all of them, while the deadline runs: an
		// action of a job may take hours.
		for _, a := range r.actions {
			if a.name == ScheduleAction {
				j, err := e.job(fctx, set, r, a, act)
				if err != nil {
					e.recordAction(ctx, set, r, req, a.name, err)
					return true, fmt.Errorf("%s: %w", a.name, err)
				}
				steps = append(steps, step{a: a, job: &j})
				continue
			}
			args, err := evalArgs(fctx, a, act)
			if err != nil {
				e.recordAction(ctx, set, r, req, a.name, err)
				return true, fmt.Errorf("%s: %w", a.name, err)
			}
			steps = append(steps, step{a: a, args: args})
		}
		return true, nil
	}()
	if err != nil || !holds {
		return holds, err
	}
	for _, s := range steps {
		var err error
		if s.job != nil {
			err = e.submit(ctx, set, r, *s.job)
		} else {
			actx := WithActing(ctx, Acting{Rule: r.Name, RuleSetVersion: set.Version, User: req.User.UserID()})
			err = e.runAction(actx, s.a.action, &Call{Rule: r.Name, Phase: Post, Request: req, Args: s.args})
		}
		e.recordAction(ctx, set, r, req, s.a.name, err)
		if err != nil {
			return true, fmt.Errorf("%s: %w", s.a.name, err)
		}
	}
	return true, nil
}

// selectionState is how far a run of a periodic rule over its selection
// got, kept in the job (JobRun.State). Objects are taken in the order of
// their catalog IDs: a run claims a batch (After moves to its last object)
// before it evaluates any of it, and records the objects it has finished
// (Done). A server that takes the job over resumes after After, while the
// server that lost it finishes the batch it claimed and stops at its next
// claim (which fails): no two servers evaluate one object in one run.
// Objects claimed by a server that died mid-batch (Done < After) are left
// for the next run.
type selectionState struct {
	Started  time.Time `json:"started"` // now of the whole run
	After    int64     `json:"after"`
	Done     int64     `json:"done"`
	Selected int64     `json:"selected"`
	Matched  int64     `json:"matched"`
	Failed   int64     `json:"failed"`
}

// runSelection runs periodic rule r on every object its selection
// selects, batch by batch, saving its progress in the job.
func (e *Engine) runSelection(ctx context.Context, set *Set, r *Rule, j *JobRun) error {
	querier, ok := e.cat.(catalog.Querier)
	if !ok {
		return errors.New("this server's catalog runs no queries")
	}
	var st selectionState
	if len(j.State) > 0 {
		if err := json.Unmarshal(j.State, &st); err != nil {
			return fmt.Errorf("job %d: its saved state: %w", j.ID, err)
		}
	}
	if st.Started.IsZero() {
		st.Started = time.Now()
	}
	save := func(ctx context.Context) error {
		if j.Save == nil {
			return nil
		}
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		return j.Save(ctx, b)
	}
	if st.Done < st.After {
		e.AuditJob(ctx, j.ID, r.Name, "", "skipped", fmt.Sprintf(
			"the run resumed after a server lost it in the middle of a batch: of the objects with catalog ids %d to %d that server had claimed, those it did not finish wait for the next run",
			st.Done+1, st.After))
		st.Done = st.After
	}
	base := periodicRequest(j.Work, st.Started)
	q, err := e.selection(ctx, r, base)
	if err != nil {
		e.record(ctx, set, r, base, "error", err.Error())
		return err
	}
	batch := j.Batch
	if batch <= 0 {
		batch = DefaultSelectBatch
	}
	sel := newSelector(querier, q, j.Work.User, j.Work.Zone, batch)
	for {
		n := sel.pageSize
		if q.Limit >= 0 {
			n = min(n, q.Limit-st.Selected)
		}
		if n <= 0 {
			break
		}
		page, err := sel.page(ctx, st.After, n)
		if err != nil {
			return fmt.Errorf("select: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for len(page) > 0 {
			claim := page[:min(batch, len(page))]
			page = page[len(claim):]
			// Claimed before any of it is evaluated.
			st.After = claim[len(claim)-1].id
			st.Selected += int64(len(claim))
			if err := save(ctx); err != nil {
				return fmt.Errorf("save the run's progress: %w", err)
			}
			for _, o := range claim {
				if ctx.Err() != nil {
					break
				}
				matched, err := e.evaluateSelected(ctx, set, r, base, o.path)
				if err != nil && ctx.Err() != nil {
					break // cut short: not done
				}
				if matched {
					st.Matched++
				}
				if err != nil {
					st.Failed++
				}
				st.Done = o.id
			}
			if ctx.Err() != nil {
				// Stopping (the server, or the job's budget): what was
				// claimed and not done goes back to the run, so that
				// whoever resumes it does those objects. If the job is
				// another server's now, this fails, and that server
				// skips them.
				st.After = st.Done
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				_ = save(sctx)
				cancel()
				return context.Cause(ctx)
			}
		}
	}
	e.audit.LogAttrs(ctx, slog.LevelInfo, "periodic run", slog.Int64("job", j.ID), slog.String("rule", r.Name),
		slog.String("rules_version", set.Version), slog.String("op", PeriodicOp), slog.String("outcome", "done"),
		slog.String("message", fmt.Sprintf("%d objects selected, %d matched the condition, %d failed", st.Selected, st.Matched, st.Failed)))
	return nil
}

// Selection calls fn with every data object the selection of the
// periodic rule name selects now, in catalog id order, as a run of the
// rule would take them (batch at a time; DefaultSelectBatch if 0), and
// says how many there were. The selection runs as admin of zone.
func (e *Engine) Selection(ctx context.Context, name, zone, admin string, batch int, fn func(catalog.Path) error) (int, error) {
	querier, ok := e.cat.(catalog.Querier)
	if !ok {
		return 0, errors.New("this server's catalog runs no queries")
	}
	r := e.set.Load().ruleOf(name)
	if r == nil || r.selectPrg == nil {
		return 0, fmt.Errorf("%w: no periodic rule %s with a selection", catalog.ErrNotFound, name)
	}
	if batch <= 0 {
		batch = DefaultSelectBatch
	}
	q, err := e.selection(ctx, r, periodicRequest(JobWork{User: admin, Zone: zone}, time.Now()))
	if err != nil {
		return 0, err
	}
	sel := newSelector(querier, q, admin, zone, batch)
	var after, n int64
	for q.Limit < 0 || n < q.Limit {
		size := sel.pageSize
		if q.Limit >= 0 {
			size = min(size, q.Limit-n)
		}
		page, err := sel.page(ctx, after, size)
		if err != nil || len(page) == 0 {
			return int(n), err
		}
		for _, o := range page {
			if err := fn(o.path); err != nil {
				return int(n), err
			}
		}
		n += int64(len(page))
		after = page[len(page)-1].id
	}
	return int(n), nil
}

// evaluateSelected evaluates periodic rule r on the object at p of its
// selection, unless the object is gone since it was selected.
func (e *Engine) evaluateSelected(ctx context.Context, set *Set, r *Rule, base *Request, p catalog.Path) (bool, error) {
	fctx, cancel := context.WithTimeout(ctx, e.timeout)
	_, err := e.cat.Stat(fctx, p)
	cancel()
	if errors.Is(err, catalog.ErrNotFound) {
		return false, nil // removed or renamed meanwhile
	}
	req := *base
	req.Path = p
	return e.evaluate(ctx, set, r, &req)
}

// selection evaluates and parses the selection of periodic rule r.
func (e *Engine) selection(ctx context.Context, r *Rule, req *Request) (*query.Query, error) {
	fctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	return evalSelect(fctx, r.selectPrg, activation{f: newFacts(fctx, e.cat, req)})
}

// evalSelect evaluates a select expression and parses its query.
func evalSelect(ctx context.Context, prg cel.Program, act activation) (*query.Query, error) {
	v, _, err := prg.ContextEval(ctx, act)
	if err != nil {
		return nil, fmt.Errorf("select: %w", err)
	}
	text, ok := v.(types.String)
	if !ok {
		return nil, fmt.Errorf("select gave %s, not a string", v.Type().TypeName())
	}
	q, err := parseSelection(string(text))
	if err != nil {
		return nil, fmt.Errorf("select: %w", err)
	}
	return q, nil
}

// checkSelect evaluates the select expression of a rule being loaded, as
// a run would (now, zone tempZone, no catalog), and checks its query.
func checkSelect(prg cel.Program) error {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	req := periodicRequest(JobWork{User: "rods", Zone: "tempZone"}, time.Now())
	_, err := evalSelect(ctx, prg, activation{f: newFacts(ctx, nil, req)})
	return err
}

// The columns of a selection's pages.
var (
	colDataID, colDataCollID, colDataName = mustColumn("DATA_ID"), mustColumn("DATA_COLL_ID"), mustColumn("DATA_NAME")
	colCollID, colCollName                = mustColumn("COLL_ID"), mustColumn("COLL_NAME")
)

func mustColumn(name string) *query.Column {
	c, ok := query.LookupColumn(name)
	if !ok {
		panic("rules: no query column " + name)
	}
	return c
}

// parseSelection parses the query of a periodic rule: it selects data
// objects (its select list names DATA_ID or DATA_NAME), without
// aggregates, grouping, order or offset; a limit bounds the objects of one
// run.
func parseSelection(text string) (*query.Query, error) {
	q, err := query.Parse(text)
	if err != nil {
		return nil, err
	}
	switch {
	case q.Aggregated() || len(q.GroupBy) > 0:
		return nil, errors.New("a selection of objects has no aggregates and no group by")
	case len(q.OrderBy) > 0:
		return nil, errors.New("a selection has no order by: objects are taken in the order of their catalog ids")
	case q.Offset > 0:
		return nil, errors.New("a selection has no offset")
	case !slices.ContainsFunc(q.Select, func(s query.SelectItem) bool { return s.Column == colDataID || s.Column == colDataName }):
		return nil, fmt.Errorf("%q selects no data objects: its select list names DATA_NAME or DATA_ID (select COLL_NAME, DATA_NAME where ...)", text)
	}
	return q, nil
}

// selected is one object of a selection.
type selected struct {
	id   int64
	path catalog.Path
}

// selectPageSize is how many objects one query of a selection reads at
// least: a run claims and evaluates them batch by batch, but every query
// runs the selection's condition anew, and some conditions (an AVU's)
// find all their objects before they order them.
const selectPageSize = 1000

// maxCollCache bounds the collection paths a selector remembers.
const maxCollCache = 100_000

// selector reads the objects of a selection page by page, in catalog id
// order: ids and names first, then the paths of their collections, which
// it remembers, so that a condition that does not name collections does
// not join every row it looks at with its collection.
type selector struct {
	querier  catalog.Querier
	q        *query.Query
	who      catalog.Caller
	pageSize int64
	colls    map[int64]string
}

func newSelector(querier catalog.Querier, q *query.Query, admin, zone string, batch int) *selector {
	return &selector{querier: querier, q: q, who: catalog.Caller{User: catalog.UserID{Name: admin, Zone: zone}, Admin: true},
		pageSize: int64(max(batch, selectPageSize)), colls: map[int64]string{}}
}

// page returns up to n objects of the selection whose catalog ids are
// above after, in id order.
func (s *selector) page(ctx context.Context, after, n int64) ([]selected, error) {
	p := *s.q
	p.Select = []query.SelectItem{{Column: colDataID}, {Column: colDataCollID}, {Column: colDataName}}
	p.GroupBy = nil
	p.OrderBy = []query.OrderItem{{Item: p.Select[0]}}
	p.Limit = n
	past := &query.Compare{Column: colDataID, Op: query.OpGt, Value: query.IntValue(after)}
	switch w := s.q.Where.(type) {
	case nil:
		p.Where = past
	case *query.And:
		p.Where = &query.And{Terms: append(slices.Clone(w.Terms), past)}
	default:
		p.Where = &query.And{Terms: []query.Expr{w, past}}
	}
	type row struct {
		id, coll int64
		name     string
	}
	var rows []row
	missing := map[int64]bool{}
	err := s.querier.Query(ctx, &p, s.who, func(r []string) error {
		id, err1 := strconv.ParseInt(r[0], 10, 64)
		coll, err2 := strconv.ParseInt(r[1], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("catalog ids %q, %q: %w", r[0], r[1], err)
		}
		rows = append(rows, row{id, coll, r[2]})
		if _, ok := s.colls[coll]; !ok {
			missing[coll] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.collections(ctx, missing); err != nil {
		return nil, err
	}
	out := make([]selected, 0, len(rows))
	for _, r := range rows {
		coll, ok := s.colls[r.coll]
		if !ok {
			continue // the collection is gone since
		}
		if coll != "/" {
			coll += "/"
		}
		path, err := catalog.ParsePath(coll + r.name)
		if err != nil {
			return nil, err
		}
		out = append(out, selected{r.id, path})
	}
	return out, nil
}

// collections looks up the paths of the collections ids.
func (s *selector) collections(ctx context.Context, ids map[int64]bool) error {
	if len(ids) == 0 {
		return nil
	}
	if len(s.colls)+len(ids) > maxCollCache {
		clear(s.colls)
	}
	in := &query.In{Column: colCollID}
	for id := range ids {
		in.Values = append(in.Values, query.IntValue(id))
	}
	q := &query.Query{Select: []query.SelectItem{{Column: colCollID}, {Column: colCollName}}, Where: in, Limit: -1}
	return s.querier.Query(ctx, q, s.who, func(r []string) error {
		id, err := strconv.ParseInt(r[0], 10, 64)
		if err != nil {
			return fmt.Errorf("collection id %q: %w", r[0], err)
		}
		s.colls[id] = r[1]
		return nil
	})
}
