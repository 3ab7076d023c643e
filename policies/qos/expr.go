// Package qos is Arca's quality of service: the expression language that
// selects storage resources by their attributes (Onedata's grammar), and
// the policy side of QoS requirements.
//
// An expression denotes a set of resources:
//
//	key=value            resources whose attribute key equals value (as
//	                     numbers when both are numbers: latency=5.0 matches 5)
//	key<n, >, <=, >=     resources whose attribute key is a number in that
//	                     relation to the number n
//	anyStorage           every resource
//	A & B                intersection
//	A | B                union
//	A \ B                A and not B
//	( A )                grouping
//
// As in Onedata and Rucio, the three operators have the same precedence and
// are evaluated from left to right: "a | b & c" is "(a | b) & c".
package qos

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/arca-data/arca/catalog"
)

// Limits of an expression, so that no input costs much to parse or match.
const (
	MaxLength = 1024 // bytes
	MaxDepth  = 32   // nested parentheses
)

// AnyStorage is the expression that every resource matches.
const AnyStorage = "anyStorage"

// SyntaxError says where an expression fails to parse. Pos is the byte
// offset in Input, counted from 0; the message counts from 1, as editors do.
type SyntaxError struct {
	Input string
	Pos   int
	Msg   string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("qos expression %q: at position %d: %s", e.Input, e.Pos+1, e.Msg)
}

// Unwrap makes a syntax error an invalid argument for the zone's one error
// table.
func (e *SyntaxError) Unwrap() error { return catalog.ErrInvalidArgument }

// Expr is a parsed expression. The zero Expr matches nothing; use Parse.
type Expr struct {
	root node
}

// Parse reads an expression.
func Parse(s string) (*Expr, error) {
	p := &parser{in: s}
	if len(s) > MaxLength {
		return nil, p.errAt(MaxLength, fmt.Sprintf("longer than %d bytes", MaxLength))
	}
	if !utf8.ValidString(s) {
		return nil, p.errAt(firstInvalidUTF8(s), "not valid UTF-8")
	}
	p.next()
	if p.tok.kind == tEOF {
		return nil, p.errAt(p.tok.pos, "empty expression: want key=value, a comparison or anyStorage")
	}
	n, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.errAt(p.tok.pos, fmt.Sprintf("unexpected %s: want &, |, \\ or the end", p.tok))
	}
	return &Expr{root: n}, nil
}

// MustParse is Parse for expressions known to be good; it panics on error.
func MustParse(s string) *Expr {
	e, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return e
}

// String gives the expression in canonical form, which Parse reads back to
// the same expression.
func (e *Expr) String() string {
	if e == nil || e.root == nil {
		return ""
	}
	var b strings.Builder
	e.root.write(&b, false)
	return b.String()
}

// Match reports whether a resource with attrs is in the set e denotes.
func (e *Expr) Match(attrs map[string]string) bool {
	if e == nil || e.root == nil {
		return false
	}
	return e.root.match(attrs)
}

// node is one part of a parsed expression.
type node interface {
	match(attrs map[string]string) bool
	// write writes the node; paren says that a binary node must be put in
	// parentheses (it is the right operand of another).
	write(b *strings.Builder, paren bool)
}

type anyNode struct{}

func (anyNode) match(map[string]string) bool         { return true }
func (anyNode) write(b *strings.Builder, paren bool) { b.WriteString(AnyStorage) }

type cmpNode struct {
	key, op, value string
	num            float64
	isNum          bool
}

func (c cmpNode) match(attrs map[string]string) bool {
	v, ok := attrs[c.key]
	if !ok {
		return false
	}
	n, isNum := number(v)
	if c.op == "=" {
		if c.isNum && isNum {
			return n == c.num
		}
		return v == c.value
	}
	if !isNum {
		return false
	}
	switch c.op {
	case "<":
		return n < c.num
	case ">":
		return n > c.num
	case "<=":
		return n <= c.num
	case ">=":
		return n >= c.num
	}
	return false
}

func (c cmpNode) write(b *strings.Builder, paren bool) {
	b.WriteString(c.key + c.op + c.value)
}

type binNode struct {
	op   byte // '&', '|' or '\\'
	l, r node
}

func (n binNode) match(attrs map[string]string) bool {
	switch n.op {
	case '&':
		return n.l.match(attrs) && n.r.match(attrs)
	case '|':
		return n.l.match(attrs) || n.r.match(attrs)
	default:
		return n.l.match(attrs) && !n.r.match(attrs)
	}
}

func (n binNode) write(b *strings.Builder, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	n.l.write(b, false) // left to right: a left operand needs no parentheses
	b.WriteString(" " + string(n.op) + " ")
	n.r.write(b, true)
	if paren {
		b.WriteByte(')')
	}
}

// number reads a decimal number: an optional sign, digits with an optional
// fraction, an optional exponent. Not NaN, Inf, hexadecimal or underscores.
func number(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func firstInvalidUTF8(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return i
			}
		}
	}
	return 0
}
