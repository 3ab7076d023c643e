package query

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Query is a parsed, type-checked query. Every column reference points at
// its registry entry.
type Query struct {
	Select []SelectItem // at least one
	Where  Expr         // nil: no condition
	// GroupBy is set whenever the query aggregates: either as written, or,
	// when the query has aggregates and no GROUP BY clause, the
	// non-aggregated select columns in select order (GenQuery1's implicit
	// grouping). Each column appears once.
	GroupBy []*Column
	OrderBy []OrderItem // each item is also an item of Select
	Limit   int64       // maximum number of rows; -1: no limit
	Offset  int64       // rows to skip first; >= 0
}

// Aggregated reports whether any select item is an aggregate.
func (q *Query) Aggregated() bool {
	for _, s := range q.Select {
		if s.Agg != AggNone {
			return true
		}
	}
	return false
}

// Columns returns every distinct column the query mentions, in order of
// first mention (select, where, group by), so a backend can work out which
// entities to join.
func (q *Query) Columns() []*Column {
	var out []*Column
	seen := map[*Column]bool{}
	add := func(c *Column) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, s := range q.Select {
		add(s.Column)
	}
	Walk(q.Where, func(e Expr) {
		if c := PredicateColumn(e); c != nil {
			add(c)
		}
	})
	for _, c := range q.GroupBy {
		add(c)
	}
	return out
}

// AggFunc is an aggregate function of a select item.
type AggFunc int

const (
	AggNone AggFunc = iota // a plain column
	AggCount
	AggSum
	AggMin
	AggMax
	AggAvg
)

var aggNames = [...]string{"", "count", "sum", "min", "max", "avg"}

func (a AggFunc) String() string {
	if a >= 0 && int(a) < len(aggNames) {
		return aggNames[a]
	}
	return fmt.Sprintf("AggFunc(%d)", int(a))
}

// SelectItem is a column or an aggregate of a column.
type SelectItem struct {
	Agg    AggFunc
	Column *Column
}

// Type is the type of the item's values: COUNT is an integer, SUM of an
// integer column is an integer, AVG is a float, MIN and MAX have the
// column's type.
func (s SelectItem) Type() Type {
	switch s.Agg {
	case AggCount:
		return TypeInt
	case AggAvg:
		return TypeFloat
	}
	return s.Column.Type
}

func (s SelectItem) String() string {
	if s.Agg == AggNone {
		return s.Column.Name
	}
	return s.Agg.String() + "(" + s.Column.Name + ")"
}

// OrderItem is one key of ORDER BY.
type OrderItem struct {
	Item SelectItem
	Desc bool
}

// Expr is a condition: *And, *Or, *Not, *Compare, *Like, *In or *Between.
type Expr interface {
	exprNode()
}

// And holds when all its terms hold. It has at least two terms, none of
// them an *And (nested ANDs are flattened).
type And struct{ Terms []Expr }

// Or holds when any of its terms holds. It has at least two terms, none of
// them an *Or.
type Or struct{ Terms []Expr }

// Not negates X. "c NOT LIKE p", "c NOT IN (...)" and "c NOT BETWEEN a AND
// b" parse to a *Not around the positive predicate.
type Not struct{ X Expr }

// Op is a comparison operator.
type Op int

const (
	OpEq Op = iota + 1 // =
	OpNe               // <> or !=
	OpLt               // <
	OpLe               // <=
	OpGt               // >
	OpGe               // >=
)

var opNames = map[Op]string{OpEq: "=", OpNe: "<>", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">="}

func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Compare is "Column Op Value".
type Compare struct {
	Column *Column
	Op     Op
	Value  Value
	// Upper compares UPPER(Column), the column's value with its ASCII
	// letters in upper case (UpperASCII), with the value as written. It
	// is set on string columns only, as on Like, In and Between.
	Upper bool
}

