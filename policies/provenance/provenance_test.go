package provenance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/policies"
	"github.com/arca-data/arca/policies/provenance"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

type env struct {
	t      testing.TB
	ctx    context.Context
	zone   *zones.Zone
	cat    *sqlite.Catalog
	rec    *provenance.Recorder
	rods   zones.Principal
	alice  zones.Principal
	engine *rules.Engine
	dir    string
}

// newEnvWithout is newEnv without the recorder, rules or the second
// resource: what recording provenance is measured against.
func newEnvWithout(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	z := zones.New(cat, zones.Options{Drivers: drivers.Default(), Logger: slog.New(slog.DiscardHandler)})
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	rodsUser, err := cat.User(ctx, catalog.UserID{Name: "rods", Zone: z.Name()})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, zone: z, cat: cat, rods: zones.As(rodsUser), dir: dir}
	alice, err := z.MakeUser(ctx, e.rods, "alice", catalog.UserTypeUser, "pw")
	if err != nil {
		t.Fatal(err)
	}
	e.alice = zones.As(alice)
	return e
}

// newEnv is a zone on SQLite and a POSIX vault with rules (from ruleFiles),
// the recorder, a second resource and the user alice.
func newEnv(t testing.TB, ruleFiles map[string]string) *env {
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
	reg := rules.NewRegistry()
	if err := policies.Register(reg, z, quiet); err != nil {
		t.Fatal(err)
	}
	engine, err := rules.New(rules.Options{Registry: reg, Catalog: cat, Logger: quiet, Audit: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if len(ruleFiles) > 0 {
		files := map[string][]byte{}
		for n, c := range ruleFiles {
			files[n] = []byte(c)
		}
		set, err := engine.Compile(files)
		if err != nil {
			t.Fatal(err)
		}
		engine.Load(set)
	}
	// Before the rules: an operation's record precedes those of what its
	// post rules do.
	rec := provenance.New(cat, z.Name(), quiet)
	z.AddHook(rec)
	z.UseProvenance(rec)
	z.UseRules(engine)
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	rodsUser, err := cat.User(ctx, catalog.UserID{Name: "rods", Zone: z.Name()})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, zone: z, cat: cat, rec: rec, rods: zones.As(rodsUser), engine: engine, dir: dir}
	alice, err := z.MakeUser(ctx, e.rods, "alice", catalog.UserTypeUser, "pw")
	if err != nil {
		t.Fatal(err)
	}
	e.alice = zones.As(alice)
	if _, err := z.MakeResource(ctx, e.rods, catalog.Resource{Name: "second", Type: "posix", Location: filepath.Join(dir, "second")}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) path(s string) catalog.Path {
	if !strings.HasPrefix(s, "/") {
		s = "/tempZone/home/alice/" + s
	}
	return catalog.MustPath(s)
}

func (e *env) put(who zones.Principal, p, data string, overwrite bool) {
	e.t.Helper()
	if _, err := e.zone.Put(e.ctx, who, zones.PutRequest{Path: e.path(p), Size: int64(len(data)), Overwrite: overwrite}, strings.NewReader(data)); err != nil {
		e.t.Fatalf("put %s: %v", p, err)
	}
}

func (e *env) records(p string) []catalog.ProvRecord {
	e.t.Helper()
	ent, err := e.cat.Stat(e.ctx, e.path(p))
	if err != nil {
		e.t.Fatal(err)
	}
	s := catalog.ProvSubject{Kind: catalog.SubjectObject}
	if ent.Collection != nil {
		s.Kind, s.ID = catalog.SubjectCollection, ent.Collection.ID
	} else {
		s.ID = ent.Object.ID
	}
	recs, err := e.cat.ProvenanceOf(e.ctx, s, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

func ops(recs []catalog.ProvRecord) string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Op)
	}
	return strings.Join(out, " ")
}

func TestRecordsEveryChange(t *testing.T) {
	e := newEnv(t, nil)
	ctx := e.ctx
	e.put(e.alice, "raw.dat", "raw bytes", false)
	e.put(e.alice, "raw.dat", "raw bytes, again", true)
	if err := e.zone.AddMetadata(ctx, e.alice, catalog.ObjectTarget(e.path("raw.dat")), []catalog.AVU{{Attribute: "project", Value: "p1"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.SetAccess(ctx, e.alice, e.path("raw.dat"), "rods", catalog.AccessRead, false, false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.Replicate(ctx, e.alice, zones.ReplicateRequest{Path: e.path("raw.dat"), Dest: "second"}, func(zones.ReplicaChange) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.Trim(ctx, e.alice, zones.TrimRequest{Path: e.path("raw.dat"), Resource: "demoResc", Keep: 1}, func(zones.ReplicaChange) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.Checksum(ctx, e.alice, e.path("raw.dat"), false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.Rename(ctx, e.alice, e.path("raw.dat"), e.path("renamed.dat")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.Stat(ctx, e.alice, e.path("renamed.dat")); err != nil { // reads record nothing
		t.Fatal(err)
	}
	recs := e.records("renamed.dat")
	if got, want := ops(recs), "put put metadata.add acl.set replicate trim rename"; got != want {
		t.Fatalf("records: %s, want %s", got, want)
	}
	put := recs[1]
	if put.Agent != "alice#tempZone" || len(put.Generated) != 1 || put.Generated[0].Replica != 0 || !strings.HasPrefix(put.Generated[0].Checksum, "sha2:") ||
		put.Path != "/tempZone/home/alice/raw.dat" || put.End.Before(put.Start) {
		t.Errorf("overwrite's record: %+v", put)
	}
	if recs[0].Generated[0].Checksum == put.Generated[0].Checksum {
		t.Errorf("two versions with one checksum: %v", recs[0].Generated)
	}
	if a := recs[2].Attributes; a["avu.0"] != "project=p1" {
		t.Errorf("metadata record: %v", a)
	}
	if a := recs[3].Attributes; a["grantee"] != "rods#tempZone" || a["level"] != "read" {
		t.Errorf("acl record: %v", a)
	}
	if g := recs[4].Generated; len(g) != 1 || g[0].Resource != "second" || len(recs[4].Used) != 1 || recs[4].Used[0].Resource != "demoResc" {
		t.Errorf("replicate record: used %v generated %v", recs[4].Used, g)
	}
	if inv := recs[5].Invalidated; len(inv) != 1 || inv[0].Resource != "demoResc" {
		t.Errorf("trim record: %v", inv)
	}
	if a := recs[6].Attributes; a["from"] != "/tempZone/home/alice/raw.dat" || a["to"] != "/tempZone/home/alice/renamed.dat" {
		t.Errorf("rename record: %v", a)
	}
	v, err := e.zone.VerifyProvenance(ctx, e.alice, e.path("renamed.dat"))
	if err != nil || len(v.Problems) != 0 || v.Chains != 1 || v.Records != 7 {
		t.Errorf("verify: %+v %v", v, err)
	}

	// A removal is the last record of the chain.
	id := catalog.ProvSubject{Kind: catalog.SubjectObject, ID: mustStat(t, e, "renamed.dat").Object.ID}
	if _, err := e.zone.Remove(ctx, e.alice, e.path("renamed.dat"), false, true); err != nil {
		t.Fatal(err)
	}
	recs, err = e.cat.ProvenanceOf(ctx, id, 0, 100)
	if err != nil || len(recs) != 8 || recs[7].Op != "remove" || len(recs[7].Invalidated) != 1 {
		t.Errorf("after removal: %s %v", ops(recs), err)
	}
}

func mustStat(t *testing.T, e *env, p string) catalog.Entry {
	t.Helper()
	ent, err := e.cat.Stat(e.ctx, e.path(p))
	if err != nil {
		t.Fatal(err)
	}
	return ent
}

func TestCopyAndDeriveLink(t *testing.T) {
	e := newEnv(t, nil)
	ctx := e.ctx
	e.put(e.alice, "raw.dat", "raw", false)
	if _, err := e.zone.Copy(ctx, e.alice, e.path("raw.dat"), e.path("copy.dat"), "", false); err != nil {
		t.Fatal(err)
	}
	recs := e.records("copy.dat")
	if ops(recs) != "copy" || len(recs[0].DerivedFrom) != 1 || recs[0].DerivedFrom[0].Path != "/tempZone/home/alice/raw.dat" {
		t.Fatalf("copy's record: %+v", recs)
	}
	links, err := e.cat.LinksOf(ctx, e.path("copy.dat"))
	if err != nil || len(links) != 1 || links[0].Relation != provenance.Derived || links[0].To != e.path("raw.dat") {
		t.Errorf("links of the copy: %v %v", links, err)
	}
	e.put(e.alice, "clean.dat", "clean", false)
	if err := e.zone.Derive(ctx, e.alice, e.path("clean.dat"), []catalog.Path{e.path("copy.dat")}); err != nil {
		t.Fatal(err)
	}
	if got := ops(e.records("clean.dat")); got != "put prov.derive" {
		t.Errorf("records of clean.dat: %s", got)
	}
	// raw <- copy <- clean: raw from clean is a cycle, and so is clean
	// from itself. Nothing changes.
	for _, bad := range [][2]string{{"raw.dat", "clean.dat"}, {"clean.dat", "clean.dat"}} {
		err := e.zone.Derive(ctx, e.alice, e.path(bad[0]), []catalog.Path{e.path(bad[1])})
		if !errors.Is(err, provenance.ErrCycle) || !errors.Is(err, catalog.ErrInvalidArgument) {
			t.Errorf("derive %s from %s: %v, want a cycle", bad[0], bad[1], err)
		}
	}
	if got := ops(e.records("raw.dat")); got != "put" {
		t.Errorf("a refused derivation left a record: %s", got)
	}
	if links, _ := e.cat.LinksOf(ctx, e.path("raw.dat")); len(links) != 1 {
		t.Errorf("a refused derivation left a link: %v", links)
	}
	// Deriving needs write on the derived object and read on the source.
	bob, err := e.zone.MakeUser(ctx, e.rods, "bob", catalog.UserTypeUser, "pw")
	if err != nil {
		t.Fatal(err)
	}
	err = e.zone.Derive(ctx, zones.As(bob), e.path("clean.dat"), []catalog.Path{e.path("raw.dat")})
	if !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("bob deriving alice's object: %v", err)
	}
}

func TestRuleActionsAreAttributed(t *testing.T) {
	e := newEnv(t, map[string]string{"stamp.yaml": `
rules:
  - name: stamp-ingest
    on: [put]
    when: post
    then:
      - metadata.set: {attribute: "'ingested'", value: "'yes'"}
      - replicate: {resource: "'second'"}
`})
	e.put(e.alice, "data.dat", "bytes", false)
	// A replication in a post rule is a job: the zone runs it soon after.
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	go e.zone.RunJobs(ctx, zones.JobOptions{Poll: 50 * time.Millisecond})
	var recs []catalog.ProvRecord
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		recs = e.records("data.dat")
		if ops(recs) == "put metadata.set replicate" || time.Now().After(deadline) {
			break
		}
	}
	if got := ops(recs); got != "put metadata.set replicate" {
		t.Fatalf("records: %s", got)
	}
	for _, r := range recs[1:] {
		// The rule set's version is the catalog's; this engine's set is
		// compiled, not stored, so it has none.
		if r.Rule != "stamp-ingest" || r.OnBehalfOf != "alice#tempZone" || r.Agent != "rods#tempZone" {
			t.Errorf("%s by rule: agent %s rule %q for %q version %q", r.Op, r.Agent, r.Rule, r.OnBehalfOf, r.RuleSetVersion)
		}
	}
	if recs[0].Rule != "" || recs[0].Agent != "alice#tempZone" {
		t.Errorf("alice's own put: %+v", recs[0])
	}
}

// python finds a Python with the W3C PROV reference implementation
// (Debian's python3-prov).
func python(t *testing.T) string {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import prov.model").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("python3-prov is not installed: apt-get install python3-prov")
	}
	t.Skip("python3-prov is not installed: apt-get install python3-prov")
	return ""
}

func TestExportIsReadByTheReferenceImplementation(t *testing.T) {
	e := newEnv(t, map[string]string{"stamp.yaml": `
rules:
  - name: stamp
    on: [put]
    when: post
    then:
      - metadata.set: {attribute: "'ingested'", value: "'yes'"}
`})
	ctx := e.ctx
	if _, err := e.zone.MakeCollection(ctx, e.alice, e.path("run 1"), false); err != nil {
		t.Fatal(err)
	}
	e.put(e.alice, "run 1/raw=1+2.dat", "raw", false)
	if _, err := e.zone.Copy(ctx, e.alice, e.path("run 1/raw=1+2.dat"), e.path("run 1/copy.dat"), "", false); err != nil {
		t.Fatal(err)
	}
	e.put(e.alice, "run 1/result.", "result", false)
	if err := e.zone.Derive(ctx, e.alice, e.path("run 1/result."), []catalog.Path{e.path("run 1/copy.dat")}); err != nil {
		t.Fatal(err)
	}
	py := python(t)
	for _, p := range []string{"run 1", "run 1/result."} {
		doc, err := e.zone.ExportProvenance(ctx, e.alice, zones.ProvExport{Path: e.path(p), Depth: 2, Format: provenance.FormatPROVJSON})
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(e.dir, "prov.json")
		if err := os.WriteFile(file, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		// The reference implementation reads it, and finds what we wrote.
		out, err := exec.Command(py, "-c", `
import sys, prov.model as m
d = m.ProvDocument.deserialize(open(sys.argv[1]), format="json")
recs = list(d.get_records())
kinds = sorted(set(type(r).__name__ for r in recs))
print(len(recs), " ".join(kinds))
print(d.get_provn()[:200])
`, file).CombinedOutput()
		if err != nil {
			t.Fatalf("python3-prov cannot read the PROV-JSON of %s: %v\n%s\n%s", p, err, out, doc)
		}
		for _, kind := range []string{"ProvEntity", "ProvActivity", "ProvAgent", "ProvGeneration", "ProvDerivation", "ProvAssociation", "ProvDelegation"} {
			if !strings.Contains(string(out), kind) {
				t.Errorf("%s: python3-prov found no %s:\n%s", p, kind, out)
			}
		}
		var parsed map[string]map[string]any
		if err := json.Unmarshal(doc, &parsed); err != nil {
			t.Fatal(err)
		}
		if p == "run 1/result." {
			// Depth 2 reaches the copy's source through the copy.
			if !strings.Contains(string(doc), "raw=1+2.dat") {
				t.Errorf("the export of result. does not reach raw=1+2.dat:\n%s", doc)
			}
		}
	}
}

func TestExportDotRendersAndProvN(t *testing.T) {
	e := newEnv(t, nil)
	e.put(e.alice, `say "hi"\.dat`, "x", false)
	dot, err := e.zone.ExportProvenance(e.ctx, e.alice, zones.ProvExport{Path: e.path("/tempZone/home/alice"), Format: provenance.FormatDot})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("dot"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("graphviz is not installed: apt-get install graphviz")
		}
		t.Skip("graphviz is not installed: apt-get install graphviz")
	}
	cmd := exec.Command("dot", "-Tsvg")
	cmd.Stdin = bytes.NewReader(dot)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	svg, err := cmd.Output()
	if err != nil || !bytes.Contains(svg, []byte("<svg")) || stderr.Len() > 0 {
		t.Fatalf("dot -Tsvg: %v %s\n%s", err, stderr.String(), dot)
	}
	provn, err := e.zone.ExportProvenance(e.ctx, e.alice, zones.ProvExport{Path: e.path(`say "hi"\.dat`), Format: provenance.FormatPROVN})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"document\n", "prefix obj <", "entity(obj:tempZone/home/alice/say%20%22hi%22%5C.dat@0@sha2%3A", "wasGeneratedBy(", "endDocument"} {
		if !strings.Contains(string(provn), want) {
			t.Errorf("PROV-N lacks %q:\n%s", want, provn)
		}
	}
}

func TestExportShowsOnlyWhatTheCallerMayRead(t *testing.T) {
	e := newEnv(t, nil)
	ctx := e.ctx
	bob, err := e.zone.MakeUser(ctx, e.rods, "bob", catalog.UserTypeUser, "pw")
	if err != nil {
		t.Fatal(err)
	}
	e.put(e.alice, "shared.dat", "s", false)
	e.put(e.alice, "secret.dat", "s", false)
	for _, p := range []string{"/tempZone/home/alice", "shared.dat"} {
		if err := e.zone.SetAccess(ctx, e.alice, e.path(p), "bob", catalog.AccessRead, false, false); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := e.zone.ExportProvenance(ctx, zones.As(bob), zones.ProvExport{Path: e.path("/tempZone/home/alice"), Format: provenance.FormatText})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "shared.dat") || strings.Contains(string(doc), "secret.dat") {
		t.Errorf("bob's export of alice's home:\n%s", doc)
	}
	_, err = e.zone.ExportProvenance(ctx, zones.As(bob), zones.ProvExport{Path: e.path("secret.dat"), Format: provenance.FormatText})
	if !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("bob's export of secret.dat: %v", err)
	}
	// A copy bob may read, of something he may not: its source is hidden.
	if _, err := e.zone.Copy(ctx, e.alice, e.path("secret.dat"), e.path("from-secret.dat"), "", false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.SetAccess(ctx, e.alice, e.path("from-secret.dat"), "bob", catalog.AccessRead, false, false); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{provenance.FormatText, provenance.FormatPROVJSON} {
		doc, err = e.zone.ExportProvenance(ctx, zones.As(bob), zones.ProvExport{Path: e.path("from-secret.dat"), Depth: 2, Format: format})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(doc), "alice/secret.dat") || !strings.Contains(string(doc), "not readable") {
			t.Errorf("bob's %s export of a copy of secret.dat:\n%s", format, doc)
		}
	}
	if doc, _ := e.zone.ExportProvenance(ctx, e.alice, zones.ProvExport{Path: e.path("from-secret.dat"), Format: provenance.FormatText}); !strings.Contains(string(doc), "alice/secret.dat") {
		t.Errorf("alice's export of her copy hides its source:\n%s", doc)
	}
	_, err = e.zone.ExportProvenance(ctx, e.alice, zones.ProvExport{Path: e.path("secret.dat"), Format: "xml"})
	if !errors.Is(err, catalog.ErrInvalidArgument) {
		t.Errorf("format xml: %v", err)
	}
	_, err = io.Discard.Write(doc)
	if err != nil {
		t.Fatal(err)
	}
}
