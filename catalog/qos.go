package catalog

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
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

// MaxQoSReplicas bounds the replicas one requirement asks for, and
// MaxQoSExpression the length of its expression.
const (
	MaxQoSReplicas   = 16
	MaxQoSExpression = 1024
)

// QoSRequirement asks for Replicas good replicas of a data object on
// resources that Expr matches. On a collection it applies to every data
// object below it, now and later. It follows its collection or object when
// that is renamed, and goes with it when it is removed; removing a
// requirement removes no replica.
type QoSRequirement struct {
	ID ID
	// Path is the collection or data object the requirement is on, as it
	// is now; Collection says which.
	Path       Path
	Collection bool
	// Expr is the expression in the canonical form of policies/qos.
	Expr       string
	Replicas   int
	Creator    UserID
	CreateTime time.Time
}

// Validate checks r for AddQoSRequirement without a catalog; that the
// expression parses is the zone's to check (the catalog stores its text).
func (r QoSRequirement) Validate() error {
	if err := CheckPath(r.Path); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(r.Expr) == "":
		return invalid("qos requirement on %s: empty expression", r.Path)
	case len(r.Expr) > MaxQoSExpression:
		return invalid("qos requirement on %s: expression longer than %d bytes", r.Path, MaxQoSExpression)
	case !utf8.ValidString(r.Expr):
		return invalid("qos requirement on %s: expression is not valid UTF-8", r.Path)
	case r.Replicas < 1 || r.Replicas > MaxQoSReplicas:
		return invalid("qos requirement on %s: replicas %d: want 1 to %d", r.Path, r.Replicas, MaxQoSReplicas)
	}
	return nil
}

// QoS keeps the QoS requirements of collections and data objects.
type QoS interface {
	// AddQoSRequirement stores r on the collection or data object at
	// r.Path (ErrNotFound when there is none) and returns it with its ID,
	// Collection and CreateTime set. The same expression twice on one
	// target is refused with ErrExists.
	AddQoSRequirement(ctx context.Context, r QoSRequirement) (QoSRequirement, error)
	// QoSRequirement returns the requirement id (ErrNotFound).
	QoSRequirement(ctx context.Context, id ID) (QoSRequirement, error)
	// RemoveQoSRequirement deletes the requirement id and returns it.
	RemoveQoSRequirement(ctx context.Context, id ID) (QoSRequirement, error)
	// QoSRequirementsOn returns the requirements that apply to p: those on
	// p and on every collection above it, ordered by path and then ID.
	QoSRequirementsOn(ctx context.Context, p Path) ([]QoSRequirement, error)
	// QoSRequirementsBelow returns the requirements on p and on everything
	// below it, ordered by path and then ID.
	QoSRequirementsBelow(ctx context.Context, p Path) ([]QoSRequirement, error)
}

// SortQoSRequirements orders rs by path and then ID, as QoS's methods
// return them.
func SortQoSRequirements(rs []QoSRequirement) {
	slices.SortFunc(rs, func(a, b QoSRequirement) int {
		if c := strings.Compare(a.Path.String(), b.Path.String()); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// PathsAbove returns p and every collection above it, from p up to "/".
func PathsAbove(p Path) []Path {
	out := []Path{p}
	for !p.IsRoot() && !p.IsZero() {
		p = p.Parent()
		out = append(out, p)
	}
	return out
}
