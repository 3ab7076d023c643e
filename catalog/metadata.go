package catalog

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// AVU is one item of user metadata: an attribute, a value and an optional
// unit, as in iRODS. An attribute may have many values on one target; the
// same triple appears at most once per target.
type AVU struct {
	Attribute string
	Value     string
	Unit      string
}

func (a AVU) String() string {
	if a.Unit == "" {
		return fmt.Sprintf("(%q, %q)", a.Attribute, a.Value)
	}
	return fmt.Sprintf("(%q, %q, %q)", a.Attribute, a.Value, a.Unit)
}

// Size limits of an AVU, in bytes: iRODS's columns meta_attr_name and
// meta_attr_value are varchar(2700), meta_attr_unit varchar(250).
const (
	MaxAttributeLen = 2700
	MaxValueLen     = 2700
	MaxUnitLen      = 250
)

// Validate checks a: a non-empty attribute and value, every field within
// its size limit, valid UTF-8 and free of NUL bytes. The error wraps
// ErrInvalidArgument and names the field and the problem.
func (a AVU) Validate() error {
	if a.Attribute == "" {
		return fmt.Errorf("%w: AVU %s: empty attribute", ErrInvalidArgument, a)
	}
	if a.Value == "" {
		return fmt.Errorf("%w: AVU %s: empty value (iRODS requires one)", ErrInvalidArgument, a)
	}
	return a.validateFields()
}

// validateFields checks sizes and encoding, but not emptiness.
func (a AVU) validateFields() error {
	for _, f := range []struct {
		name, s string
		max     int
	}{
		{"attribute", a.Attribute, MaxAttributeLen},
		{"value", a.Value, MaxValueLen},
		{"unit", a.Unit, MaxUnitLen},
	} {
		switch {
		case len(f.s) > f.max:
			return fmt.Errorf("%w: AVU %s of %d bytes: longer than %d bytes", ErrInvalidArgument, f.name, len(f.s), f.max)
		case !utf8.ValidString(f.s):
			return fmt.Errorf("%w: AVU %s %q is not valid UTF-8", ErrInvalidArgument, f.name, f.s)
		case strings.IndexByte(f.s, 0) >= 0:
			return fmt.Errorf("%w: AVU %s %q holds a NUL byte", ErrInvalidArgument, f.name, f.s)
		}
	}
	return nil
}

// ValidateAVUs checks every AVU of a call that adds them, and that none
// appears twice (which would be an ErrExists halfway through the call).
func ValidateAVUs(avus []AVU) error {
	if len(avus) == 0 {
		return fmt.Errorf("%w: no AVU given", ErrInvalidArgument)
	}
	seen := make(map[AVU]bool, len(avus))
	for i, a := range avus {
		if err := a.Validate(); err != nil {
			if len(avus) > 1 {
				return fmt.Errorf("AVU %d of %d: %w", i+1, len(avus), err)
			}
			return err
		}
		if seen[a] {
			return fmt.Errorf("%w: AVU %s is given twice", ErrExists, a)
		}
		seen[a] = true
	}
	return nil
}

// ValidatePattern checks a pattern of RemoveMetadataMatching: like an AVU,
// but only the attribute must be non-empty (an empty value or unit pattern
// matches only an empty field).
func ValidatePattern(p AVU) error {
	if p.Attribute == "" {
		return fmt.Errorf("%w: AVU pattern %s: empty attribute", ErrInvalidArgument, p)
	}
	return p.validateFields()
}

// AVUTargetKind is what AVUs are attached to.
type AVUTargetKind int

const (
	TargetDataObject AVUTargetKind = iota + 1
	TargetCollection
	TargetResource
	TargetUser
)

func (k AVUTargetKind) String() string {
	switch k {
	case TargetDataObject:
		return "data object"
	case TargetCollection:
		return "collection"
	case TargetResource:
		return "resource"
	case TargetUser:
		return "user"
	}
	return fmt.Sprintf("AVUTargetKind(%d)", int(k))
}

