package icommands

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arca-data/arca/internal/testzone"
)

// session is a zone served in the test process and a client logged in to
// it as rods, with a configuration directory of its own: icommands run
// through Run, as the arca binary runs them, with their streams captured.
type session struct {
	dir            string // a directory for local files
	env            map[string]string
	stop           func()
	host, port, ca string
}

// newSession starts a zone and logs in as rods.
func newSession(t *testing.T) *session {
	t.Helper()
	dir := t.TempDir()
	addr, ca, stop := testzone.Start(t, filepath.Join(dir, "zone"))
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{dir: dir, stop: stop, host: host, port: port, ca: ca, env: map[string]string{
		"ARCA_CONFIG_DIR": filepath.Join(dir, ".arca"),
		"ARCA_PASSWORD":   testzone.AdminPassword,
		"HOME":            filepath.Join(dir, "home"),
	}}
	s.must(t, "iinit", "--host", host, "--port", port, "--ca", ca)
	return s
}

// as is a session of user, logged in with password in a configuration
// directory of its own, sharing the zone of s; the login's result is
// returned with it.
func (s *session) as(t testing.TB, user, password string) (*session, result) {
	t.Helper()
	u := &session{dir: s.dir, stop: s.stop, host: s.host, port: s.port, ca: s.ca, env: map[string]string{
		"ARCA_CONFIG_DIR": filepath.Join(t.TempDir(), ".arca"),
		"ARCA_PASSWORD":   password,
		"HOME":            s.env["HOME"],
	}}
	return u, u.run(t, "iinit", "--host", s.host, "--port", s.port, "--ca", s.ca, "--user", user)
}

// result is what one command did.
type result struct {
	out, err string
	code     int
}

// run runs the icommand args[0] with args[1:], with stdin as its input.
func (s *session) runIn(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	streams := &Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb, Getenv: func(k string) string { return s.env[k] }}
	cmds := append(Commands(streams), ArcaCommands(streams)...)
	for _, c := range cmds {
		if c.Name() == args[0] {
			code := Run(context.Background(), c, args[1:], streams)
			return result{out.String(), errb.String(), code}
		}
	}
	t.Fatalf("no command %s", args[0])
	return result{}
}

func (s *session) run(t testing.TB, args ...string) result {
	t.Helper()
	return s.runIn(t, "", args...)
}

// must runs a command that must succeed, and returns its standard output.
func (s *session) must(t testing.TB, args ...string) string {
	t.Helper()
	r := s.run(t, args...)
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

// client is a connection as the session's user, for tests of a
// command's parts.
func (s *session) client(t testing.TB) *client {
	t.Helper()
	a := &app{Streams: &Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}, Getenv: func(k string) string { return s.env[k] }}}
	c, err := a.connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	return c
}

// local is the path of a local file in the session's directory.
func (s *session) local(name string) string { return filepath.Join(s.dir, name) }
