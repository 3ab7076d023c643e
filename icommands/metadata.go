package icommands

import (
	"errors"
	"fmt"
	"strings"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

// parseMetadataTriplets reads the AVUs of iput --metadata:
// "attr;value;unit;attr2;value2;unit2". The unit may be empty, and the last
// one may be left out ("a;1;;b;2"); a trailing ";" is allowed. A backslash
// makes a ";" or a backslash after it literal (`a\;b`); any other backslash
// is itself. Every AVU must be valid and appear once.
func parseMetadataTriplets(s string) ([]catalog.AVU, error) {
	var fields []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == ';' || s[i+1] == '\\'):
			cur.WriteByte(s[i+1])
			i++
		case c == ';':
			fields = append(fields, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	fields = append(fields, cur.String())
	switch len(fields) % 3 {
	case 1:
		if fields[len(fields)-1] != "" || len(fields) == 1 {
			return nil, fmt.Errorf(`%w: metadata %s: attribute %s has no value (want "attr;value;unit;...")`,
				catalog.ErrInvalidArgument, quoteArg(s), quoteArg(fields[len(fields)-1]))
		}
		fields = fields[:len(fields)-1] // "a;v;u;"
	case 2:
		fields = append(fields, "") // the last unit left out
	}
	avus := make([]catalog.AVU, 0, len(fields)/3)
	for i := 0; i < len(fields); i += 3 {
		avus = append(avus, catalog.AVU{Attribute: fields[i], Value: fields[i+1], Unit: fields[i+2]})
	}
	if err := catalog.ValidateAVUs(avus); err != nil {
		return nil, fmt.Errorf("metadata %s: %w", quoteArg(s), err)
	}
	return avus, nil
}

// formatMetadataTriplets is the inverse of parseMetadataTriplets.
func formatMetadataTriplets(avus []catalog.AVU) string {
	esc := strings.NewReplacer(`\`, `\\`, `;`, `\;`)
	parts := make([]string, 0, 3*len(avus))
	for _, a := range avus {
		parts = append(parts, esc.Replace(a.Attribute), esc.Replace(a.Value), esc.Replace(a.Unit))
	}
	return strings.Join(parts, ";")
}

// inputError makes a refusal of local input (a bad AVU, a bad pattern) a
// usage error: the command line was wrong, nothing was sent.
func inputError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, catalog.ErrInvalidArgument) || errors.Is(err, catalog.ErrExists) || errors.Is(err, catalog.ErrInvalidName) {
		return usageError{err.Error()}
	}
	return err
}

func avusPB(avus []catalog.AVU) []*arcapb.AVU {
	out := make([]*arcapb.AVU, len(avus))
	for i, a := range avus {
		out[i] = &arcapb.AVU{Attribute: a.Attribute, Value: a.Value, Unit: a.Unit}
	}
	return out
}

// avuJSON is the stable JSON shape of an AVU; "units" as imeta ls prints it.
func avuJSON(a *arcapb.AVU) map[string]string {
	return map[string]string{"attribute": a.GetAttribute(), "value": a.GetValue(), "units": a.GetUnit()}
}
