package rules

import (
	"strings"
	"unicode/utf8"
)

// Glob reports whether the path p matches pattern: * matches a run of
// characters within one path component, ** a run across components (also
// none), ? one character other than /, and \ makes the next character
// literal. It runs in time proportional to len(pattern)*len(p), so no
// pattern can make a rule slow.
func Glob(pattern, p string) bool {
	type tok struct {
		kind byte // 'l' literal, '*', 'S' (**), '?'
		r    rune
	}
	var toks []tok
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		switch {
		case r == '*' && strings.HasPrefix(pattern[i:], "**"):
			toks = append(toks, tok{kind: 'S'})
			i += 2
			continue
		case r == '*':
			toks = append(toks, tok{kind: '*'})
		case r == '?':
			toks = append(toks, tok{kind: '?'})
		case r == '\\' && i+n < len(pattern):
			r2, n2 := utf8.DecodeRuneInString(pattern[i+n:])
			toks = append(toks, tok{kind: 'l', r: r2})
			i += n + n2
			continue
		default:
			toks = append(toks, tok{kind: 'l', r: r})
		}
		i += n
	}
	runes := []rune(p)
	// cur[j]: toks[:i] matches runes[:j].
	cur := make([]bool, len(runes)+1)
	next := make([]bool, len(runes)+1)
	cur[0] = true
	for _, t := range toks {
		for j := range next {
			next[j] = false
		}
		switch t.kind {
		case '*', 'S':
			for j := 0; j <= len(runes); j++ {
				switch {
				case cur[j]:
					next[j] = true
				case j > 0 && next[j-1] && (t.kind == 'S' || runes[j-1] != '/'):
					next[j] = true
				}
			}
		default:
			for j := 1; j <= len(runes); j++ {
				if !cur[j-1] {
					continue
				}
				c := runes[j-1]
				if (t.kind == '?' && c != '/') || (t.kind == 'l' && c == t.r) {
					next[j] = true
				}
			}
		}
		cur, next = next, cur
	}
	return cur[len(runes)]
}

// Under reports whether path p is prefix or lies below it, by whole
// components: /a/bc is not under /a/b.
func Under(p, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return strings.HasPrefix(p, "/")
	}
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// MatchOp reports whether the operation name op matches pattern: "*"
// matches every operation, "metadata.*" every operation whose name starts
// with "metadata.", anything else only itself.
func MatchOp(pattern, op string) bool {
	if pattern == "*" || pattern == op {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(op, prefix)
	}
	return false
}
