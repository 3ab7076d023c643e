package tape

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config describes a virtual tape library.
type Config struct {
	Dir           string        // cartridges, index, spool and stage area
	Drives        int           // drives that can hold a cartridge at once (default 2)
	CartridgeSize int64         // bytes per cartridge (default 1 GiB)
	MountLatency  time.Duration // load a cartridge into a drive
	RewindLatency time.Duration // rewind and unload, on top of the seek back
	SeekRate      int64         // bytes per second the head passes while seeking (0: seeks are free)
	// Device, if set, is where the tar stream of the first cartridge is
	// written instead of a file under Dir: a real tape device such as
	// /dev/nst0, written sequentially. The library then has that one
	// cartridge.
	Device string
	// DropOnWrite keeps no online copy of what is written, so that every
	// read is a recall (tests; an archive that must not fill its disk).
	DropOnWrite bool
}

func (c *Config) setDefaults() {
	if c.Drives <= 0 {
		c.Drives = 2
	}
	if c.CartridgeSize <= 0 {
		c.CartridgeSize = 1 << 30
	}
}

// ParseContext reads the context string of a tape resource, for example
// "drives=2;cartridge_size=1GiB;mount_latency=200ms;seek_rate=400MiB;
// rewind_latency=50ms;device=/dev/nst0;keep_online=no". Unknown keys are
// refused. keep_online=no keeps no disk copy of what is written, so every
// read is a recall.
func ParseContext(dir, s string) (Config, error) {
	c := Config{Dir: dir}
	for _, kv := range strings.Split(s, ";") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return c, fmt.Errorf("tape context %q: want key=value", kv)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		var err error
		switch k {
		case "drives":
			c.Drives, err = strconv.Atoi(v)
			if err == nil && (c.Drives < 1 || c.Drives > 64) {
				err = fmt.Errorf("want 1 to 64")
			}
		case "cartridge_size":
			c.CartridgeSize, err = ParseSize(v)
		case "mount_latency":
			c.MountLatency, err = time.ParseDuration(v)
		case "rewind_latency":
			c.RewindLatency, err = time.ParseDuration(v)
		case "seek_rate":
			c.SeekRate, err = ParseSize(strings.TrimSuffix(v, "/s"))
		case "device":
			c.Device = v
		case "keep_online":
			switch v {
			case "yes", "true", "on":
				c.DropOnWrite = false
			case "no", "false", "off":
				c.DropOnWrite = true
			default:
				err = fmt.Errorf("want yes or no")
			}
		default:
			return c, fmt.Errorf("tape context: unknown key %q (want drives, cartridge_size, mount_latency, rewind_latency, seek_rate, device or keep_online)", k)
		}
		if err == nil && (c.MountLatency < 0 || c.RewindLatency < 0) {
			err = fmt.Errorf("a latency cannot be negative")
		}
		if err != nil {
			return c, fmt.Errorf("tape context %s=%q: %v", k, v, err)
		}
	}
	c.setDefaults()
	return c, nil
}

// ParseSize reads a byte count: "1048576", "512KiB", "1GiB", "10MB", "1G".
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	}
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || n*float64(mult) >= 1<<62 {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	return int64(n * float64(mult)), nil
}
