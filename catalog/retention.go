package catalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Retention locks and legal holds, after S3 Object Lock: a data object may
// be retained until a date, in governance or compliance mode, and may carry
// a legal hold, which has no date. While either stands the object cannot be
// removed, overwritten, moved or renamed (nor any collection above it), and
// its last verified good replica cannot be trimmed. A compliance lock can
// only ever be extended; a governance lock can be shortened or removed only
// with a bypass that the zone grants to administrators. A collection may
// carry a default retention that the data objects created in it inherit,
// as an S3 bucket's default retention, and that the collections created in
// it copy.
//
// The lock is catalog state, not metadata: no AVU operation reaches it, and
// the backends refuse what it forbids in the very transactions that would
// do it (RemoveDataObject, RemoveCollection, Rename, BeginReplica of an
// overwrite, TrimReplica), so that no server of a zone, whatever its rules
// say, and no race between two of them, gets past it.

// ErrRetained means a retention lock or a legal hold refused the change.
// The error is a *LockError, which names the lock.
var ErrRetained = errors.New("retained")

// LockMode is the mode of a retention lock, with S3 Object Lock's names.
type LockMode string

const (
	// LockNone: no retention (a legal hold may still stand).
	LockNone LockMode = ""
	// LockGovernance can be shortened or removed by an administrator who
	// asks to bypass governance, and by nobody else.
	LockGovernance LockMode = "governance"
	// LockCompliance can be shortened or removed by nobody, rodsadmin
	// included, before its date; it can be extended.
	LockCompliance LockMode = "compliance"
)

// ParseLockMode accepts "governance" and "compliance", in any case.
func ParseLockMode(s string) (LockMode, error) {
	switch m := LockMode(strings.ToLower(strings.TrimSpace(s))); m {
	case LockGovernance, LockCompliance:
		return m, nil
	}
	return "", fmt.Errorf("%w: retention mode %q: want governance or compliance", ErrInvalidArgument, s)
}

// Validate checks that m is a mode the catalog stores ("" included).
func (m LockMode) Validate() error {
	switch m {
	case LockNone, LockGovernance, LockCompliance:
		return nil
	}
	return invalid("retention mode %q: want governance or compliance", string(m))
}

// Lock is the retention state of a data object: its retention (Mode and
// Until) and its legal hold. The zero Lock is no lock at all.
type Lock struct {
	Mode  LockMode
	Until time.Time // the end of retention; zero when Mode is LockNone
	Hold  bool      // a legal hold: no date, blocks removal on its own
	// SetBy and SetAt record the last change of the lock.
	SetBy UserID
	SetAt time.Time
}

// IsZero reports whether l neither retains nor holds, whatever it records.
func (l Lock) IsZero() bool { return l.Mode == LockNone && !l.Hold }

// Retains reports whether l's retention is in force at now.
func (l Lock) Retains(now time.Time) bool { return l.Mode != LockNone && now.Before(l.Until) }

// Locked reports whether l forbids removal at now: a retention in force
// or a legal hold.
func (l Lock) Locked(now time.Time) bool { return l.Hold || l.Retains(now) }

// Describe names the lock for messages: "a compliance lock until
// 2035-01-01T00:00:00Z", "a legal hold", or both, with who set it.
func (l Lock) Describe() string {
	var parts []string
	if l.Mode != LockNone {
		parts = append(parts, fmt.Sprintf("a %s lock until %s", l.Mode, l.Until.UTC().Format(time.RFC3339)))
	}
	if l.Hold {
		parts = append(parts, "a legal hold")
	}
	if len(parts) == 0 {
		return "no lock"
	}
	s := strings.Join(parts, " and ")
	if l.SetBy.Name != "" {
		s += " (set by " + l.SetBy.String() + ")"
	}
	return s
}

// Name is a short name of the lock, for machine-readable errors:
// "compliance", "governance", "legal-hold", or "compliance+legal-hold".
func (l Lock) Name() string {
	var parts []string
	if l.Mode != LockNone {
		parts = append(parts, string(l.Mode))
	}
	if l.Hold {
		parts = append(parts, "legal-hold")
	}
	return strings.Join(parts, "+")
}

