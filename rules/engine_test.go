package rules

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/catalog"
)

// memCatalog answers the lookups of rules from maps and counts them, so
// tests can tell what a rule made the engine fetch.
type memCatalog struct {
	mu      sync.Mutex
	entries map[string]catalog.Entry
	avus    map[string][]catalog.AVU // by AVUTarget.String()
	groups  map[string][]catalog.UserID
	calls   map[string]int
}

func newMemCatalog() *memCatalog {
	return &memCatalog{entries: map[string]catalog.Entry{}, avus: map[string][]catalog.AVU{}, groups: map[string][]catalog.UserID{}, calls: map[string]int{}}
}

func (m *memCatalog) count(what string) { m.mu.Lock(); m.calls[what]++; m.mu.Unlock() }

func (m *memCatalog) Stat(ctx context.Context, p catalog.Path) (catalog.Entry, error) {
	m.count("stat")
	if e, ok := m.entries[p.String()]; ok {
		return e, nil
	}
	return catalog.Entry{}, catalog.ErrNotFound
}

func (m *memCatalog) ListMetadata(ctx context.Context, t catalog.AVUTarget) ([]catalog.AVU, error) {
	m.count("metadata")
	return m.avus[t.String()], nil
}

func (m *memCatalog) GroupsOf(ctx context.Context, u catalog.UserID) ([]catalog.UserID, error) {
	m.count("groups")
	return m.groups[u.String()], nil
}

func (m *memCatalog) Resource(ctx context.Context, name string) (catalog.Resource, error) {
	m.count("resource")
	return catalog.Resource{Name: name, Type: "posix", Status: "up"}, nil
}

// recorder is a registry whose actions record their calls.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(s string) { r.mu.Lock(); r.calls = append(r.calls, s); r.mu.Unlock() }

func testRegistry(t testing.TB, rec *recorder) *Registry {
	reg := NewRegistry()
	must := func(a Action) {
		if err := reg.Register(a); err != nil {
			t.Fatal(err)
		}
	}
	must(Action{Name: "metadata.set", Args: []Arg{{Name: "attribute", Type: cel.StringType, Required: true}, {Name: "value", Type: cel.StringType, Required: true}, {Name: "unit", Type: cel.StringType}},
		Run: func(ctx context.Context, c *Call) error {
			rec.add("metadata.set " + c.Request.Path.String() + " " + c.String("attribute") + "=" + c.String("value"))
			return nil
		}})
	must(Action{Name: "resource.choose", Phases: []When{Pre}, Args: []Arg{{Name: "name", Type: cel.StringType, Required: true}},
		Run: func(ctx context.Context, c *Call) error {
			c.Effects.Resource = c.String("name")
			rec.add("resource.choose " + c.String("name"))
			return nil
		}})
	must(Action{Name: "fail", Run: func(ctx context.Context, c *Call) error { return errors.New("boom") }})
	return reg
}

type memScheduler struct {
	mu   sync.Mutex
	jobs []ScheduledJob
}

func (s *memScheduler) Schedule(ctx context.Context, j ScheduledJob) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs = append(s.jobs, j)
	return nil
}

type testEngine struct {
	*Engine
	cat   *memCatalog
	rec   *recorder
	sched *memScheduler
}

