package query

import (
	"strings"
	"unicode/utf8"
)

// likeElem is one element of a compiled LIKE pattern.
type likeElem struct {
	kind byte // 'c' a literal character, '_' any one character, '%' any run
	r    rune
}

func compileLike(pattern string) []likeElem {
	var out []likeElem
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		i += n
		switch r {
		case '\\':
			if i < len(pattern) {
				r, n = utf8.DecodeRuneInString(pattern[i:])
				i += n
			}
			out = append(out, likeElem{'c', r})
		case '%':
			if len(out) == 0 || out[len(out)-1].kind != '%' {
				out = append(out, likeElem{kind: '%'})
			}
		case '_':
			out = append(out, likeElem{kind: '_'})
		default:
			out = append(out, likeElem{'c', r})
		}
	}
	return out
}

// MatchLike reports whether s matches a LIKE pattern: % matches any run of
// characters (including none), _ exactly one character, \ makes the next
// character literal. Matching is case-sensitive and by character (rune).
// Backends that cannot push LIKE down can filter with it.
func MatchLike(pattern, s string) bool {
	p := compileLike(pattern)
	str := []rune(s)
	// Greedy matching with one backtrack point, as for shell globs: on a
	// mismatch, let the last % swallow one more character.
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && p[pi].kind == '%':
			starP, starS = pi, si
			pi++
		case pi < len(p) && (p[pi].kind == '_' || p[pi].r == str[si]):
			pi++
			si++
		case starP >= 0:
			starS++
			pi, si = starP+1, starS
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].kind == '%' {
		pi++
	}
	return pi == len(p)
}

// LikePrefix returns the literal text a LIKE pattern's matches must start
// with, unescaped, and whether the pattern is exactly that text (no
// wildcards). A backend can turn 'abc%' into a range scan on an index.
func LikePrefix(pattern string) (prefix string, exact bool) {
	var b strings.Builder
	for _, e := range compileLike(pattern) {
		if e.kind != 'c' {
			return b.String(), false
		}
		b.WriteRune(e.r)
	}
	return b.String(), true
}
