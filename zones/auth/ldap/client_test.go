package ldap_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/internal/testldap"
	ldapauth "github.com/arca-data/arca/zones/auth/ldap"
)

// configs are the ways a zone may reach the test directory.
func configs(t *testing.T, d testldap.Directory) map[string]ldapauth.Config {
	base := ldapauth.Config{Base: d.People, GroupBase: d.Groups, CAFile: d.CAFile, UserFilter: "(objectClass=inetOrgPerson)"}
	starttls, ldaps, service := base, base, base
	starttls.URL = d.URL
	ldaps.URL = d.LDAPSURL
	service.URL = d.LDAPSURL
	service.BindDN, service.BindPassword = d.BindDN, d.BindPassword(t)
	return map[string]ldapauth.Config{"StartTLS anonymous search": starttls, "LDAPS anonymous search": ldaps, "LDAPS service account": service}
}

func TestAuthenticate(t *testing.T) {
	d := testldap.Get(t)
	ctx := context.Background()
	for name, cfg := range configs(t, d) {
		t.Run(name, func(t *testing.T) {
			c, err := ldapauth.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				user, password string
				groups         []string
				err            error
			}{
				{"alice", d.Passwords["alice"], []string{"lab", "physics", "staff members"}, nil},
				{"bob", d.Passwords["bob"], []string{"lab"}, nil},
				{"carol", d.Passwords["carol"], []string{"physics"}, nil},
				{"dave", d.Passwords["dave"], []string{}, nil},
				{"alice", "wrong", nil, ldapauth.ErrInvalidCredentials},
				{"alice", d.Passwords["bob"], nil, ldapauth.ErrInvalidCredentials},
				{"alice", "", nil, ldapauth.ErrInvalidCredentials},
				{"nobody", "whatever", nil, ldapauth.ErrInvalidCredentials},
				// Not alice: the directory matches uid case-insensitively,
				// but the name must be exactly the entry's.
				{"ALICE", d.Passwords["alice"], nil, ldapauth.ErrInvalidCredentials},
				// Injection: none of these may find an entry to bind as.
				{"*", d.Passwords["alice"], nil, ldapauth.ErrInvalidCredentials},
				{"a*", d.Passwords["alice"], nil, ldapauth.ErrInvalidCredentials},
				{"*)(uid=*", d.Passwords["alice"], nil, ldapauth.ErrInvalidCredentials},
				{"alice)(|(uid=*", d.Passwords["alice"], nil, ldapauth.ErrInvalidCredentials},
				{"alice)(objectClass=*", d.Passwords["alice"], nil, ldapauth.ErrInvalidCredentials},
				{"alice\x00", d.Passwords["alice"], nil, ldapauth.ErrInvalidCredentials},
				{`alice\2a`, d.Passwords["alice"], nil, ldapauth.ErrInvalidCredentials},
				{"", d.Passwords["alice"], nil, ldapauth.ErrInvalidCredentials},
			} {
				id, err := c.Authenticate(ctx, tc.user, tc.password)
				if tc.err != nil {
					if !errors.Is(err, tc.err) {
						t.Errorf("Authenticate(%q) = %+v, %v; want %v", tc.user, id, err, tc.err)
					}
					if err != nil && tc.password != "" && strings.Contains(err.Error(), tc.password) {
						t.Errorf("the error names the password: %v", err)
					}
					continue
				}
				if err != nil {
					t.Errorf("Authenticate(%q): %v", tc.user, err)
					continue
				}
				if want := "uid=" + tc.user + "," + d.People; id.DN != want || !slices.Equal(id.Groups, tc.groups) {
					t.Errorf("Authenticate(%q) = %+v, want DN %s and groups %q", tc.user, id, want, tc.groups)
				}
			}
		})
	}
}

