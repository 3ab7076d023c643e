package query

import (
	"strings"
	"testing"
	"time"
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
	for _, in := range inputs {
		start := time.Now()
		_, err := Parse(in)
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("%.40q... took %v (err %v)", in, d, err != nil)
		}
	}
}
