package icommands

import (
	"testing"
)

func TestParseByteCount(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "100": 100, "10K": 10_000, "10k": 10_000, "1M": 1_000_000, "2G": 2_000_000_000,
		"1T": 1_000_000_000_000, "1Ki": 1024, "3Mi": 3 << 20, "1Gi": 1 << 30, "1Ti": 1 << 40, "5GB": 5_000_000_000, "7B": 7} {
		if got, err := parseByteCount(in); err != nil || got != want {
			t.Errorf("parseByteCount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "ten", "1.5G", "1X", "99999999999T", "G", "1 G"} {
		if _, err := parseByteCount(bad); err == nil {
			t.Errorf("parseByteCount(%q) accepted", bad)
		}
	}
}

// FuzzParseByteCount: any text parses to a count of 0 or more, or fails.
func FuzzParseByteCount(f *testing.F) {
	for _, s := range []string{"0", "10G", "1Ti", "-5", "9223372036854775807", "4611686018427387904Ki"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := parseByteCount(s); err == nil && n < 0 {
			t.Fatalf("parseByteCount(%q) = %d", s, n)
		}
	})
}
