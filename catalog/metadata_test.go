package catalog

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatchLike(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"%", "", true},
		{"%", "anything", true},
		{"abc", "abc", true},
		{"abc", "ABC", false},
		{"a%", "abc", true},
		{"%c", "abc", true},
		{"%b%", "abc", true},
		{"%x%", "abc", false},
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"a_c", "abbc", false},
		{"_", "é", true},
		{"__", "é", false},
		{"%%a%%", "bab", true},
		{"a%b%c", "aXbYc", true},
		{"a%b%c", "aXcYb", false},
		{`100\%`, "100%", true},
		{`100\%`, "1000", false},
		{`a\_b`, "a_b", true},
		{`a\_b`, "axb", false},
		{`a\\b`, `a\b`, true},
		{`a\`, `a\`, true},
		{`\a`, "a", true},
		{"%a%a%a%a%a%a%a%b", strings.Repeat("a", 60), false},
	}
	for _, tc := range cases {
		if got := MatchLike(tc.pattern, tc.s); got != tc.want {
			t.Errorf("MatchLike(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestHasWildcard(t *testing.T) {
	for p, want := range map[string]bool{"abc": false, "a%": true, "a_": true, `a\%`: false, `a\_b\\`: false, `a\\%`: true} {
		if got := HasWildcard(p); got != want {
			t.Errorf("HasWildcard(%q) = %v, want %v", p, got, want)
		}
	}
	if got := UnescapeLike(`a\_b\\c\%`); got != `a_b\c%` {
		t.Errorf("UnescapeLike = %q", got)
	}
}

// likeRegexp translates a LIKE pattern into an anchored regular expression,
// an independent oracle for MatchLike.
func likeRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		switch {
		case r == '%':
			b.WriteString(`.*`)
		case r == '_':
			b.WriteString(`.`)
		case r == '\\' && i+n < len(pattern):
			r2, n2 := utf8.DecodeRuneInString(pattern[i+n:])
			b.WriteString(regexp.QuoteMeta(string(r2)))
			n += n2
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
		i += n
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

func FuzzMatchLike(f *testing.F) {
	for _, s := range [][2]string{{"a%", "abc"}, {"a_c", "abc"}, {`\%`, "%"}, {"%é_", "xéy"}, {"%a%b", "aab"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) || len(pattern) > 64 {
			return
		}
		if got, want := MatchLike(pattern, s), likeRegexp(pattern).MatchString(s); got != want {
			t.Fatalf("MatchLike(%q, %q) = %v, the regexp says %v", pattern, s, got, want)
		}
		if !HasWildcard(pattern) && MatchLike(pattern, s) != (UnescapeLike(pattern) == s) {
			t.Fatalf("pattern %q without wildcards: MatchLike and UnescapeLike disagree on %q", pattern, s)
		}
	})
}

func TestValidateAVUs(t *testing.T) {
	if err := ValidateAVUs(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("no AVUs: %v", err)
	}
	err := ValidateAVUs([]AVU{{"a", "1", ""}, {"a", "1", ""}})
	if !errors.Is(err, ErrExists) {
		t.Errorf("duplicate: %v", err)
	}
	err = ValidateAVUs([]AVU{{"a", "1", ""}, {"", "1", ""}})
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "AVU 2 of 2") {
		t.Errorf("second invalid: %v", err)
	}
}
