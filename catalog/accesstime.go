package catalog

import (
	"context"
	"strconv"
	"time"
)

// AccessTimeAttr is the AVU in which the catalog keeps when a data object
// was last read or written, in seconds since 1970, as iRODS storage
// tiering keeps irods::access_time: the tiering policy selects the objects
// at rest with an ordinary query on it. Its values have ten digits until
// the year 2286, so that comparing them as strings compares the times.
const AccessTimeAttr = "arca.access_time"

// MaxAccessTimes is how many objects one SetAccessTimes may name.
const MaxAccessTimes = 10000

// AccessTimeValue is t as the value of an AccessTimeAttr AVU.
func AccessTimeValue(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// ParseAccessTime reads the value of an AccessTimeAttr AVU.
func ParseAccessTime(v string) (time.Time, error) {
	s, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, invalid("access time %q: not seconds since 1970", v)
	}
	return time.Unix(s, 0), nil
}

// AccessTimes keeps when data objects were last used.
type AccessTimes interface {
	// SetAccessTimes sets the AccessTimeAttr AVU of the data object at
	// each path of times to its time, all in one transaction, unless the
	// object holds a later one already. A path where no data object is
	// (any more) is skipped: the times are observations, collected and
	// written in batches, of objects that may have gone since.
	SetAccessTimes(ctx context.Context, times map[Path]time.Time) error
}

// CheckAccessTimes checks the argument of SetAccessTimes.
func CheckAccessTimes(times map[Path]time.Time) error {
	if len(times) > MaxAccessTimes {
		return invalid("%d access times (at most %d)", len(times), MaxAccessTimes)
	}
	for p, t := range times {
		if p.IsZero() || t.Unix() < 0 || t.Unix() > 9999999999 {
			return invalid("access time %s of %q", t, p)
		}
	}
	return nil
}
