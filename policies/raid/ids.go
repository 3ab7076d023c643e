package raid

import (
	"fmt"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// ErrORCID and ErrROR are identifiers that are malformed or fail their
// check digits.
var (
	ErrORCID = fmt.Errorf("%w: invalid ORCID iD", catalog.ErrInvalidArgument)
	ErrROR   = fmt.Errorf("%w: invalid ROR id", catalog.ErrInvalidArgument)
)

// Schema URIs of the identifiers, as RAiD records name them.
const (
	ORCIDSchema = "https://orcid.org/"
	RORSchema   = "https://ror.org/"
)

func cutAnyPrefix(s string, prefixes ...string) string {
	for _, p := range prefixes {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return s[len(p):]
		}
	}
	return s
}

// ParseORCID reads an ORCID iD (0000-0002-1825-0097, with or without
// https://orcid.org/) and checks its check digit (ISO/IEC 7064 MOD 11-2);
// it returns the iD as a URI, https://orcid.org/0000-0002-1825-0097.
func ParseORCID(s string) (string, error) {
	bad := func(why string) (string, error) { return "", fmt.Errorf("%w %q: %s", ErrORCID, clip(s), why) }
	id := cutAnyPrefix(strings.TrimSpace(s), "https://orcid.org/", "http://orcid.org/", "orcid.org/")
	if len(id) != 19 || id[4] != '-' || id[9] != '-' || id[14] != '-' {
		return bad("want four groups of four digits, 0000-0002-1825-0097")
	}
	digits := id[0:4] + id[5:9] + id[10:14] + id[15:19]
	total := 0
	for i := range 15 {
		c := digits[i]
		if c < '0' || c > '9' {
			return bad(fmt.Sprintf("%q is not a digit", c))
		}
		total = (total + int(c-'0')) * 2
	}
	check := (12 - total%11) % 11
	want := byte('0' + check)
	if check == 10 {
		want = 'X'
	}
	last := digits[15]
	if last == 'x' {
		last = 'X'
	}
	if last != want {
		return bad(fmt.Sprintf("its check digit is %c, its digits make %c (ISO 7064 MOD 11-2)", digits[15], want))
	}
	return ORCIDSchema + id[:18] + string(last), nil
}

// crockford is the alphabet of ROR ids (Crockford's base 32, lower case,
// without i, l, o and u).
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// ParseROR reads a ROR id (03yrm5c26, with or without https://ror.org/)
// and checks it: a 0, six characters of Crockford's base 32 and two check
// digits, 98 - (n * 100 mod 97) of the number the six make (ISO/IEC 7064
// MOD 97-10, as ROR computes it). It returns the id as a URI.
func ParseROR(s string) (string, error) {
	bad := func(why string) (string, error) { return "", fmt.Errorf("%w %q: %s", ErrROR, clip(s), why) }
	id := strings.ToLower(cutAnyPrefix(strings.TrimSpace(s), "https://ror.org/", "http://ror.org/", "ror.org/"))
	if len(id) != 9 || id[0] != '0' {
		return bad("want 0, six letters or digits and two check digits, such as 03yrm5c26")
	}
	n := int64(0)
	for _, c := range id[1:7] {
		v := strings.IndexRune(crockford, c)
		if v < 0 {
			return bad(fmt.Sprintf("%q is not a character of ROR ids", c))
		}
		n = n*32 + int64(v)
	}
	if id[7] < '0' || id[7] > '9' || id[8] < '0' || id[8] > '9' {
		return bad("its last two characters are not digits")
	}
	want := 98 - (n*100)%97
	if got := int64(id[7]-'0')*10 + int64(id[8]-'0'); got != want {
		return bad(fmt.Sprintf("its check digits are %02d, its characters make %02d", got, want))
	}
	return RORSchema + id, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