// Like is "Column LIKE Pattern" on a string column: % matches any run of
// characters, _ one character, and \ makes the next character literal. The
// pattern is kept as written; see MatchLike.
type Like struct {
	Column  *Column
	Pattern string
	Upper   bool // UPPER(Column) LIKE Pattern; see Compare.Upper
}

// In is "Column IN (Values...)" with at least one value.
type In struct {
	Column *Column
	Values []Value
	Upper  bool // UPPER(Column) IN (...); see Compare.Upper
}

// Between is "Column BETWEEN Low AND High", inclusive at both ends.
type Between struct {
	Column    *Column
	Low, High Value
	Upper     bool // UPPER(Column) BETWEEN ...; see Compare.Upper
}

func (*And) exprNode()     {}
func (*Or) exprNode()      {}
func (*Not) exprNode()     {}
func (*Compare) exprNode() {}
func (*Like) exprNode()    {}
func (*In) exprNode()      {}
func (*Between) exprNode() {}

// PredicateColumn returns the column of a predicate (*Compare, *Like, *In,
// *Between), or nil for *And, *Or and *Not.
func PredicateColumn(e Expr) *Column {
	switch e := e.(type) {
	case *Compare:
		return e.Column
	case *Like:
		return e.Column
	case *In:
		return e.Column
	case *Between:
		return e.Column
	}
	return nil
}

// Upper reports whether the predicate e compares UPPER(column): a backend
// cannot answer it from an index of the column's values.
func Upper(e Expr) bool {
	switch e := e.(type) {
	case *Compare:
		return e.Upper
	case *Like:
		return e.Upper
	case *In:
		return e.Upper
	case *Between:
		return e.Upper
	}
	return false
}

// UpperASCII is s with the ASCII letters a to z in upper case and every
// other byte as it is: what UPPER(column) compares, as SQLite's upper().
func UpperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Walk calls fn for e and every expression below it, parents first. A nil e
// is skipped.
func Walk(e Expr, fn func(Expr)) {
	if e == nil {
		return
	}
	fn(e)
	switch e := e.(type) {
	case *And:
		for _, t := range e.Terms {
			Walk(t, fn)
		}
	case *Or:
		for _, t := range e.Terms {
			Walk(t, fn)
		}
	case *Not:
		Walk(e.X, fn)
	}
}

// Kind is the kind of a literal value after type checking. It follows the
// column: string columns get KindString; integer columns KindInt or
// KindFloat; time columns KindTime.
type Kind int

const (
	KindString Kind = iota + 1
	KindInt
	KindFloat
	KindTime
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt:
		return "integer"
	case KindFloat:
		return "float"
	case KindTime:
		return "time"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Value is a type-checked literal. Only the field of its Kind is set.
type Value struct {
	Kind  Kind
	Str   string
	Int   int64
	Float float64   // finite
	Time  time.Time // UTC, year 0 to 9999
}

// StringValue, IntValue, FloatValue and TimeValue build values, for tests
// and for code that builds queries without parsing.
func StringValue(s string) Value  { return Value{Kind: KindString, Str: s} }
func IntValue(n int64) Value      { return Value{Kind: KindInt, Int: n} }
func FloatValue(f float64) Value  { return Value{Kind: KindFloat, Float: f} }
func TimeValue(t time.Time) Value { return Value{Kind: KindTime, Time: t.UTC()} }

// Equal reports whether v and w are the same literal.
func (v Value) Equal(w Value) bool {
	if v.Kind != w.Kind {
		return false
	}
	switch v.Kind {
	case KindString:
		return v.Str == w.Str
	case KindInt:
		return v.Int == w.Int
	case KindFloat:
		return v.Float == w.Float
	case KindTime:
		return v.Time.Equal(w.Time)
	}
	return true
}

// String renders v as a literal of the query language.
func (v Value) String() string {
	switch v.Kind {
	case KindString:
		return quote(v.Str)
	case KindInt:
		return strconv.FormatInt(v.Int, 10)
	case KindFloat:
		return formatFloat(v.Float)
	case KindTime:
		return quote(v.Time.UTC().Format(time.RFC3339Nano))
	}
	return fmt.Sprintf("Value(%d)", int(v.Kind))
}

func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// formatFloat writes f so that it lexes back as the same float, and as a
// float rather than an integer.
func formatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "0.0" // never produced by the parser
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// String renders q in canonical form: lower-case keywords, upper-case column
// names, single spaces, the fewest parentheses, and the implicit GROUP BY
// written out. Parse(q.String()) yields a query equal to q.
func (q *Query) String() string {
	var b strings.Builder
	b.WriteString("select ")
	for i, s := range q.Select {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.String())
	}
	if q.Where != nil {
		b.WriteString(" where ")
		writeExpr(&b, q.Where, precOr)
	}
	if len(q.GroupBy) > 0 {
		b.WriteString(" group by ")
		for i, c := range q.GroupBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name)
		}
	}
	if len(q.OrderBy) > 0 {
		b.WriteString(" order by ")
		for i, o := range q.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(o.Item.String())
			if o.Desc {
				b.WriteString(" desc")
			}
		}
	}
	if q.Limit >= 0 {
		b.WriteString(" limit ")
		b.WriteString(strconv.FormatInt(q.Limit, 10))
	}
	if q.Offset > 0 {
		b.WriteString(" offset ")
		b.WriteString(strconv.FormatInt(q.Offset, 10))
	}
	return b.String()
}

