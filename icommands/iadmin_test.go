package icommands

import (
	"slices"
	"strings"
	"testing"
)

// TestIadminPasswords checks that iadmin mkuser and moduser take a
// password that is not on the command line, where ps shows it to every
// local user: "-" or nothing reads it from standard input (a prompt on a
// terminal), one line only; mkuser without one off a terminal does not
// read standard input at all.
func TestIadminPasswords(t *testing.T) {
	s := newSession(t)
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		login map[string]string // user -> password that must then log in ("" : none may)
	}{
		{"mkuser reads -", "alice pw\nnext line\n", []string{"mkuser", "alice", "rodsuser", "-"}, 0, map[string]string{"alice": "alice pw"}},
		{"mkuser without a password reads nothing", "bob pw\n", []string{"mkuser", "bob", "rodsuser"}, 0, map[string]string{"bob": ""}},
		{"mkuser with an argument", "", []string{"mkuser", "carol", "rodsuser", "carol pw"}, 0, map[string]string{"carol": "carol pw"}},
		{"moduser password reads stdin", "new pw\r\n", []string{"moduser", "alice", "password"}, 0, map[string]string{"alice": "new pw"}},
		{"moduser password -", "newer pw", []string{"moduser", "alice", "password", "-"}, 0, map[string]string{"alice": "newer pw"}},
		{"moduser password with an argument", "", []string{"moduser", "bob", "password", "bob pw"}, 0, map[string]string{"bob": "bob pw"}},
		{"moduser password, nothing on stdin", "", []string{"moduser", "alice", "password"}, 2, map[string]string{"alice": "newer pw"}},
		{"moduser password, an empty line", "\n", []string{"moduser", "alice", "password", "-"}, 2, map[string]string{"alice": "newer pw"}},
		{"moduser other field needs a value", "x\n", []string{"moduser", "alice", "info"}, 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.runIn(t, tc.stdin, append([]string{"iadmin"}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.code, r.err)
			}
			for user, pw := range tc.login {
				if pw == "" {
					for _, try := range []string{"", "bob pw"} {
						if _, r := s.as(t, user, try); r.code == 0 {
							t.Errorf("%s logs in with %q", user, try)
						}
					}
					continue
				}
				if _, r := s.as(t, user, pw); r.code != 0 {
					t.Errorf("%s cannot log in with %q: %s", user, pw, r.err)
				}
			}
		})
	}
	help := s.must(t, "iadmin", "-h")
	if !strings.Contains(help, "visible to every local user") {
		t.Errorf("iadmin -h does not say that a password argument is visible:\n%s", help)
	}
}

// TestOversizedInputIsCut runs commands with arguments of 100,000
// characters that their errors repeat (the client's, and the zone's) and
// checks that the message cuts them: messages repeated oversized input
// whole.
func TestOversizedInputIsCut(t *testing.T) {
	s := newSession(t)
	s.must(t, "imkdir", "c")
	huge := strings.Repeat("x", 100000)
	spaced := strings.Repeat("word ", 20000)
	cases := []struct {
		name string
		args []string
	}{
		{"usage: subcommand", []string{"imeta", huge, "-d", "c", "a", "v"}},
		{"usage: access level", []string{"ichmod", huge, "rods", "c"}},
		{"local validation of an AVU", []string{"imeta", "add", "-C", "c", "", huge}},
		{"local validation, spaced", []string{"imeta", "add", "-C", "c", "", spaced}},
		{"iput metadata", []string{"iput", "--metadata", "a;" + huge + ";u;b", s.local("nothing")}},
		{"query", []string{"iquest", "select DATA_NAME where DATA_NAME = '" + huge[:60000] + "' and"}},
		{"the zone's message: user", []string{"iadmin", "mkuser", huge, "rodsuser"}},
		{"the zone's message: path", []string{"ils", "/tempZone/home/rods/" + huge[:1000] + "/" + huge[:1000]}},
		{"the zone's message: grant", []string{"ichmod", "read", huge[:60000], "c"}},
		{"the zone's message: group", []string{"iadmin", "atg", huge[:60000], "rods"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.run(t, tc.args...)
			if r.code == 0 {
				t.Fatalf("succeeded: %.200s", r.out)
			}
			if len(r.err) > 1500 || strings.Contains(r.err, strings.Repeat("x", maxEcho+1)) {
				t.Errorf("%d bytes on stderr: %.300s", len(r.err), r.err)
			}
			t.Logf("%s", r.err)
			if r.err == "" {
				t.Error("no message")
			}
		})
	}
}

// TestIadminIRODSListings runs the listings iRODS administrators type:
// lr (resources, as ilsresc), lgd (a group's details) and lua (how users
// authenticate); each was an unknown subcommand.
func TestIadminIRODSListings(t *testing.T) {
	s := newSession(t)
	s.must(t, "iadmin", "mkuser", "alice", "rodsuser")
	s.must(t, "iadmin", "mkgroup", "lab")
	cases := []struct {
		args   []string
		code   int
		stdout []string // lines it holds
	}{
		{[]string{"lr"}, 0, []string{"demoResc"}},
		{[]string{"lr", "demoResc"}, 0, []string{"resc_name: demoResc", "resc_type_name: posix"}},
		{[]string{"lr", "nothing"}, 3, nil},
		{[]string{"lgd", "lab"}, 0, []string{"user_name: lab", "user_type_name: rodsgroup"}},
		{[]string{"lgd", "alice"}, 3, nil},
		{[]string{"lgd"}, 2, nil},
		{[]string{"lua"}, 0, []string{"alice#tempZone native", "rods#tempZone native"}},
		{[]string{"lua", "alice"}, 0, []string{"alice#tempZone native"}},
		{[]string{"lua", "lab"}, 3, nil},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := s.run(t, append([]string{"iadmin"}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.code, r.err)
			}
			lines := strings.Split(r.out, "\n")
			for _, want := range tc.stdout {
				if !slices.Contains(lines, want) {
					t.Errorf("no line %q in\n%s", want, r.out)
				}
			}
		})
	}
}