func newTestEngine(t testing.TB, files map[string]string) *testEngine {
	t.Helper()
	te := &testEngine{cat: newMemCatalog(), rec: &recorder{}, sched: &memScheduler{}}
	e, err := New(Options{Registry: testRegistry(t, te.rec), Catalog: te.cat, Scheduler: te.sched, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	te.Engine = e
	bs := map[string][]byte{}
	for n, s := range files {
		bs[n] = []byte(s)
	}
	set, err := e.Compile(bs)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	e.Load(set)
	return te
}

var alice = catalog.User{Name: "alice", Zone: "tempZone", Type: catalog.UserTypeUser}

func put(path string, size int64) *Request {
	return &Request{Op: "put", Path: catalog.MustPath(path), Size: size, Resource: "demoResc", User: alice, Zone: "tempZone"}
}

// issueExample is the rule file of the issue, verbatim.
const issueExample = `
rules:
  - name: no-tmp-files
    on: [put]                 # operations; wildcards like "metadata.*" and "*"
    when: pre                 # pre | post | except | finally
    condition: object.name.endsWith(".tmp")
    deny: '"temporary files are not archived: " + object.path'   # a CEL string
  - name: stamp-ingest
    on: [put]
    when: post
    condition: object.path.startsWith("/tempZone/home/")
    then:
      - metadata.set: {attribute: "'ingested_by'", value: "user.name"}   # values are CEL
      - schedule:
          after: 2s           # or  every: "@daily" / a cron spec (robfig/cron)
          do:
            - metadata.set: {attribute: "'checked'", value: "'yes'"}
`

func TestIssueExample(t *testing.T) {
	te := newTestEngine(t, map[string]string{"example.yaml": issueExample})
	ctx := context.Background()

	_, err := te.Before(ctx, put("/tempZone/home/alice/x.tmp", 3))
	var d *Denial
	if !errors.As(err, &d) || !errors.Is(err, ErrDenied) {
		t.Fatalf("put of x.tmp: got %v, want a denial", err)
	}
	if d.Rule != "no-tmp-files" || d.Message != "temporary files are not archived: /tempZone/home/alice/x.tmp" {
		t.Errorf("denial = %+v", d)
	}

	req := put("/tempZone/home/alice/x.dat", 3)
	if eff, err := te.Before(ctx, req); err != nil || eff != nil {
		t.Fatalf("put of x.dat: effects %v, err %v", eff, err)
	}
	te.After(ctx, req, nil)
	if got := strings.Join(te.rec.calls, "; "); got != "metadata.set /tempZone/home/alice/x.dat ingested_by=alice" {
		t.Errorf("post actions: %s", got)
	}
	if len(te.sched.jobs) != 1 {
		t.Fatalf("scheduled %d jobs, want 1", len(te.sched.jobs))
	}
	j := te.sched.jobs[0]
	if j.Rule != "stamp-ingest" || j.Every != "" || j.Due.Sub(req.Now) != 2*time.Second ||
		len(j.Work.Actions) != 1 || j.Work.Actions[0].Args["attribute"] != "checked" || j.Work.Path != "/tempZone/home/alice/x.dat" {
		t.Errorf("job = %+v", j)
	}
	// The job runs the stored action.
	te.rec.calls = nil
	if err := te.RunJob(ctx, 7, j.Rule, j.Work); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(te.rec.calls, "; "); got != "metadata.set /tempZone/home/alice/x.dat checked=yes" {
		t.Errorf("job actions: %s", got)
	}
	// A failed put runs no post rule.
	te.rec.calls = nil
	te.After(ctx, put("/tempZone/home/alice/y.dat", 3), errors.New("disk full"))
	if len(te.rec.calls) != 0 {
		t.Errorf("post rule ran after a failure: %v", te.rec.calls)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"wrong condition type", "rules:\n  - name: r\n    on: [put]\n    condition: object.size + 1\n    deny: \"'no'\"\n",
			`f.yaml:4:16: rule "r": condition must evaluate to bool, but "object.size + 1" is int`},
		{"wrong deny type", "rules:\n  - name: r\n    on: [put]\n    deny: object.size\n",
			`f.yaml:4:11: rule "r": deny must evaluate to string`},
		{"unknown variable", "rules:\n  - name: r\n    on: [put]\n    condition: objct.name == 'x'\n    deny: \"'no'\"\n",
			`f.yaml:4:16: rule "r": condition: undeclared reference to 'objct'`},
		{"unknown field", "rules:\n  - name: r\n    on: [put]\n    condition: object.nmae == 'x'\n    deny: \"'no'\"\n",
			`f.yaml:4:22: rule "r": condition: undefined field 'nmae'`},
		{"syntax error", "rules:\n  - name: r\n    on: [put]\n    condition: 'object.name == '\n    deny: \"'no'\"\n",
			`f.yaml:4:`},
		{"unknown key", "rules:\n  - name: r\n    on: [put]\n    condtion: true\n    deny: \"'no'\"\n",
			`f.yaml:4:5: rule "r": unknown key "condtion"`},
		{"unknown action", "rules:\n  - name: r\n    on: [put]\n    when: post\n    then:\n      - metadata.sett: {attribute: \"'a'\"}\n",
			`f.yaml:6:9: rule "r": unknown action "metadata.sett"`},
		{"bad argument type", "rules:\n  - name: r\n    on: [put]\n    when: post\n    then:\n      - metadata.set: {attribute: \"'a'\", value: object.size}\n",
			`rule "r": metadata.set.value must evaluate to string`},
		{"missing argument", "rules:\n  - name: r\n    on: [put]\n    when: post\n    then:\n      - metadata.set: {attribute: \"'a'\"}\n",
			`action metadata.set needs argument value`},
		{"pre-only action in post", "rules:\n  - name: r\n    on: [put]\n    when: post\n    then:\n      - resource.choose: {name: \"'x'\"}\n",
			`action resource.choose runs only in [pre] rules`},
		{"deny in post", "rules:\n  - name: r\n    on: [put]\n    when: post\n    deny: \"'x'\"\n",
			`deny is possible only in pre rules`},
		{"bad when", "rules:\n  - name: r\n    on: [put]\n    when: before\n    deny: \"'x'\"\n",
			`when: "before" is not pre, post, except or finally`},
		{"no on", "rules:\n  - name: r\n    deny: \"'x'\"\n", `a rule needs "on"`},
		{"no name", "rules:\n  - on: [put]\n    deny: \"'x'\"\n", `f.yaml:2:5: a rule needs a name`},
		{"does nothing", "rules:\n  - name: r\n    on: [put]\n", `the rule does nothing`},
		{"bad cron", "rules:\n  - name: r\n    on: [put]\n    when: post\n    then:\n      - schedule: {every: 'every day', do: [{metadata.set: {attribute: \"'a'\", value: \"'b'\"}}]}\n",
			`schedule.every: "every day"`},
		{"bad after", "rules:\n  - name: r\n    on: [put]\n    when: post\n    then:\n      - schedule: {after: soon, do: []}\n",
			`schedule.after: "soon" is not a duration`},
		{"not yaml", "rules: [\n", `f.yaml:1: did not find expected node content`},
		{"rules not a list", "rules: 3\n", `f.yaml:1: cannot unmarshal !!int`},
		{"two documents", "rules: []\n---\nrules: []\n", `more than one YAML document`},
		{"bad mode", "rules:\n  - name: r\n    on: [put]\n    mode: maybe\n    deny: \"'x'\"\n", `mode: "maybe" is not enforce or warn`},
		{"bad failure", "rules:\n  - name: r\n    on: [put]\n    failure: sometimes\n    deny: \"'x'\"\n", `failure: "sometimes" is not closed`},
		{"bad op pattern", "rules:\n  - name: r\n    on: ['a*b']\n    deny: \"'x'\"\n", `on: "a*b" is not an operation name`},
		{"periodic with on", "rules:\n  - name: r\n    every: '@daily'\n    on: [put]\n    then: [{metadata.set: {attribute: \"'a'\", value: \"'b'\", path: \"'/z'\"}}]\n",
			`a periodic rule (every) fires on its schedule: it takes no on, when or deny`},
		{"periodic bad spec", "rules:\n  - name: r\n    every: 'nightly'\n    then: [{metadata.set: {attribute: \"'a'\", value: \"'b'\"}}]\n",
			`every: "nightly"`},
		{"periodic without then", "rules:\n  - name: r\n    every: '@daily'\n", `a periodic rule needs then`},
		{"duplicate names", "rules:\n  - name: r\n    on: [put]\n    deny: \"'x'\"\n  - name: r\n    on: [get]\n    deny: \"'x'\"\n",
			`f.yaml:5:5: rule "r": a rule of this name is already defined at f.yaml:2`},
	}
	e, err := New(Options{Registry: testRegistry(t, &recorder{})})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Compile(map[string][]byte{"f.yaml": []byte(tc.file)})
			if err == nil {
				t.Fatalf("compiled; want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name      string
		condition string
		req       *Request
		want      bool
	}{
		{"glob star", `object.path.glob("/tempZone/home/*/x.tmp")`, put("/tempZone/home/alice/x.tmp", 1), true},
		{"glob star stays in a component", `object.path.glob("/tempZone/*/x.tmp")`, put("/tempZone/home/alice/x.tmp", 1), false},
		{"glob doublestar", `object.path.glob("/tempZone/**.tmp")`, put("/tempZone/home/alice/x.tmp", 1), true},
		{"under", `object.path.under("/tempZone/home/alice")`, put("/tempZone/home/alice/x", 1), true},
		{"under is by component", `object.path.under("/tempZone/home/ali")`, put("/tempZone/home/alice/x", 1), false},
		{"size units", `object.size > byteSize("10GiB") && object.size == 11 * GiB`, put("/tempZone/home/alice/x", 11<<30), true},
		{"decimal size", `byteSize("5MB") == 5000000`, put("/tempZone/home/alice/x", 1), true},
		{"days", `now + days(2) == timestamp("2026-01-04T03:04:05Z")`, put("/tempZone/home/alice/x", 1), true},
		{"date", `date("2030-01-01") > now`, put("/tempZone/home/alice/x", 1), true},
		{"op fields", `op.name == "put" && op.resource == "demoResc" && op.size == 5`, put("/tempZone/home/alice/x", 5), true},
		{"user fields", `user.name == "alice" && user.zone == "tempZone" && user.type == "rodsuser" && "lab" in user.groups`, put("/tempZone/home/alice/x", 1), true},
		{"object not there yet", `!object.exists && object.kind == "" && object.owner == "alice"`, put("/tempZone/home/alice/new", 1), true},
		{"existing object", `object.exists && object.kind == "data object" && object.size == 42 && object.replicas[0].resource == "demoResc" && object.replicas.size() == 1`, put("/tempZone/home/alice/old", 1), true},
		{"object metadata", `object.metadata["project"] == "abc"`, put("/tempZone/home/alice/old", 1), true},
		{"parent metadata", `object.parentMetadata["retention"] == "10y"`, put("/tempZone/home/alice/new", 1), true},
		{"missing key is an error", `object.metadata["nope"] == "x"`, put("/tempZone/home/alice/old", 1), false},
		{"optional key", `object.metadata.?nope.orValue("none") == "none" && object.metadata.?project.orValue("") == "abc"`, put("/tempZone/home/alice/old", 1), true},
		{"has key", `"project" in object.metadata && !("nope" in object.metadata)`, put("/tempZone/home/alice/old", 1), true},
		{"first of several values", `object.metadata["keyword"] == "x"`, put("/tempZone/home/alice/old", 1), true},
		{"all values", `object.metadataValues["keyword"] == ["x", "y"] && "y" in object.metadataValues["keyword"] && object.metadataValues["project"] == ["abc"]`, put("/tempZone/home/alice/old", 1), true},
		{"all values, optional", `object.metadataValues.?nope.orValue([]).size() == 0`, put("/tempZone/home/alice/old", 1), true},
		{"no values of a new object", `object.metadataValues.size() == 0`, put("/tempZone/home/alice/new", 1), true},
		{"resource", `resource.name == "demoResc" && resource.type == "posix"`, put("/tempZone/home/alice/x", 1), true},
		{"zone", `zone == "tempZone"`, put("/tempZone/home/alice/x", 1), true},
		{"op metadata", `op.metadata["stage"] == "raw"`, &Request{Op: "put", Path: catalog.MustPath("/tempZone/home/alice/x"), AVUs: []catalog.AVU{{Attribute: "stage", Value: "raw"}}, User: alice}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEngine(t, map[string]string{"f.yaml": "rules:\n  - name: r\n    on: ['*']\n    failure: open\n    condition: '" + strings.ReplaceAll(tc.condition, "'", "''") + "'\n    deny: \"'yes'\"\n"})
			te.cat.groups["alice#tempZone"] = []catalog.UserID{{Name: "lab", Zone: "tempZone"}}
			old := catalog.MustPath("/tempZone/home/alice/old")
			te.cat.entries[old.String()] = catalog.Entry{Object: &catalog.DataObject{Path: old, Owner: alice.UserID(),
				Replicas: []catalog.Replica{{Number: 1, Resource: "demoResc", Size: 42, Status: catalog.ReplicaGood}}}}
			te.cat.avus[catalog.ObjectTarget(old).String()] = []catalog.AVU{{Attribute: "keyword", Value: "x"},
				{Attribute: "keyword", Value: "y"}, {Attribute: "project", Value: "abc"}}
			te.cat.avus[catalog.CollectionTarget(catalog.MustPath("/tempZone/home/alice")).String()] = []catalog.AVU{{Attribute: "retention", Value: "10y"}}
			tc.req.Now = now
			tc.req.Zone = "tempZone"
			_, err := te.Before(context.Background(), tc.req)
			if got := err != nil; got != tc.want {
				t.Errorf("%s: denied = %v (%v), want %v", tc.condition, got, err, tc.want)
			}
		})
	}
}

func TestLazyFacts(t *testing.T) {
	te := newTestEngine(t, map[string]string{"f.yaml": `
rules:
  - name: by-name
    on: [put]
    condition: object.name.endsWith(".tmp")
    deny: "'no'"
  - name: by-metadata
    on: [get]
    condition: object.metadata["secret"] == "yes"
    failure: open
    deny: "'no'"
`})
	te.Before(context.Background(), put("/tempZone/home/alice/x.dat", 1))
	if len(te.cat.calls) != 0 {
		t.Errorf("a rule reading only the name made the engine look up %v", te.cat.calls)
	}
	get := &Request{Op: "get", Path: catalog.MustPath("/tempZone/home/alice/x.dat"), User: alice}
	te.Before(context.Background(), get)
	if te.cat.calls["metadata"] != 0 || te.cat.calls["stat"] != 1 {
		// No object there: its metadata is empty without asking for it.
		t.Errorf("lookups: %v", te.cat.calls)
	}
}

func TestOrderAndPriority(t *testing.T) {
	te := newTestEngine(t, map[string]string{
		"a.yaml": `
rules:
  - name: low
    on: [put]
    priority: -1
    then: [{resource.choose: {name: "'low'"}}]
  - name: first-in-a
    on: [put]
    then: [{resource.choose: {name: "'a1'"}}]
  - name: second-in-a
    on: ["*"]
    then: [{resource.choose: {name: "'a2'"}}]
`,
		"b.yaml": `
rules:
  - name: high
    on: [put]
    priority: 10
    then: [{resource.choose: {name: "'high'"}}]
  - name: in-b
    on: [put]
    then: [{resource.choose: {name: "'b'"}}]
`})
	eff, err := te.Before(context.Background(), put("/tempZone/home/alice/x", 1))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(te.rec.calls, ", ")
	want := "resource.choose high, resource.choose a1, resource.choose a2, resource.choose b, resource.choose low"
	if got != want {
		t.Errorf("order:\n got %s\nwant %s", got, want)
	}
	if eff.Resource != "low" {
		t.Errorf("resource = %q, want the last rule's", eff.Resource)
	}
}

func TestDenyStopsBeforeActions(t *testing.T) {
	te := newTestEngine(t, map[string]string{"f.yaml": `
rules:
  - name: choose
    on: [put]
    priority: 5
    then: [{resource.choose: {name: "'big'"}}]
  - name: no
    on: [put]
    deny: "'never'"
`})
	_, err := te.Before(context.Background(), put("/tempZone/home/alice/x", 1))
	if !errors.Is(err, ErrDenied) {
		t.Fatal(err)
	}
	if len(te.rec.calls) != 0 {
		t.Errorf("a denied operation ran pre actions: %v", te.rec.calls)
	}
}

func TestWarnMode(t *testing.T) {
	te := newTestEngine(t, map[string]string{"f.yaml": `
rules:
  - name: soon-enforced
    on: [put]
    mode: warn
    deny: "'would deny'"
`})
	if _, err := te.Before(context.Background(), put("/tempZone/home/alice/x", 1)); err != nil {
		t.Errorf("a warn-only rule denied: %v", err)
	}
}

func TestFailurePolicy(t *testing.T) {
	runaway := `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, a+b+c+d+e > 0)))))`
	tests := []struct {
		name, failure, condition string
		denied                   bool
		msg                      string
	}{
		{"error fails closed", "", `object.metadata["missing"] == "x"`, true, "fails closed"},
		{"error fails open", "open", `object.metadata["missing"] == "x"`, false, ""},
		{"cost limit fails closed", "closed", runaway, true, "cost limit"},
		{"cost limit fails open", "open", runaway, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEngine(t, map[string]string{"f.yaml": "rules:\n  - name: r\n    on: [put]\n    failure: '" + tc.failure + "'\n    condition: '" + tc.condition + "'\n    deny: \"'denied'\"\n"})
			_, err := te.Before(context.Background(), put("/tempZone/home/alice/x", 1))
			if (err != nil) != tc.denied {
				t.Fatalf("err = %v, want denied %v", err, tc.denied)
			}
			if err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want it to mention %q", err, tc.msg)
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	te := newTestEngine(t, map[string]string{"f.yaml": `
rules:
  - name: slow
    on: [put]
    condition: object.metadata.size() >= 0
    deny: "'x'"
`})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := te.Before(ctx, put("/tempZone/home/alice/x", 1)); !errors.Is(err, ErrDenied) {
		t.Errorf("an evaluation past its deadline: %v, want a fail-closed denial", err)
	}
}

func TestScheduleEvery(t *testing.T) {
	te := newTestEngine(t, map[string]string{"f.yaml": `
rules:
  - name: nightly
    on: [put]
    when: post
    then:
      - schedule: {every: "0 3 * * *", do: [{metadata.set: {attribute: "'seen'", value: "string(object.size)"}}]}
`})
	req := put("/tempZone/home/alice/x", 9)
	req.Now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.Local)
	te.After(context.Background(), req, nil)
	if len(te.sched.jobs) != 1 {
		t.Fatalf("jobs: %v", te.sched.jobs)
	}
	j := te.sched.jobs[0]
	if want := time.Date(2026, 5, 2, 3, 0, 0, 0, time.Local); !j.Due.Equal(want) || j.Every != "0 3 * * *" || j.Key != "nightly:/tempZone/home/alice/x" {
		t.Errorf("job = %+v", j)
	}
	if j.Work.Actions[0].Args["value"] != "9" {
		t.Errorf("arguments are evaluated when scheduled: %v", j.Work.Actions[0].Args)
	}
}

func TestGlob(t *testing.T) {
	globs := []struct {
		pattern, path string
		want          bool
	}{
		{"*", "abc", true}, {"*", "a/b", false}, {"**", "a/b", true}, {"a/**/z", "a/b/c/z", true},
		{"a/**/z", "a/z", false}, {"a/**z", "a/z", true}, {"?", "a", true}, {"?", "/", false}, {`\*`, "*", true}, {`\*`, "a", false},
		{"", "", true}, {"", "a", false}, {"*.tmp", "x.tmp", true}, {"*.tmp", "x.tmpl", false},
		{strings.Repeat("*a", 30), strings.Repeat("a", 200) + "b", false},
	}
	for _, g := range globs {
		if got := Glob(g.pattern, g.path); got != g.want {
			t.Errorf("Glob(%q, %q) = %v", g.pattern, g.path, got)
		}
	}
}

func TestRunTests(t *testing.T) {
	te := newTestEngine(t, map[string]string{"example.yaml": issueExample})
	cases := `
tests:
  - {name: denied, op: put, path: /tempZone/home/alice/x.tmp, expect: deny, rule: no-tmp-files, message: not archived}
  - {name: allowed, op: put, path: /tempZone/home/alice/x.dat, expect: allow}
  - {name: post, op: put, path: /tempZone/home/alice/x.dat, when: post, expect: match, actions: [metadata.set, schedule]}
  - {name: wrong outcome, op: put, path: /tempZone/home/alice/x.tmp, expect: allow}
  - {name: wrong rule, op: put, path: /tempZone/home/alice/x.tmp, expect: deny, rule: other}
  - {name: wrong message, op: put, path: /tempZone/home/alice/x.tmp, expect: deny, message: nope}
  - {name: missing action, op: put, path: /tempZone/home/alice/x.dat, when: post, expect: match, actions: [acl.set]}
  - {name: no op, expect: allow}
`
	res, err := te.RunTests(context.Background(), "t.test.yaml", []byte(cases), "tempZone")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"denied": "", "allowed": "", "post": "",
		"wrong outcome":  "expected allow, got deny (rule no-tmp-files: temporary files are not archived: /tempZone/home/alice/x.tmp)",
		"wrong rule":     "expected rule other to decide, got no-tmp-files",
		"wrong message":  `expected a message containing "nope"`,
		"missing action": "expected action acl.set to run",
		"no op":          "a case needs op and expect",
	}
	if len(res) != len(want) {
		t.Fatalf("%d results: %v", len(res), res)
	}
	for _, r := range res {
		w := want[r.Name]
		switch {
		case w == "" && r.Err != nil:
			t.Errorf("%s", r)
		case w != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), w)):
			t.Errorf("%s: want an error containing %q", r, w)
		}
	}
	if _, err := te.RunTests(context.Background(), "bad.test.yaml", []byte("tests: [\n"), "tempZone"); err == nil {
		t.Error("an unreadable test file passed")
	}
}

