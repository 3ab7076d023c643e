// Package bytesize reads the byte counts users write in quotas, rules and
// resource contexts, so that "10G" means the same everywhere in Arca.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// units are the suffixes Parse knows, longest first within each family so
// that "KiB" is not read as "K" + "iB". A bare K, M, G, T or P is binary, as
// in ZFS and Lustre quotas and GNU tools; KB, MB, ... are decimal.
var units = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"PiB", 1 << 50},
	{"KB", 1e3}, {"kB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15},
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50},
	{"K", 1 << 10}, {"k", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"P", 1 << 50},
	{"B", 1},
}

// Parse reads a size such as "4096", "10GiB" or "10G" (binary), "5MB"
// (decimal) or "1.5TiB". It refuses negative, non-finite and out-of-range
// sizes with an error naming the text.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	if t == "" {
		return 0, fmt.Errorf("size %q: no number", s)
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n < 0 || (n > 0 && mult > math.MaxInt64/n) {
			return 0, fmt.Errorf("size %q: out of range", s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	// NaN passes every comparison as false, so the range test is written to
	// accept only what lies inside it.
	if err != nil || !(f >= 0 && f*float64(mult) < math.MaxInt64) {
		return 0, fmt.Errorf("size %q: want a number 0 or more with an optional unit (B, KiB, MiB, GiB, TiB, PiB; KB, MB, GB, TB, PB; K, M, G, T, P are binary)", s)
	}
	return int64(f * float64(mult)), nil
}
