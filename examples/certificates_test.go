package examples

import (
	"context"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/api/certificate"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/policies/certificates"
	"github.com/arca-data/arca/zones"
)

// TestKeeperCertificate: once a collection's archive metadata is complete
// the zone certifies it (a job), the certificate verifies against the
// zone's CA, and the owner is told; more metadata issues no second one.
func TestKeeperCertificate(t *testing.T) {
	z := newZone(t, example(t, "keeper-certificate.yaml"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ca := useCertificates(t, z, "MPDL")
	var err error

	proj := "/tempZone/home/alice/proj"
	if _, err := z.MakeCollection(ctx, zones.As(z.alice), catalog.MustPath(proj), false); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"run1.csv", "run2.csv"} {
		if err := z.put(t, z.alice, proj+"/"+n); err != nil {
			t.Fatal(err)
		}
	}
	avus := [][2]string{{"Title", "Reef survey"}, {"Author", "Doe, Jane; MPI-M"}, {"Description", "Two runs"}, {"Year", "2026"}, {"Institute", "MPI-M; Ocean; Doe"}}
	for i, a := range avus {
		if err := z.AddMetadata(ctx, zones.As(z.alice), catalog.CollectionTarget(catalog.MustPath(proj)), []catalog.AVU{{Attribute: a[0], Value: a[1]}}); err != nil {
			t.Fatal(err)
		}
		jobs, err := z.ListJobs(ctx, zones.As(z.rods))
		if err != nil {
			t.Fatal(err)
		}
		if want := 0; i < len(avus)-1 && len(jobs) != want {
			t.Fatalf("after %s: %d jobs, the metadata is not complete yet", a[0], len(jobs))
		}
	}
	go z.RunJobs(ctx, zones.JobOptions{Poll: 100 * time.Millisecond})
	deadline := time.Now().Add(20 * time.Second)
	var list []zones.Certificate
	for len(list) == 0 || !strings.Contains(z.audit.String(), "a preservation certificate was issued for "+proj) {
		if time.Now().After(deadline) {
			t.Fatalf("no certificate: %v\naudit log:\n%s", list, z.audit.String())
		}
		time.Sleep(100 * time.Millisecond)
		if list, err = z.ListCertificates(ctx, zones.As(z.alice), catalog.MustPath(proj)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := z.ShowCertificate(ctx, zones.As(z.alice), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	v, err := certificate.Verify(c.File, roots)
	if err != nil {
		t.Fatal(err)
	}
	if v.Body.Manifest.ObjectCount != 2 || v.Body.Issuer.Organisation != "MPDL" {
		t.Errorf("body: %+v", v.Body)
	}
	// object.certificates now holds it: more metadata issues no other.
	if err := z.AddMetadata(ctx, zones.As(z.alice), catalog.CollectionTarget(catalog.MustPath(proj)), []catalog.AVU{{Attribute: "DOI", Value: "10.1234/x"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if list, _ = z.ListCertificates(ctx, zones.As(z.alice), catalog.MustPath(proj)); len(list) != 1 {
		t.Errorf("%d certificates after more metadata", len(list))
	}
}

// TestShippedCertificateRules: the rule set of policies/certificates
// loads, and certificate-reissue gives a changed object a new certificate
// that supersedes the old one.
func TestShippedCertificateRules(t *testing.T) {
	files := map[string][]byte{}
	for _, n := range []string{"fixity.yaml", "reissue.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "policies", "certificates", "rules", n))
		if err != nil {
			t.Fatal(err)
		}
		files[n] = b
	}
	z := newZone(t, files)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ca := useCertificates(t, z, "")
	var err error
	p := "/tempZone/home/alice/x.dat"
	if err := z.put(t, z.alice, p); err != nil {
		t.Fatal(err)
	}
	first, err := z.IssueCertificate(ctx, zones.As(z.rods), catalog.MustPath(p))
	if err != nil {
		t.Fatal(err)
	}
	// A new replica: the rule re-issues.
	if err := z.Replicate(ctx, zones.As(z.alice), zones.ReplicateRequest{Path: catalog.MustPath(p), Dest: "archiveResc"}, func(zones.ReplicaChange) error { return nil }); err != nil {
		t.Fatal(err)
	}
	go z.RunJobs(ctx, zones.JobOptions{Poll: 100 * time.Millisecond})
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := z.ListCertificates(ctx, zones.As(z.alice), catalog.MustPath(p))
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 2 {
			if list[1].ID != first.ID || list[1].SupersededBy != list[0].ID {
				t.Fatalf("list: %+v", list)
			}
			c, err := z.ShowCertificate(ctx, zones.As(z.alice), list[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			roots := x509.NewCertPool()
			roots.AddCert(ca)
			v, err := certificate.Verify(c.File, roots)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Body.Objects[0].Replicas) != 2 || v.Body.Previous.ID != first.ID {
				t.Errorf("the new certificate: %+v", v.Body.Objects[0].Replicas)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not re-issued: %+v\naudit:\n%s", list, z.audit.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSHA512AtIngest: a put into the archive gets its SHA-512 kept by a
// job of the rule, and certifying it then reads no data: its replica's
// file can be gone and the certificate is still issued, with both digests.
func TestSHA512AtIngest(t *testing.T) {
	z := newZone(t, example(t, "sha512-at-ingest.yaml"))
	ctx := context.Background()
	jobs, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	useCertificates(t, z, "")
	var err error
	rods := zones.As(z.rods)
	if _, err := z.MakeCollection(ctx, rods, catalog.MustPath("/tempZone/archive"), false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/tempZone/archive/a.csv", "/tempZone/home/rods/b.csv"} {
		if err := z.put(t, z.rods, p); err != nil {
			t.Fatal(err)
		}
	}
	go z.RunJobs(jobs, zones.JobOptions{Poll: 50 * time.Millisecond})
	kept := func(p string) bool {
		t.Helper()
		o, err := z.cat.DataObject(ctx, catalog.MustPath(p))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := z.cat.RecordsByRef(ctx, certificates.KindDigest, []string{"object:" + strconv.FormatInt(int64(o.ID), 10)})
		if err != nil {
			t.Fatal(err)
		}
		return len(recs) == 1
	}
	deadline := time.Now().Add(20 * time.Second)
	for !kept("/tempZone/archive/a.csv") {
		if time.Now().After(deadline) {
			t.Fatalf("no SHA-512 kept for the archive's object\naudit:\n%s", z.audit.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopJobs()
	if kept("/tempZone/home/rods/b.csv") {
		t.Error("an object outside the archive got its SHA-512 at ingest")
	}
	// The bytes go; the certificate needs none of them.
	o, err := z.cat.DataObject(ctx, catalog.MustPath("/tempZone/archive/a.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := filepath.Walk(z.dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasPrefix(filepath.Base(path), "a.csv") {
			return os.Remove(path)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c, err := z.IssueCertificate(ctx, rods, o.Path)
	if err != nil {
		t.Fatalf("certify after the bytes went: %v", err)
	}
	if c.Objects != 1 {
		t.Errorf("certificate of %d objects", c.Objects)
	}
}

// useCertificates gives z a TLS CA in its directory and a certificate
// keeper signing with a key that CA issued, as arca server does; it
// returns the CA's certificate, which verifies what the keeper signs.
func useCertificates(t *testing.T, z *zone, organisation string) *x509.Certificate {
	t.Helper()
	tlsDir := filepath.Join(z.dir, "tls")
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := tlsca.CreateCertificates(tlsDir, nil); err != nil {
		t.Fatal(err)
	}
	key, chain, err := tlsca.LoadOrCreateSigner(tlsDir, "tempZone")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := certificate.NewSigner(key, chain[:1])
	if err != nil {
		t.Fatal(err)
	}
	z.UseCertificates(certificates.NewKeeper(z.cat, signer, certificates.Config{Zone: "tempZone", Organisation: organisation, Logger: slog.New(slog.DiscardHandler)}))
	return chain[1]
}
