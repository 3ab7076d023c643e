package tape_test

import (
	"strconv"
	"testing"

	"github.com/arca-data/arca/resources/tape"
)

// FuzzParseContext: any context string parses or fails with an error,
// never panics, and what parses is usable.
func FuzzParseContext(f *testing.F) {
	for _, s := range []string{"", "drives=2;cartridge_size=1GiB;mount_latency=200ms;seek_rate=400MiB/s",
		"keep_online=no;device=/dev/nst0", "drives=0", ";;", "=", "cartridge_size=1e30", "seek_rate=-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := tape.ParseContext("/lib", s)
		if err != nil {
			return
		}
		if c.Drives < 1 || c.CartridgeSize <= 0 || c.MountLatency < 0 || c.RewindLatency < 0 || c.SeekRate < 0 {
			t.Errorf("ParseContext(%q) = %+v: unusable", s, c)
		}
	})
}

// FuzzParseSize: a plain number parses to itself.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "512KiB", "1GiB", "10MB", "1.5G", "x", "-1"} {
		f.Add(s)
	}
	f.Add("123456789")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := tape.ParseSize(s)
		if err == nil && n < 0 {
			t.Errorf("ParseSize(%q) = %d", s, n)
		}
		if v, perr := strconv.ParseInt(s, 10, 64); perr == nil && v >= 0 && v < 1<<50 && (err != nil || n != v) {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, n, err, v)
		}
	})
}
