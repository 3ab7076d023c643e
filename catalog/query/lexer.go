package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tokEOF    tokKind = iota
	tokIdent          // a column name, keyword or function name
	tokString         // 'text' (text holds the unquoted value)
	tokNumber         // 12, -3, 1.5, 2e10 (text as written)
	tokComma          // ,
	tokLParen         // (
	tokRParen         // )
	tokStar           // *
	tokOp             // = <> != < <= > >=
	tokOrOr           // || (GenQuery1: another condition on the same column)
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset of the token's first byte
	end  int // byte offset just past the token
}

// describe names the token for "found ..." in error messages.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of query"
	case tokIdent:
		if isReserved(t.text) {
			return strings.ToUpper(t.text)
		}
		return clip(t.text)
	case tokString:
		return "string " + clip(quote(t.text))
	case tokNumber:
		return "number " + clip(t.text)
	case tokComma:
		return "','"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokStar:
		return "'*'"
	case tokOp, tokOrOr:
		return "'" + t.text + "'"
	}
	return "token"
}

// clip shortens s for use in a message, and replaces characters that
// should not reach a terminal.
func clip(s string) string {
	const max = 40
	r := []rune(s)
	suffix := ""
	if len(r) > max {
		r, suffix = r[:max], "..."
	}
	for i := range r {
		if r[i] == '\t' {
			r[i] = ' '
		}
		r[i] = printable(r[i])
	}
	return string(r) + suffix
}

var reserved = map[string]bool{
	"select": true, "where": true, "and": true, "or": true, "not": true,
	"like": true, "in": true, "between": true, "is": true, "null": true,
	"group": true, "order": true, "by": true, "asc": true, "desc": true,
	"limit": true, "offset": true, "distinct": true,
}

func isReserved(s string) bool { return reserved[strings.ToLower(s)] }

// lex splits src into tokens, ending with a tokEOF.
func lex(src string) ([]token, *SyntaxError) {
	var toks []token
	i := 0
	for {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i >= len(src) {
			toks = append(toks, token{kind: tokEOF, pos: len(src), end: len(src)})
			return toks, nil
		}
		start := i
		c := src[i]
		switch {
		case isIdentStart(c):
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			toks = append(toks, token{kind: tokIdent, text: src[start:i], pos: start, end: i})
		case isDigit(c) || ((c == '-' || c == '.') && i+1 < len(src) && (isDigit(src[i+1]) || src[i+1] == '.')):
			n, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			i = n
			toks = append(toks, token{kind: tokNumber, text: src[start:i], pos: start, end: i})
		case c == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(src) {
					return nil, errorAt(src, start, "unterminated string: no closing quote")
				}
				if src[i] == '\'' {
					if i+1 < len(src) && src[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(src[i])
				i++
			}
			toks = append(toks, token{kind: tokString, text: b.String(), pos: start, end: i})
		case c == ',':
			i++
			toks = append(toks, token{kind: tokComma, text: ",", pos: start, end: i})
		case c == '(':
			i++
			toks = append(toks, token{kind: tokLParen, text: "(", pos: start, end: i})
		case c == ')':
			i++
			toks = append(toks, token{kind: tokRParen, text: ")", pos: start, end: i})
		case c == '*':
			i++
			toks = append(toks, token{kind: tokStar, text: "*", pos: start, end: i})
		case c == '=':
			i++
			if i < len(src) && src[i] == '=' {
				return nil, errorAt(src, start, "unexpected '==': use '=' to compare")
			}
			toks = append(toks, token{kind: tokOp, text: "=", pos: start, end: i})
		case c == '<' || c == '>' || c == '!':
			i++
			if i < len(src) && (src[i] == '=' || (c == '<' && src[i] == '>')) {
				i++
			} else if c == '!' {
				return nil, errorAt(src, start, "unexpected '!': use '!=' or '<>' for not equal, NOT to negate")
			}
			toks = append(toks, token{kind: tokOp, text: src[start:i], pos: start, end: i})
		case c == '|':
			if i+1 < len(src) && src[i+1] == '|' {
				i += 2
				toks = append(toks, token{kind: tokOrOr, text: "||", pos: start, end: i})
				continue
			}
			return nil, errorAt(src, start, "unexpected '|': use OR, or '||' to add a condition on the same column")
		case c == '"':
			return nil, errorAt(src, start, "unexpected '\"': quote values with single quotes, 'like this'")
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			return nil, errorAt(src, start, fmt.Sprintf("unexpected character %q", r))
		}
	}
}

// lexNumber scans -?digits[.digits][e[+-]digits] starting at i and returns
// the offset just past it. A number must not run into a letter ("12abc").
func lexNumber(src string, i int) (int, *SyntaxError) {
	start := i
	if src[i] == '-' {
		i++
	}
	digits := 0
	for i < len(src) && isDigit(src[i]) {
		i++
		digits++
	}
	if i < len(src) && src[i] == '.' {
		i++
		for i < len(src) && isDigit(src[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, errorAt(src, start, "malformed number")
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			i = j
		}
	}
	if i < len(src) && (isIdentPart(src[i]) || src[i] == '.') {
		return 0, errorAt(src, start, "malformed number")
	}
	return i, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }
