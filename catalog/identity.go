package catalog

import (
	"fmt"
	"strings"
)

// UserID names a user in a zone; its text form is "name#zone", as in iRODS.
// Users of other zones appear by their own zone from the first day, so that
// federation needs no change to identities.
type UserID struct {
	Name string
	Zone string
}

func (u UserID) String() string { return u.Name + "#" + u.Zone }

// ParseUserID reads "name" or "name#zone"; a bare name belongs to defaultZone.
func ParseUserID(s, defaultZone string) (UserID, error) {
	name, zone, found := strings.Cut(s, "#")
	if !found {
		zone = defaultZone
	}
	if err := validateUserName(name); err != nil {
		return UserID{}, err
	}
	if err := validateUserName(zone); err != nil {
		return UserID{}, fmt.Errorf("zone of %q: %w", s, err)
	}
	return UserID{Name: name, Zone: zone}, nil
}

// validateUserName allows what iRODS allows in user and zone names: letters,
// digits and ". _ - @", at most 63 bytes, not starting with a dot.
func validateUserName(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty user or zone name", ErrInvalidName)
	}
	if len(s) > 63 {
		return fmt.Errorf("%w: %q is longer than 63 bytes", ErrInvalidName, s)
	}
	if s[0] == '.' || s[0] == '-' {
		return fmt.Errorf("%w: %q may not start with %q", ErrInvalidName, s, s[0])
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '.' || r == '_' || r == '-' || r == '@'
		if !ok {
			return fmt.Errorf("%w: %q may only hold letters, digits and . _ - @", ErrInvalidName, s)
		}
	}
	return nil
}

// ValidateUserName checks a user, group or zone name.
func ValidateUserName(s string) error { return validateUserName(s) }

// CheckUserID checks a principal that a request names; what says which
// (owner, principal, ...). The error wraps both ErrInvalidArgument and
// ErrInvalidName.
func CheckUserID(what string, u UserID) error {
	if err := ValidateUserName(u.Name); err != nil {
		return fmt.Errorf("%w: %s %q: %w", ErrInvalidArgument, what, u.String(), err)
	}
	if err := ValidateUserName(u.Zone); err != nil {
		return fmt.Errorf("%w: zone of %s %q: %w", ErrInvalidArgument, what, u.String(), err)
	}
	return nil
}
