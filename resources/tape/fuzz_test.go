package tape_test

import (
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
