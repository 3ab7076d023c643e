package qos

import (
	"fmt"
	"strings"
)

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tCmp    // = < > <= >=
	tBin    // & | \
	tLParen // (
	tRParen // )
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) String() string {
	if t.kind == tEOF {
		return "end of expression"
	}
	return fmt.Sprintf("%q", t.text)
}

// special are the characters that end a word.
const special = "=<>&|\\()"

// parser is a recursive-descent parser over a one-token lookahead.
type parser struct {
	in  string
	off int
	tok token
}

func (p *parser) errAt(pos int, msg string) *SyntaxError {
	return &SyntaxError{Input: p.in, Pos: pos, Msg: msg}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// next reads the next token into p.tok.
func (p *parser) next() {
	for p.off < len(p.in) && isSpace(p.in[p.off]) {
		p.off++
	}
	start := p.off
	if p.off >= len(p.in) {
		p.tok = token{kind: tEOF, pos: start}
		return
	}
	switch c := p.in[p.off]; c {
	case '(':
		p.off++
		p.tok = token{tLParen, "(", start}
	case ')':
		p.off++
		p.tok = token{tRParen, ")", start}
	case '&', '|', '\\':
		p.off++
		p.tok = token{tBin, string(c), start}
	case '=':
		p.off++
		p.tok = token{tCmp, "=", start}
	case '<', '>':
		p.off++
		if p.off < len(p.in) && p.in[p.off] == '=' {
			p.off++
		}
		p.tok = token{tCmp, p.in[start:p.off], start}
	default:
		for p.off < len(p.in) && !isSpace(p.in[p.off]) && !strings.ContainsRune(special, rune(p.in[p.off])) {
			p.off++
		}
		p.tok = token{tWord, p.in[start:p.off], start}
	}
}

// expr reads operands joined by &, | and \, from left to right.
func (p *parser) expr(depth int) (node, error) {
	left, err := p.operand(depth)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tBin {
		op := p.tok.text[0]
		p.next()
		right, err := p.operand(depth)
		if err != nil {
			return nil, err
		}
		left = binNode{op: op, l: left, r: right}
	}
	return left, nil
}

// operand reads ( expr ), anyStorage, or key OP value.
func (p *parser) operand(depth int) (node, error) {
	switch t := p.tok; t.kind {
	case tLParen:
		if depth >= MaxDepth {
			return nil, p.errAt(t.pos, fmt.Sprintf("parentheses nested deeper than %d", MaxDepth))
		}
		p.next()
		n, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.errAt(p.tok.pos, fmt.Sprintf("unexpected %s: want ) to close the ( at position %d", p.tok, t.pos+1))
		}
		p.next()
		return n, nil
	case tWord:
		p.next()
		if t.text == AnyStorage {
			if p.tok.kind == tCmp {
				return nil, p.errAt(p.tok.pos, "anyStorage takes no comparison")
			}
			return anyNode{}, nil
		}
		if !validKey(t.text) {
			return nil, p.errAt(t.pos, fmt.Sprintf("key %q: want a letter, then letters, digits, '_', '-' or '.'", t.text))
		}
		if p.tok.kind != tCmp {
			return nil, p.errAt(p.tok.pos, fmt.Sprintf("unexpected %s after key %s: want =, <, >, <= or >=", p.tok, t.text))
		}
		op := p.tok
		p.next()
		v := p.tok
		if v.kind != tWord {
			return nil, p.errAt(v.pos, fmt.Sprintf("unexpected %s: want a value after %s%s", v, t.text, op.text))
		}
		p.next()
		c := cmpNode{key: t.text, op: op.text, value: v.text}
		c.num, c.isNum = number(v.text)
		if op.text != "=" && !c.isNum {
			return nil, p.errAt(v.pos, fmt.Sprintf("%s compares numbers: %q is not a number", op.text, v.text))
		}
		return c, nil
	case tEOF:
		return nil, p.errAt(t.pos, "unexpected end of expression: want key=value, a comparison, anyStorage or (")
	default:
		return nil, p.errAt(t.pos, fmt.Sprintf("unexpected %s: want key=value, a comparison, anyStorage or (", t))
	}
}

func validKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