// TestUnknownOperation checks that with the operations registered, an "on"
// that names none of them (a typo) is a load error, so that a deny rule
// meant for it is refused rather than never firing.
func TestUnknownOperation(t *testing.T) {
	reg := testRegistry(t, &recorder{})
	reg.RegisterOperations("put", "remove", "metadata.set")
	e, err := New(Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		on, want string // want "": it loads
	}{
		{"[remove]", ""},
		{"['metadata.*']", ""},
		{"['*']", ""},
		{"[delete]", `on: "delete" names no operation (known: metadata.set, put, remove)`},
		{"[put, rm]", `on: "rm" names no operation`},
		{"['ticket.*']", `on: "ticket.*" names no operation`},
	} {
		_, err := e.Compile(map[string][]byte{"f.yaml": []byte("rules:\n  - name: r\n    on: " + tc.on + "\n    deny: \"'no'\"\n")})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("on: %s: %v", tc.on, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("on: %s: %v; want an error containing %q", tc.on, err, tc.want)
		}
	}
}

// TestLoopFree: only expressions without a loop skip ContextEval, so a
// loop stays interruptible by the phase's deadline.
func TestLoopFree(t *testing.T) {
	env, _, err := newEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		expr  string
		loops bool
	}{
		{`object.name == "x"`, false},
		{`object.path.under("/z") && op.size > 3 ? true : false`, false},
		{`"a,b".split(",").size() == 2`, false},
		{`[1, 2].exists(x, x > 1)`, true},
		{`object.ancestors.map(a, a.path).size() > 0`, true},
		{`object.ancestors.filter(a, "p" in a.metadata).size() == 0 || object.name == ""`, true},
	} {
		ast, iss := env.Compile(tc.expr)
		if iss != nil && iss.Err() != nil {
			t.Fatalf("%s: %v", tc.expr, iss.Err())
		}
		if got := hasComprehension(ast); got != tc.loops {
			t.Errorf("hasComprehension(%s) = %v, want %v", tc.expr, got, tc.loops)
		}
	}
}
