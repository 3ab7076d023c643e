package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/icommands"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testldap"
	"github.com/arca-data/arca/internal/testzone"
	"github.com/arca-data/arca/zones/auth"
)

// ldapServerConfig is the test directory as a zone's LDAP settings:
// StartTLS, the service account, provisioning on.
func ldapServerConfig(d testldap.Directory) auth.LDAPConfig {
	return auth.LDAPConfig{URL: d.URL, Base: d.People, GroupBase: d.Groups, CAFile: d.CAFile,
		BindDN: d.BindDN, BindPasswordFile: d.BindPasswordFile, Provision: true}
}

// TestLDAPLoginEndToEnd logs in with iinit as directory users and as the
// native rods against a zone that uses the test slapd, and checks what each
// may then do, what is refused with which exit status, and that the
// server's log holds no password and no token.
func TestLDAPLoginEndToEnd(t *testing.T) {
	d := testldap.Get(t)
	tmp := t.TempDir()
	z := testzone.StartZone(t, filepath.Join(tmp, "zone"), server.ServerConfig{LDAP: ldapServerConfig(d)})
	user := func(name, password string) *inprocCLI {
		return newInprocCLI(t, filepath.Join(tmp, name, ".arca"), map[string]string{
			"HOME": filepath.Join(tmp, name), "ARCA_PASSWORD": password})
	}
	iinit := func(name string) []string {
		return []string{"iinit", "--host", z.Host, "--port", z.Port, "--ca", z.CAFile, "--user", name}
	}

	alice := user("alice", d.Passwords["alice"])
	alice.mustRun(iinit("alice")...)
	if out := alice.mustRun("ipwd"); strings.TrimSpace(out) != "/tempZone/home/alice" {
		t.Fatalf("alice's ipwd: %q", out)
	}
	local := filepath.Join(tmp, "results.csv")
	if err := os.WriteFile(local, []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	alice.mustRun("iput", "-K", local)
	if out := alice.mustRun("ils"); !strings.Contains(out, "results.csv") {
		t.Fatalf("alice's ils after iput: %q", out)
	}
	info := alice.mustRun("iuserinfo")
	for _, want := range []string{"member of group: lab#tempZone", "member of group: physics#tempZone", "authentication: ldap"} {
		if !strings.Contains(info, want) {
			t.Errorf("alice's iuserinfo lacks %q:\n%s", want, info)
		}
	}

	// bob, also from the directory, cannot read alice's data.
	bob := user("bob", d.Passwords["bob"])
	bob.mustRun(iinit("bob")...)
	if r := bob.run("iget", "/tempZone/home/alice/results.csv", filepath.Join(tmp, "stolen")); r.code != icommands.ExitPermission {
		t.Errorf("bob's iget of alice's file: exit %d, want %d\n%s", r.code, icommands.ExitPermission, r.stderr)
	}

	rods := user("rods", testzone.AdminPassword)
	rods.mustRun(iinit("rods")...)
	if out := rods.mustRun("iadmin", "lu", "alice"); !strings.Contains(out, "user_auth: ldap") {
		t.Errorf("iadmin lu alice:\n%s", out)
	}
	if r := rods.run("iadmin", "moduser", "alice", "password", "a-native-one"); r.code != icommands.ExitFailure || !strings.Contains(r.stderr, "logs in with LDAP") {
		t.Errorf("a native password for an LDAP user: exit %d, want %d\n%s", r.code, icommands.ExitFailure, r.stderr)
	}

	for _, tc := range []struct {
		name, user, password string
		code                 int
	}{
		{"wrong password", "alice", "not-alice's", icommands.ExitPermission},
		{"unknown user", "mallory", "whatever", icommands.ExitPermission},
		{"the directory's rods", "rods", d.Passwords["rods"], icommands.ExitPermission},
		{"case variant", "Alice", d.Passwords["alice"], icommands.ExitPermission},
		// Not a user name at all: refused as invalid before the directory
		// is asked (the directory client escapes them too: see ldapauth).
		{"filter injection", "*)(uid=*", d.Passwords["alice"], icommands.ExitFailure},
		{"wildcard", "*", d.Passwords["alice"], icommands.ExitFailure},
	} {
		r := user("x"+tc.name, tc.password).run(iinit(tc.user)...)
		if r.code != tc.code {
			t.Errorf("%s: iinit exit %d, want %d\n%s", tc.name, r.code, tc.code, r.stderr)
		}
	}
	if out := rods.mustRun("iadmin", "lu"); strings.Contains(out, "mallory") || strings.Contains(out, "Alice") || strings.Contains(out, "*") {
		t.Errorf("refused logins made users:\n%s", out)
	}

	// Nothing secret in the server's log.
	log := z.Log()
	secrets := map[string]string{"alice's password": d.Passwords["alice"], "bob's password": d.Passwords["bob"],
		"the directory's rods password": d.Passwords["rods"], "rods' password": testzone.AdminPassword}
	for _, name := range []string{"alice", "bob", "rods"} {
		token, err := os.ReadFile(filepath.Join(tmp, name, ".arca", "session"))
		if err != nil || len(strings.TrimSpace(string(token))) < 20 {
			t.Fatalf("%s's session token: %q, %v", name, token, err)
		}
		secrets[name+"'s token"] = strings.TrimSpace(string(token))
	}
	for what, secret := range secrets {
		if strings.Contains(log, secret) {
			t.Errorf("the server's log holds %s", what)
		}
	}
	if !strings.Contains(log, "provisioned a user from LDAP") || !strings.Contains(log, "login refused") {
		t.Errorf("the server's log does not tell provisioning and refusals:\n%s", log)
	}
	// Nor anywhere in the zone's files: catalog, its WAL, vault, TLS.
	err := filepath.WalkDir(z.DataDir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, secret := range secrets {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds %s", path, what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestServerLDAPFlagsAndConfigFile runs "arca server" as a user starts it,
// once with --ldap-* flags and once with DIR/arca.yaml overridden by a
// flag, and logs in as a directory user each time.
func TestServerLDAPFlagsAndConfigFile(t *testing.T) {
	d := testldap.Get(t)
	for _, tc := range []struct {
		name  string
		file  string
		flags []string
	}{
		{"flags", "", []string{"--ldap-url", d.LDAPSURL, "--ldap-base", d.People, "--ldap-user-attr", "uid",
			"--ldap-group-base", d.Groups, "--ldap-ca", d.CAFile, "--ldap-bind-dn", d.BindDN,
			"--ldap-bind-password-file", d.BindPasswordFile, "--ldap-provision=true"}},
		// The file says no provisioning and no CA; the flags win.
		{"file and flags", fmt.Sprintf("ldap:\n  url: %s\n  base: %s\n  group_base: %s\n  provision: false\n  user_filter: (objectClass=posixAccount)\n",
			d.URL, d.People, d.Groups), []string{"--ldap-provision", "--ldap-ca", d.CAFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			data := filepath.Join(tmp, "zone")
			if err := os.MkdirAll(data, 0o700); err != nil {
				t.Fatal(err)
			}
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(data, server.ConfigFileName), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			addr := freeAddr(t)
			t.Setenv("ARCA_ADMIN_PASSWORD", testzone.AdminPassword)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			var out lockedOutput
			go func() {
				cmd := newServerCommand(&out)
				cmd.SetArgs(append([]string{"--data", data, "--addr", addr}, tc.flags...))
				cmd.SetOut(&out)
				cmd.SetErr(&out)
				done <- cmd.ExecuteContext(ctx)
			}()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("server: %v", err)
				}
				if t.Failed() {
					t.Logf("server output:\n%s", out.String())
				}
			}()
			waitTLS(t, addr, done)
			host, port, _ := net.SplitHostPort(addr)
			cli := newInprocCLI(t, filepath.Join(tmp, ".arca"), map[string]string{"HOME": tmp, "ARCA_PASSWORD": d.Passwords["carol"]})
			cli.mustRun("iinit", "--host", host, "--port", port, "--ca", filepath.Join(data, "tls", "ca.pem"), "--user", "carol")
			if out := cli.mustRun("iuserinfo"); !strings.Contains(out, "member of group: physics#tempZone") {
				t.Errorf("carol's iuserinfo:\n%s", out)
			}
		})
	}
}

// Bad LDAP settings stop the server at its start, with a message.
func TestServerLDAPSettingsRefused(t *testing.T) {
	tmp := t.TempDir()
	for name, args := range map[string][]string{
		"ldap flags without url": {"--ldap-base", "dc=x"},
		"url without a host":     {"--ldap-url", "ldaps://", "--ldap-base", "dc=x"},
		"http url":               {"--ldap-url", "http://ldap.example.org", "--ldap-base", "dc=x"},
		"missing CA file":        {"--ldap-url", "ldaps://127.0.0.1", "--ldap-base", "dc=x", "--ldap-ca", filepath.Join(tmp, "nope.pem")},
		"missing config file":    {"--config", filepath.Join(tmp, "nope.yaml")},
	} {
		var out lockedOutput
		cmd := newServerCommand(&out)
		cmd.SetArgs(append([]string{"--data", filepath.Join(tmp, "zone"), "--addr", "127.0.0.1:0"}, args...))
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := cmd.ExecuteContext(ctx)
		cancel()
		if err == nil {
			t.Errorf("%s: the server started and stopped without an error", name)
		}
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

// waitTLS waits until addr completes a TLS handshake, or the server ends.
func waitTLS(t *testing.T, addr string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("the server stopped: %v", err)
		default:
		}
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no server on %s after 30s", addr)
}

// lockedOutput collects a server's output, which its goroutines write.
type lockedOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *lockedOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *lockedOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