// AVUTarget names what AVUs are attached to: a data object or a collection
// by Path, a resource by Name, a user by User. A data object's AVUs follow it
// through Rename and go with it when it is removed; so do a collection's,
// a resource's and a user's.
type AVUTarget struct {
	Kind AVUTargetKind
	Path Path   // TargetDataObject, TargetCollection
	Name string // TargetResource
	User UserID // TargetUser
}

// ObjectTarget, CollectionTarget, ResourceTarget and UserTarget make targets.
func ObjectTarget(p Path) AVUTarget        { return AVUTarget{Kind: TargetDataObject, Path: p} }
func CollectionTarget(p Path) AVUTarget    { return AVUTarget{Kind: TargetCollection, Path: p} }
func ResourceTarget(name string) AVUTarget { return AVUTarget{Kind: TargetResource, Name: name} }
func UserTarget(u UserID) AVUTarget        { return AVUTarget{Kind: TargetUser, User: u} }

func (t AVUTarget) String() string {
	switch t.Kind {
	case TargetDataObject, TargetCollection:
		return t.Kind.String() + " " + t.Path.String()
	case TargetResource:
		return "resource " + t.Name
	case TargetUser:
		return "user " + t.User.String()
	}
	return t.Kind.String()
}

// Validate checks that t names something of its kind.
func (t AVUTarget) Validate() error {
	switch t.Kind {
	case TargetDataObject, TargetCollection:
		if t.Path.IsZero() {
			return fmt.Errorf("%w: %s target without a path", ErrInvalidArgument, t.Kind)
		}
	case TargetResource:
		if t.Name == "" {
			return fmt.Errorf("%w: resource target without a name", ErrInvalidArgument)
		}
	case TargetUser:
		if err := ValidateUserName(t.User.Name); err != nil {
			return fmt.Errorf("%w: user target: %w", ErrInvalidArgument, err)
		}
		if err := ValidateUserName(t.User.Zone); err != nil {
			return fmt.Errorf("%w: zone of user target: %w", ErrInvalidArgument, err)
		}
	default:
		return fmt.Errorf("%w: unknown AVU target kind %d", ErrInvalidArgument, int(t.Kind))
	}
	return nil
}

// ReservedAttributePrefix begins the attributes that the zone and its
// policies keep: arca.expires (iretention expire), arca.access_time
// (tiering), arca.tier.* (iadmin modresc), arca.expiry_notified (the
// lifecycle rules). Through imeta only a rodsadmin in admin mode changes
// them, so that a writer can neither keep data from expiring or tiering
// nor fake a notice; the zone and rules set them without imeta.
const ReservedAttributePrefix = "arca."

// AVUBatch is AVUs to attach to one target, an item of AddMetadataBulk.
type AVUBatch struct {
	Target AVUTarget
	AVUs   []AVU
}

// Validate checks b's target and AVUs (see ValidateAVUs).
func (b AVUBatch) Validate() error {
	if err := b.Target.Validate(); err != nil {
		return err
	}
	return ValidateAVUs(b.AVUs)
}

// ValidateBatch checks every item of AddMetadataBulk before any is added,
// so that one bad item adds nothing; with more than one item, the error
// says which.
func ValidateBatch(batch []AVUBatch) error {
	if len(batch) == 0 {
		return invalid("no target given")
	}
	for i, b := range batch {
		if err := b.Validate(); err != nil {
			if len(batch) > 1 {
				return fmt.Errorf("item %d (%s): %w", i+1, b.Target, err)
			}
			return err
		}
	}
	return nil
}

// ValidateAVUChange checks the AVUs of ModifyMetadata; the error says
// whether old or new is wrong.
func ValidateAVUChange(old, new AVU) error {
	if err := old.Validate(); err != nil {
		return fmt.Errorf("old: %w", err)
	}
	if err := new.Validate(); err != nil {
		return fmt.Errorf("new: %w", err)
	}
	return nil
}

