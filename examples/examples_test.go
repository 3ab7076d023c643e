package examples

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/policies"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// zone is a real zone running the rules of some example files.
type zone struct {
	*zones.Zone
	cat   *sqlite.Catalog
	rods  catalog.User
	alice catalog.User
	dir   string
	audit *auditLog
}

// auditLog is the zone's audit log, written by jobs while a test reads it.
type auditLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *auditLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *auditLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newZone(t *testing.T, files map[string][]byte) *zone {
	t.Helper()
	return newZoneWith(t, files, policies.Options{})
}

// newZoneWith is newZone with the shipped actions' options (their audit
// log is the zone's).
func newZoneWith(t *testing.T, files map[string][]byte, o policies.Options) *zone {
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
	// Registered as iadmin mkresc does, which makes the vault directory.
	if err := os.MkdirAll(filepath.Join(dir, "archive"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateResource(ctx, catalog.Resource{Name: "archiveResc", Type: "posix", Location: filepath.Join(dir, "archive"), Status: "up"}); err != nil {
		t.Fatal(err)
	}
	audit := &auditLog{}
	reg := rules.NewRegistry()
	o.Audit = slog.New(slog.NewJSONHandler(audit, nil))
	if err := policies.RegisterWith(reg, z, o); err != nil {
		t.Fatal(err)
	}
	e, err := rules.New(rules.Options{Registry: reg, Catalog: cat, Logger: quiet, Audit: slog.New(slog.NewJSONHandler(audit, nil))})
	if err != nil {
		t.Fatal(err)
	}
	set, err := e.Compile(files)
	if err != nil {
		t.Fatalf("examples do not load:\n%v", err)
	}
	e.Load(set)
	z.UseRules(e)
	rods, err := cat.User(ctx, catalog.UserID{Name: "rods", Zone: "tempZone"})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := z.MakeUser(ctx, zones.As(rods), "alice", catalog.UserTypeUser, "")
	if err != nil {
		t.Fatal(err)
	}
	return &zone{Zone: z, cat: cat, rods: rods, alice: alice, dir: dir, audit: audit}
}

func example(t *testing.T, names ...string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("rules", n))
		if err != nil {
			t.Fatal(err)
		}
		files[n] = b
	}
	return files
}

func (z *zone) put(t *testing.T, who catalog.User, path string, avus ...catalog.AVU) error {
	t.Helper()
	data := []byte("contents of " + path)
	_, err := z.Put(context.Background(), zones.As(who), zones.PutRequest{Path: catalog.MustPath(path), Size: int64(len(data)), Metadata: avus}, bytes.NewReader(data))
	return err
}

func (z *zone) avus(t *testing.T, path string) map[string]string {
	t.Helper()
	p := catalog.MustPath(path)
	target := catalog.ObjectTarget(p)
	if e, err := z.cat.Stat(context.Background(), p); err == nil && e.Collection != nil {
		target = catalog.CollectionTarget(p)
	}
	list, err := z.cat.ListMetadata(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, a := range list {
		m[a.Attribute] = a.Value
	}
	return m
}

func deniedBy(t *testing.T, err error, rule string) {
	t.Helper()
	var d *rules.Denial
	if !errors.As(err, &d) || d.Rule != rule {
		t.Fatalf("got %v, want a denial by %s", err, rule)
	}
}

func (z *zone) gone(t *testing.T, path string) {
	t.Helper()
	if _, err := z.cat.Stat(context.Background(), catalog.MustPath(path)); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("%s: %v, want not found", path, err)
	}
	// Nor any file in a vault.
	filepath.Walk(z.dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasPrefix(filepath.Base(p), filepath.Base(path)) {
			t.Errorf("a denied put left %s", p)
		}
		return nil
	})
}

// Every example loads together with the others: names do not clash.
func TestAllExamplesLoad(t *testing.T) {
	ents, err := os.ReadDir("rules")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if rules.IsRuleFile(e.Name()) {
			names = append(names, e.Name())
		}
	}
	if len(names) < 6 {
		t.Fatalf("only %d examples", len(names))
	}
	newZone(t, example(t, names...))
}

