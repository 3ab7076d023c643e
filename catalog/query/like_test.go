package query

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatchLike(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"abc", "ABC", false}, // case-sensitive
		{"", "", true},
		{"", "a", false},
		{"%", "", true},
		{"%", "anything", true},
		{"abc%", "abcdef", true},
		{"abc%", "xabc", false},
		{"%.txt", "a.txt", true},
		{"%.txt", "a.txt.gz", false},
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"a_c", "a☃c", true}, // _ is one character, not one byte
		{"%a%b%c%", "xxaxxbxxcxx", true},
		{"%a%b%c%", "xxcxxbxxaxx", false},
		{"a%%b", "ab", true},
		{`100\%`, "100%", true},
		{`100\%`, "1000", false},
		{`a\_b`, "a_b", true},
		{`a\_b`, "axb", false},
		{`a\\b`, `a\b`, true},
		{`\a`, "a", true},
		{"%aaa%aab", "aaaaaaaaaaaaaaaaaaab", true},
		{"%aaa%aab", "aaaab", false},
		{"%aab", "aaaaaaaaaaaaaaaaaaab", true},
		{"_%_", "ab", true},
		{"_%_", "a", false},
	}
	for _, tt := range tests {
		if got := MatchLike(tt.pattern, tt.s); got != tt.want {
			t.Errorf("MatchLike(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestLikePrefix(t *testing.T) {
	tests := []struct {
		pattern, prefix string
		exact           bool
	}{
		{"abc%", "abc", false},
		{"abc", "abc", true},
		{`a\%b%`, "a%b", false},
		{"%abc", "", false},
		{"ab_c", "ab", false},
		{"", "", true},
	}
	for _, tt := range tests {
		p, e := LikePrefix(tt.pattern)
		if p != tt.prefix || e != tt.exact {
			t.Errorf("LikePrefix(%q) = %q, %v; want %q, %v", tt.pattern, p, e, tt.prefix, tt.exact)
		}
	}
}

// likeRegexp translates a LIKE pattern to an anchored regular expression,
// independently of MatchLike, for differential fuzzing.
func likeRegexp(pattern string) string {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '%':
			b.WriteString(`.*`)
		case '_':
			b.WriteString(`.`)
		case '\\':
			if i+1 < len(rs) {
				i++
				b.WriteString(regexp.QuoteMeta(string(rs[i])))
			} else {
				b.WriteString(`\\`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return b.String()
}

func FuzzMatchLike(f *testing.F) {
	f.Add("%a_c%", "xxabcxx")
	f.Add(`a\%%`, "a%b")
	f.Add("%%_", "☃")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) || len(pattern) > 64 || len(s) > 256 {
			return
		}
		re := regexp.MustCompile(likeRegexp(pattern))
		if got, want := MatchLike(pattern, s), re.MatchString(s); got != want {
			t.Fatalf("MatchLike(%q, %q) = %v, regexp %s says %v", pattern, s, got, re, want)
		}
		if prefix, exact := LikePrefix(pattern); MatchLike(pattern, s) && (!strings.HasPrefix(s, prefix) || exact && s != prefix) {
			t.Fatalf("LikePrefix(%q) = %q, %v but %q matches", pattern, prefix, exact, s)
		}
	})
}
