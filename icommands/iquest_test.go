package icommands

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog/query"
)

// TestIquestExamples parses every iquest example that a user reads, in
// iquest -h and in the README: each query must parse, and its FORMAT must
// fit the query's columns.
func TestIquestExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var examples []string
	for _, text := range []string{newIquest(nil).Example, string(readme)} {
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "iquest ") && line != "iquest attrs" {
				examples = append(examples, line)
			}
		}
	}
	if len(examples) < 4 {
		t.Fatalf("found %d iquest examples; the help alone has 4", len(examples))
	}
	quoted := regexp.MustCompile(`"([^"]*)"`)
	for _, ex := range examples {
		args := quoted.FindAllStringSubmatch(ex, -1)
		if len(args) == 0 || len(args) > 2 {
			t.Errorf("%s: want [FORMAT] QUERY in double quotes", ex)
			continue
		}
		q, err := query.Parse(args[len(args)-1][1])
		if err != nil {
			t.Errorf("%s: %v", ex, err)
			continue
		}
		if len(args) == 2 {
			if err := query.CheckFormat(args[0][1], len(q.Select)); err != nil {
				t.Errorf("%s: %v", ex, err)
			}
		}
	}
}

// TestIquest runs iquest against a zone: the forms iRODS users type, the
// limits as usage errors, typed --json values and the ACL audit query.
func TestIquest(t *testing.T) {
	s := newSession(t)
	if err := os.WriteFile(s.local("results.csv"), []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.must(t, "iput", s.local("results.csv"))
	s.must(t, "iadmin", "mkgroup", "lab")
	s.must(t, "ichmod", "read", "lab", "results.csv")
	home := "/tempZone/home/rods"
	manyOrs := "select DATA_NAME where " + strings.Repeat("DATA_NAME = 'x' or ", 2499) + "DATA_NAME = 'x'"
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // a regexp the output matches
		stderr string // a regexp the error output matches
	}{
		{"acl audit names the grantee", []string{"iquest", "%s %s %s", "select DATA_NAME, DATA_ACCESS_NAME, USER_NAME where COLL_NAME = '" + home + "'"},
			0, `(?m)^results.csv read lab$`, `^$`},
		{"2,500 ORs", []string{"iquest", manyOrs}, 2, `^$`, `too many conditions: the limit is 500`},
		{"no-page", []string{"iquest", "--no-page", "%s", "select DATA_NAME"}, 0, `(?m)^results.csv$`, `^$`},
		{"no-distinct", []string{"iquest", "no-distinct", "%s", "select DATA_NAME"}, 0, `(?m)^results.csv$`, `always distinct`},
		{"no-distinct without format", []string{"iquest", "no-distinct", "select DATA_NAME"}, 0, `DATA_NAME = results.csv`, `always distinct`},
		{"uppercase", []string{"iquest", "uppercase", "%s", "select DATA_NAME where DATA_NAME = 'RESULTS.CSV'"}, 0, `^results.csv\n$`, `^$`},
		{"uppercase like", []string{"iquest", "uppercase", "%s", "select DATA_NAME where DATA_NAME like 'Results.%' and DATA_SIZE > 0"}, 0, `^results.csv\n$`, `^$`},
		{"uppercase no-distinct", []string{"iquest", "uppercase", "no-distinct", "%s", "select DATA_NAME where DATA_NAME in ('RESULTS.CSV')"}, 0, `^results.csv\n$`, `always distinct`},
		{"without uppercase", []string{"iquest", "%s", "select DATA_NAME where DATA_NAME = 'RESULTS.CSV'"}, 0, `CAT_NO_ROWS_FOUND`, `^$`},
		{"upper in the language", []string{"iquest", "%s", "select DATA_NAME where upper(DATA_NAME) = 'RESULTS.CSV'"}, 0, `^results.csv\n$`, `^$`},
		{"attrs", []string{"iquest", "attrs"}, 0, `(?m)^DATA_SIZE +integer `, `^$`},
		{"too many words", []string{"iquest", "%s", "%s", "select DATA_NAME"}, 2, `^$`, `expects`},
		{"nothing", []string{"iquest"}, 2, `^$`, `name a query`},
		{"json values typed", []string{"iquest", "--json", "select DATA_NAME, DATA_SIZE, DATA_MODIFY_TIME, avg(DATA_SIZE) where DATA_NAME = 'results.csv'"},
			0, `^\{"DATA_MODIFY_TIME":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","DATA_NAME":"results.csv","DATA_SIZE":8,"avg\(DATA_SIZE\)":8\}\n$`, `^$`},
		{"json empty aggregate", []string{"iquest", "--json", "select count(DATA_ID), sum(DATA_SIZE) where DATA_NAME = 'nope'"},
			0, `^\{"count\(DATA_ID\)":0,"sum\(DATA_SIZE\)":null\}\n$`, `^$`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.run(t, tc.args...)
			if r.code != tc.code || !regexp.MustCompile(tc.stdout).MatchString(r.out) || !regexp.MustCompile(tc.stderr).MatchString(r.err) {
				t.Errorf("exit %d, want %d\nstdout: %.300s\nstderr: %.300s", r.code, tc.code, r.out, r.err)
			}
			if len(r.err) > 1000 {
				t.Errorf("%d bytes on stderr: the input is repeated", len(r.err))
			}
		})
	}
	var attrs []map[string]any
	if err := json.Unmarshal([]byte(s.must(t, "iquest", "--json", "attrs")), &attrs); err != nil || len(attrs) != len(query.Columns()) {
		t.Errorf("iquest --json attrs: %d columns, %v", len(attrs), err)
	}
}
