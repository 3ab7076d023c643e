package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
)

// jobCall is one run of a test action.
type jobCall struct {
	action, path, dest string
	depth              int
	deadline           bool // its context had a deadline
	args               map[string]any
}

// jobEnv is an engine whose registry has actions that record their calls:
// "replicate" and "move" move data (Async), "note" does not, "wait" waits
// for its argument "for" (a duration) or its context.
type jobEnv struct {
	*Engine
	cat   *queryCatalog
	sched *memScheduler
	audit *bytes.Buffer

	mu    sync.Mutex
	calls []jobCall
}

func (je *jobEnv) record(ctx context.Context, name string, c *Call) {
	_, deadline := ctx.Deadline()
	je.mu.Lock()
	defer je.mu.Unlock()
	je.calls = append(je.calls, jobCall{action: name, path: c.Request.Path.String(), dest: c.Request.Dest.String(),
		depth: actionDepth(ctx), deadline: deadline, args: c.Args})
}

func (je *jobEnv) took() []jobCall {
	je.mu.Lock()
	defer je.mu.Unlock()
	out := je.calls
	je.calls = nil
	return out
}

func (je *jobEnv) names() string {
	var out []string
	for _, c := range je.took() {
		out = append(out, c.action+" "+c.path)
	}
	return strings.Join(out, "; ")
}

