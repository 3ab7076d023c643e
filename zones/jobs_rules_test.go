package zones_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/policies"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/resources/faulty"
	"github.com/arca-data/arca/resources/posix"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// Jobs as a steward meets them: rules with the shipped actions (policies)
// on a zone whose archive resource, archiveResc, can be slowed down
// (resources/faulty) to stand for a large object.

// syncBuffer is an audit log tests read while jobs write to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// notes is the test action "note": it records which server acted on which
// path, and waits for delay first (or for its context).
type notes struct {
	mu    sync.Mutex
	by    map[string][]string // path -> servers
	delay time.Duration
	// started, if set, hears of every note as it starts.
	started chan string
}

func (n *notes) action(server string) rules.Action {
	return rules.Action{Name: "note", Args: []rules.Arg{{Name: "text", Type: cel.StringType}},
		Run: func(ctx context.Context, c *rules.Call) error {
			n.mu.Lock()
			delay, started := n.delay, n.started
			n.mu.Unlock()
			if started != nil {
				started <- c.Request.Path.String()
			}
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return ctx.Err()
			}
			n.mu.Lock()
			defer n.mu.Unlock()
			n.by[c.Request.Path.String()] = append(n.by[c.Request.Path.String()], server)
			return nil
		}}
}

func (n *notes) snapshot() map[string][]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string][]string{}
	for k, v := range n.by {
		out[k] = slices.Clone(v)
	}
	return out
}

// slowDrivers opens archiveResc through one faulty wrapper.
type slowDrivers struct {
	*drivers.Registry
	mu      sync.Mutex
	archive *faulty.Resource
}

