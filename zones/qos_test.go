package zones

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/policies/qos"
	"github.com/arca-data/arca/resources/drivers"
)

// qosParser is what the server gives the zone (internal/server).
func qosParser(expr string) (QoSExpr, error) {
	e, err := qos.Parse(expr)
	if err != nil {
		return nil, err
	}
	return e, nil
}

type qosEnv struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	cat  *sqlite.Catalog
	zone *Zone
	rods catalog.User
	log  *syncBuffer
}

// newQoSEnv is a zone on a real SQLite catalog with real POSIX resources:
// de1, de2 (geo=DE, disk), detape (geo=DE, tape) and fr1 (geo=FR, disk).
func newQoSEnv(t *testing.T) *qosEnv {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	e := &qosEnv{t: t, ctx: ctx, dir: dir, cat: cat, log: &syncBuffer{}}
	e.zone = e.newZone("s1")
	if err := e.zone.Bootstrap(ctx, BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	if e.rods, err = cat.User(ctx, catalog.UserID{Name: DefaultAdmin, Zone: DefaultZone}); err != nil {
		t.Fatal(err)
	}
	for name, attrs := range map[string]string{
		"de1": "geo=DE,type=disk,latency=5", "de2": "geo=DE,type=disk,latency=40",
		"detape": "geo=DE,type=tape", "fr1": "geo=FR,type=disk,latency=10",
	} {
		if _, err := e.zone.MakeResource(ctx, As(e.rods), catalog.Resource{Name: name, Type: "posix", Location: filepath.Join(dir, name)}); err != nil {
			t.Fatal(err)
		}
		e.modresc(name, "qos", attrs)
	}
	if _, err := e.zone.MakeCollection(ctx, As(e.rods), e.path("proj"), false); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *qosEnv) newZone(id string) *Zone {
	return New(e.cat, Options{ServerID: id, Drivers: drivers.Default(), QoS: qosParser,
		Logger: slog.New(slog.NewTextHandler(e.log, nil))})
}

func (e *qosEnv) path(name string) catalog.Path {
	if strings.HasPrefix(name, "/") {
		return catalog.MustPath(name)
	}
	return catalog.MustPath("/tempZone/home/rods/" + name)
}

func (e *qosEnv) modresc(name, field, value string) {
	e.t.Helper()
	if _, err := e.zone.ModifyResource(e.ctx, As(e.rods), name, field, value); err != nil {
		e.t.Fatal(err)
	}
}

func (e *qosEnv) put(name, resc, data string, overwrite bool) {
	e.t.Helper()
	if _, err := e.zone.Put(e.ctx, As(e.rods), PutRequest{Path: e.path(name), Size: int64(len(data)), Resource: resc, Overwrite: overwrite},
		bytes.NewReader([]byte(data))); err != nil {
		e.t.Fatal(err)
	}
}

// status lists the requirements that apply to name as "expr xN: status (reason)".
func (e *qosEnv) status(name string, recursive bool) []string {
	e.t.Helper()
	sts, err := e.zone.ListQoS(e.ctx, As(e.rods), e.path(name), recursive)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, s := range sts {
		line := s.Expr + " x" + itoa(s.Replicas) + ": " + s.Status
		if s.Reason != "" {
			line += " (" + s.Reason + ")"
		}
		out = append(out, line)
	}
	return out
}

func itoa(n int) string { return string(rune('0' + n)) }

// good lists the resources holding a good replica of name.
func (e *qosEnv) good(name string) []string {
	e.t.Helper()
	o, err := e.cat.DataObject(e.ctx, e.path(name))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, r := range o.Replicas {
		if r.Status == catalog.ReplicaGood {
			out = append(out, r.Resource)
		}
	}
	slices.Sort(out)
	return out
}

func (e *qosEnv) converge(name string) []QoSChange {
	e.t.Helper()
	chs, err := e.zone.ConvergeQoS(e.ctx, e.path(name))
	if err != nil {
		e.t.Fatal(err)
	}
	return chs
}

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

// TestQoSConvergeAndRepair walks a requirement through its life: pending,
// fulfilled by convergence, a new object later, a stale replica, a
// resource down, an attribute change, itrim refused, removal keeps
// replicas.
func TestQoSConvergeAndRepair(t *testing.T) {
	e := newQoSEnv(t)
	e.put("proj/a.csv", "fr1", "a,b\n1,2\n", false)
	st, err := e.zone.AddQoS(e.ctx, As(e.rods), e.path("proj"), "geo=DE&type=disk", 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Expr != "geo=DE & type=disk" || st.Status != QoSPending || !slices.Equal(st.Matching, []string{"de1", "de2"}) {
		t.Fatalf("AddQoS = %+v", st)
	}
	if _, err := e.zone.AddQoS(e.ctx, As(e.rods), e.path("proj"), "geo=DE & type=tape", 2); err != nil {
		t.Fatal(err)
	}
	wantLines(t, "after add", e.status("proj/a.csv", false),
		"geo=DE & type=disk x2: pending (1 of 1 data objects have fewer than 2 good replicas on de1, de2)",
		"geo=DE & type=tape x2: impossible (only 1 resource matches `geo=DE & type=tape`, 2 replicas wanted)")

	e.converge("proj")
	wantLines(t, "replicas after convergence", e.good("proj/a.csv"), "de1", "de2", "detape", "fr1")
	wantLines(t, "status after convergence", e.status("proj", false),
		"geo=DE & type=disk x2: fulfilled",
		"geo=DE & type=tape x2: impossible (only 1 resource matches `geo=DE & type=tape`, 2 replicas wanted)")

	// Later objects are covered too.
	if _, err := e.zone.MakeCollection(e.ctx, As(e.rods), e.path("proj/sub"), false); err != nil {
		t.Fatal(err)
	}
	e.put("proj/sub/b.csv", "fr1", "b", false)
	wantLines(t, "a new object", e.status("proj/sub/b.csv", false)[:1],
		"geo=DE & type=disk x2: pending (1 of 1 data objects have fewer than 2 good replicas on de1, de2)")
	e.converge("proj/sub/b.csv")
	wantLines(t, "the new object converged", e.good("proj/sub/b.csv"), "de1", "de2", "detape", "fr1")

	// An overwrite leaves the copies stale: repaired.
	e.put("proj/a.csv", "fr1", "a,b\n3,4\n", true)
	wantLines(t, "after an overwrite", e.good("proj/a.csv"), "fr1")
	e.converge("proj")
	wantLines(t, "stale copies refreshed", e.good("proj/a.csv"), "de1", "de2", "detape", "fr1")

	// A resource goes down: impossible until another matches, then repaired there.
	e.modresc("de2", "status", "down")
	wantLines(t, "de2 down", e.status("proj", false)[:1],
		"geo=DE & type=disk x2: impossible (only 1 resource matches `geo=DE & type=disk`, 2 replicas wanted (1 more down))")
	if _, err := e.zone.MakeResource(e.ctx, As(e.rods), catalog.Resource{Name: "de3", Type: "posix", Location: filepath.Join(e.dir, "de3")}); err != nil {
		t.Fatal(err)
	}
	e.modresc("de3", "qos", "geo=DE,type=disk")
	wantLines(t, "de3 added", e.status("proj", false)[:1],
		"geo=DE & type=disk x2: pending (2 of 2 data objects have fewer than 2 good replicas on de1, de3)")
	e.converge("/tempZone")
	wantLines(t, "repaired on de3", e.good("proj/a.csv"), "de1", "de2", "de3", "detape", "fr1")
	wantLines(t, "fulfilled again", e.status("proj", false)[:1], "geo=DE & type=disk x2: fulfilled")

	// itrim refuses to break it, and trims what it does not need.
	var changes []ReplicaChange
	err = e.zone.Trim(e.ctx, As(e.rods), TrimRequest{Path: e.path("proj/a.csv"), Keep: 1, Resource: "de1"}, func(ch ReplicaChange) error {
		changes = append(changes, ch)
		return nil
	})
	if err != nil || len(changes) != 1 || !errors.Is(changes[0].Err, ErrQoSRequired) || KindOf(changes[0].Err) != KindRetained {
		t.Fatalf("itrim of a needed replica: %v %+v", err, changes)
	}
	if !strings.Contains(changes[0].Err.Error(), "asks for 2 good replicas on `geo=DE & type=disk`") {
		t.Errorf("refusal says %q", changes[0].Err)
	}
	err = e.zone.Trim(e.ctx, As(e.rods), TrimRequest{Path: e.path("proj/a.csv"), Keep: 1, Resource: "fr1"}, func(ch ReplicaChange) error { return ch.Err })
	if err != nil {
		t.Fatalf("itrim of a replica no requirement needs: %v", err)
	}
	wantLines(t, "after itrim", e.good("proj/a.csv"), "de1", "de2", "de3", "detape")

	// iphymv off a needed replica to a resource the requirement does not
	// match: the copy is made, the source stays.
	var moved []ReplicaChange
	err = e.zone.PhysMove(e.ctx, As(e.rods), PhysMoveRequest{Path: e.path("proj/a.csv"), Source: "de1", Dest: "fr1"}, func(ch ReplicaChange) error {
		moved = append(moved, ch)
		return nil
	})
	if err != nil || len(moved) != 1 || !errors.Is(moved[0].Err, ErrQoSRequired) {
		t.Fatalf("iphymv of a needed replica: %v %+v", err, moved)
	}
	wantLines(t, "after the refused iphymv", e.good("proj/a.csv"), "de1", "de2", "de3", "detape", "fr1")
	if err := e.zone.Trim(e.ctx, As(e.rods), TrimRequest{Path: e.path("proj/a.csv"), Keep: 1, Resource: "fr1"}, func(ch ReplicaChange) error { return ch.Err }); err != nil {
		t.Fatal(err)
	}

	// An attribute change: de1 is no longer in Germany.
	e.modresc("de2", "status", "up")
	e.modresc("de1", "qos", "geo=FR,type=disk")
	e.converge("proj")
	wantLines(t, "after de1 moved", e.status("proj", false)[:1], "geo=DE & type=disk x2: fulfilled")

	// Removing a requirement removes no replica.
	if _, err := e.zone.RemoveQoS(e.ctx, As(e.rods), e.path("proj"), 0, "type=disk&geo=DE"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("rm by a different expression: %v", err)
	}
	if _, err := e.zone.RemoveQoS(e.ctx, As(e.rods), e.path("proj"), 0, "geo=DE & type=disk"); err != nil {
		t.Fatal(err)
	}
	wantLines(t, "after rm", e.good("proj/a.csv"), "de1", "de2", "de3", "detape")
	wantLines(t, "after rm", e.status("proj", true),
		"geo=DE & type=tape x2: impossible (only 1 resource matches `geo=DE & type=tape`, 2 replicas wanted)")
}

func TestQoSBadInput(t *testing.T) {
	e := newQoSEnv(t)
	cases := []struct {
		name, path, expr string
		replicas         int
		kind             ErrorKind
		msg              string
	}{
		{"zero replicas", "proj", "geo=DE", 0, KindInvalid, "replicas 0: want 1 to 16"},
		{"too many", "proj", "geo=DE", 17, KindInvalid, "want 1 to 16"},
		{"unparsable", "proj", "geo=DE &", 1, KindInvalid, "at position 9"},
		{"numeric on text", "proj", "latency < fast", 1, KindInvalid, `"fast" is not a number`},
		{"missing path", "nope", "geo=DE", 1, KindNotFound, "not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.zone.AddQoS(e.ctx, As(e.rods), e.path(tc.path), tc.expr, tc.replicas)
			if KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("AddQoS = %v (%s), want %s containing %q", err, KindOf(err), tc.kind, tc.msg)
			}
		})
	}
	if got := e.status("proj", true); len(got) != 0 {
		t.Errorf("refused requirements left %q", got)
	}
}

