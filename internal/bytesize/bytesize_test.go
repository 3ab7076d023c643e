package bytesize

import (
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"4096", 4096}, {"7 B", 7}, {"7B", 7},
		{"10GiB", 10 << 30}, {"10Gi", 10 << 30}, {"10G", 10 << 30}, {"1k", 1024}, {"1K", 1024},
		{"5MB", 5e6}, {"5kB", 5e3}, {"1TB", 1e12}, {"1.5KiB", 1536}, {"1PiB", 1 << 50},
		{" 2 MiB ", 2 << 20}, {"9223372036854775807", 1<<63 - 1},
	}
	for _, g := range good {
		if got, err := Parse(g.in); err != nil || got != g.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", g.in, got, err, g.want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1", "-0.5K", "ten", "1X", "99999999999PiB", "8192P", "1e30",
		"NaN", "NAN", "nanK", "Inf", "+InfGiB", "0x10", "1..5G"} {
		if n, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", bad, n)
		}
	}
}

// FuzzParse: what parses is 0 or more, and a plain number parses to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "512KiB", "1GiB", "10MB", "1.5G", "x", "-1", "NAN", "1e300", "123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err == nil && n < 0 {
			t.Errorf("Parse(%q) = %d", s, n)
		}
		if v, perr := strconv.ParseInt(s, 10, 64); perr == nil && v >= 0 && (err != nil || n != v) {
			t.Errorf("Parse(%q) = %d, %v; want %d", s, n, err, v)
		}
	})
}
