package sqlite

import "testing"

func TestPreparable(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                  "SELECT 1",
		"SELECT 1;":                 "SELECT 1",
		"SELECT 1\n\t\t":            "SELECT 1",
		"\n\tSELECT 1 ; \n":         "\n\tSELECT 1",
		"SELECT ';' FROM t WHERE x": "SELECT ';' FROM t WHERE x",
	} {
		if got := preparable(in); got != want {
			t.Errorf("preparable(%q) = %q, want %q", in, got, want)
		}
	}
}