// An empty password is refused before the directory is contacted: the
// address here has nothing listening, and the answer is still "invalid
// credentials", not "unavailable".
func TestEmptyPasswordNeverReachesTheDirectory(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := lis.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	defer lis.Close()
	c, err := ldapauth.New(ldapauth.Config{URL: "ldap://" + lis.Addr().String(), Base: "dc=arca,dc=test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authenticate(context.Background(), "alice", ""); !errors.Is(err, ldapauth.ErrInvalidCredentials) {
		t.Fatalf("empty password: %v", err)
	}
	select {
	case <-accepted:
		t.Fatal("an empty password opened a connection to the directory")
	case <-time.After(100 * time.Millisecond):
	}
}

// A directory whose certificate does not chain to the configured CA is
// refused, over StartTLS and LDAPS alike, before any credential is sent.
func TestWrongCARefused(t *testing.T) {
	d := testldap.Get(t)
	otherCA := filepath.Join(t.TempDir(), "other-ca.pem")
	writeCA(t, otherCA)
	for name, cfg := range configs(t, d) {
		t.Run(name, func(t *testing.T) {
			cfg.CAFile = otherCA
			c, err := ldapauth.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Authenticate(context.Background(), "alice", d.Passwords["alice"])
			if !errors.Is(err, ldapauth.ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("with another CA: %v; want a certificate error", err)
			}
		})
	}
	// Without a CA file the system's roots are used, and they do not hold
	// the test CA either.
	cfg := configs(t, d)["LDAPS anonymous search"]
	cfg.CAFile = ""
	c, err := ldapauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authenticate(context.Background(), "alice", d.Passwords["alice"]); !errors.Is(err, ldapauth.ErrUnavailable) {
		t.Fatalf("with the system roots: %v", err)
	}
}

// Plain LDAP is possible only when asked for, and only to loopback.
func TestPlainLoopback(t *testing.T) {
	d := testldap.Get(t)
	cfg := configs(t, d)["StartTLS anonymous search"]
	cfg.InsecurePlainLoopback = true
	c, err := ldapauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authenticate(context.Background(), "bob", d.Passwords["bob"]); err != nil {
		t.Fatal(err)
	}
}

// The client speaks TLS 1.2 or newer only: a server that offers at most
// TLS 1.1 is refused.
func TestClientRefusesTLS11(t *testing.T) {
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	cert := writeCA(t, caFile)
	lis, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert},
		MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	handshake := make(chan error, 1)
	go func() {
		c, err := lis.Accept()
		if err != nil {
			handshake <- err
			return
		}
		defer c.Close()
		handshake <- c.(*tls.Conn).Handshake()
	}()
	c, err := ldapauth.New(ldapauth.Config{URL: "ldaps://" + lis.Addr().String(), Base: "dc=arca,dc=test", CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Authenticate(context.Background(), "alice", "secret")
	if !errors.Is(err, ldapauth.ErrUnavailable) || !strings.Contains(err.Error(), "version") {
		t.Fatalf("TLS 1.1 server: %v; want a protocol version error", err)
	}
	if herr := <-handshake; herr == nil {
		t.Fatal("the TLS 1.1 handshake succeeded")
	}
}

// A cancelled context ends a login that waits on a directory that does not
// answer.
func TestCancelledContext(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accept, never answer
		}
	}()
	c, err := ldapauth.New(ldapauth.Config{URL: "ldap://" + lis.Addr().String(), Base: "dc=arca,dc=test", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Authenticate(ctx, "alice", "secret")
	if !errors.Is(err, ldapauth.ErrUnavailable) {
		t.Fatalf("silent directory: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the login waited %v after its context ended", d)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := ldapauth.Config{URL: "ldaps://goldap.example.org", Base: "ou=people,dc=example,dc=org"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*ldapauth.Config)
	}{
		{"no url", func(c *ldapauth.Config) { c.URL = "" }},
		{"http", func(c *ldapauth.Config) { c.URL = "http://goldap.example.org" }},
		{"ldapi", func(c *ldapauth.Config) { c.URL = "ldapi:///var/run/slapd" }},
		{"no host", func(c *ldapauth.Config) { c.URL = "ldaps://" }},
		{"with a DN", func(c *ldapauth.Config) { c.URL = "ldaps://goldap.example.org/dc=x?uid" }},
		{"credentials in the url", func(c *ldapauth.Config) { c.URL = "ldaps://u:p@goldap.example.org" }},
		{"plain to a remote host", func(c *ldapauth.Config) {
			c.URL, c.InsecurePlainLoopback = "ldap://goldap.example.org", true
		}},
		{"plain with ldaps", func(c *ldapauth.Config) { c.URL, c.InsecurePlainLoopback = "ldaps://127.0.0.1", true }},
		{"no base", func(c *ldapauth.Config) { c.Base = "" }},
		{"bad base", func(c *ldapauth.Config) { c.Base = "not a dn" }},
		{"bad group base", func(c *ldapauth.Config) { c.GroupBase = "groups" }},
		{"bad user attribute", func(c *ldapauth.Config) { c.UserAttr = "uid)(cn=*" }},
		{"bad group attribute", func(c *ldapauth.Config) { c.GroupAttr = "c n" }},
		{"bad filter", func(c *ldapauth.Config) { c.UserFilter = "(objectClass=person" }},
		{"filter without parentheses", func(c *ldapauth.Config) { c.UserFilter = "objectClass=person" }},
		{"bind DN without password", func(c *ldapauth.Config) { c.BindDN = "cn=svc,dc=example,dc=org" }},
		{"password without bind DN", func(c *ldapauth.Config) { c.BindPassword = "x" }},
		{"negative timeout", func(c *ldapauth.Config) { c.Timeout = -time.Second }},
	} {
		c := ok
		tc.edit(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: %+v passed validation", tc.name, c)
		}
	}
	for _, u := range []string{"ldap://127.0.0.1:3389", "ldap://localhost", "ldap://[::1]:389"} {
		c := ok
		c.URL, c.InsecurePlainLoopback = u, true
		if err := c.Validate(); err != nil {
			t.Errorf("plain loopback %s: %v", u, err)
		}
	}
	if _, err := ldapauth.New(ldapauth.Config{URL: "ldaps://x", Base: "dc=x", CAFile: os.DevNull}); err == nil {
		t.Error("a CA file without a certificate was accepted")
	}
}

// writeCA writes a new self-signed CA certificate for 127.0.0.1 to path and
// returns it with its key, for a server that presents it.
func writeCA(t *testing.T, path string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "another CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Printing a configuration, in any way a log might, shows no bind password.
func TestConfigHidesPassword(t *testing.T) {
	c := ldapauth.Config{URL: "ldaps://x", Base: "dc=x", BindDN: "cn=svc,dc=x", BindPassword: "s3cret-bind"}
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("config", "ldap", c)
	log.Info("pointer", "ldap", &c)
	out := fmt.Sprintf("%v %+v %#v %s", c, c, c, c) + buf.String()
	if strings.Contains(out, "s3cret-bind") {
		t.Fatalf("the password shows: %s", out)
	}
	if !strings.Contains(out, "cn=svc,dc=x") {
		t.Fatalf("the rest does not: %s", out)
	}
}

func TestExists(t *testing.T) {
	d := testldap.Get(t)
	ctx := context.Background()
	for name, cfg := range configs(t, d) {
		t.Run(name, func(t *testing.T) {
			c, err := ldapauth.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				user string
				want bool
			}{
				{"alice", true},
				{"dave", true},
				{"nobody", false},
				{"ALICE", false}, // names match exactly, as at login
				{"*", false},     // escaped: no wildcard
				{"", false},
			} {
				got, err := c.Exists(ctx, tc.user)
				if err != nil || got != tc.want {
					t.Errorf("Exists(%q) = %v, %v; want %v", tc.user, got, err, tc.want)
				}
			}
		})
	}
	// A directory that cannot be asked is an error, not an absence.
	cfg := configs(t, d)["LDAPS anonymous search"]
	cfg.URL, cfg.Timeout = "ldaps://127.0.0.1:1", time.Second
	c, err := ldapauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := c.Exists(ctx, "alice"); !errors.Is(err, ldapauth.ErrUnavailable) || ok {
		t.Errorf("Exists against no directory = %v, %v; want ErrUnavailable", ok, err)
	}
}
