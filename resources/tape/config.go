package tape

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/arca-data/arca/internal/bytesize"
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
	// StageSize bounds the online copies (bytes); the least recently
	// used go first. Default: twice a cartridge per drive.
	StageSize int64
}

func (c *Config) setDefaults() {
	if c.Drives <= 0 {
		c.Drives = 2
	}
	if c.CartridgeSize <= 0 {
		c.CartridgeSize = 1 << 30
	}
	if c.StageSize <= 0 {
		c.StageSize = 2 * c.CartridgeSize * int64(c.Drives)
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
			c.CartridgeSize, err = bytesize.Parse(v)
		case "mount_latency":
			c.MountLatency, err = time.ParseDuration(v)
		case "rewind_latency":
			c.RewindLatency, err = time.ParseDuration(v)
		case "seek_rate":
			c.SeekRate, err = bytesize.Parse(strings.TrimSuffix(v, "/s"))
		case "device":
			c.Device = v
		case "stage_size":
			c.StageSize, err = bytesize.Parse(v)
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
			return c, fmt.Errorf("tape context: unknown key %q (want drives, cartridge_size, mount_latency, rewind_latency, seek_rate, device, keep_online or stage_size)", k)
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
