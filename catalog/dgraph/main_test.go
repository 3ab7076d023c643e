package dgraph

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs the conformance suite's model test with fewer random runs
// than rapid's default of 100, unless -rapid.checks says otherwise: every
// step is a Dgraph transaction over the network, so the default costs tens
// of minutes, while the SQLite backend runs the full model on every test
// run against the same checks.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		if err := flag.Set("rapid.checks", "25"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
