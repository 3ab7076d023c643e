package tlsca

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The server refuses to start with a private key that group or others can
// read, and makes its own keys mode 0600.
func TestTLSKeyModes(t *testing.T) {
	dir := t.TempDir()
	conf, err := LoadOrCreate(dir, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if conf.MinVersion != tls.VersionTLS12 {
		t.Errorf("server MinVersion %x, want TLS 1.2", conf.MinVersion)
	}
	for _, key := range []string{serverKeyFile, caKeyFile} {
		path := filepath.Join(dir, key)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s made with mode %v", key, fi.Mode().Perm())
		}
		for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreate(dir, nil); err == nil || !strings.Contains(err.Error(), "readable by group or others") {
				t.Errorf("%s with mode %v: %v", key, mode, err)
			}
		}
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadOrCreate(dir, nil); err != nil {
		t.Fatalf("back to 0600: %v", err)
	}
	client, err := ClientTLS(filepath.Join(dir, CACertFile), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if client.MinVersion != tls.VersionTLS12 {
		t.Errorf("client MinVersion %x, want TLS 1.2", client.MinVersion)
	}
}

// TestSigner: the certificate-signing key is made from the zone's CA once
// (0600), reused after, and its certificate chains to the CA.
func TestSigner(t *testing.T) {
	dir := t.TempDir()
	if err := CreateCertificates(dir, nil); err != nil {
		t.Fatal(err)
	}
	key, chain, err := LoadOrCreateSigner(dir, "tempZone")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, signingKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v, %v", fi.Mode().Perm(), err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(chain[1])
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("the signing certificate does not chain to the CA: %v", err)
	}
	again, _, err := LoadOrCreateSigner(dir, "tempZone")
	if err != nil || !again.Equal(key) {
		t.Fatalf("second start: a different key (%v)", err)
	}
	if err := os.Chmod(filepath.Join(dir, signingKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateSigner(dir, "tempZone"); err == nil {
		t.Fatal("a key readable by others was used")
	}
}