func newJobEnv(t *testing.T, timeout time.Duration, files ...string) *jobEnv {
	t.Helper()
	je := &jobEnv{cat: &queryCatalog{memCatalog: newMemCatalog()}, sched: &memScheduler{}, audit: &bytes.Buffer{}}
	reg := NewRegistry()
	for _, a := range []Action{
		{Name: "replicate", Async: true, Args: []Arg{{Name: "resource", Type: cel.StringType}}},
		{Name: "move", Async: true, Args: []Arg{{Name: "resource", Type: cel.StringType}}},
		{Name: "note", Args: []Arg{{Name: "text", Type: cel.StringType}}},
		{Name: "wait", Args: []Arg{{Name: "for", Type: cel.DurationType}}},
	} {
		a.Run = func(ctx context.Context, c *Call) error {
			je.record(ctx, a.Name, c)
			if a.Name == "wait" {
				d, _ := c.Args["for"].(time.Duration)
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}
		if err := reg.Register(a); err != nil {
			t.Fatal(err)
		}
	}
	e, err := New(Options{Registry: reg, Catalog: je.cat, Scheduler: je.sched, Timeout: timeout,
		Logger: slog.New(slog.DiscardHandler), Audit: slog.New(slog.NewJSONHandler(je.audit, nil))})
	if err != nil {
		t.Fatal(err)
	}
	je.Engine = e
	je.load(t, files...)
	return je
}

func (je *jobEnv) load(t *testing.T, files ...string) {
	t.Helper()
	bs := map[string][]byte{}
	for i, f := range files {
		bs[fmt.Sprintf("f%d.yaml", i)] = []byte(f)
	}
	set, err := je.Compile(bs)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	je.Load(set)
}

func (je *jobEnv) jobs() []ScheduledJob {
	je.sched.mu.Lock()
	defer je.sched.mu.Unlock()
	out := je.sched.jobs
	je.sched.jobs = nil
	return out
}

// runJob runs a scheduled job as the zone's runner would, through JSON.
func (je *jobEnv) runJob(t *testing.T, ctx context.Context, j ScheduledJob, created time.Time) error {
	t.Helper()
	b, err := json.Marshal(j.Work)
	if err != nil {
		t.Fatal(err)
	}
	var w JobWork
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	return je.Run(ctx, &JobRun{ID: 1, Rule: j.Rule, Every: j.Every, Work: w, Created: created})
}

// TestDataMovingActionsRunAsJobs: in a post rule, replicate and what comes
// after it become one job, due at once; the actions before it run in the
// operation. With async: false the rule runs them all in the operation.
func TestDataMovingActionsRunAsJobs(t *testing.T) {
	je := newJobEnv(t, 0, `
rules:
  - name: copy-out
    on: [put]
    when: post
    then:
      - note: {text: "'before'"}
      - replicate: {resource: "'archiveResc'"}
      - note: {text: "'after ' + string(object.size)"}
  - name: inline
    on: [put]
    when: post
    async: false
    then:
      - move: {resource: "'tape'"}
`)
	ctx := context.Background()
	req := put("/tempZone/home/alice/x", 5)
	je.After(ctx, req, nil)
	if got := je.names(); got != "note /tempZone/home/alice/x; move /tempZone/home/alice/x" {
		t.Errorf("actions run in the operation: %s", got)
	}
	jobs := je.jobs()
	if len(jobs) != 1 {
		t.Fatalf("jobs: %+v", jobs)
	}
	j := jobs[0]
	if j.Rule != "copy-out" || j.Path != "/tempZone/home/alice/x" || !j.Due.Equal(req.Now) || j.Every != "" || len(j.Work.Actions) != 2 ||
		j.Work.Actions[0].Action != "replicate" || j.Work.Actions[1].Args["text"] != "after 5" {
		t.Errorf("job = %+v", j)
	}
	if got := je.Current().ruleOf("copy-out").Actions(); !slices.Equal(got, []string{"note", "replicate", "note"}) {
		t.Errorf("Actions() = %v", got)
	}
	// The job's actions have no deadline but the job's own.
	if err := je.runJob(t, ctx, j, time.Now()); err != nil {
		t.Fatal(err)
	}
	calls := je.took()
	if len(calls) != 2 || calls[0].action != "replicate" || calls[0].deadline || calls[0].depth != 1 {
		t.Errorf("job calls: %+v", calls)
	}
}

// TestJobOwnBudget: an action slower than the phase deadline fails in the
// operation, and completes in a job, periodic or not.
func TestJobOwnBudget(t *testing.T) {
	const deadline = 50 * time.Millisecond
	je := newJobEnv(t, deadline, `
rules:
  - name: slow-inline
    on: [put]
    when: post
    then:
      - wait: {for: duration("200ms")}
  - name: slow-job
    on: [put]
    when: post
    then:
      - schedule: {async: true, do: [{wait: {for: duration("200ms")}}]}
  - name: slow-periodic
    every: "@hourly"
    then:
      - wait: {for: duration("200ms")}
`)
	ctx := context.Background()
	je.After(ctx, put("/tempZone/home/alice/x", 5), nil)
	if !strings.Contains(je.audit.String(), `"action":"wait","outcome":"failed"`) {
		t.Errorf("the inline action beat the phase deadline:\n%s", je.audit.String())
	}
	jobs := je.jobs()
	if len(jobs) != 1 {
		t.Fatalf("jobs: %+v", jobs)
	}
	if err := je.runJob(t, ctx, jobs[0], time.Now()); err != nil {
		t.Errorf("the job's action: %v", err)
	}
	set := je.Current()
	periodic := set.ruleOf("slow-periodic")
	if err := je.Run(ctx, &JobRun{ID: 2, Rule: periodic.Name, Every: periodic.Schedule, Work: PeriodicWork(periodic, "tempZone", "rods")}); err != nil {
		t.Errorf("the periodic rule's action: %v", err)
	}
}

// TestScheduleActsOnDestination: a job scheduled by a rename or copy post
// rule acts on the destination.
func TestScheduleActsOnDestination(t *testing.T) {
	je := newJobEnv(t, 0, `
rules:
  - name: after-move
    on: [rename, copy]
    when: post
    then:
      - replicate: {resource: "'archiveResc'"}
`)
	ctx := context.Background()
	for _, op := range []string{"rename", "copy"} {
		req := &Request{Op: op, Path: catalog.MustPath("/tempZone/home/alice/src"), Dest: catalog.MustPath("/tempZone/home/alice/dst"), User: alice, Zone: "tempZone"}
		je.After(ctx, req, nil)
		jobs := je.jobs()
		if len(jobs) != 1 || jobs[0].Path != "/tempZone/home/alice/dst" || jobs[0].Work.Dest != "/tempZone/home/alice/dst" {
			t.Fatalf("%s: jobs %+v", op, jobs)
		}
		if err := je.runJob(t, ctx, jobs[0], time.Now()); err != nil {
			t.Fatal(err)
		}
		// Actions take the operation's destination when it has one
		// (policies.actionPath): the job's request must carry it.
		if calls := je.took(); len(calls) != 1 || calls[0].dest != "/tempZone/home/alice/dst" {
			t.Errorf("%s: job calls %+v", op, calls)
		}
	}
}

// TestDepthCarriesIntoJobs: a job keeps the depth in actions it was
// scheduled at; its actions run one deeper, and scheduling stops at
// MaxActionDepth, so rules whose jobs set each other off stop.
func TestDepthCarriesIntoJobs(t *testing.T) {
	je := newJobEnv(t, 0, `
rules:
  - name: again
    on: [replicate]
    when: post
    then:
      - replicate: {resource: "'archiveResc'"}
`)
	ctx := context.Background()
	deep := context.WithValue(ctx, actionDepthKey{}, 3)
	je.After(deep, &Request{Op: "replicate", Path: catalog.MustPath("/tempZone/a"), User: alice, Zone: "tempZone"}, nil)
	jobs := je.jobs()
	if len(jobs) != 1 || jobs[0].Work.Depth != 3 {
		t.Fatalf("jobs: %+v", jobs)
	}
	if err := je.runJob(t, ctx, jobs[0], time.Now()); err != nil {
		t.Fatal(err)
	}
	if calls := je.took(); len(calls) != 1 || calls[0].depth != 4 {
		t.Errorf("calls: %+v", calls)
	}
	// At the limit nothing is scheduled, and the audit log says why.
	limit := context.WithValue(ctx, actionDepthKey{}, MaxActionDepth)
	je.After(limit, &Request{Op: "replicate", Path: catalog.MustPath("/tempZone/a"), User: alice, Zone: "tempZone"}, nil)
	if jobs := je.jobs(); len(jobs) != 0 {
		t.Errorf("scheduled at the depth limit: %+v", jobs)
	}
	if !strings.Contains(je.audit.String(), "rule actions loop") {
		t.Errorf("audit:\n%s", je.audit.String())
	}
	// A stored job at the limit does not run its actions.
	j := jobs[0]
	j.Work.Depth = MaxActionDepth
	if err := je.runJob(t, ctx, j, time.Now()); !errors.Is(err, ErrActionLoop) {
		t.Errorf("job at the depth limit: %v", err)
	}
}

// TestRecheck: a job with recheck evaluates its rule's condition again
// when it runs, and does nothing when it no longer holds; a job of a
// removed rule is ErrRuleGone.
func TestRecheck(t *testing.T) {
	rule := `
rules:
  - name: cold
    on: [put]
    when: post
    condition: '!("keep" in object.metadata)'
    then:
      - schedule:
          after: 30d
          recheck: true
          do:
            - move: {resource: "'tape'"}
`
	je := newJobEnv(t, 0, rule)
	ctx := context.Background()
	p := "/tempZone/home/alice/x"
	je.cat.entries[p] = catalog.Entry{Object: &catalog.DataObject{Path: catalog.MustPath(p)}}
	je.After(ctx, put(p, 5), nil)
	jobs := je.jobs()
	if len(jobs) != 1 || !jobs[0].Work.Recheck || time.Until(jobs[0].Due) < 29*24*time.Hour {
		t.Fatalf("jobs: %+v", jobs)
	}
	created := time.Now()
	// Read meanwhile: marked to keep.
	je.cat.avus[catalog.ObjectTarget(catalog.MustPath(p)).String()] = []catalog.AVU{{Attribute: "keep", Value: "yes"}}
	if err := je.runJob(t, ctx, jobs[0], created); err != nil {
		t.Fatal(err)
	}
	if calls := je.took(); len(calls) != 0 {
		t.Errorf("actions ran though the condition no longer holds: %+v", calls)
	}
	if !strings.Contains(je.audit.String(), "no longer holds") {
		t.Errorf("audit:\n%s", je.audit.String())
	}
	delete(je.cat.avus, catalog.ObjectTarget(catalog.MustPath(p)).String())
	if err := je.runJob(t, ctx, jobs[0], created); err != nil {
		t.Fatal(err)
	}
	if calls := je.took(); len(calls) != 1 || calls[0].action != "move" {
		t.Errorf("calls: %+v", calls)
	}
	// The rule removed: the job goes.
	je.load(t)
	if err := je.runJob(t, ctx, jobs[0], created); !errors.Is(err, ErrRuleGone) {
		t.Errorf("job of a removed rule: %v", err)
	}
	// A rule set older than the job (this server has not loaded the one
	// that scheduled it yet): an error, retried.
	if err := je.runJob(t, ctx, jobs[0], time.Now().Add(time.Hour)); err == nil || errors.Is(err, ErrRuleGone) {
		t.Errorf("job of a rule this server does not know yet: %v", err)
	}
}

// capScheduler refuses every job as past the cap.
type capScheduler struct{ n int }

func (c *capScheduler) Schedule(ctx context.Context, j ScheduledJob) error {
	c.n++
	return fmt.Errorf("add job: %w", catalog.ErrQuotaExceeded)
}

// TestJobCap: a rule whose jobs reach the cap schedules no more, and the
// audit log names it, once a minute rather than once per operation.
func TestJobCap(t *testing.T) {
	je := newJobEnv(t, 0, `
rules:
  - name: busy
    on: [put]
    when: post
    then:
      - replicate: {resource: "'archiveResc'"}
`)
	capped := &capScheduler{}
	je.SetScheduler(capped)
	for i := range 5 {
		je.After(context.Background(), put(fmt.Sprintf("/tempZone/home/alice/x%d", i), 5), nil)
	}
	if capped.n != 5 {
		t.Errorf("%d schedules", capped.n)
	}
	if n := strings.Count(je.audit.String(), `"msg":"job cap","rule":"busy"`); n != 1 {
		t.Errorf("%d job cap records:\n%s", n, je.audit.String())
	}
}

func TestJobLoadErrors(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"two schedules", `
rules:
  - name: r
    on: [put]
    when: post
    then:
      - schedule: {after: 1h, do: [{note: {text: "'a'"}}]}
      - schedule: {after: 2h, do: [{note: {text: "'b'"}}]}
`, "makes 2 jobs"},
		{"schedule after a data-moving action", `
rules:
  - name: r
    on: [put]
    when: post
    then:
      - replicate: {resource: "'a'"}
      - schedule: {after: 1h, do: [{note: {text: "'b'"}}]}
`, "a second job"},
		{"async in a pre rule", `
rules:
  - name: r
    on: [put]
    async: false
    then: [{note: {text: "'a'"}}]
`, "this rule is pre"},
		{"async in a periodic rule", `
rules:
  - name: r
    every: "@daily"
    async: false
    then: [{note: {text: "'a'"}}]
`, "takes no async"},
		{"async not a bool", `
rules:
  - name: r
    on: [put]
    when: post
    async: later
    then: [{note: {text: "'a'"}}]
`, "async: \"later\" is not true or false"},
		{"recheck not a bool", `
rules:
  - name: r
    on: [put]
    when: post
    then: [{schedule: {after: 1h, recheck: maybe, do: [{note: {text: "'a'"}}]}}]
`, "schedule.recheck"},
		{"select not a query", `
rules:
  - name: r
    every: "@daily"
    select: "'select nothing'"
    then: [{note: {text: "'a'"}}]
`, "select:"},
		{"select of collections", `
rules:
  - name: r
    every: "@daily"
    select: >-
      "select COLL_NAME where COLL_NAME like '/tempZone/%'"
    then: [{note: {text: "'a'"}}]
`, "selects no data objects"},
		{"select with aggregates", `
rules:
  - name: r
    every: "@daily"
    select: "'select count(DATA_ID) where DATA_SIZE > 0'"
    then: [{note: {text: "'a'"}}]
`, "no aggregates"},
		{"select ordered", `
rules:
  - name: r
    every: "@daily"
    select: "'select DATA_NAME where DATA_SIZE > 0 order by DATA_NAME'"
    then: [{note: {text: "'a'"}}]
`, "no order by"},
		{"select not a string", `
rules:
  - name: r
    every: "@daily"
    select: "1"
    then: [{note: {text: "'a'"}}]
`, "select must evaluate to string"},
		{"select in an operation's rule", `
rules:
  - name: r
    on: [put]
    select: "'select DATA_NAME'"
    then: [{note: {text: "'a'"}}]
`, "select"},
	}
	je := newJobEnv(t, 0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := je.Compile(map[string][]byte{"f.yaml": []byte(tc.file)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// queryCatalog is a memCatalog whose Query serves the pages of a
// selection from a list of objects: it reads only "DATA_ID > n" of the
// condition and the limit, and counts the pages.
type queryCatalog struct {
	*memCatalog
	objects []string // the object with ID i+1 is objects[i]
	pages   int
	lastQ   string
}

func (q *queryCatalog) Query(ctx context.Context, qu *query.Query, caller catalog.Caller, fn func([]string) error) error {
	q.mu.Lock()
	q.pages++
	q.lastQ = qu.String()
	q.mu.Unlock()
	if !caller.Admin {
		return errors.New("a selection runs as the zone's administrator")
	}
	after := int64(0)
	query.Walk(qu.Where, func(e query.Expr) {
		if c, ok := e.(*query.Compare); ok && c.Column.Name == "DATA_ID" && c.Op == query.OpGt {
			after = c.Value.Int
		}
	})
	n := int64(0)
	for i, p := range q.objects {
		id := int64(i + 1)
		if id <= after || n == qu.Limit {
			continue
		}
		n++
		path := catalog.MustPath(p)
		if err := fn([]string{fmt.Sprint(id), path.Parent().String(), path.Name()}); err != nil {
			return err
		}
	}
	return nil
}

const selectRule = `
rules:
  - name: tier
    every: "@hourly"
    select: >-
      "select COLL_NAME, DATA_NAME where DATA_MODIFY_TIME < '" + string(now - days(30)) + "'"
    condition: '!object.name.endsWith(".keep")'
    then:
      - move: {resource: "'tape'"}
`

// TestPeriodicSelection: a periodic rule with select evaluates its
// condition and actions on each object selected, batch by batch, claiming
// each batch in the job's state before evaluating it.
func TestPeriodicSelection(t *testing.T) {
	je := newJobEnv(t, 0, selectRule)
	for i := range 7 {
		name := fmt.Sprintf("o%d", i)
		if i == 3 {
			name += ".keep"
		}
		je.cat.objects = append(je.cat.objects, "/tempZone/home/alice/"+name)
	}
	r := je.Current().ruleOf("tier")
	var saved []selectionState
	run := &JobRun{ID: 9, Rule: r.Name, Every: r.Schedule, Work: PeriodicWork(r, "tempZone", "rods"), Batch: 3,
		Save: func(ctx context.Context, b []byte) error {
			var st selectionState
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatal(err)
			}
			saved = append(saved, st)
			return nil
		}}
	start := time.Now()
	if err := je.Run(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	var moved []string
	for _, c := range je.took() {
		if c.action != "move" || c.deadline || c.args["resource"] != "tape" {
			t.Errorf("call %+v", c)
		}
		moved = append(moved, c.path[strings.LastIndex(c.path, "/")+1:])
	}
	if got := strings.Join(moved, " "); got != "o0 o1 o2 o4 o5 o6" {
		t.Errorf("moved %s", got)
	}
	// Three claims: objects 1-3, 4-6, 7; and a last empty page.
	if len(saved) != 3 || saved[0].After != 3 || saved[0].Done != 0 || saved[1].After != 6 || saved[1].Done != 3 || saved[2].After != 7 {
		t.Errorf("saved states %+v", saved)
	}
	if je.cat.pages != 4 {
		t.Errorf("%d pages", je.cat.pages)
	}
	if !strings.Contains(je.cat.lastQ, "order by DATA_ID limit 3") || !strings.Contains(je.cat.lastQ, "DATA_MODIFY_TIME < ") {
		t.Errorf("page query %s", je.cat.lastQ)
	}
	cutoff := saved[0].Started.Add(-30 * 24 * time.Hour)
	if saved[0].Started.Before(start) || !strings.Contains(je.cat.lastQ, cutoff.UTC().Format("2006-01-02T15:04:05")) {
		t.Errorf("the selection's now is not the run's start %v: %s", saved[0].Started, je.cat.lastQ)
	}
	if !strings.Contains(je.audit.String(), "7 objects selected, 6 matched the condition, 0 failed") {
		t.Errorf("audit:\n%s", je.audit.String())
	}
	// Selection walks the same objects, without evaluating anything.
	var paths []string
	n, err := je.Selection(context.Background(), "tier", "tempZone", "rods", 2, func(p catalog.Path) error {
		paths = append(paths, p.Name())
		return nil
	})
	if err != nil || n != 7 || len(paths) != 7 || paths[3] != "o3.keep" || len(je.took()) != 0 {
		t.Errorf("Selection = %d, %v: %v", n, err, paths)
	}
	if _, err := je.Selection(context.Background(), "nothing", "tempZone", "rods", 2, nil); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Selection of no rule: %v", err)
	}
}

// TestPeriodicSelectionResumes: a run resumes after the objects its state
// says are claimed: those finished, and those a server that stopped mid
// batch had claimed (audited, left for the next run).
func TestPeriodicSelectionResumes(t *testing.T) {
	je := newJobEnv(t, 0, selectRule)
	for i := range 6 {
		je.cat.objects = append(je.cat.objects, fmt.Sprintf("/tempZone/home/alice/o%d", i))
	}
	r := je.Current().ruleOf("tier")
	started := time.Now().Add(-time.Minute).UTC()
	state, _ := json.Marshal(selectionState{Started: started, After: 4, Done: 2, Selected: 4})
	run := &JobRun{ID: 9, Rule: r.Name, Every: r.Schedule, Work: PeriodicWork(r, "tempZone", "rods"), State: state, Batch: 10}
	if err := je.Run(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	var moved []string
	for _, c := range je.took() {
		moved = append(moved, c.path[strings.LastIndex(c.path, "/")+1:])
	}
	if got := strings.Join(moved, " "); got != "o4 o5" {
		t.Errorf("moved %s", got)
	}
	if !strings.Contains(je.audit.String(), "catalog ids 3 to 4") {
		t.Errorf("audit:\n%s", je.audit.String())
	}
	if !strings.Contains(je.cat.lastQ, started.Add(-30*24*time.Hour).Format("2006-01-02T15:04:05")) {
		t.Errorf("a resumed run's selection is not the run's: %s", je.cat.lastQ)
	}
}

// TestPeriodicSelectionStops: a run that is stopped (the server stops, or
// the job's lease is lost) saves how far it got, so that whoever resumes
// it does the rest and nothing twice; a lost claim stops it at once.
func TestPeriodicSelectionStops(t *testing.T) {
	je := newJobEnv(t, 0, `
rules:
  - name: slow
    every: "@hourly"
    select: '"select COLL_NAME, DATA_NAME where COLL_NAME = ''/tempZone/home/alice''"'
    then:
      - wait: {for: duration("1h")}
`)
	for i := range 6 {
		je.cat.objects = append(je.cat.objects, fmt.Sprintf("/tempZone/home/alice/o%d", i))
	}
	r := je.Current().ruleOf("slow")
	ctx, cancel := context.WithCancel(context.Background())
	var last selectionState
	run := &JobRun{ID: 9, Rule: r.Name, Every: r.Schedule, Work: PeriodicWork(r, "tempZone", "rods"), Batch: 4,
		Save: func(ctx context.Context, b []byte) error {
			return json.Unmarshal(b, &last)
		}}
	done := make(chan error)
	go func() { done <- je.Run(ctx, run) }()
	for {
		je.mu.Lock()
		n := len(je.calls)
		je.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped run: %v", err)
	}
	if last.After != 0 || last.Done != 0 {
		t.Errorf("state after stopping in the first object: %+v", last)
	}
	// A save that fails (the job is another server's) ends the run before
	// it evaluates anything of the batch it could not claim.
	run.Save = func(context.Context, []byte) error { return catalog.ErrLocked }
	je.took()
	if err := je.Run(context.Background(), run); !errors.Is(err, catalog.ErrLocked) {
		t.Errorf("run with a lost claim: %v", err)
	}
	if calls := je.took(); len(calls) != 0 {
		t.Errorf("a run that could not claim its batch evaluated %+v", calls)
	}
}
