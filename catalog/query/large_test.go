package query

import (
	"runtime"
	"strings"
	"testing"
)

// TestLargeInputsAreFast guards against quadratic blow-ups on inputs near
// MaxQueryLength.
func TestLargeInputsAreFast(t *testing.T) {
	inputs := []string{
		"select DATA_NAME where " + strings.Repeat("DATA_SIZE = 1 and ", 3600) + "DATA_SIZE = 1",
		"select DATA_NAME where " + strings.Repeat("(DATA_SIZE = 1 and ", 99) + "DATA_SIZE = 1" + strings.Repeat(")", 99),
		"select " + strings.Repeat("DATA_NAME,", 6500) + "DATA_NAME",
		"select DATA_NAME where DATA_MODIFY_TIME = '" + strings.Repeat("9", 65000) + "'",
		"select DATA_NAME where DATA_SIZE = " + strings.Repeat("9", 65000),
		"select DATA_NAME where DATA_NAME = 'a' " + strings.Repeat("|| = 'a' ", 7000),
		strings.Repeat("\n", 65000) + "x",
		"select " + strings.Repeat("A", 65000),
		"select DATA_NAME, count(DATA_ID) order by " + strings.Repeat("DATA_NAME,", 6000) + "DATA_NAME",
	}
	// Allocation, not time, is the measure: it does not depend on the
	// machine's load, and work that grows with the square of the input
	// allocates that way too.
	for _, in := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Parse(in)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%d bytes: %d allocated (%.0f per byte)", len(in), alloc, float64(alloc)/float64(len(in)))
		if alloc > uint64(400*len(in))+1<<20 {
			t.Errorf("%.40q... (%d bytes) allocated %d bytes to parse (err %v)", in, len(in), alloc, err != nil)
		}
	}
}
