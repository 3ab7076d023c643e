package zones_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// ruleZone is a real zone on SQLite with a rule engine, alice and bob.
type ruleZone struct {
	*zones.Zone
	cat              *sqlite.Catalog
	engine           *rules.Engine
	rods, alice, bob catalog.User
	audit            *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newRuleZone makes the zone; its rules are loaded with load, once the
// test has set up what it needs. actions are registered for rules.
func newRuleZone(t *testing.T, actions ...rules.Action) *ruleZone {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	quiet := slog.New(slog.DiscardHandler)
	z := zones.New(cat, zones.Options{Drivers: drivers.Default(), Logger: quiet})
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	reg := rules.NewRegistry()
	reg.RegisterOperations(zones.OperationNames()...)
	for _, a := range actions {
		if err := reg.Register(a); err != nil {
			t.Fatal(err)
		}
	}
	audit := &lockedBuffer{}
	e, err := rules.New(rules.Options{Registry: reg, Catalog: cat, Logger: quiet, Audit: slog.New(slog.NewJSONHandler(audit, nil))})
	if err != nil {
		t.Fatal(err)
	}
	z.UseRules(e)
	rz := &ruleZone{Zone: z, cat: cat, engine: e, audit: audit}
	if rz.rods, err = cat.User(ctx, catalog.UserID{Name: "rods", Zone: "tempZone"}); err != nil {
		t.Fatal(err)
	}
	if rz.alice, err = z.MakeUser(ctx, zones.As(rz.rods), "alice", catalog.UserTypeUser, ""); err != nil {
		t.Fatal(err)
	}
	if rz.bob, err = z.MakeUser(ctx, zones.As(rz.rods), "bob", catalog.UserTypeUser, ""); err != nil {
		t.Fatal(err)
	}
	return rz
}

func (z *ruleZone) load(t *testing.T, yaml string) {
	t.Helper()
	set, err := z.engine.Compile(map[string][]byte{"r.yaml": []byte(yaml)})
	if err != nil {
		t.Fatal(err)
	}
	z.engine.Load(set)
}

func (z *ruleZone) put(t *testing.T, who catalog.User, path string, avus ...catalog.AVU) {
	t.Helper()
	data := []byte("contents of " + path)
	if _, err := z.Put(context.Background(), zones.As(who), zones.PutRequest{Path: catalog.MustPath(path), Size: int64(len(data)), Metadata: avus}, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

func (z *ruleZone) mkdir(t *testing.T, who catalog.User, path string) {
	t.Helper()
	if _, err := z.MakeCollection(context.Background(), zones.As(who), catalog.MustPath(path), true); err != nil {
		t.Fatal(err)
	}
}

// factsRule denies every operation with a message that shows the facts it
// carries.
const factsRule = `
rules:
  - name: show
    on: ["*"]
    deny: >-
      "op=" + op.name + " path=" + op.path + " dest=" + op.dest + " level=" + op.level +
      " grantee=" + op.grantee + " group=" + op.group + " account=" + op.account +
      " recursive=" + string(op.recursive) + " size=" + string(op.size) + " resource=" + op.resource +
      " metadata=" + op.metadata.map(k, k + ":" + op.metadata[k]).join(",") +
      " new=" + op.newMetadata.map(k, k + ":" + op.newMetadata[k]).join(",") +
      " ancestors=" + object.ancestors.map(a, a.name + "{" + a.metadata.map(k, k + ":" + a.metadata[k]).join(",") + "}").join("/") +
      " components=" + object.components.join("|") +
      " dest.parent=" + dest.parentMetadata.map(k, k + ":" + dest.parentMetadata[k]).join(",")
`

// TestOperationsFillFacts: each operation, run on a real zone, gives rules
// its arguments.
func TestOperationsFillFacts(t *testing.T) {
	z := newRuleZone(t)
	ctx := context.Background()
	alice, rods := zones.As(z.alice), zones.As(z.rods)
	home := "/tempZone/home/alice"
	z.mkdir(t, z.alice, home+"/proj/raw")
	z.put(t, z.alice, home+"/proj/raw/a.dat")
	z.mkdir(t, z.alice, home+"/dest")
	for _, m := range []struct {
		path string
		avu  catalog.AVU
	}{{home + "/proj", catalog.AVU{Attribute: "project", Value: "p1"}}, {home + "/proj/raw", catalog.AVU{Attribute: "stage", Value: "raw"}},
		{home + "/dest", catalog.AVU{Attribute: "archive", Value: "yes"}}} {
		if err := z.AddMetadata(ctx, alice, catalog.CollectionTarget(catalog.MustPath(m.path)), []catalog.AVU{m.avu}); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.AddMetadata(ctx, alice, catalog.ObjectTarget(catalog.MustPath(home+"/proj/raw/a.dat")), []catalog.AVU{{Attribute: "keep", Value: "2030-01-01"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := z.MakeGroup(ctx, rods, "lab"); err != nil {
		t.Fatal(err)
	}
	z.load(t, factsRule)

	obj := catalog.MustPath(home + "/proj/raw/a.dat")
	proj := catalog.MustPath(home + "/proj")
	tests := []struct {
		name string
		run  func() error
		want []string
	}{
		{"acl.set", func() error { return z.SetAccess(ctx, alice, proj, "bob", catalog.AccessWrite, true, false) },
			[]string{"op=acl.set ", "level=write ", "grantee=bob ", "group=bob ", "recursive=true "}},
		{"acl.set null", func() error { return z.SetAccess(ctx, alice, obj, "lab", catalog.AccessNull, false, false) },
			[]string{"level=null ", "grantee=lab ", "recursive=false "}},
		{"acl.set to another zone", func() error { return z.SetAccess(ctx, alice, obj, "carol#otherZone", catalog.AccessRead, false, false) },
			[]string{"grantee=carol#otherZone ", "level=read "}},
		{"acl.inherit -r", func() error { return z.SetInheritance(ctx, alice, proj, true, true, false) },
			[]string{"op=acl.inherit ", "recursive=true ", "level= "}},
		{"metadata.modify", func() error {
			return z.ModifyMetadata(ctx, alice, catalog.ObjectTarget(obj), catalog.AVU{Attribute: "keep", Value: "2030-01-01"}, catalog.AVU{Attribute: "keep", Value: "2020-01-01"})
		}, []string{"op=metadata.modify ", "metadata=keep:2030-01-01 ", "new=keep:2020-01-01 "}},
		{"metadata.set", func() error {
			return z.SetMetadata(ctx, alice, catalog.ObjectTarget(obj), catalog.AVU{Attribute: "keep", Value: "2040-01-01"})
		}, []string{"metadata=keep:2040-01-01 ", "new=keep:2040-01-01 "}},
		{"metadata.remove", func() error {
			_, err := z.RemoveMetadata(ctx, alice, catalog.ObjectTarget(obj), catalog.AVU{Attribute: "keep", Value: "2030-01-01"}, false)
			return err
		}, []string{"metadata=keep:2030-01-01 ", "new= "}},
		{"metadata of a user", func() error {
			return z.AddMetadata(ctx, rods, catalog.UserTarget(z.alice.UserID()), []catalog.AVU{{Attribute: "dept", Value: "physics"}})
		}, []string{"op=metadata.add ", "account=alice ", "path= ", "new=dept:physics "}},
		{"metadata of a resource", func() error {
			return z.AddMetadata(ctx, rods, catalog.ResourceTarget("demoResc"), []catalog.AVU{{Attribute: "tier", Value: "fast"}})
		}, []string{"op=metadata.add ", "resource=demoResc ", "account= ", "path= "}},
		{"user.create", func() error { _, err := z.MakeUser(ctx, rods, "dave", catalog.UserTypeUser, ""); return err },
			[]string{"op=user.create ", "account=dave ", "path= "}},
		{"user.modify", func() error { _, err := z.ModifyUser(ctx, rods, "bob", "info", "x"); return err }, []string{"account=bob "}},
		{"user.remove", func() error { return z.RemoveUser(ctx, rods, "bob") }, []string{"account=bob "}},
		{"user.info", func() error { _, err := z.DescribeUser(ctx, alice, "bob"); return err }, []string{"op=user.info ", "account=bob "}},
		{"user.info of oneself", func() error { _, err := z.DescribeUser(ctx, alice, ""); return err }, []string{"account=alice "}},
		{"user.password", func() error { return z.ChangePassword(ctx, alice, func(context.Context) error { return nil }, "x") },
			[]string{"account=alice "}},
		{"group.add", func() error { return z.AddToGroup(ctx, rods, "lab", "bob") }, []string{"op=group.add ", "group=lab ", "account=bob "}},
		{"ticket.create", func() error { _, _, err := z.CreateTicket(ctx, alice, obj, catalog.TicketWrite, ""); return err },
			[]string{"op=ticket.create ", "level=write "}},
		{"remove -r", func() error { _, err := z.Remove(ctx, alice, proj, true, false); return err }, []string{"op=remove ", "recursive=true "}},
		{"remove", func() error { _, err := z.Remove(ctx, alice, obj, false, false); return err }, []string{"recursive=false "}},
		{"rename", func() error { return z.Rename(ctx, alice, obj, catalog.MustPath(home+"/dest/b.dat")) },
			[]string{"op=rename ", "dest=" + home + "/dest/b.dat ", "dest.parent=archive:yes"}},
		{"copy", func() error {
			_, err := z.Copy(ctx, alice, obj, catalog.MustPath(home+"/dest/c.dat"), "", false)
			return err
		},
			[]string{"op=copy ", "dest=" + home + "/dest/c.dat ", "dest.parent=archive:yes"}},
		{"ancestors of a put", func() error {
			_, err := z.Put(ctx, alice, zones.PutRequest{Path: catalog.MustPath(home + "/proj/raw/new.dat"), Size: 3}, strings.NewReader("abc"))
			return err
		}, []string{"size=3 ", "ancestors=raw{stage:raw}/proj{project:p1}/alice{}/home{}/tempZone{}/{} ", "components=tempZone|home|alice|proj|raw|new.dat "}},
		{"replicate -r", func() error {
			return z.Replicate(ctx, alice, zones.ReplicateRequest{Path: proj, Dest: "demoResc", Recursive: true}, func(zones.ReplicaChange) error { return nil })
		}, []string{"op=replicate ", "recursive=true "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			var d *rules.Denial
			if !errors.As(err, &d) {
				t.Fatalf("got %v, want the rule's denial", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(d.Message+" ", w) {
					t.Errorf("facts %q lack %q", d.Message, w)
				}
			}
		})
	}
}

// TestJobsActOnTheDestination: a job a rename or copy post rule schedules
// knows the destination, where the object is when the job runs.
func TestJobsActOnTheDestination(t *testing.T) {
	type call struct{ op, path, dest string }
	calls := make(chan call, 10)
	record := rules.Action{Name: "record", Run: func(ctx context.Context, c *rules.Call) error {
		calls <- call{c.Request.Op, c.Request.Path.String(), c.Request.Dest.String()}
		return nil
	}}
	z := newRuleZone(t, record)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	alice := zones.As(z.alice)
	home := "/tempZone/home/alice"
	z.put(t, z.alice, home+"/a.dat")
	z.load(t, `
rules:
  - name: later
    on: [rename, copy]
    when: post
    then:
      - schedule: {async: true, do: [{record: {}}]}
`)
	if err := z.Rename(ctx, alice, catalog.MustPath(home+"/a.dat"), catalog.MustPath(home+"/b.dat")); err != nil {
		t.Fatal(err)
	}
	if _, err := z.Copy(ctx, alice, catalog.MustPath(home+"/b.dat"), catalog.MustPath(home+"/c.dat"), "", false); err != nil {
		t.Fatal(err)
	}
	go z.RunJobs(ctx, zones.JobOptions{Poll: 10 * time.Millisecond})
	got := map[string]call{}
	for len(got) < 2 {
		select {
		case c := <-calls:
			got[c.op] = c
		case <-time.After(20 * time.Second):
			t.Fatalf("jobs ran: %v", got)
		}
	}
	if c := got["rename"]; c.path != home+"/a.dat" || c.dest != home+"/b.dat" {
		t.Errorf("the rename's job: %+v", c)
	}
	if c := got["copy"]; c.path != home+"/b.dat" || c.dest != home+"/c.dat" {
		t.Errorf("the copy's job: %+v", c)
	}
}

// TestPutNegativeSizeBeforeRules: a size below -1 is a bad request before
// any rule reads op.size, so a limit on sizes is not passed by announcing
// -7; -1 (unknown) reaches the rules, which decide about it.
func TestPutNegativeSizeBeforeRules(t *testing.T) {
	z := newRuleZone(t)
	z.load(t, `
rules:
  - name: small
    on: [put]
    condition: op.size > 10 || op.size == -1
    deny: "'too big, or unknown: ' + string(op.size)"
`)
	ctx := context.Background()
	for _, size := range []int64{-7, -2} {
		_, err := z.Put(ctx, zones.As(z.alice), zones.PutRequest{Path: catalog.MustPath("/tempZone/home/alice/x"), Size: size}, strings.NewReader("twenty bytes of data"))
		if !errors.Is(err, catalog.ErrInvalidArgument) || errors.Is(err, rules.ErrDenied) {
			t.Errorf("size %d: %v, want a bad request", size, err)
		}
	}
	_, err := z.Put(ctx, zones.As(z.alice), zones.PutRequest{Path: catalog.MustPath("/tempZone/home/alice/x"), Size: -1}, strings.NewReader("twenty bytes of data"))
	if !errors.Is(err, rules.ErrDenied) || !strings.Contains(err.Error(), "unknown: -1") {
		t.Errorf("size -1: %v, want the rule's denial", err)
	}
	if _, err := z.cat.Stat(ctx, catalog.MustPath("/tempZone/home/alice/x")); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("a refused put left its object: %v", err)
	}
}