func TestNoTmpFiles(t *testing.T) {
	z := newZone(t, example(t, "no-tmp-files.yaml"))
	ctx := context.Background()
	for _, name := range []string{"a.tmp", "b.swp", "c.part", "d~"} {
		err := z.put(t, z.alice, "/tempZone/home/alice/"+name)
		deniedBy(t, err, "no-tmp-files")
		if !strings.Contains(err.Error(), "temporary files are not archived: /tempZone/home/alice/"+name) {
			t.Errorf("message: %v", err)
		}
		z.gone(t, "/tempZone/home/alice/"+name)
	}
	if err := z.put(t, z.alice, "/tempZone/home/alice/results.tmp.csv"); err != nil {
		t.Fatal(err)
	}
	// No way around it by renaming or copying.
	err := z.Rename(ctx, zones.As(z.alice), catalog.MustPath("/tempZone/home/alice/results.tmp.csv"), catalog.MustPath("/tempZone/home/alice/x.tmp"))
	deniedBy(t, err, "no-tmp-files")
	_, err = z.Copy(ctx, zones.As(z.alice), catalog.MustPath("/tempZone/home/alice/results.tmp.csv"), catalog.MustPath("/tempZone/home/alice/y.tmp"), "", false)
	deniedBy(t, err, "no-tmp-files")
	z.gone(t, "/tempZone/home/alice/y.tmp")
}

