package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// Quality of service, after Onedata: a storage resource carries attributes
// (Resource.QoS, "type=tape,geo=DE,tier=cold"; the keys are free), and a
// requirement on a collection or data object asks for a number of replicas
// on resources whose attributes match an expression (policies/qos parses
// the expressions; the catalog stores them as text).

// MaxQoSAttributes bounds the attributes of one resource.
const MaxQoSAttributes = 64

// ParseQoSAttributes reads "key=value,key=value" (spaces around either
// ignored, "" for none). A key starts with a letter and holds letters,
// digits, '_', '-' and '.'; a value is not empty and holds no ',', '=',
// space or any character of an expression's grammar, so that every value
// can be written in an expression unquoted. A key may appear once.
func ParseQoSAttributes(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for i, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok:
			return nil, invalid("qos attribute %d %q: want key=value", i+1, strings.TrimSpace(part))
		case !validQoSKey(k):
			return nil, invalid("qos attribute %d: key %q: want a letter, then letters, digits, '_', '-' or '.'", i+1, k)
		case !validQoSValue(v):
			return nil, invalid("qos attribute %s: value %q: want a non-empty value without spaces or any of ,=<>&|\\()", k, v)
		}
		if _, dup := out[k]; dup {
			return nil, invalid("qos attribute %s given twice", k)
		}
		out[k] = v
	}
	if len(out) > MaxQoSAttributes {
		return nil, invalid("%d qos attributes: at most %d", len(out), MaxQoSAttributes)
	}
	return out, nil
}

// FormatQoSAttributes writes attrs in the canonical form that
// ParseQoSAttributes reads: sorted by key, "k=v,k=v".
func FormatQoSAttributes(attrs map[string]string) string {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + attrs[k])
	}
	return b.String()
}

// CanonicalQoSAttributes checks s and returns its canonical form.
func CanonicalQoSAttributes(s string) (string, error) {
	m, err := ParseQoSAttributes(s)
	if err != nil {
		return "", err
	}
	return FormatQoSAttributes(m), nil
}

func validQoSKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i, r := range k {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

func validQoSValue(v string) bool {
	if v == "" || len(v) > 256 {
		return false
	}
	for _, r := range v {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(",=<>&|\\()\"'", r) {
			return false
		}
	}
	return true
}

// validateQoS checks a resource's attributes for Validate.
func validateQoS(name, s string) error {
	if _, err := ParseQoSAttributes(s); err != nil {
		return fmt.Errorf("resource %s: %w", name, err)
	}
	return nil
}
