package federation

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/zones"
)

// zoneTLS makes the TLS files of a zone in a directory of its own and
// returns the directory and the PEM of its CA.
func zoneTLS(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	if err := tlsca.CreateCertificates(dir, nil); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, tlsca.CACertFile))
	if err != nil {
		t.Fatal(err)
	}
	return dir, string(ca)
}

func chainOf(t *testing.T, c tls.Certificate) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, der := range c.Certificate {
		x, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

func TestVerifyPeer(t *testing.T) {
	ctx := context.Background()
	dirA, caA := zoneTLS(t)
	dirB, caB := zoneTLS(t)
	dirC, _ := zoneTLS(t)
	certA, err := tlsca.LoadOrCreateZoneCert(dirA, "zoneA")
	if err != nil {
		t.Fatal(err)
	}
	// Loading again gives the same certificate; another zone name is refused.
	again, err := tlsca.LoadOrCreateZoneCert(dirA, "zoneA")
	if err != nil || string(again.Certificate[0]) != string(certA.Certificate[0]) {
		t.Fatalf("the zone certificate again: %v", err)
	}
	if _, err := tlsca.LoadOrCreateZoneCert(dirA, "renamed"); err == nil || !strings.Contains(err.Error(), `names zone "zoneA"`) {
		t.Errorf("a zone certificate for another name: %v", err)
	}
	certB, err := tlsca.LoadOrCreateZoneCert(dirB, "zoneB")
	if err != nil {
		t.Fatal(err)
	}
	certC, err := tlsca.LoadOrCreateZoneCert(dirC, "zoneC")
	if err != nil {
		t.Fatal(err)
	}
	// Zone B's CA signs a certificate that claims to be zone A.
	forgeDir := t.TempDir()
	for _, f := range []string{tlsca.CACertFile, "ca-key.pem"} {
		b, err := os.ReadFile(filepath.Join(dirB, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(forgeDir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	forged, err := tlsca.LoadOrCreateZoneCert(forgeDir, "zoneA")
	if err != nil {
		t.Fatal(err)
	}
	// The server certificate of zone A names no zone.
	serverA, err := tls.LoadX509KeyPair(filepath.Join(dirA, "server.pem"), filepath.Join(dirA, "server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	registry := func(_ context.Context, name string) (zones.RemoteZone, error) {
		switch name {
		case "zoneA":
			return zones.RemoteZone{Name: name, CAPEM: caA}, nil
		case "zoneB":
			return zones.RemoteZone{Name: name, CAPEM: caB}, nil
		}
		return zones.RemoteZone{}, fmt.Errorf("zone %s: %w", name, catalog.ErrNotFound)
	}
	for _, c := range []struct {
		name  string
		cert  tls.Certificate
		zone  string
		error string
	}{
		{"zone A", certA, "zoneA", ""},
		{"zone B", certB, "zoneB", ""},
		{"an unregistered zone", certC, "", "zone zoneC is not registered here"},
		{"zone B's CA claiming zone A", forged, "", "not signed by the CA registered for it"},
		{"a certificate naming no zone", serverA, "", "names no zone"},
		{"nothing", tls.Certificate{}, "", "presented no certificate"},
	} {
		zone, err := VerifyPeer(ctx, chainOf(t, c.cert), registry)
		switch {
		case c.error == "" && (err != nil || zone != c.zone):
			t.Errorf("%s: %q, %v; want %s", c.name, zone, err, c.zone)
		case c.error != "" && (err == nil || !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), c.error)):
			t.Errorf("%s: %q, %v; want ErrUntrusted saying %q", c.name, zone, err, c.error)
		}
	}
}