// Metadata manages the AVUs of data objects, collections, resources and
// users. A target that does not exist is ErrNotFound; a data object target
// naming a collection is ErrNotDataObject, and the reverse ErrNotCollection.
// AVUs are loaded only by ListMetadata, never with listings of the namespace.
type Metadata interface {
	// AddMetadata attaches avus to t, all or none (iRODS imeta add). An AVU
	// that t already has, or one given twice, is ErrExists, as in iRODS:
	// adding is not idempotent, so that a caller learns its AVU was there.
	AddMetadata(ctx context.Context, t AVUTarget, avus ...AVU) error
	// AddMetadataBulk is AddMetadata for many targets in one transaction:
	// one bad target or AVU and nothing of the batch is added.
	AddMetadataBulk(ctx context.Context, batch []AVUBatch) error
	// SetMetadata replaces every AVU of t with avu's attribute by avu
	// (iRODS imeta set).
	SetMetadata(ctx context.Context, t AVUTarget, avu AVU) error
	// RemoveMetadata removes the AVU of t equal to avu; ErrNotFound when t
	// has none (iRODS imeta rm).
	RemoveMetadata(ctx context.Context, t AVUTarget, avu AVU) error
	// RemoveMetadataMatching removes every AVU of t whose attribute, value
	// and unit match the LIKE patterns of pattern (see MatchLike), and
	// returns them in ListMetadata order; ErrNotFound when none matched
	// (iRODS imeta rmw).
	RemoveMetadataMatching(ctx context.Context, t AVUTarget, pattern AVU) ([]AVU, error)
	// ModifyMetadata replaces the AVU old of t by new (iRODS imeta mod):
	// ErrNotFound without old, ErrExists when t already has new.
	ModifyMetadata(ctx context.Context, t AVUTarget, old, new AVU) error
	// ListMetadata returns the AVUs of t ordered by attribute, value and
	// unit (byte order).
	ListMetadata(ctx context.Context, t AVUTarget) ([]AVU, error)
}

// MatchLike reports whether s matches the SQL LIKE pattern: % matches any
// run of characters (also none), _ matches exactly one character, and a
// backslash makes the character after it literal (\%, \_, \\). Unlike
// SQLite's LIKE, and like iRODS on PostgreSQL, it is case-sensitive.
func MatchLike(pattern, s string) bool {
	// Iterative matching with backtracking to the last %, linear in
	// practice and never exponential.
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			c, size := utf8.DecodeRuneInString(pattern[p:])
			switch {
			case c == '%':
				starP, starI = p+size, i
				p += size
				continue
			case c == '_':
				_, n := utf8.DecodeRuneInString(s[i:])
				p += size
				i += n
				continue
			default:
				// A literal: one character, or the character after a backslash.
				end := p + size
				lit := pattern[p:end]
				if c == '\\' && end < len(pattern) {
					_, n := utf8.DecodeRuneInString(pattern[end:])
					lit = pattern[end : end+n]
					end += n
				}
				if strings.HasPrefix(s[i:], lit) {
					p = end
					i += len(lit)
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last % swallow one more character and retry.
		_, n := utf8.DecodeRuneInString(s[starI:])
		starI += n
		p, i = starP, starI
	}
	for p < len(pattern) && pattern[p] == '%' {
		p++
	}
	return p == len(pattern)
}

// HasWildcard reports whether a LIKE pattern holds an unescaped % or _.
func HasWildcard(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++
		case '%', '_':
			return true
		}
	}
	return false
}

// UnescapeLike is the literal text of a pattern without wildcards.
func UnescapeLike(pattern string) string {
	if !strings.Contains(pattern, `\`) {
		return pattern
	}
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '\\' && i+1 < len(pattern) {
			i++
		}
		b.WriteByte(pattern[i])
	}
	return b.String()
}
