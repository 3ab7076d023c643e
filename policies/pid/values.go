package pid

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// Value is one value of a handle record, as the Handle REST API shows it:
// {"index":1,"type":"URL","data":{"format":"string","value":"..."},
// "ttl":86400,"timestamp":"2001-11-21T16:21:35Z"}. Data of format "admin"
// (HS_ADMIN) is an object, kept as its JSON.
type Value struct {
	Index     int       `json:"index"`
	Type      string    `json:"type"`
	Data      Data      `json:"data"`
	TTL       int64     `json:"ttl"`
	Timestamp time.Time `json:"timestamp"`
}

// Data is a value's data.
type Data struct {
	Format string          `json:"format"`
	Value  json.RawMessage `json:"value"`
}

// The types of the EUDAT PID profile (B2SAFE 4), and Arca's own.
const (
	TypeURL           = "URL"
	TypeChecksum      = "EUDAT/CHECKSUM"
	TypeChecksumTime  = "EUDAT/CHECKSUM_TIMESTAMP"
	TypeROR           = "EUDAT/ROR"
	TypeFIO           = "EUDAT/FIO"
	TypeParent        = "EUDAT/PARENT"
	TypeReplica       = "EUDAT/REPLICA"
	TypeFixedContent  = "EUDAT/FIXED_CONTENT"
	TypeProfile       = "EUDAT/PROFILE_VERSION"
	TypeLocations     = "10320/LOC"
	TypeStatus        = "ARCA/STATUS" // "removed ..." once the data is gone
	TypeAdmin         = "HS_ADMIN"
	DefaultTTL        = 86400
	ProfileVersion    = "1"
	MaxValues         = 64
	MaxValueData      = 64 << 10
	indexAdmin        = 100
	formatString      = "string"
	formatAdmin       = "admin"
	statusRemoved     = "removed"
	fixedContentFalse = "False"
)

// StringValue is a value of format string.
func StringValue(index int, typ, s string, at time.Time) Value {
	raw, _ := json.Marshal(s)
	return Value{Index: index, Type: typ, Data: Data{Format: formatString, Value: raw}, TTL: DefaultTTL, Timestamp: at.UTC().Truncate(time.Second)}
}

// AdminValue is the HS_ADMIN value giving the prefix's administrator
// (0.NA/PREFIX, index 200) the usual permissions.
func AdminValue(prefix string, at time.Time) Value {
	raw, _ := json.Marshal(map[string]any{"handle": "0.NA/" + prefix, "index": 200, "permissions": "011111110011"})
	return Value{Index: indexAdmin, Type: TypeAdmin, Data: Data{Format: formatAdmin, Value: raw}, TTL: DefaultTTL, Timestamp: at.UTC().Truncate(time.Second)}
}

// String is the value's data as text: a string's text, else its JSON.
func (v Value) String() string {
	var s string
	if v.Data.Format == formatString && json.Unmarshal(v.Data.Value, &s) == nil {
		return s
	}
	return string(v.Data.Value)
}

// CheckValues checks the values of a record: indexes positive and unique,
// a type, data of a known format within bounds.
func CheckValues(vs []Value) error {
	if len(vs) == 0 || len(vs) > MaxValues {
		return fmt.Errorf("%w: a handle record holds 1 to %d values, not %d", catalog.ErrInvalidArgument, MaxValues, len(vs))
	}
	seen := map[int]bool{}
	for _, v := range vs {
		switch {
		case v.Index <= 0 || v.Index > 1<<20:
			return fmt.Errorf("%w: value index %d", catalog.ErrInvalidArgument, v.Index)
		case seen[v.Index]:
			return fmt.Errorf("%w: value index %d twice", catalog.ErrInvalidArgument, v.Index)
		case v.Type == "" || len(v.Type) > 256 || strings.ContainsFunc(v.Type, func(r rune) bool { return r < ' ' || r == 0x7f }):
			return fmt.Errorf("%w: value %d: type %q", catalog.ErrInvalidArgument, v.Index, clip(v.Type))
		case v.Data.Format != formatString && v.Data.Format != formatAdmin:
			return fmt.Errorf("%w: value %d: data format %q (string or admin)", catalog.ErrInvalidArgument, v.Index, clip(v.Data.Format))
		case len(v.Data.Value) > MaxValueData || !json.Valid(v.Data.Value):
			return fmt.Errorf("%w: value %d: data is not JSON of at most %d bytes", catalog.ErrInvalidArgument, v.Index, MaxValueData)
		case v.TTL < 0:
			return fmt.Errorf("%w: value %d: ttl %d", catalog.ErrInvalidArgument, v.Index, v.TTL)
		}
		if v.Data.Format == formatString {
			var s string
			if json.Unmarshal(v.Data.Value, &s) != nil {
				return fmt.Errorf("%w: value %d: data of format string is not a string", catalog.ErrInvalidArgument, v.Index)
			}
		}
		seen[v.Index] = true
	}
	return nil
}

func sortValues(vs []Value) {
	slices.SortFunc(vs, func(a, b Value) int { return a.Index - b.Index })
}

// find returns the value of type typ, if there is one.
func find(vs []Value, typ string) (Value, bool) {
	for _, v := range vs {
		if v.Type == typ {
			return v, true
		}
	}
	return Value{}, false
}

// ZoneValues are vs as the zone speaks of them.
func ZoneValues(vs []Value) []zones.PIDValue {
	out := make([]zones.PIDValue, 0, len(vs))
	for _, v := range vs {
		out = append(out, zones.PIDValue{Index: v.Index, Type: v.Type, Data: v.String(), TTL: v.TTL, Timestamp: v.Timestamp})
	}
	return out
}

// FromZoneValues are zone values as a record's: HS_ADMIN's data is JSON,
// every other value a string.
func FromZoneValues(vs []zones.PIDValue) ([]Value, error) {
	out := make([]Value, 0, len(vs))
	for _, v := range vs {
		val := StringValue(v.Index, v.Type, v.Data, v.Timestamp)
		val.TTL = v.TTL
		if v.Type == TypeAdmin {
			if !json.Valid([]byte(v.Data)) {
				return nil, fmt.Errorf("%w: HS_ADMIN data is not JSON", catalog.ErrInvalidArgument)
			}
			val.Data = Data{Format: formatAdmin, Value: json.RawMessage(v.Data)}
		}
		out = append(out, val)
	}
	return out, nil
}
