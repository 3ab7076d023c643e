package main

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testzone"
	"github.com/arca-data/arca/internal/tlsca"
)

// TestServerTLSVersions: the zone server speaks TLS 1.2 and 1.3, and refuses
// a client that offers at most TLS 1.1 or 1.0.
func TestServerTLSVersions(t *testing.T) {
	z := testzone.StartZone(t, filepath.Join(t.TempDir(), "zone"), server.ServerConfig{})
	pemBytes, err := os.ReadFile(z.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	for _, tc := range []struct {
		name string
		max  uint16
		ok   bool
	}{
		{"TLS 1.0", tls.VersionTLS10, false},
		{"TLS 1.1", tls.VersionTLS11, false},
		{"TLS 1.2", tls.VersionTLS12, true},
		{"TLS 1.3", tls.VersionTLS13, true},
	} {
		conf := &tls.Config{RootCAs: pool, ServerName: z.Host, MinVersion: tls.VersionTLS10, MaxVersion: tc.max, NextProtos: []string{"h2"}}
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", z.Addr, conf)
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if v := c.ConnectionState().Version; v != tc.max {
				t.Errorf("%s: negotiated %s", tc.name, tls.VersionName(v))
			}
			c.Close()
			continue
		}
		if err == nil {
			c.Close()
			t.Errorf("%s: the server accepted a %s client", tc.name, tls.VersionName(c.ConnectionState().Version))
		}
	}
}

// TestClientRefusesForeignCA: iinit with the CA of another zone refuses the
// server before sending a password, and stores no session.
func TestClientRefusesForeignCA(t *testing.T) {
	tmp := t.TempDir()
	z := testzone.StartZone(t, filepath.Join(tmp, "zone"), server.ServerConfig{})
	other := testzone.StartZone(t, filepath.Join(tmp, "other"), server.ServerConfig{})
	cli := newInprocCLI(t, filepath.Join(tmp, ".arca"), map[string]string{"HOME": tmp, "ARCA_PASSWORD": testzone.AdminPassword})
	r := cli.run("iinit", "--host", z.Host, "--port", z.Port, "--ca", other.CAFile)
	if r.code == 0 || !strings.Contains(r.stderr, "certificate") {
		t.Fatalf("iinit trusting another zone's CA: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(tmp, ".arca", "session")); err == nil {
		t.Error("a session was stored")
	}
	if strings.Contains(z.Log(), "login") {
		t.Errorf("the server saw a login:\n%s", z.Log())
	}
	// The client's TLS configuration alone, against the same server.
	conf, err := tlsca.ClientTLS(other.CAFile, z.Host)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := tls.Dial("tcp", z.Addr, conf); err == nil {
		c.Close()
		t.Fatal("ClientTLS accepted a server whose certificate does not chain to its CA")
	}
	// And with the right CA, all is well.
	cli.mustRun("iinit", "--host", z.Host, "--port", z.Port, "--ca", z.CAFile)
}
