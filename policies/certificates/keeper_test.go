package certificates_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/api/certificate"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/policies/certificates"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/zones"
)

// env is a zone on a real SQLite catalog and a POSIX vault, with its TLS
// CA and certificate-signing key as the server makes them, and a keeper
// whose steward group is "stewards".
type env struct {
	t      testing.TB
	ctx    context.Context
	zone   *zones.Zone
	cat    *sqlite.Catalog
	keeper *certificates.Keeper
	roots  *x509.CertPool
	rods   zones.Principal
	alice  zones.Principal
	bob    zones.Principal
	dir    string
}

func newEnv(t testing.TB) *env {
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
	tlsDir := filepath.Join(dir, "tls")
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := tlsca.CreateCertificates(tlsDir, nil); err != nil {
		t.Fatal(err)
	}
	key, chain, err := tlsca.LoadOrCreateSigner(tlsDir, z.Name())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := certificate.NewSigner(key, chain[:1])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(chain[1])
	k := certificates.NewKeeper(cat, signer, certificates.Config{Zone: z.Name(), Organisation: "Example Data Centre", Stewards: "stewards", Logger: quiet,
		PartSize: 300}) // certificates span many records, as a large collection's do
	z.UseCertificates(k)
	rodsUser, err := cat.User(ctx, catalog.UserID{Name: "rods", Zone: z.Name()})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, zone: z, cat: cat, keeper: k, roots: roots, rods: zones.As(rodsUser), dir: dir}
	for _, name := range []string{"alice", "bob"} {
		u, err := z.MakeUser(ctx, e.rods, name, catalog.UserTypeUser, "pw")
		if err != nil {
			t.Fatal(err)
		}
		if name == "alice" {
			e.alice = zones.As(u)
		} else {
			e.bob = zones.As(u)
		}
	}
	if _, err := z.MakeGroup(ctx, e.rods, "stewards"); err != nil {
		t.Fatal(err)
	}
	if err := z.AddToGroup(ctx, e.rods, "stewards", "bob"); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) put(who zones.Principal, p, content string) catalog.DataObject {
	e.t.Helper()
	path := catalog.MustPath(p)
	if _, err := e.zone.MakeCollection(e.ctx, who, path.Parent(), true); err != nil && !errors.Is(err, catalog.ErrExists) {
		e.t.Fatal(err)
	}
	obj, err := e.zone.Put(e.ctx, who, zones.PutRequest{Path: path, Size: int64(len(content)), Overwrite: true}, strings.NewReader(content))
	if err != nil {
		e.t.Fatal(err)
	}
	return obj
}

// vaultFile is where the replica of obj is on demoResc.
func (e *env) vaultFile(obj catalog.DataObject) string {
	return filepath.Join(e.dir, "vault", obj.Replicas[0].PhysicalPath)
}

