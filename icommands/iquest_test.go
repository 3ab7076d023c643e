package icommands

import (
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
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "iquest ") {
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
