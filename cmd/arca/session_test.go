package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/icommands"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testzone"
)

// TestSessionExpires logs in to a zone whose sessions last 2s, and checks
// that the session works until it ends, that after it ends every command
// fails with exit status 4 and says the session expired and to run iinit,
// that iinit opens a new one, and that a stored token with one character
// changed is refused.
func TestSessionExpires(t *testing.T) {
	// Long enough that the first commands finish on a loaded machine.
	const ttl = 5 * time.Second
	tmp := t.TempDir()
	z := testzone.StartZone(t, filepath.Join(tmp, "zone"), server.ServerConfig{SessionTTL: ttl})
	cli := newInprocCLI(t, filepath.Join(tmp, ".arca"), map[string]string{
		"HOME":          filepath.Join(tmp, "home"),
		"ARCA_PASSWORD": testzone.AdminPassword,
	})
	iinit := []string{"iinit", "--host", z.Host, "--port", z.Port, "--ca", z.CAFile}

	loggedIn := time.Now()
	cli.mustRun(iinit...)
	if out := cli.mustRun("ipwd"); strings.TrimSpace(out) != "/tempZone/home/rods" {
		t.Fatalf("ipwd after iinit: %q", out)
	}
	cli.mustRun("imkdir", "kept")
	cli.mustRun("ils", "kept")

	// Poll until the session is refused: no sooner than the TTL (the login
	// began after loggedIn), and not much later.
	deadline := loggedIn.Add(ttl + 10*time.Second)
	var res result
	for {
		res = cli.run("ils", "kept")
		if res.code != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ils still works %s after the login; the session lasts %s", time.Since(loggedIn).Round(time.Millisecond), ttl)
		}
		time.Sleep(100 * time.Millisecond)
	}
	refusedAfter := time.Since(loggedIn)
	t.Logf("the session was refused %s after the login (TTL %s)", refusedAfter.Round(time.Millisecond), ttl)
	if refusedAfter < ttl {
		t.Errorf("the session was refused %s after the login, before its TTL of %s:\n%s", refusedAfter, ttl, res.stderr)
	}
	// The user must learn why, not only that: "expired", not "ended", which
	// is what iexit and a password change do.
	expired := regexp.MustCompile(`(?i)session (has )?expired.*run iinit`)
	checkRefused := func(what string, res result, want *regexp.Regexp) {
		t.Helper()
		if res.code != icommands.ExitPermission {
			t.Errorf("%s: exit %d, want %d\nstderr: %s", what, res.code, icommands.ExitPermission, res.stderr)
		}
		if !want.MatchString(res.stderr) {
			t.Errorf("%s: stderr %q does not match %q", what, res.stderr, want)
		}
		if res.stdout != "" {
			t.Errorf("%s printed on stdout: %q", what, res.stdout)
		}
	}
	checkRefused("ils with an expired session", res, expired)
	// It stays refused, for every command, and in JSON too.
	checkRefused("ils with an expired session, again", cli.run("ils", "kept"), expired)
	checkRefused("imkdir with an expired session", cli.run("imkdir", "new"), expired)
	res = cli.run("ils", "--json", "kept")
	checkRefused("ils --json with an expired session", res, regexp.MustCompile(`"exit_code":4`))
	if !expired.MatchString(res.stderr) {
		t.Errorf("ils --json with an expired session: stderr %q does not match %q", res.stderr, expired)
	}

	// iinit again: a new session, and the same command works.
	cli.mustRun(iinit...)
	cli.mustRun("ils", "kept")
	cli.mustRun("imkdir", "after-relogin")

	// A token with one character changed is refused, as is one with a
	// character more or less; the real one still works after.
	sessionPath := filepath.Join(cli.configDir, "session")
	raw, err := os.ReadFile(sessionPath)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	if len(token) < 16 {
		t.Fatalf("the stored session token is %q", token)
	}
	noSession := regexp.MustCompile(`(?i)session.*run iinit`)
	i := len(token) / 2
	other := func(b byte) string {
		if b == 'A' {
			return "B"
		}
		return "A"
	}
	for what, bad := range map[string]string{
		"a token with one character changed":      token[:i] + other(token[i]) + token[i+1:],
		"a token with its last character changed": token[:len(token)-1] + other(token[len(token)-1]),
		"a token one character short":             token[:len(token)-1],
		"a token one character long":              token + "A",
	} {
		if err := os.WriteFile(sessionPath, []byte(bad+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		checkRefused("ils with "+what, cli.run("ils", "kept"), noSession)
	}
	if err := os.WriteFile(sessionPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cli.mustRun("ils", "kept")
}

// TestSessionExpiredAfterMaintenance is TestSessionExpires for the usual
// case: the user comes back long after the session ended, when the zone's
// maintenance has run since. The message must still say it expired.
func TestSessionExpiredAfterMaintenance(t *testing.T) {
	const ttl, sweep = 4 * time.Second, 100 * time.Millisecond
	tmp := t.TempDir()
	z := testzone.StartZone(t, filepath.Join(tmp, "zone"), server.ServerConfig{SessionTTL: ttl, MaintenanceInterval: sweep})
	cli := newInprocCLI(t, filepath.Join(tmp, ".arca"), map[string]string{
		"HOME":          filepath.Join(tmp, "home"),
		"ARCA_PASSWORD": testzone.AdminPassword,
	})
	cli.mustRun("iinit", "--host", z.Host, "--port", z.Port, "--ca", z.CAFile)
	cli.mustRun("ils")
	time.Sleep(ttl + 10*sweep) // past the end of the session and several sweeps
	res := cli.run("ils")
	if res.code != icommands.ExitPermission {
		t.Errorf("ils after the session expired and maintenance ran: exit %d, want %d\n%s", res.code, icommands.ExitPermission, res.stderr)
	}
	if want := regexp.MustCompile(`(?i)session (has )?expired.*run iinit`); !want.MatchString(res.stderr) {
		t.Errorf("ils after the session expired and maintenance ran: stderr %q does not match %q", res.stderr, want)
	}
}

// inprocCLI runs icommands in the test process, through the same command
// tree as the binary, with streams and an environment of its own.
type inprocCLI struct {
	t         *testing.T
	configDir string
	env       map[string]string
}

func newInprocCLI(t *testing.T, configDir string, env map[string]string) *inprocCLI {
	env["ARCA_CONFIG_DIR"] = configDir
	return &inprocCLI{t: t, configDir: configDir, env: env}
}

func (c *inprocCLI) run(args ...string) result {
	c.t.Helper()
	var out, errOut bytes.Buffer
	s := &icommands.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: func(k string) string { return c.env[k] }}
	root := &cobra.Command{Use: "arca"}
	root.AddCommand(icommands.Commands(s)...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := icommands.Run(ctx, root, args, s)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

func (c *inprocCLI) mustRun(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("arca %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}
