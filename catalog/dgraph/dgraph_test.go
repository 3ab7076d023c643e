package dgraph

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/catalogtest"
)

// testAddr is the Dgraph alpha of the tests; see .ci/services/20-dgraph.sh.
func testAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("ARCA_TEST_DGRAPH")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ARCA_TEST_DGRAPH is not set: .ci/services/20-dgraph.sh must start Dgraph")
		}
		t.Skip("ARCA_TEST_DGRAPH is not set; start Dgraph with: source .ci/services/20-dgraph.sh")
	}
	return addr
}

var prefixSeq atomic.Int64

// newPrefix is a predicate prefix no other catalog of this run uses.
func newPrefix() string {
	return fmt.Sprintf("t%x%d", time.Now().UnixNano()&0xffffffffff, prefixSeq.Add(1))
}

// openTemp opens a fresh, empty catalog of its own prefix, dropped when t ends.
func openTemp(t testing.TB) *Catalog {
	t.Helper()
	addr := testAddr(t)
	c, err := Open(context.Background(), addr, Options{Prefix: newPrefix()})
	if err != nil {
		t.Fatal(err)
	}
	// Not dropped: dropping a predicate takes Dgraph a tenth of a second,
	// and the test cluster's data is temporary.
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalog.Catalog { return openTemp(t) })
}