// Validate checks a lock as a backend stores it.
func (l Lock) Validate() error {
	if err := l.Mode.Validate(); err != nil {
		return err
	}
	if (l.Mode == LockNone) != l.Until.IsZero() {
		return invalid("a retention lock has a mode and a date, or neither")
	}
	if err := CheckTime("retain until", l.Until); err != nil {
		return err
	}
	return CheckTime("lock time", l.SetAt)
}

// LockError is a change that a lock refused: it names the object, the
// lock and what could not be done.
type LockError struct {
	Path Path // the locked data object
	Lock Lock
	// Within, if set, is the collection the refused operation acted on,
	// which holds Path.
	Within Path
	// Action is what could not be done, as a past participle: "removed",
	// "overwritten", "moved or renamed", ...
	Action string
	// Hint, if set, says what would be allowed.
	Hint string
}

func (e *LockError) Error() string {
	var s string
	if e.Within.IsZero() || e.Within == e.Path {
		s = fmt.Sprintf("%s is under %s: it cannot be %s", e.Path, e.Lock.Describe(), e.Action)
	} else {
		s = fmt.Sprintf("%s holds %s, which is under %s: it cannot be %s", e.Within, e.Path, e.Lock.Describe(), e.Action)
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Unwrap makes a LockError an ErrRetained.
func (e *LockError) Unwrap() error { return ErrRetained }

// Refuse returns a *LockError for action on the object at p under l if l
// is in force at now, else nil.
func (l Lock) Refuse(p Path, now time.Time, action string) error {
	if !l.Locked(now) {
		return nil
	}
	return &LockError{Path: p, Lock: l, Action: action}
}

// Period is a retention period in calendar units, as S3's default
// retention counts years or days. Weeks are kept as days.
type Period struct {
	Years, Months, Days int
}

// maxPeriodField bounds each field, so that adding a period to a time
// cannot overflow; the date it gives is checked with CheckTime.
const maxPeriodField = 99999

// ParsePeriod reads a retention period: the short form "10y", "6m",
// "30d", "2w" or a combination in that order ("1y6m"), or ISO 8601's
// date part "P10Y", "P1Y6M", "P2W", "P30D". Hours and smaller units are
// refused: retention counts days.
func ParsePeriod(s string) (Period, error) {
	fail := func(why string) (Period, error) {
		return Period{}, fmt.Errorf("%w: retention period %q: %s (want e.g. 10y, 6m, 30d, P10Y or P1Y6M)", ErrInvalidArgument, s, why)
	}
	in := strings.TrimSpace(s)
	if in == "" {
		return fail("empty")
	}
	iso := false
	if in[0] == 'P' || in[0] == 'p' {
		iso, in = true, in[1:]
		if in == "" {
			return fail("no amount after P")
		}
	}
	var p Period
	order := "ymwd"
	next := 0 // index in order of the first unit still allowed
	for in != "" {
		i := 0
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == 0 {
			if iso && (in[0] == 'T' || in[0] == 't') {
				return fail("hours, minutes and seconds are not retention units")
			}
			return fail(fmt.Sprintf("a number must come before %q", in[:1]))
		}
		if i == len(in) {
			return fail(fmt.Sprintf("%s has no unit (y, m, w or d)", in))
		}
		if i > 5 {
			return fail(fmt.Sprintf("%s is too large", in[:i]))
		}
		n, err := strconv.Atoi(in[:i])
		if err != nil {
			return fail(err.Error())
		}
		unit := strings.ToLower(in[i : i+1])
		at := strings.Index(order, unit)
		switch {
		case at < 0 && (unit == "t" || unit == "h" || unit == "s"):
			return fail("hours, minutes and seconds are not retention units")
		case at < 0:
			return fail(fmt.Sprintf("unknown unit %q", in[i:i+1]))
		case at < next:
			return fail("each unit once, in the order years, months, weeks, days")
		}
		next = at + 1
		switch unit {
		case "y":
			p.Years = n
		case "m":
			p.Months = n
		case "w":
			p.Days += 7 * n
		case "d":
			p.Days += n
		}
		in = in[i+1:]
	}
	if err := p.Validate(); err != nil {
		return fail(strings.TrimPrefix(err.Error(), ErrInvalidArgument.Error()+": "))
	}
	return p, nil
}

// IsZero reports whether p is no period at all.
func (p Period) IsZero() bool { return p == Period{} }

// Validate checks that p is a positive period within bounds.
func (p Period) Validate() error {
	switch {
	case p.Years < 0 || p.Months < 0 || p.Days < 0:
		return invalid("a retention period cannot be negative")
	case p.IsZero():
		return invalid("a retention period of zero retains nothing")
	case p.Years > maxPeriodField || p.Months > maxPeriodField || p.Days > maxPeriodField:
		// Days as the weeks and days written make them: a period writes
		// itself in days (String), which must read back.
		return invalid("retention period too long")
	}
	return nil
}

// String is p in ISO 8601: "P10Y", "P1Y6M", "P30D"; "" for zero.
func (p Period) String() string {
	if p.IsZero() {
		return ""
	}
	var b strings.Builder
	b.WriteByte('P')
	for _, f := range []struct {
		n    int
		unit byte
	}{{p.Years, 'Y'}, {p.Months, 'M'}, {p.Days, 'D'}} {
		if f.n != 0 {
			b.WriteString(strconv.Itoa(f.n))
			b.WriteByte(f.unit)
		}
	}
	return b.String()
}

// From is the end of p counted from t, in UTC.
func (p Period) From(t time.Time) time.Time {
	return t.UTC().AddDate(p.Years, p.Months, p.Days)
}

// ParseUntil reads the end of a retention: a date "2035-01-31" (its
// midnight, UTC) or a time in RFC 3339 ("2035-01-31T12:00:00Z"; without a
// zone, UTC).
func ParseUntil(s string) (time.Time, error) {
	in := strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", time.RFC3339Nano, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, in); err == nil {
			if err := CheckTime("retain until", t); err != nil {
				return time.Time{}, err
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: retain until %q: want a date (2035-01-31) or a time (2035-01-31T12:00:00Z)", ErrInvalidArgument, s)
}

// DefaultRetention is the retention a collection gives the data objects
// created in it: Mode for Period from their creation. The zero value is
// none.
type DefaultRetention struct {
	Mode   LockMode
	Period Period
}

// IsZero reports whether d is no default.
func (d DefaultRetention) IsZero() bool { return d.Mode == LockNone && d.Period.IsZero() }

// Validate checks d for SetDefaultRetention: none, or a mode and a period.
func (d DefaultRetention) Validate() error {
	if d.IsZero() {
		return nil
	}
	if d.Mode == LockNone {
		return invalid("a default retention needs a mode (governance or compliance)")
	}
	if err := d.Mode.Validate(); err != nil {
		return err
	}
	return d.Period.Validate()
}

// String is "compliance P10Y", or "" for none.
func (d DefaultRetention) String() string {
	if d.IsZero() {
		return ""
	}
	return string(d.Mode) + " " + d.Period.String()
}

// LockAt is the lock d gives an object created at t by who. A period
// whose end time cannot hold is cut at the latest time it can.
func (d DefaultRetention) LockAt(t time.Time, who UserID) Lock {
	if d.IsZero() {
		return Lock{}
	}
	until := d.Period.From(t)
	if CheckTime("", until) != nil || until.Before(t) {
		until = time.Unix(0, 1<<63-1).UTC()
	}
	return Lock{Mode: d.Mode, Until: until, SetBy: who, SetAt: t.UTC()}
}

// RetentionChange asks SetRetention to retain the data object at Path in
// Mode until Until, or with Mode LockNone to remove its retention.
type RetentionChange struct {
	Path  Path
	Mode  LockMode
	Until time.Time
	By    UserID
	// BypassGovernance lets the change shorten or remove a governance lock
	// in force; the zone grants it to administrators only.
	BypassGovernance bool
}

// Validate checks c without a catalog; now is the time it is asked at:
// a retention must end after it.
func (c RetentionChange) Validate(now time.Time) error {
	if err := CheckPath(c.Path); err != nil {
		return err
	}
	if c.Path.IsRoot() {
		return fmt.Errorf("/ is a collection: %w", ErrNotDataObject)
	}
	if err := CheckUserID("user", c.By); err != nil {
		return err
	}
	if err := c.Mode.Validate(); err != nil {
		return err
	}
	if c.Mode == LockNone {
		if !c.Until.IsZero() {
			return invalid("removing a retention takes no date")
		}
		return nil
	}
	if c.Until.IsZero() {
		return invalid("a %s lock needs a date to retain until", c.Mode)
	}
	if err := CheckTime("retain until", c.Until); err != nil {
		return err
	}
	if !c.Until.After(now) {
		return invalid("retain until %s: the date is in the past", c.Until.UTC().Format(time.RFC3339))
	}
	return nil
}

// CheckRetentionChange decides whether c may replace the lock old of the
// data object c.Path at now. A retention in force may be extended and
// strengthened (governance to compliance) by anyone the zone lets change
// it; a compliance lock can never be shortened, removed or weakened to
// governance before its date; a governance lock only with
// c.BypassGovernance. A refusal is a *LockError. Both backends call it in
// the transaction that changes the lock.
func CheckRetentionChange(old Lock, c RetentionChange, now time.Time) error {
	if !old.Retains(now) {
		return nil
	}
	shorter := c.Mode == LockNone || c.Until.Before(old.Until)
	weaker := old.Mode == LockCompliance && c.Mode != LockCompliance
	if !shorter && !weaker {
		return nil
	}
	refuse := func(action, hint string) error {
		return &LockError{Path: c.Path, Lock: old, Action: action, Hint: hint}
	}
	action := "shortened"
	switch {
	case c.Mode == LockNone:
		action = "released"
	case weaker && !shorter:
		action = "weakened to " + string(c.Mode)
	}
	if old.Mode == LockCompliance {
		return refuse(action+" by anyone, rodsadmin included, before its date",
			fmt.Sprintf("it can only be extended (compliance, until %s or later)", old.Until.UTC().Format(time.RFC3339)))
	}
	if !c.BypassGovernance {
		return refuse(action+" without --bypass-governance, which only a rodsadmin may give",
			fmt.Sprintf("it can be extended (until %s or later)", old.Until.UTC().Format(time.RFC3339)))
	}
	return nil
}

// HoldChange asks SetHold to place (Hold) or release the legal hold of the
// data object at Path.
type HoldChange struct {
	Path Path
	Hold bool
	By   UserID
}

// Validate checks c without a catalog.
func (c HoldChange) Validate() error {
	if err := CheckPath(c.Path); err != nil {
		return err
	}
	if c.Path.IsRoot() {
		return fmt.Errorf("/ is a collection: %w", ErrNotDataObject)
	}
	return CheckUserID("user", c.By)
}

// ObjectLock is a data object's path with its lock.
type ObjectLock struct {
	Path Path
	Lock Lock
}

// Retention stores the locks of data objects and the default retention of
// collections. A data object's lock comes with it (DataObject.Lock), a
// collection's default too (Collection.Retention). Who may change them is
// the zone's to decide; the catalog refuses what no one may do.
type Retention interface {
	// SetRetention sets the retention of the data object at c.Path, keeping
	// its legal hold, and returns the lock now in place. What
	// CheckRetentionChange refuses is refused with its *LockError, and
	// nothing changes. A collection at c.Path is ErrNotDataObject.
	SetRetention(ctx context.Context, c RetentionChange) (Lock, error)
	// SetHold places or releases the legal hold of the data object at
	// c.Path, keeping its retention, and returns the lock now in place.
	SetHold(ctx context.Context, c HoldChange) (Lock, error)
	// SetDefaultRetention sets the retention that data objects created
	// in the collection at p inherit, counted from their creation, and
	// that collections created in it copy; the zero DefaultRetention
	// removes it. It changes no existing object. A data object at p is
	// ErrNotCollection.
	SetDefaultRetention(ctx context.Context, p Path, d DefaultRetention) error
	// LockedBelow returns a data object below the collection at p whose
	// lock is in force at now, and false when there is none.
	LockedBelow(ctx context.Context, p Path, now time.Time) (ObjectLock, bool, error)
}