func TestIssueFromTheZone(t *testing.T) {
	e := newEnv(t)
	files := map[string]string{"a.txt": "alpha\n", "sub/b.bin": "bravo\n", "sub/deep/c.nc": "charlie\n"}
	objs := map[string]catalog.DataObject{}
	for rel, content := range files {
		objs[rel] = e.put(e.alice, "/tempZone/home/alice/pkg/"+rel, content)
	}
	pkg := catalog.MustPath("/tempZone/home/alice/pkg")

	// Who may issue: rodsadmin or a steward, and only on what they may read.
	if _, err := e.zone.IssueCertificate(e.ctx, e.alice, pkg); !errors.Is(err, catalog.ErrPermission) {
		t.Fatalf("alice (no steward) issued: %v", err)
	}
	if _, err := e.zone.IssueCertificate(e.ctx, e.bob, pkg); !errors.Is(err, catalog.ErrPermission) {
		t.Fatalf("bob (steward, no read) issued: %v", err)
	}
	if _, err := e.zone.IssueCertificate(e.ctx, zones.Principal{User: e.rods.User}, pkg); !errors.Is(err, catalog.ErrPermission) {
		t.Fatalf("rods without -M or read on alice's data issued: %v", err)
	}
	if err := e.zone.SetAccess(e.ctx, e.alice, pkg, "bob", catalog.AccessRead, true, false); err != nil {
		t.Fatal(err)
	}
	first, err := e.zone.IssueCertificate(e.ctx, e.bob, pkg)
	if err != nil {
		t.Fatalf("bob (steward, read) issue: %v", err)
	}
	v, err := certificate.Verify(first.File, e.roots)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if v.Body.Subject.Path != pkg.String() || v.Body.Manifest.ObjectCount != 3 || len(v.Body.Objects) != 3 || v.Body.Issuer.IssuedBy != "bob#tempZone" {
		t.Errorf("body: %+v", v.Body)
	}
	if v.Body.QoS.Status != "none" || v.Body.Replicas[0].Resource != "demoResc" || v.Body.Replicas[0].Good != 3 {
		t.Errorf("qos %+v, replicas %+v", v.Body.QoS, v.Body.Replicas)
	}
	for _, o := range v.Body.Objects {
		if len(o.Replicas) != 1 || o.Replicas[0].Medium != "DISK" || o.Replicas[0].Outcome != "pass" || o.Replicas[0].LastFixityCheck == "" {
			t.Errorf("object %s replicas %+v", o.Path, o.Replicas)
		}
	}
	// A copy verifies.
	local := t.TempDir()
	for rel, content := range files {
		f := filepath.Join(local, rel)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := certificate.VerifyData(e.ctx, v.Manifests, local, true); err != nil || !r.OK() {
		t.Fatalf("copy: %+v %v", r, err)
	}

	// The SHA-512 is kept: a second certificate reads no data. Spoil the
	// replica on disk behind the catalog's back; the second issue does not
	// notice, since it reads nothing.
	if err := os.WriteFile(e.vaultFile(objs["a.txt"]), []byte("ALPHA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	second, err := e.zone.IssueCertificate(e.ctx, e.rods, pkg)
	if err != nil {
		t.Fatalf("second issue: %v", err)
	}
	v2, err := certificate.Verify(second.File, e.roots)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Manifests.SHA512["data/a.txt"] != v.Manifests.SHA512["data/a.txt"] {
		t.Errorf("the second certificate recomputed a kept SHA-512")
	}
	if v2.Body.Previous.ID != first.ID || v2.Body.Previous.Digest != certificate.BodyDigest(v.Canonical) {
		t.Errorf("previous: %+v, want %s", v2.Body.Previous, first.ID)
	}
	list, err := e.zone.ListCertificates(e.ctx, e.bob, pkg)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	for _, c := range list {
		if c.ID == first.ID && c.SupersededBy != second.ID {
			t.Errorf("first is not superseded: %+v", c)
		}
	}
	// The stored certificate is the issued one, byte for byte, and still
	// verifies after it is superseded.
	got, err := e.zone.ShowCertificate(e.ctx, e.bob, first.ID)
	if err != nil || string(got.File) != string(first.File) {
		t.Fatalf("show: %v (%d bytes, want %d)", err, len(got.File), len(first.File))
	}
	if _, err := e.zone.ShowCertificate(e.ctx, e.alice, "urn:uuid:none"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("show an unknown id: %v", err)
	}

	// New content is read again: overwrite a.txt, certify the object.
	obj := e.put(e.alice, "/tempZone/home/alice/pkg/a.txt", "alpha, version 2\n")
	third, err := e.zone.IssueCertificate(e.ctx, e.bob, obj.Path)
	if err != nil {
		t.Fatal(err)
	}
	v3, err := certificate.Verify(third.File, e.roots)
	if err != nil {
		t.Fatal(err)
	}
	if v3.Body.Subject.Kind != "object" || v3.Manifests.SHA512["data/a.txt"] == v.Manifests.SHA512["data/a.txt"] {
		t.Errorf("object certificate: %+v", v3.Body.Subject)
	}

	// A certificate of what bob may not read is not listed to him.
	secret := e.put(e.alice, "/tempZone/home/alice/pkg/secret.txt", "not for bob\n")
	sc, err := e.zone.IssueCertificate(e.ctx, e.rods, secret.Path)
	if err != nil {
		t.Fatal(err)
	}
	count := func(who zones.Principal) (n int) {
		t.Helper()
		list, err := e.zone.ListCertificates(e.ctx, who, pkg)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range list {
			if c.ID == sc.ID {
				n++
			}
		}
		return n
	}
	if count(e.bob) != 0 || count(e.alice) != 1 {
		t.Errorf("the secret's certificate: bob sees %d, alice %d", count(e.bob), count(e.alice))
	}
	if _, err := e.zone.ShowCertificate(e.ctx, e.bob, sc.ID); !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("bob was shown the secret's certificate: %v", err)
	}
}

// TestCorruptReplicaRefused: a replica whose bytes no longer match the
// catalog's SHA-256 is not certified when its SHA-512 must be read.
func TestCorruptReplicaRefused(t *testing.T) {
	e := newEnv(t)
	obj := e.put(e.rods, "/tempZone/home/rods/x.txt", "the original\n")
	if err := os.WriteFile(e.vaultFile(obj), []byte("the Original\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := e.zone.IssueCertificate(e.ctx, e.rods, obj.Path)
	if err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("a corrupt replica was certified: %v", err)
	}
}

// BenchmarkIssue10000 issues a certificate for a collection of 10,000
// objects whose SHA-512s are kept (the first issue computes them): the
// figure asked for is under 5 s, reading no data.
func BenchmarkIssue10000(b *testing.B) {
	e := newEnv(b)
	const n = 10000
	coll := putMany(b, e, "/tempZone/home/rods/big", n)
	if _, err := e.zone.IssueCertificate(e.ctx, e.rods, coll); err != nil {
		b.Fatal(err)
	}
	// From here on no data is read: take the vault away.
	if err := os.Rename(filepath.Join(e.dir, "vault"), filepath.Join(e.dir, "vault.gone")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		c, err := e.zone.IssueCertificate(e.ctx, e.rods, coll)
		if err != nil {
			b.Fatal(err)
		}
		if c.Objects != n {
			b.Fatalf("%d objects", c.Objects)
		}
	}
}

// TestFixity: a replica corrupted on disk fails its check, is marked stale
// and refreshed from the good one; every check is a PREMIS event in the
// object's provenance and the replica's last check in its certificate; a
// recent pass is not checked again.
func TestFixity(t *testing.T) {
	e := newEnv(t)
	if _, err := e.zone.MakeResource(e.ctx, e.rods, catalog.Resource{Name: "second", Type: "posix", Location: filepath.Join(e.dir, "second")}); err != nil {
		t.Fatal(err)
	}
	obj := e.put(e.rods, "/tempZone/home/rods/keep/x.dat", "kept in two places\n")
	e.put(e.rods, "/tempZone/home/rods/keep/y.dat", "another\n")
	coll := catalog.MustPath("/tempZone/home/rods/keep")
	if err := e.zone.Replicate(e.ctx, e.rods, zones.ReplicateRequest{Path: coll, Dest: "second", Recursive: true}, func(zones.ReplicaChange) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.vaultFile(obj), []byte("kept in two placez\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(maxAge time.Duration) []zones.FixityCheck {
		t.Helper()
		var out []zones.FixityCheck
		err := e.zone.CheckFixity(e.ctx, e.rods, zones.FixityRequest{Path: coll, MaxAge: maxAge, Repair: true}, func(c zones.FixityCheck) error {
			out = append(out, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := check(0)
	outcomes := map[string]string{}
	for _, c := range got {
		outcomes[fmt.Sprintf("%s/%s", filepath.Base(c.Path), c.Resource)] = c.Outcome
		if c.Outcome == zones.FixityFail && (c.Resource != "demoResc" || c.Repair != "refreshed from a good replica") {
			t.Errorf("failed check: %+v", c)
		}
	}
	want := map[string]string{"x.dat/demoResc": "fail", "x.dat/second": "pass", "y.dat/demoResc": "pass", "y.dat/second": "pass"}
	if fmt.Sprint(outcomes) != fmt.Sprint(want) {
		t.Fatalf("outcomes %v, want %v", outcomes, want)
	}
	// Repaired: both replicas good again, with the right bytes.
	after, err := e.cat.DataObject(e.ctx, obj.Path)
	if err != nil || len(after.Good()) != 2 {
		t.Fatalf("after repair: %+v %v", after.Replicas, err)
	}
	for _, r := range after.Replicas {
		b, err := os.ReadFile(filepath.Join(e.dir, map[string]string{"demoResc": "vault", "second": "second"}[r.Resource], r.PhysicalPath))
		if err != nil || string(b) != "kept in two places\n" {
			t.Errorf("replica on %s: %q %v", r.Resource, b, err)
		}
	}
	// PREMIS events in the provenance chain.
	recs, err := e.cat.ProvenanceOf(e.ctx, catalog.ProvSubject{Kind: catalog.SubjectObject, ID: obj.ID}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]int{}
	for _, r := range recs {
		if r.Attributes["premis:eventType"] == "fixity check" {
			events[r.Attributes["premis:eventOutcome"]]++
		}
	}
	if events["pass"] != 1 || events["fail"] != 1 {
		t.Errorf("PREMIS events %v", events)
	}
	// Recently passed replicas are left alone; the repaired one (last
	// outcome fail) is checked again, and passes.
	again := check(time.Hour)
	if len(again) != 1 || again[0].Resource != "demoResc" || again[0].Outcome != zones.FixityPass {
		t.Errorf("second pass: %+v", again)
	}
	// The certificate shows each replica's last check.
	c, err := e.zone.IssueCertificate(e.ctx, e.rods, obj.Path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := certificate.Verify(c.File, e.roots)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range v.Body.Objects[0].Replicas {
		if r.LastFixityCheck == "" || r.Outcome != "pass" {
			t.Errorf("replica %+v", r)
		}
	}
	// ichksum -K records its checks the same way.
	if _, err := e.zone.Checksum(e.ctx, e.rods, obj.Path, true); err != nil {
		t.Fatal(err)
	}
	recs, err = e.cat.ProvenanceOf(e.ctx, catalog.ProvSubject{Kind: catalog.SubjectObject, ID: obj.ID}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Attributes["premis:eventType"] == "fixity check" {
			n++
		}
	}
	if n != 5 { // 2 + 1 above, and one per replica now
		t.Errorf("%d PREMIS events after ichksum -K, want 5", n)
	}
	// Not for users.
	if err := e.zone.CheckFixity(e.ctx, e.alice, zones.FixityRequest{Path: coll}, func(zones.FixityCheck) error { return nil }); !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("alice checked fixity: %v", err)
	}
}

// BenchmarkFixity10000 checks 10,000 small objects (one replica each)
// from a POSIX vault: the figure asked for is at least 1,000 objects/s.
func BenchmarkFixity10000(b *testing.B) {
	e := newEnv(b)
	const n = 10000
	coll := putMany(b, e, "/tempZone/home/rods/fix", n)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		checked := 0
		err := e.zone.CheckFixity(e.ctx, e.rods, zones.FixityRequest{Path: coll}, func(c zones.FixityCheck) error {
			if c.Outcome != zones.FixityPass {
				b.Fatalf("%+v", c)
			}
			checked++
			return nil
		})
		if err != nil || checked != n {
			b.Fatalf("%d checked: %v", checked, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "objects/s")
}

// putMany puts n small objects below coll, in 50 sub-collections.
func putMany(b *testing.B, e *env, coll string, n int) catalog.Path {
	b.Helper()
	c := catalog.MustPath(coll)
	if _, err := e.zone.MakeCollection(e.ctx, e.rods, c, true); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		p := catalog.MustPath(fmt.Sprintf("%s/d%02d/f%05d", coll, i%50, i))
		if i < 50 {
			if _, err := e.zone.MakeCollection(e.ctx, e.rods, p.Parent(), true); err != nil && !errors.Is(err, catalog.ErrExists) {
				b.Fatal(err)
			}
		}
		s := fmt.Sprint(i)
		if _, err := e.zone.Put(e.ctx, e.rods, zones.PutRequest{Path: p, Size: int64(len(s))}, strings.NewReader(s)); err != nil {
			b.Fatal(err)
		}
	}
	return c
}