func TestStampIngest(t *testing.T) {
	z := newZone(t, example(t, "stamp-ingest.yaml"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := z.put(t, z.alice, "/tempZone/home/alice/data.csv"); err != nil {
		t.Fatal(err)
	}
	m := z.avus(t, "/tempZone/home/alice/data.csv")
	if m["ingested_by"] != "alice#tempZone" {
		t.Errorf("AVUs = %v", m)
	}
	if at, err := time.Parse(time.RFC3339Nano, m["ingested_at"]); err != nil || time.Since(at) > time.Minute {
		t.Errorf("ingested_at = %q (%v)", m["ingested_at"], err)
	}
	jobs, err := z.ListJobs(ctx, zones.As(z.alice))
	if err != nil || len(jobs) != 1 || jobs[0].Rule != "stamp-ingest" {
		t.Fatalf("jobs = %+v, %v", jobs, err)
	}
	go z.RunJobs(ctx, zones.JobOptions{Poll: 100 * time.Millisecond})
	deadline := time.Now().Add(20 * time.Second)
	// The job's actions: the AVU, then the audit record.
	for z.avus(t, "/tempZone/home/alice/data.csv")["fixity_checked"] != "pending" ||
		!strings.Contains(z.audit.String(), "fixity check queued for /tempZone/home/alice/data.csv") {
		if time.Now().After(deadline) {
			t.Fatalf("the scheduled job did not run: AVUs %v\naudit log:\n%s", z.avus(t, "/tempZone/home/alice/data.csv"), z.audit.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRetention(t *testing.T) {
	z := newZone(t, example(t, "retention.yaml"))
	ctx := context.Background()
	home := "/tempZone/home/alice/"
	for _, n := range []string{"kept.csv", "expired.csv", "free.csv", "records/inherited.csv"} {
		if strings.Contains(n, "/") {
			if _, err := z.MakeCollection(ctx, zones.As(z.alice), catalog.MustPath(home+"records"), false); err != nil {
				t.Fatal(err)
			}
		}
		if err := z.put(t, z.alice, home+n); err != nil {
			t.Fatal(err)
		}
	}
	set := func(path string, kind catalog.AVUTargetKind, value string) {
		target := catalog.AVUTarget{Kind: kind, Path: catalog.MustPath(path)}
		if err := z.SetMetadata(ctx, zones.As(z.alice), target, catalog.AVU{Attribute: "retention_until", Value: value}); err != nil {
			t.Fatal(err)
		}
	}
	set(home+"kept.csv", catalog.TargetDataObject, time.Now().AddDate(5, 0, 0).Format("2006-01-02"))
	set(home+"expired.csv", catalog.TargetDataObject, "2001-01-01")
	set(home+"records", catalog.TargetCollection, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))

	_, err := z.Remove(ctx, zones.As(z.alice), catalog.MustPath(home+"kept.csv"), false, true)
	deniedBy(t, err, "retention-lock")
	if !strings.Contains(err.Error(), "is under retention until") {
		t.Errorf("message: %v", err)
	}
	err = z.Rename(ctx, zones.As(z.alice), catalog.MustPath(home+"kept.csv"), catalog.MustPath(home+"elsewhere.csv"))
	deniedBy(t, err, "retention-lock")
	_, err = z.Remove(ctx, zones.As(z.alice), catalog.MustPath(home+"records/inherited.csv"), false, true)
	deniedBy(t, err, "retention-lock")
	if _, err := z.Remove(ctx, zones.As(z.alice), catalog.MustPath(home+"expired.csv"), false, true); err != nil {
		t.Errorf("remove after retention: %v", err)
	}
	if _, err := z.Remove(ctx, zones.As(z.alice), catalog.MustPath(home+"free.csv"), false, true); err != nil {
		t.Errorf("remove without retention: %v", err)
	}
	if _, err := z.cat.Stat(ctx, catalog.MustPath(home+"kept.csv")); err != nil {
		t.Errorf("the retained object: %v", err)
	}

	// The attacks on a rule-based lock: an earlier date added beside the
	// real one, an earlier date set over it, the date modified or removed
	// (exactly or by a wildcard), the object overwritten by put or copy.
	kept := home + "kept.csv"
	keptTarget := catalog.AVUTarget{Kind: catalog.TargetDataObject, Path: catalog.MustPath(kept)}
	if err := z.AddMetadata(ctx, zones.As(z.alice), keptTarget, []catalog.AVU{{Attribute: "retention_until", Value: "2000-01-01"}}); err != nil {
		t.Fatal(err)
	}
	_, err = z.Remove(ctx, zones.As(z.alice), catalog.MustPath(kept), false, true)
	deniedBy(t, err, "retention-lock")
	err = z.SetMetadata(ctx, zones.As(z.alice), keptTarget, catalog.AVU{Attribute: "retention_until", Value: "2000-01-01"})
	deniedBy(t, err, "retention-date-only-later")
	err = z.ModifyMetadata(ctx, zones.As(z.alice), keptTarget, catalog.AVU{Attribute: "retention_until", Value: "2000-01-01"}, catalog.AVU{Attribute: "retention_until", Value: "2001-01-01"})
	deniedBy(t, err, "retention-date-only-later")
	for _, pattern := range []catalog.AVU{{Attribute: "retention_until", Value: "%", Unit: "%"}, {Attribute: "%", Value: "%", Unit: "%"}, {Attribute: "retention_unti_", Value: "%", Unit: "%"}} {
		_, err = z.RemoveMetadata(ctx, zones.As(z.alice), keptTarget, pattern, true)
		deniedBy(t, err, "retention-date-only-later")
	}
	err = z.put(t, z.alice, kept)
	deniedBy(t, err, "retention-no-overwrite")
	if err := z.put(t, z.alice, home+"other.csv"); err != nil {
		t.Fatal(err)
	}
	_, err = z.Copy(ctx, zones.As(z.alice), catalog.MustPath(home+"other.csv"), catalog.MustPath(kept), "", true)
	deniedBy(t, err, "retention-no-overwrite")
	// Moving the date later is allowed, and still holds.
	if err := z.SetMetadata(ctx, zones.As(z.alice), keptTarget, catalog.AVU{Attribute: "retention_until", Value: time.Now().AddDate(10, 0, 0).Format("2006-01-02")}); err != nil {
		t.Errorf("extending the retention: %v", err)
	}
	_, err = z.Remove(ctx, zones.As(z.alice), catalog.MustPath(kept), false, true)
	deniedBy(t, err, "retention-lock")

	// Nor is a retained object removed or moved with its collection, to the
	// trash or for good: the rule is asked for every object inside, and
	// nothing changes.
	proj := home + "proj"
	if _, err := z.MakeCollection(ctx, zones.As(z.alice), catalog.MustPath(proj+"/sub"), true); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"/a.csv", "/sub/locked.csv"} {
		if err := z.put(t, z.alice, proj+n); err != nil {
			t.Fatal(err)
		}
	}
	set(proj+"/sub/locked.csv", catalog.TargetDataObject, time.Now().AddDate(1, 0, 0).Format("2006-01-02"))
	for _, force := range []bool{false, true} {
		_, err = z.Remove(ctx, zones.As(z.alice), catalog.MustPath(proj), true, force)
		deniedBy(t, err, "retention-lock")
	}
	err = z.Rename(ctx, zones.As(z.alice), catalog.MustPath(proj), catalog.MustPath(home+"moved"))
	deniedBy(t, err, "retention-lock")
	for _, n := range []string{"/a.csv", "/sub/locked.csv"} {
		if _, err := z.cat.Stat(ctx, catalog.MustPath(proj+n)); err != nil {
			t.Errorf("after the refusals, %s: %v", proj+n, err)
		}
	}
	// A rodsadmin may release it; then nothing inside is retained, and the
	// collection goes.
	lockedTarget := catalog.AVUTarget{Kind: catalog.TargetDataObject, Path: catalog.MustPath(proj + "/sub/locked.csv")}
	err = z.SetMetadata(ctx, zones.As(z.alice), lockedTarget, catalog.AVU{Attribute: "retention_until", Value: "2001-01-01"})
	deniedBy(t, err, "retention-date-only-later")
	if err := z.SetMetadata(ctx, zones.As(z.rods), lockedTarget, catalog.AVU{Attribute: "retention_until", Value: "2001-01-01"}); err != nil {
		t.Fatal(err)
	}
	if _, err := z.Remove(ctx, zones.As(z.alice), catalog.MustPath(proj), true, true); err != nil {
		t.Errorf("remove of the collection after retention: %v", err)
	}
}

func TestResourceBySize(t *testing.T) {
	files := example(t, "resource-by-size.yaml")
	z := newZone(t, files)
	ctx := context.Background()
	// A put announcing 2 GiB is sent to the archive (asked without
	// sending 2 GiB: the decision is made before any byte).
	eff, err := z.Rules().Before(ctx, &rules.Request{Op: "put", Path: catalog.MustPath("/tempZone/home/alice/big.dat"), Size: 2 << 30, Resource: "demoResc", User: z.alice, Zone: "tempZone"})
	if err != nil || eff == nil || eff.Resource != "archiveResc" {
		t.Fatalf("effects %+v, err %v", eff, err)
	}
	if eff, _ := z.Rules().Before(ctx, &rules.Request{Op: "put", Path: catalog.MustPath("/tempZone/home/alice/small.dat"), Size: 10, Resource: "demoResc", User: z.alice, Zone: "tempZone"}); eff != nil && eff.Resource != "" {
		t.Errorf("a small put was sent to %s", eff.Resource)
	}
	// The same rule with a threshold of 16 bytes, through a real put: the
	// bytes land on the archive resource.
	small := strings.Replace(string(files["resource-by-size.yaml"]), `byteSize("1GiB")`, `byteSize("16B")`, 1)
	z2 := newZone(t, map[string][]byte{"r.yaml": []byte(small)})
	if err := z2.put(t, z2.alice, "/tempZone/home/alice/large-enough.dat"); err != nil {
		t.Fatal(err)
	}
	obj, err := z2.cat.DataObject(ctx, catalog.MustPath("/tempZone/home/alice/large-enough.dat"))
	if err != nil || len(obj.Replicas) != 1 || obj.Replicas[0].Resource != "archiveResc" {
		t.Fatalf("replicas %+v, %v", obj.Replicas, err)
	}
	if _, err := os.Stat(filepath.Join(z2.dir, "archive", obj.Replicas[0].PhysicalPath)); err != nil {
		t.Errorf("bytes not on the archive: %v", err)
	}
	if !strings.Contains(z2.audit.String(), "large file sent to archiveResc") {
		t.Errorf("audit:\n%s", z2.audit.String())
	}
}

func TestRequireProject(t *testing.T) {
	z := newZone(t, example(t, "require-project.yaml"))
	ctx := context.Background()
	for _, p := range []string{"/tempZone/projects", "/tempZone/projects/p1", "/tempZone/projects/p2"} {
		if _, err := z.MakeCollection(ctx, zones.As(z.rods), catalog.MustPath(p), false); err != nil {
			t.Fatal(err)
		}
	}
	err := z.put(t, z.rods, "/tempZone/projects/p1/raw.dat")
	deniedBy(t, err, "require-project")
	z.gone(t, "/tempZone/projects/p1/raw.dat")
	if err := z.put(t, z.rods, "/tempZone/projects/p1/raw.dat", catalog.AVU{Attribute: "project", Value: "p1"}); err != nil {
		t.Fatal(err)
	}
	// A project on the collection is enough, and objects inherit it.
	if err := z.SetMetadata(ctx, zones.As(z.rods), catalog.CollectionTarget(catalog.MustPath("/tempZone/projects/p2")), catalog.AVU{Attribute: "project", Value: "p2"}); err != nil {
		t.Fatal(err)
	}
	if err := z.put(t, z.rods, "/tempZone/projects/p2/raw.dat"); err != nil {
		t.Fatal(err)
	}
	if got := z.avus(t, "/tempZone/projects/p2/raw.dat")["project"]; got != "p2" {
		t.Errorf("inherited project = %q", got)
	}
	// The project AVU cannot be taken away after the put: not removed
	// (exactly or by a wildcard), not modified; it may be set to another
	// project.
	raw := catalog.ObjectTarget(catalog.MustPath("/tempZone/projects/p1/raw.dat"))
	for _, pattern := range []catalog.AVU{{Attribute: "project", Value: "%", Unit: "%"}, {Attribute: "%", Value: "%", Unit: "%"}, {Attribute: "p_oject", Value: "%", Unit: "%"}} {
		_, err = z.RemoveMetadata(ctx, zones.As(z.rods), raw, pattern, true)
		deniedBy(t, err, "keep-project")
	}
	_, err = z.RemoveMetadata(ctx, zones.As(z.rods), raw, catalog.AVU{Attribute: "project", Value: "p1"}, false)
	deniedBy(t, err, "keep-project")
	err = z.ModifyMetadata(ctx, zones.As(z.rods), raw, catalog.AVU{Attribute: "project", Value: "p1"}, catalog.AVU{Attribute: "projekt", Value: "p1"})
	deniedBy(t, err, "keep-project")
	if got := z.avus(t, "/tempZone/projects/p1/raw.dat")["project"]; got != "p1" {
		t.Errorf("after the refused removals, project = %q", got)
	}
	if err := z.SetMetadata(ctx, zones.As(z.rods), raw, catalog.AVU{Attribute: "project", Value: "p1-renamed"}); err != nil {
		t.Errorf("setting another project: %v", err)
	}
	// Homes are not projects.
	if err := z.put(t, z.alice, "/tempZone/home/alice/raw.dat"); err != nil {
		t.Error(err)
	}
}

func TestAccessTime(t *testing.T) {
	z := newZone(t, example(t, "access-time.yaml"))
	ctx := context.Background()
	if err := z.put(t, z.alice, "/tempZone/home/alice/a.dat"); err != nil {
		t.Fatal(err)
	}
	if err := z.SetMetadata(ctx, zones.As(z.alice), catalog.ObjectTarget(catalog.MustPath("/tempZone/home/alice/a.dat")), catalog.AVU{Attribute: "embargo_until", Value: "2999-01-01"}); err != nil {
		t.Fatal(err)
	}
	if _, err := z.cat.User(ctx, catalog.UserID{Name: "rods", Zone: "tempZone"}); err != nil {
		t.Fatal(err)
	}
	// rods is not the owner: the embargo rule warns (it is in warn mode)
	// and the read goes on.
	_, _, rc, err := z.Open(ctx, zones.As(z.rods), catalog.MustPath("/tempZone/home/alice/a.dat"), 0)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
	if at := z.avus(t, "/tempZone/home/alice/a.dat")["last_access"]; at == "" {
		t.Error("no last_access after a get")
	}
	if !strings.Contains(z.audit.String(), `"outcome":"warn"`) || !strings.Contains(z.audit.String(), "embargoed until 2999-01-01") {
		t.Errorf("audit:\n%s", z.audit.String())
	}
}

// TestExampleCases runs the test cases beside the example rules
// (*.test.yaml), as arca rules test examples/rules does.
func TestExampleCases(t *testing.T) {
	z := newZone(t, nil)
	results, err := z.Rules().TestDirs(context.Background(), "tempZone", "rules")
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 20 {
		t.Errorf("only %d cases", len(results))
	}
	for _, r := range results {
		if r.Err != nil {
			t.Error(r)
		}
	}
}

func TestReplicateProjects(t *testing.T) {
	z := newZone(t, example(t, "replicate-projects.yaml"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, p := range []string{"/tempZone/projects", "/tempZone/projects/p1"} {
		if _, err := z.MakeCollection(ctx, zones.As(z.rods), catalog.MustPath(p), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.put(t, z.rods, "/tempZone/projects/p1/raw.dat"); err != nil {
		t.Fatal(err)
	}
	go z.RunJobs(ctx, zones.JobOptions{Poll: 50 * time.Millisecond})
	deadline := time.Now().Add(20 * time.Second)
	for {
		obj, err := z.cat.DataObject(ctx, catalog.MustPath("/tempZone/projects/p1/raw.dat"))
		if err != nil {
			t.Fatal(err)
		}
		good := map[string]bool{}
		for _, r := range obj.Good() {
			good[r.Resource] = true
		}
		if good["demoResc"] && good["archiveResc"] {
			break
		}
		if time.Now().After(deadline) {
			jobs, _ := z.cat.ListJobs(ctx, 0, 10)
			t.Fatalf("not replicated: %+v\njobs: %+v", obj.Replicas, jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The job is removed just after its replica commits: wait for it.
	for {
		jobs, _ := z.cat.ListJobs(ctx, 0, 10)
		if len(jobs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs left: %+v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestNightlyReplication(t *testing.T) {
	files := example(t, "nightly-replication.yaml")
	// The same rule every second instead of every night.
	fast := strings.Replace(string(files["nightly-replication.yaml"]), `"0 2 * * *"`, `"@every 1s"`, 1)
	z := newZone(t, map[string][]byte{"nightly.yaml": []byte(fast)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jobs, err := z.cat.ListJobs(ctx, 0, 10)
	if err != nil || len(jobs) != 1 || jobs[0].Every != "@every 1s" || jobs[0].Key != "every:nightly-replication:@every 1s" {
		t.Fatalf("the periodic rule's job: %+v %v", jobs, err)
	}
	// Loading the same rules again (another server, a reload) adds no job.
	z.Rules().Load(z.Rules().Current())
	if again, _ := z.cat.ListJobs(ctx, 0, 10); len(again) != 1 {
		t.Fatalf("jobs after a reload: %+v", again)
	}
	for _, p := range []string{"/tempZone/projects", "/tempZone/projects/p1"} {
		if _, err := z.MakeCollection(ctx, zones.As(z.rods), catalog.MustPath(p), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.put(t, z.rods, "/tempZone/projects/p1/a.dat"); err != nil {
		t.Fatal(err)
	}
	go z.RunJobs(ctx, zones.JobOptions{Poll: 50 * time.Millisecond})
	deadline := time.Now().Add(20 * time.Second)
	for {
		obj, err := z.cat.DataObject(ctx, catalog.MustPath("/tempZone/projects/p1/a.dat"))
		if err != nil {
			t.Fatal(err)
		}
		if len(obj.Good()) == 2 && strings.Contains(z.audit.String(), "nightly replication of /tempZone/projects done") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not replicated: %+v\naudit:\n%s", obj.Replicas, z.audit.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The job stays for its next run; once the rule is gone, so is the job.
	if jobs, _ := z.cat.ListJobs(ctx, 0, 10); len(jobs) != 1 || jobs[0].Failed {
		t.Fatalf("jobs: %+v", jobs)
	}
	empty, err := z.Rules().Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	z.Rules().Load(empty)
	deadline = time.Now().Add(10 * time.Second)
	for {
		jobs, _ := z.cat.ListJobs(ctx, 0, 10)
		if len(jobs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job of a removed rule stays: %+v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestActionLoopStops runs a rule whose action sets the rule off again: a
// replicate in a post rule runs as a job, whose replicate sets the rule off
// again, and so on. The depth in actions goes with each job, so the chain
// stops at rules.MaxActionDepth, says so in the audit log, and leaves no
// job behind.
func TestActionLoopStops(t *testing.T) {
	z := newZone(t, map[string][]byte{"loop.yaml": []byte(`rules:
  - name: repl-again
    on: [replicate]
    when: post
    condition: object.path.startsWith("/tempZone/home/alice/")
    then:
      - replicate: {resource: "'archiveResc'"}
`)})
	p := "/tempZone/home/alice/a.dat"
	if err := z.put(t, z.alice, p); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := z.Replicate(ctx, zones.As(z.rods), zones.ReplicateRequest{Path: catalog.MustPath(p), Dest: "archiveResc"}, func(zones.ReplicaChange) error { return nil })
	if err != nil {
		t.Fatalf("irepl under a looping rule: %v", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); z.RunJobs(runCtx, zones.JobOptions{Poll: 20 * time.Millisecond}) }()
	for {
		jobs, err := z.cat.ListJobs(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the chain of jobs does not stop: %+v", jobs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	audit := z.audit.String()
	if n := strings.Count(audit, `"msg":"job action"`); n == 0 || n > rules.MaxActionDepth {
		t.Errorf("%d job actions; want a few, up to the depth limit:\n%s", n, audit)
	}
	if !strings.Contains(audit, "rule actions loop") {
		t.Errorf("the audit log does not say the actions looped:\n%s", audit)
	}
}

// TestTierCold runs the periodic tiering rule over project data, with 2 s
// for 30 days: what nobody read moves to the archive, what was read (the
// access-time example stamps it) or is pinned stays, and nothing outside
// the projects is touched.
func TestTierCold(t *testing.T) {
	files := example(t, "access-time.yaml", "tier-cold.yaml")
	files["tier-cold.yaml"] = []byte(strings.ReplaceAll(string(files["tier-cold.yaml"]), "days(30)", `duration("2s")`))
	z := newZone(t, files)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, p := range []string{"/tempZone/projects", "/tempZone/projects/p1"} {
		if _, err := z.MakeCollection(ctx, zones.As(z.rods), catalog.MustPath(p), false); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"/tempZone/projects/p1/unread", "/tempZone/projects/p1/read", "/tempZone/home/alice/elsewhere"} {
		if err := z.put(t, z.rods, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.put(t, z.rods, "/tempZone/projects/p1/pinned", catalog.AVU{Attribute: "pinned", Value: "yes"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	_, _, rc, err := z.Open(ctx, zones.As(z.rods), catalog.MustPath("/tempZone/projects/p1/read"), 0)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	// The hourly run, now.
	jobs, err := z.cat.ListJobs(ctx, 0, 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs %+v %v", jobs, err)
	}
	if err := z.cat.RemoveJob(ctx, jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	jobs[0].Due = time.Now()
	if _, err := z.cat.AddJob(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	go z.RunJobs(ctx, zones.JobOptions{Poll: 50 * time.Millisecond})
	deadline := time.Now().Add(20 * time.Second)
	for {
		js, _ := z.cat.ListJobs(ctx, 0, 10)
		if len(js) == 1 && js[0].Holder == "" && js[0].Due.After(time.Now()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run did not end: %+v", js)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	for p, want := range map[string]string{
		"/tempZone/projects/p1/unread":   "archiveResc",
		"/tempZone/projects/p1/read":     "demoResc",
		"/tempZone/projects/p1/pinned":   "demoResc",
		"/tempZone/home/alice/elsewhere": "demoResc",
	} {
		obj, err := z.cat.DataObject(context.Background(), catalog.MustPath(p))
		if err != nil {
			t.Fatal(err)
		}
		if good := obj.Good(); len(good) != 1 || good[0].Resource != want {
			t.Errorf("%s: replicas %+v, want one on %s", p, obj.Replicas, want)
		}
	}
}