func (d *slowDrivers) Open(rec catalog.Resource) (resources.Resource, error) {
	if rec.Name != "archiveResc" {
		return d.Registry.Open(rec)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.archive == nil {
		p, err := posix.Open(rec.Location)
		if err != nil {
			return nil, err
		}
		d.archive = faulty.Wrap(p, faulty.Faults{})
	}
	return d.archive, nil
}

// ruleServer is one server of a zone whose catalog is an SQLite file.
type ruleServer struct {
	t      *testing.T
	z      *zones.Zone
	cat    catalog.Catalog
	rods   catalog.User
	audit  *syncBuffer
	drv    *slowDrivers
	engine *rules.Engine
}

type serverOptions struct {
	name        string
	timeout     time.Duration // rules.Options.Timeout
	jobsPerRule int
	notes       *notes
	// wrap, if set, wraps the server's catalog (to make it fail).
	wrap func(catalog.Catalog) catalog.Catalog
}

// newServer starts a server on the catalog file in dir with the rules
// ruleYAML; the first server of dir makes the zone.
func newServer(t *testing.T, dir, ruleYAML string, o serverOptions) *ruleServer {
	t.Helper()
	ctx := t.Context()
	sq, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	var cat catalog.Catalog = sq
	if o.wrap != nil {
		cat = o.wrap(cat)
	}
	if o.name == "" {
		o.name = "server1"
	}
	quiet := slog.New(slog.DiscardHandler)
	drv := &slowDrivers{Registry: drivers.Default()}
	z := zones.New(cat, zones.Options{Drivers: drv, Logger: quiet, ServerID: o.name, JobsPerRule: o.jobsPerRule})
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Resource(ctx, "archiveResc"); err != nil {
		if err := os.MkdirAll(filepath.Join(dir, "archive"), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := cat.CreateResource(ctx, catalog.Resource{Name: "archiveResc", Type: "posix", Location: filepath.Join(dir, "archive"), Status: "up"}); err != nil {
			t.Fatal(err)
		}
	}
	audit := &syncBuffer{}
	reg := rules.NewRegistry()
	if err := policies.Register(reg, z, slog.New(slog.NewJSONHandler(audit, nil))); err != nil {
		t.Fatal(err)
	}
	if o.notes != nil {
		if err := reg.Register(o.notes.action(o.name)); err != nil {
			t.Fatal(err)
		}
	}
	e, err := rules.New(rules.Options{Registry: reg, Catalog: cat, Logger: quiet, Timeout: o.timeout,
		Audit: slog.New(slog.NewJSONHandler(audit, nil))})
	if err != nil {
		t.Fatal(err)
	}
	set, err := e.Compile(map[string][]byte{"rules.yaml": []byte(ruleYAML)})
	if err != nil {
		t.Fatal(err)
	}
	e.Load(set)
	z.UseRules(e)
	rods, err := cat.User(ctx, catalog.UserID{Name: zones.DefaultAdmin, Zone: zones.DefaultZone})
	if err != nil {
		t.Fatal(err)
	}
	return &ruleServer{t: t, z: z, cat: cat, rods: rods, audit: audit, drv: drv, engine: e}
}

func (s *ruleServer) path(name string) catalog.Path {
	return catalog.MustPath(s.z.Home(zones.DefaultAdmin).String() + "/" + name)
}

func (s *ruleServer) put(name string, data []byte) {
	s.t.Helper()
	if _, err := s.z.Put(s.t.Context(), zones.As(s.rods), zones.PutRequest{Path: s.path(name), Size: int64(len(data)), Overwrite: true},
		bytes.NewReader(data)); err != nil {
		s.t.Fatalf("put %s: %v", name, err)
	}
}

// archive returns the faulty wrapper of archiveResc.
func (s *ruleServer) archive() *faulty.Resource {
	s.t.Helper()
	s.drv.mu.Lock()
	a := s.drv.archive
	s.drv.mu.Unlock()
	if a == nil {
		r, err := s.cat.Resource(s.t.Context(), "archiveResc")
		if err != nil {
			s.t.Fatal(err)
		}
		if _, err := s.drv.Open(r); err != nil {
			s.t.Fatal(err)
		}
		return s.archive()
	}
	return a
}

// runJobs runs the job queue until the test ends or stop is called.
func (s *ruleServer) runJobs(opts zones.JobOptions) (stop func()) {
	ctx, cancel := context.WithCancel(s.t.Context())
	done := make(chan struct{})
	go func() { defer close(done); s.z.RunJobs(ctx, opts) }()
	stopped := sync.OnceFunc(func() { cancel(); <-done })
	s.t.Cleanup(stopped)
	return stopped
}

func (s *ruleServer) jobs() []catalog.Job {
	s.t.Helper()
	js, err := s.cat.ListJobs(s.t.Context(), 0, 10000)
	if err != nil {
		s.t.Fatal(err)
	}
	return js
}

// waitFor polls cond until it holds, or fails the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func goodOn(t *testing.T, cat catalog.Catalog, p catalog.Path) []string {
	t.Helper()
	o, err := cat.DataObject(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range o.Good() {
		out = append(out, r.Resource)
	}
	slices.Sort(out)
	return out
}

// TestJobsReplicateTrimLoopStops: a post rule on trim that replicates and
// one on replicate that trims set each other off through jobs. Seen on a
// server: 7,200 jobs before the queue drained, as the depth limit did not
// carry into jobs. Now a job keeps the depth it was scheduled at, and the
// chain stops at rules.MaxActionDepth.
func TestJobsReplicateTrimLoopStops(t *testing.T) {
	s := newServer(t, t.TempDir(), `rules:
  - name: replicate-after-trim
    on: [trim]
    when: post
    then:
      - schedule: {async: true, do: [{replicate: {resource: "'archiveResc'"}}]}
  - name: trim-after-replicate
    on: [replicate]
    when: post
    then:
      - schedule: {async: true, do: [{trim: {keep: 1, resource: "'archiveResc'"}}]}
`, serverOptions{})
	s.put("ping", []byte("pong"))
	if err := s.z.Replicate(t.Context(), zones.As(s.rods), zones.ReplicateRequest{Path: s.path("ping"), Dest: "archiveResc"},
		func(zones.ReplicaChange) error { return nil }); err != nil {
		t.Fatal(err)
	}
	stop := s.runJobs(zones.JobOptions{Poll: 10 * time.Millisecond})
	waitFor(t, time.Minute, "the queue drains", func() bool { return len(s.jobs()) == 0 })
	stop()
	audit := s.audit.String()
	if n := strings.Count(audit, `"msg":"job action"`); n == 0 || n > rules.MaxActionDepth {
		t.Errorf("%d job actions ran; want at most %d", n, rules.MaxActionDepth)
	}
	if !strings.Contains(audit, "rule actions loop") {
		t.Errorf("the audit log does not say why the chain stopped:\n%s", audit)
	}
}

// TestJobsSlowReplicationCompletes: a post rule's replicate of a large
// object (here: a resource that writes slowly) outlasts the 2 s phase
// deadline. Seen on a server: the put exited 0 without its replica, and a
// periodic rule's job retried for ever. Now the replicate runs as a job,
// under the job's own budget, and completes; so does the periodic rule's.
func TestJobsSlowReplicationCompletes(t *testing.T) {
	const deadline = 200 * time.Millisecond
	s := newServer(t, t.TempDir(), `rules:
  - name: archive-copy
    on: [put]
    when: post
    condition: object.name.startsWith("big")
    then:
      - replicate: {resource: "'archiveResc'"}
  - name: nightly-archive
    every: "@every 1h"
    select: >-
      "select COLL_NAME, DATA_NAME where DATA_NAME like 'late%'"
    then:
      - replicate: {resource: "'archiveResc'"}
`, serverOptions{timeout: deadline})
	// 4 writes of 32 KiB, each 150 ms: 600 ms, three deadlines.
	s.archive().Arm(faulty.Faults{WriteDelay: 150 * time.Millisecond})
	big := bytes.Repeat([]byte("x"), 128<<10)
	s.put("big", big)
	if got := goodOn(t, s.cat, s.path("big")); !slices.Equal(got, []string{"demoResc"}) {
		t.Fatalf("right after the put: good on %v", got)
	}
	jobs := s.jobs()
	if len(jobs) != 2 || jobs[1].Rule != "archive-copy" || jobs[1].Path != s.path("big").String() {
		t.Fatalf("jobs after the put: %+v", jobs)
	}
	// The periodic rule's selection: due now.
	s.put("late", big)
	periodic := jobs[0]
	if err := s.cat.RemoveJob(t.Context(), periodic.ID); err != nil {
		t.Fatal(err)
	}
	periodic.Due = time.Now()
	if _, err := s.cat.AddJob(t.Context(), periodic); err != nil {
		t.Fatal(err)
	}
	stop := s.runJobs(zones.JobOptions{Poll: 10 * time.Millisecond, Backoff: 10 * time.Millisecond})
	waitFor(t, time.Minute, "both replicated", func() bool {
		return len(goodOn(t, s.cat, s.path("big"))) == 2 && len(goodOn(t, s.cat, s.path("late"))) == 2
	})
	waitFor(t, 10*time.Second, "the job of the put done", func() bool { return len(s.jobs()) == 1 })
	stop()
	if j := s.jobs()[0]; j.Rule != "nightly-archive" || j.Attempts != 0 || j.Failed || j.Due.Before(time.Now().Add(30*time.Minute)) {
		t.Errorf("the periodic job after its run: %+v", j)
	}
	if strings.Contains(s.audit.String(), `"outcome":"failed"`) {
		t.Errorf("something failed on the way:\n%s", s.audit.String())
	}
	// async: false keeps the old way: in the operation, under the phase
	// deadline, which a slow replica does not make.
	inline := newServer(t, t.TempDir(), `rules:
  - name: archive-copy
    on: [put]
    when: post
    async: false
    then:
      - replicate: {resource: "'archiveResc'"}
`, serverOptions{timeout: deadline})
	inline.archive().Arm(faulty.Faults{WriteDelay: 150 * time.Millisecond})
	inline.put("big", big)
	if got := goodOn(t, inline.cat, inline.path("big")); len(got) != 1 || len(inline.jobs()) != 0 {
		t.Errorf("async: false: good on %v, jobs %+v", got, inline.jobs())
	}
	if !strings.Contains(inline.audit.String(), `"action":"replicate","outcome":"failed"`) {
		t.Errorf("async: false: the audit log does not show the replicate failing:\n%s", inline.audit.String())
	}
}

// TestJobsGoWithTheirRuleAndObject: jobs of schedule {every: ...} outlived
// their rule and their object. Now removing the object, renaming it away,
// or removing the rule cancels its pending jobs.
func TestJobsGoWithTheirRuleAndObject(t *testing.T) {
	rule := `rules:
  - name: daily-check
    on: [put]
    when: post
    then:
      - schedule: {every: "@daily", do: [{metadata.set: {attribute: "'checked'", value: "string(now)"}}]}
  - name: stays
    on: [put]
    when: post
    condition: object.name == "c"
    then:
      - schedule: {after: 1h, do: [{metadata.set: {attribute: "'x'", value: "'y'"}}]}
`
	s := newServer(t, t.TempDir(), rule, serverOptions{})
	ctx := t.Context()
	if _, err := s.z.MakeCollection(ctx, zones.As(s.rods), s.path("dir"), false); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c", "dir/d", "dir/e"} {
		s.put(n, []byte(n))
	}
	paths := func() []string {
		var out []string
		for _, j := range s.jobs() {
			out = append(out, j.Rule+" "+strings.TrimPrefix(j.Path, "/tempZone/home/rods/"))
		}
		slices.Sort(out)
		return out
	}
	want := []string{"daily-check a", "daily-check b", "daily-check c", "daily-check dir/d", "daily-check dir/e", "stays c"}
	if got := paths(); !slices.Equal(got, want) {
		t.Fatalf("jobs %v, want %v", got, want)
	}
	if _, err := s.z.Remove(ctx, zones.As(s.rods), s.path("a"), false, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.z.Remove(ctx, zones.As(s.rods), s.path("dir"), true, true); err != nil {
		t.Fatal(err)
	}
	if err := s.z.Rename(ctx, zones.As(s.rods), s.path("b"), s.path("b2")); err != nil {
		t.Fatal(err)
	}
	want = []string{"daily-check c", "stays c"}
	if got := paths(); !slices.Equal(got, want) {
		t.Fatalf("after remove and rename: jobs %v, want %v", got, want)
	}
	// The rule set without daily-check.
	set, err := s.engine.Compile(map[string][]byte{"rules.yaml": []byte(rule[:strings.Index(rule, "  - name: daily-check")] +
		rule[strings.Index(rule, "  - name: stays"):])})
	if err != nil {
		t.Fatal(err)
	}
	s.engine.Load(set)
	if got := paths(); !slices.Equal(got, []string{"stays c"}) {
		t.Fatalf("after removing the rule: jobs %v", got)
	}
	if !strings.Contains(s.audit.String(), `"rule":"daily-check"`) || !strings.Contains(s.audit.String(), "no longer in the rule set") {
		t.Errorf("the audit log does not say the rule's jobs went:\n%s", s.audit.String())
	}
}

// TestJobsActOnDestination: jobs scheduled by copy and rename post rules
// acted on the source path. Now they act on the destination.
func TestJobsActOnDestination(t *testing.T) {
	s := newServer(t, t.TempDir(), `rules:
  - name: tag-new
    on: [copy, rename]
    when: post
    then:
      - schedule: {after: 0s, do: [{metadata.set: {attribute: "'tagged'", value: "op.name"}}]}
  - name: archive-new
    on: [copy]
    when: post
    then:
      - replicate: {resource: "'archiveResc'"}
`, serverOptions{})
	ctx := t.Context()
	s.put("src", []byte("data"))
	s.put("old", []byte("data"))
	if _, err := s.z.Copy(ctx, zones.As(s.rods), s.path("src"), s.path("copied"), "", false); err != nil {
		t.Fatal(err)
	}
	if err := s.z.Rename(ctx, zones.As(s.rods), s.path("old"), s.path("renamed")); err != nil {
		t.Fatal(err)
	}
	stop := s.runJobs(zones.JobOptions{Poll: 10 * time.Millisecond})
	waitFor(t, 20*time.Second, "the queue drains", func() bool { return len(s.jobs()) == 0 })
	stop()
	tags := func(name string) string {
		avus, err := s.cat.ListMetadata(ctx, catalog.ObjectTarget(s.path(name)))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range avus {
			out = append(out, a.Attribute+"="+a.Value)
		}
		return strings.Join(out, ",")
	}
	if got := tags("copied") + " " + tags("renamed") + " " + tags("src"); got != "tagged=copy tagged=rename " {
		t.Errorf("tags of copied, renamed, src: %q", got)
	}
	if got := goodOn(t, s.cat, s.path("copied")); len(got) != 2 {
		t.Errorf("the copy is good on %v", got)
	}
	if got := goodOn(t, s.cat, s.path("src")); len(got) != 1 {
		t.Errorf("the source is good on %v", got)
	}
	if strings.Contains(s.audit.String(), `"outcome":"failed"`) {
		t.Errorf("a job failed:\n%s", s.audit.String())
	}
}

// TestJobsOnePendingPerRuleAndObject: scheduling again for one rule and
// object replaces the pending job; a rule past the zone's cap schedules no
// more, and the audit log names it.
func TestJobsOnePendingPerRuleAndObject(t *testing.T) {
	s := newServer(t, t.TempDir(), `rules:
  - name: later
    on: [put]
    when: post
    then:
      - schedule: {after: 1h, do: [{metadata.set: {attribute: "'size_then'", value: "string(object.size)"}}]}
`, serverOptions{jobsPerRule: 3})
	for i := range 4 {
		s.put("same", bytes.Repeat([]byte("x"), i+1))
	}
	jobs := s.jobs()
	if len(jobs) != 1 || !strings.Contains(string(jobs[0].Work), `"value":"4"`) {
		t.Fatalf("jobs after 4 puts of one object: %+v", jobs)
	}
	for _, n := range []string{"b", "c", "d", "e"} {
		s.put(n, []byte(n))
	}
	if n := len(s.jobs()); n != 3 {
		t.Errorf("%d jobs, want the cap of 3", n)
	}
	audit := s.audit.String()
	if n := strings.Count(audit, `"msg":"job cap","rule":"later"`); n != 1 {
		t.Errorf("%d job cap records of rule later:\n%s", n, audit)
	}
}

// TestJobsRecheck: "move it to the archive if still unread after 30 days"
// (here 1 s): the job evaluates its rule's condition again when it runs.
func TestJobsRecheck(t *testing.T) {
	s := newServer(t, t.TempDir(), `rules:
  - name: track-access-time
    on: [get]
    when: post
    then:
      - metadata.set: {attribute: "'last_access'", value: "string(now)"}
  - name: cold-if-unread
    on: [put]
    when: post
    condition: '!("last_access" in object.metadata)'
    then:
      - schedule:
          after: 1s
          recheck: true
          do:
            - move: {resource: "'archiveResc'"}
`, serverOptions{})
	s.put("read", []byte("r"))
	s.put("unread", []byte("u"))
	_, _, rc, err := s.z.Open(t.Context(), zones.As(s.rods), s.path("read"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	stop := s.runJobs(zones.JobOptions{Poll: 10 * time.Millisecond})
	waitFor(t, 20*time.Second, "the queue drains", func() bool { return len(s.jobs()) == 0 })
	stop()
	if got := goodOn(t, s.cat, s.path("unread")); !slices.Equal(got, []string{"archiveResc"}) {
		t.Errorf("unread is on %v", got)
	}
	if got := goodOn(t, s.cat, s.path("read")); !slices.Equal(got, []string{"demoResc"}) {
		t.Errorf("read is on %v", got)
	}
	if !strings.Contains(s.audit.String(), "no longer holds") {
		t.Errorf("audit:\n%s", s.audit.String())
	}
}

// tieringRule notes every object of /tempZone/home/rods/sel whose size is
// above 1.
const tieringRule = `rules:
  - name: tiering
    every: "@every 1h"
    select: >-
      "select COLL_NAME, DATA_NAME where COLL_NAME = '/" + zone + "/home/rods/sel' and DATA_SIZE > 1"
    condition: '!object.name.endsWith(".keep")'
    then:
      - note: {text: "object.path"}
`

// registerSel registers n objects in /tempZone/home/rods/sel, of sizes 2
// (and every tenth of size 1, not selected), and returns the paths the
// tiering rule should note.
func registerSel(t *testing.T, s *ruleServer, n int) []string {
	t.Helper()
	var objs []catalog.RegisteredObject
	var want []string
	for i := range n {
		p := s.path(fmt.Sprintf("sel/o%04d", i))
		size := int64(2)
		if i%10 == 0 {
			size = 1
		} else if i%10 == 5 {
			p = s.path(fmt.Sprintf("sel/o%04d.keep", i))
		} else {
			want = append(want, p.String())
		}
		objs = append(objs, catalog.RegisteredObject{Path: p, Owner: s.rods.UserID(),
			Replicas: []catalog.RegisteredReplica{{Resource: zones.DefaultResource, PhysicalPath: fmt.Sprintf("sel/%d", i), Size: size}}})
	}
	if err := s.z.Register(t.Context(), zones.As(s.rods), objs, true, false); err != nil {
		t.Fatal(err)
	}
	return want
}

// dueNow makes the job of periodic rule due now.
func dueNow(t *testing.T, cat catalog.Catalog, rule string) {
	t.Helper()
	js, err := cat.ListJobs(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		if j.Rule == rule && j.Every != "" {
			if err := cat.RemoveJob(t.Context(), j.ID); err != nil {
				t.Fatal(err)
			}
			j.Due = time.Now()
			if _, err := cat.AddJob(t.Context(), j); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no periodic job of %s in %+v", rule, js)
}

// checkOnce checks that every path of want was noted exactly once, and
// nothing else.
func checkOnce(t *testing.T, n *notes, want []string) map[string]int {
	t.Helper()
	got := n.snapshot()
	perServer := map[string]int{}
	for _, p := range want {
		if len(got[p]) != 1 {
			t.Errorf("%s noted %d times: %v", p, len(got[p]), got[p])
		}
		for _, s := range got[p] {
			perServer[s]++
		}
		delete(got, p)
	}
	for p, by := range got {
		t.Errorf("%s noted by %v, but the rule does not select it", p, by)
	}
	return perServer
}

// waitRun waits until the periodic rule's job is done with its run: due
// again later, without progress.
func waitRun(t *testing.T, cat catalog.Catalog, rule string) {
	t.Helper()
	waitFor(t, time.Minute, "the run of "+rule, func() bool {
		js, err := cat.ListJobs(t.Context(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range js {
			if j.Rule == rule {
				return j.Holder == "" && len(j.State) == 0 && j.Due.After(time.Now().Add(30*time.Minute))
			}
		}
		return false
	})
}

// TestPeriodicSelectionPerObject: a periodic rule with a selection runs
// its condition and actions on every object selected, once.
func TestPeriodicSelectionPerObject(t *testing.T) {
	n := &notes{by: map[string][]string{}}
	s := newServer(t, t.TempDir(), tieringRule, serverOptions{notes: n})
	want := registerSel(t, s, 95)
	dueNow(t, s.cat, "tiering")
	stop := s.runJobs(zones.JobOptions{Poll: 10 * time.Millisecond, SelectBatch: 10})
	waitRun(t, s.cat, "tiering")
	stop()
	checkOnce(t, n, want)
	if !strings.Contains(s.audit.String(), "85 objects selected, 76 matched the condition, 0 failed") {
		t.Errorf("audit:\n%s", s.audit.String())
	}
}

// TestPeriodicSelectionResumesOnAnotherServer: a server stops in the
// middle of a run (shut down); another server of the zone resumes the run
// where it was, and every object is evaluated once.
func TestPeriodicSelectionResumesOnAnotherServer(t *testing.T) {
	dir := t.TempDir()
	n := &notes{by: map[string][]string{}, delay: 5 * time.Millisecond}
	s1 := newServer(t, dir, tieringRule, serverOptions{name: "server1", notes: n})
	s2 := newServer(t, dir, tieringRule, serverOptions{name: "server2", notes: n})
	want := registerSel(t, s1, 200)
	dueNow(t, s1.cat, "tiering")
	opts := zones.JobOptions{Poll: 10 * time.Millisecond, SelectBatch: 7, Backoff: 10 * time.Millisecond}
	stop1 := s1.runJobs(opts)
	waitFor(t, time.Minute, "server1 halfway", func() bool { return len(n.snapshot()) >= len(want)/3 })
	stop1()
	halfway := len(n.snapshot())
	s2.runJobs(opts)
	waitRun(t, s2.cat, "tiering")
	per := checkOnce(t, n, want)
	if per["server1"] == 0 || per["server2"] == 0 || halfway == len(want) {
		t.Errorf("objects per server %v (server1 stopped after %d)", per, halfway)
	}
	t.Logf("objects per server: %v", per)
}

// partitioned is a catalog whose RenewJob fails while cut is set, as for
// a server cut off from its catalog; the rest of it still works.
type partitioned struct {
	catalog.Catalog
	mu  sync.Mutex
	cut bool
}

func (p *partitioned) RenewJob(ctx context.Context, id catalog.ID, holder string, until time.Time) error {
	p.mu.Lock()
	cut := p.cut
	p.mu.Unlock()
	if cut {
		return fmt.Errorf("renew job %d: connection refused", id)
	}
	return p.Catalog.RenewJob(ctx, id, holder, until)
}

// TestPeriodicSelectionExactlyOnceAcrossServers: the server running a
// run loses its job's lease (it cannot renew it) but goes on evaluating
// the batch it claimed; the other server takes the job over when the
// lease ends and resumes after that batch. No object is evaluated twice.
func TestPeriodicSelectionExactlyOnceAcrossServers(t *testing.T) {
	dir := t.TempDir()
	n := &notes{by: map[string][]string{}, delay: 20 * time.Millisecond}
	var cut *partitioned
	s1 := newServer(t, dir, tieringRule, serverOptions{name: "server1", notes: n,
		wrap: func(c catalog.Catalog) catalog.Catalog { cut = &partitioned{Catalog: c}; return cut }})
	s2 := newServer(t, dir, tieringRule, serverOptions{name: "server2", notes: n})
	want := registerSel(t, s1, 120)
	dueNow(t, s1.cat, "tiering")
	const lease = 300 * time.Millisecond
	opts := zones.JobOptions{Poll: 10 * time.Millisecond, Lease: lease, SelectBatch: 20, Backoff: 10 * time.Millisecond}
	s1.runJobs(opts)
	waitFor(t, time.Minute, "server1 at work", func() bool { return len(n.snapshot()) >= 5 })
	cut.mu.Lock()
	cut.cut = true
	cut.mu.Unlock()
	s2.runJobs(opts)
	waitRun(t, s2.cat, "tiering")
	per := checkOnce(t, n, want)
	if per["server2"] == 0 {
		t.Errorf("server2 never took over: %v", per)
	}
	t.Logf("objects per server: %v", per)
}