// TestQoSJobsExactlyOnce: two servers on one catalog run the zone's job
// queue; a requirement added is converged by exactly one of them, through
// the job runner's leases.
func TestQoSJobsExactlyOnce(t *testing.T) {
	e := newQoSEnv(t)
	for _, n := range []string{"a", "b", "c", "d"} {
		e.put("proj/"+n, "fr1", n, false)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	for _, z := range []*Zone{e.zone, e.newZone("s2")} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			z.RunJobs(ctx, JobOptions{Poll: 20 * time.Millisecond, Lease: 5 * time.Second})
		}()
	}
	stop := sync.OnceFunc(func() { cancel(); wg.Wait() })
	defer stop()
	if _, err := e.zone.AddQoS(e.ctx, As(e.rods), e.path("proj"), "geo=DE & type=disk", 2); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := e.status("proj", false)
		if len(st) == 1 && strings.HasSuffix(st[0], ": fulfilled") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not converged by the job runner: %q\n%s", st, e.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, n := range []string{"a", "b", "c", "d"} {
		o, err := e.cat.DataObject(e.ctx, e.path("proj/"+n))
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Replicas) != 3 {
			t.Errorf("%s has %d replicas, want 3 (fr1, de1, de2): %+v", n, len(o.Replicas), o.Replicas)
		}
	}
	stop() // the last log lines are written
	// Jobs overlap (the one the requirement scheduled, the periodic scan,
	// those resource changes scheduled), each run by one server; what one
	// makes the other sees or defers to, and none fails.
	if made := strings.Count(e.log.String(), "qos replica made"); made < 8 {
		t.Errorf("%d replicas made, want 8 (4 objects x 2):\n%s", made, e.log.String())
	}
	for _, line := range strings.Split(e.log.String(), "\n") {
		if strings.Contains(line, "job failed") && !strings.Contains(line, "context canceled") { // stop cancels what runs
			t.Errorf("a qos job failed:\n%s", e.log.String())
		}
	}
}
