package server

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/zones"
)

func TestConfigCertificates(t *testing.T) {
	c, err := ParseConfig([]byte("certificates: {organisation: Example Data Centre, stewards: stewards}\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := c.ServerConfig()
	if sc.Certificates.Organisation != "Example Data Centre" || sc.Certificates.Stewards != "stewards" {
		t.Errorf("read as %+v", sc.Certificates)
	}
	for conf, want := range map[string]string{
		"certificates: {stewards: 'a b#c#d'}": "certificates: stewards",
		"certificates: {steward: x}":          "field steward not found",
	} {
		if _, err := ParseConfig([]byte(conf)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", conf, err, want)
		}
	}
}

// TestStartCertificates: the first start makes the signing key beside the
// zone's CA (0600) and installs the keeper; later starts reuse the key.
func TestStartCertificates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tlsDir := filepath.Join(dir, "tls")
	if _, err := tlsca.LoadOrCreate(tlsDir, nil); err != nil {
		t.Fatal(err)
	}
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	zone := zones.New(cat, zones.Options{Logger: slog.New(slog.DiscardHandler)})
	cfg := ServerConfig{Logger: slog.New(slog.DiscardHandler)}
	if err := startCertificates(cfg, dir, zone, cat); err != nil {
		t.Fatal(err)
	}
	cert1, err := os.ReadFile(filepath.Join(tlsDir, tlsca.SigningCertFile))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(tlsDir, "cert-signing-key.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key: %v %v", fi, err)
	}
	if err := startCertificates(cfg, dir, zone, cat); err != nil {
		t.Fatal(err)
	}
	cert2, _ := os.ReadFile(filepath.Join(tlsDir, tlsca.SigningCertFile))
	if string(cert1) != string(cert2) {
		t.Fatal("a second start made another signing certificate")
	}
	if _, err := zone.ShowCertificate(ctx, zones.Principal{}, "urn:uuid:none"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("the keeper is not installed: %v", err)
	}
}
