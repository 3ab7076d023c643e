package icommands

import (
	"strings"
	"testing"
)

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