// ExprString renders a condition in canonical form.
func ExprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e, precOr)
	return b.String()
}

// Binding strength, loosest first.
const (
	precOr = iota + 1
	precAnd
	precNot
	precPredicate
)

func prec(e Expr) int {
	switch e.(type) {
	case *Or:
		return precOr
	case *And:
		return precAnd
	case *Not:
		return precNot
	}
	return precPredicate
}

// writeExpr writes e, in parentheses if it binds more loosely than its
// context requires.
func writeExpr(b *strings.Builder, e Expr, min int) {
	if prec(e) < min {
		b.WriteByte('(')
		writeExpr(b, e, precOr)
		b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *Or:
		for i, t := range e.Terms {
			if i > 0 {
				b.WriteString(" or ")
			}
			writeExpr(b, t, precOr) // a nested Or flattens when re-parsed
		}
	case *And:
		for i, t := range e.Terms {
			if i > 0 {
				b.WriteString(" and ")
			}
			writeExpr(b, t, precAnd)
		}
	case *Not:
		switch x := e.X.(type) {
		case *Like:
			fmt.Fprintf(b, "%s not like %s", colText(x.Column, x.Upper), quote(x.Pattern))
		case *In:
			b.WriteString(colText(x.Column, x.Upper) + " not in ")
			writeValues(b, x.Values)
		case *Between:
			fmt.Fprintf(b, "%s not between %s and %s", colText(x.Column, x.Upper), x.Low, x.High)
		default:
			b.WriteString("not ")
			writeExpr(b, e.X, precNot)
		}
	case *Compare:
		fmt.Fprintf(b, "%s %s %s", colText(e.Column, e.Upper), e.Op, e.Value)
	case *Like:
		fmt.Fprintf(b, "%s like %s", colText(e.Column, e.Upper), quote(e.Pattern))
	case *In:
		b.WriteString(colText(e.Column, e.Upper) + " in ")
		writeValues(b, e.Values)
	case *Between:
		fmt.Fprintf(b, "%s between %s and %s", colText(e.Column, e.Upper), e.Low, e.High)
	default:
		fmt.Fprintf(b, "<%T>", e)
	}
}

// colText is a predicate's column as written: NAME, or upper(NAME).
func colText(c *Column, upper bool) string {
	if upper {
		return "upper(" + c.Name + ")"
	}
	return c.Name
}

func writeValues(b *strings.Builder, vs []Value) {
	b.WriteByte('(')
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.String())
	}
	b.WriteByte(')')
}
