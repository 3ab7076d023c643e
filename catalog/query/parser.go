package query

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of Parse. Exceeding one is a *SyntaxError. MaxConditions and
// MaxItems keep every query that parses within what the backends compile:
// SQLite refuses expression trees deeper than 1000 (a chain of n ORs is n
// deep) and more than 2000 result columns or ORDER BY terms.
const (
	MaxQueryLength = 64 << 10 // bytes
	MaxDepth       = 100      // nested parentheses and NOTs
	MaxInList      = 10000    // values in one IN list
	MaxConditions  = 500      // conditions in WHERE (an IN or BETWEEN is one)
	MaxItems       = 500      // items of a SELECT or an ORDER BY list (GROUP BY names each column once)
)

// Parse parses and type-checks a query. Every error is a *SyntaxError.
func Parse(s string) (*Query, error) {
	q, err := parse(s)
	if err != nil {
		return nil, err
	}
	return q, nil
}

func parse(s string) (*Query, *SyntaxError) {
	if len(s) > MaxQueryLength {
		return nil, errorAt(s, MaxQueryLength, fmt.Sprintf("query is too long: %d bytes, the limit is %d", len(s), MaxQueryLength))
	}
	if !utf8.ValidString(s) {
		for i, r := range s {
			if r == utf8.RuneError {
				return nil, errorAt(s, i, "invalid UTF-8 in query")
			}
		}
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	// Point end-of-query errors just past the last non-blank character.
	toks[len(toks)-1].pos = len(strings.TrimRight(s, " \t\r\n\f\v"))
	p := &parser{src: s, toks: toks}
	return p.query()
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
	conds int // conditions parsed so far
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) *SyntaxError {
	return errorAt(p.src, t.pos, fmt.Sprintf(format, args...))
}

// expected reports that the current token is not what the grammar needs.
func (p *parser) expected(what string) *SyntaxError {
	t := p.tok()
	if p.i == 0 {
		return p.errAt(t, "expected %s at the start of the query, found %s", what, t.describe())
	}
	return p.errAt(t, "expected %s after %s, found %s", what, p.toks[p.i-1].describe(), t.describe())
}

// isKeyword reports whether the current token is keyword kw (lower case).
func (p *parser) isKeyword(kw string) bool {
	t := p.tok()
	return t.kind == tokIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) acceptKeyword(kw string) bool {
	if p.isKeyword(kw) {
		p.i++
		return true
	}
	return false
}

// posItem remembers where a select or order item was written.
type posItem struct {
	item SelectItem
	tok  token
}

func (p *parser) query() (*Query, *SyntaxError) {
	if !p.acceptKeyword("select") {
		return nil, p.expected("SELECT")
	}
	q := &Query{Limit: -1}
	if p.isKeyword("distinct") {
		return nil, p.errAt(p.tok(), "DISTINCT is not needed: result rows are always distinct")
	}
	var sel []posItem
	for {
		if len(sel) == MaxItems {
			return nil, p.errAt(p.tok(), "too many items in SELECT: the limit is %d", MaxItems)
		}
		it, t, err := p.selectItem("a column or aggregate")
		if err != nil {
			return nil, err
		}
		sel = append(sel, posItem{it, t})
		q.Select = append(q.Select, it)
		if p.tok().kind != tokComma {
			break
		}
		p.next()
	}

	stage := stageSelect
	if p.acceptKeyword("where") {
		stage = stageWhere
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		q.Where = e
	}

	explicitGroup := false
	if p.isKeyword("group") {
		explicitGroup = true
		stage = stageGroup
		p.next()
		if !p.acceptKeyword("by") {
			return nil, p.expected("BY")
		}
		for {
			t := p.tok()
			if t.kind == tokIdent && p.toks[p.i+1].kind == tokLParen {
				return nil, p.errAt(t, "GROUP BY takes columns, not aggregates")
			}
			c, err := p.column("a column")
			if err != nil {
				return nil, err
			}
			for _, g := range q.GroupBy {
				if g == c {
					return nil, p.errAt(t, "%s appears twice in GROUP BY", c.Name)
				}
			}
			q.GroupBy = append(q.GroupBy, c)
			if p.tok().kind != tokComma {
				break
			}
			p.next()
		}
	}

	if p.isKeyword("order") {
		stage = stageOrder
		p.next()
		if !p.acceptKeyword("by") {
			return nil, p.expected("BY")
		}
		for {
			if len(q.OrderBy) == MaxItems {
				return nil, p.errAt(p.tok(), "too many items in ORDER BY: the limit is %d", MaxItems)
			}
			it, t, err := p.selectItem("a column or aggregate")
			if err != nil {
				return nil, err
			}
			o := OrderItem{Item: it}
			if p.acceptKeyword("desc") {
				o.Desc = true
			} else {
				p.acceptKeyword("asc")
			}
			found := false
			for _, s := range q.Select {
				if s == it {
					found = true
					break
				}
			}
			if !found {
				return nil, p.errAt(t, "cannot order by %s: it is not in the select list", it)
			}
			q.OrderBy = append(q.OrderBy, o)
			if p.tok().kind != tokComma {
				break
			}
			p.next()
		}
	}

	if p.acceptKeyword("limit") {
		stage = stageLimit
		n, err := p.count()
		if err != nil {
			return nil, err
		}
		q.Limit = n
	}
	if p.acceptKeyword("offset") {
		stage = stageOffset
		n, err := p.count()
		if err != nil {
			return nil, err
		}
		q.Offset = n
	}

	if p.tok().kind != tokEOF {
		return nil, p.errAt(p.tok(), "expected %s, found %s", nextAfter[stage], p.tok().describe())
	}
	if err := p.checkGrouping(q, sel, explicitGroup); err != nil {
		return nil, err
	}
	return q, nil
}

// Clauses of a query, in order; used to say what may come next.
const (
	stageSelect = iota
	stageWhere
	stageGroup
	stageOrder
	stageLimit
	stageOffset
)

var nextAfter = [...]string{
	stageSelect: "',', WHERE, GROUP BY, ORDER BY, LIMIT, OFFSET or end of query",
	stageWhere:  "AND, OR, GROUP BY, ORDER BY, LIMIT, OFFSET or end of query",
	stageGroup:  "',', ORDER BY, LIMIT, OFFSET or end of query",
	stageOrder:  "',', ASC, DESC, LIMIT, OFFSET or end of query",
	stageLimit:  "OFFSET or end of query",
	stageOffset: "end of query",
}

// checkGrouping applies the aggregate rules; see the package doc.
func (p *parser) checkGrouping(q *Query, sel []posItem, explicit bool) *SyntaxError {
	if !explicit {
		if !q.Aggregated() {
			return nil
		}
		// GenQuery1: group by the other selected columns.
		for _, s := range q.Select {
			if s.Agg == AggNone && !containsColumn(q.GroupBy, s.Column) {
				q.GroupBy = append(q.GroupBy, s.Column)
			}
		}
		return nil
	}
	for _, s := range sel {
		if s.item.Agg == AggNone && !containsColumn(q.GroupBy, s.item.Column) {
			return p.errAt(s.tok, "%s must be in GROUP BY or inside an aggregate", s.item.Column.Name)
		}
	}
	return nil
}

func containsColumn(cs []*Column, c *Column) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// count parses the non-negative integer of LIMIT or OFFSET.
func (p *parser) count() (int64, *SyntaxError) {
	t := p.tok()
	if t.kind != tokNumber {
		return 0, p.expected("a number")
	}
	n, err := strconv.ParseInt(t.text, 10, 64)
	if err != nil || n < 0 {
		return 0, p.errAt(t, "%s %s: want a whole number from 0 to %d", strings.ToUpper(p.toks[p.i-1].text), t.text, int64(math.MaxInt64))
	}
	p.next()
	return n, nil
}

var aggFuncs = map[string]AggFunc{"count": AggCount, "sum": AggSum, "min": AggMin, "max": AggMax, "avg": AggAvg}

// selectItem parses a column or AGG(column) and returns the token it
// started at.
func (p *parser) selectItem(what string) (SelectItem, token, *SyntaxError) {
	t := p.tok()
	if t.kind != tokIdent || p.toks[p.i+1].kind != tokLParen {
		c, err := p.column(what)
		return SelectItem{Column: c}, t, err
	}
	name := strings.ToLower(t.text)
	agg, ok := aggFuncs[name]
	if !ok {
		switch name {
		case "order", "order_asc", "order_desc":
			return SelectItem{}, t, p.errAt(t, "%s(...) is GenQuery1 syntax: write ORDER BY COLUMN [DESC] after the conditions", strings.ToUpper(t.text))
		}
		return SelectItem{}, t, p.errAt(t, "unknown function %s: the aggregates are COUNT, SUM, MIN, MAX and AVG", clip(t.text))
	}
	p.next() // name
	p.next() // (
	if p.tok().kind == tokStar {
		return SelectItem{}, t, p.errAt(p.tok(), "COUNT(*) is not supported: count a column, e.g. COUNT(DATA_ID)")
	}
	ct := p.tok()
	c, err := p.column("a column")
	if err != nil {
		return SelectItem{}, t, err
	}
	if p.tok().kind != tokRParen {
		return SelectItem{}, t, p.expected("')'")
	}
	p.next()
	if (agg == AggSum || agg == AggAvg) && c.Type != TypeInt {
		return SelectItem{}, t, p.errAt(ct, "%s needs a numeric column; %s is a %s", strings.ToUpper(name), c.Name, c.Type)
	}
	return SelectItem{Agg: agg, Column: c}, t, nil
}

// column parses a column name.
func (p *parser) column(what string) (*Column, *SyntaxError) {
	t := p.tok()
	if t.kind != tokIdent || isReserved(t.text) {
		return nil, p.expected(what)
	}
	c, ok := LookupColumn(t.text)
	if !ok {
		if s := suggest(t.text); s != "" {
			return nil, p.errAt(t, "unknown column %s, did you mean %s?", clip(t.text), s)
		}
		return nil, p.errAt(t, "unknown column %s", clip(t.text))
	}
	p.next()
	return c, nil
}

// or parses: and {OR and}.
func (p *parser) or() (Expr, *SyntaxError) {
	var terms []Expr
	for {
		e, err := p.and()
		if err != nil {
			return nil, err
		}
		terms = appendFlat[*Or](terms, e)
		if !p.acceptKeyword("or") {
			break
		}
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &Or{Terms: terms}, nil
}

// and parses: not {AND not}.
func (p *parser) and() (Expr, *SyntaxError) {
	var terms []Expr
	for {
		e, err := p.not()
		if err != nil {
			return nil, err
		}
		terms = appendFlat[*And](terms, e)
		if !p.acceptKeyword("and") {
			break
		}
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &And{Terms: terms}, nil
}

// appendFlat appends e to terms, splicing in e's own terms if e is of the
// same associative kind T (*And or *Or).
func appendFlat[T interface{ *And | *Or }](terms []Expr, e Expr) []Expr {
	switch x := e.(type) {
	case *And:
		if _, ok := any(T(nil)).(*And); ok {
			return append(terms, x.Terms...)
		}
	case *Or:
		if _, ok := any(T(nil)).(*Or); ok {
			return append(terms, x.Terms...)
		}
	}
	return append(terms, e)
}

func (p *parser) enter() *SyntaxError {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(p.tok(), "conditions are nested too deeply (more than %d parentheses and NOTs)", MaxDepth)
	}
	return nil
}

// not parses: NOT not | primary.
func (p *parser) not() (Expr, *SyntaxError) {
	if p.isKeyword("not") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		p.depth--
		return &Not{X: x}, nil
	}
	return p.primary()
}

// primary parses: "(" or ")" | predicate.
func (p *parser) primary() (Expr, *SyntaxError) {
	if p.tok().kind == tokLParen {
		if err := p.enter(); err != nil {
			return nil, err
		}
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.tok().kind != tokRParen {
			return nil, p.expected("')'")
		}
		p.next()
		p.depth--
		return e, nil
	}
	t := p.tok()
	upper := false
	if t.kind == tokIdent && p.toks[p.i+1].kind == tokLParen {
		if _, ok := aggFuncs[strings.ToLower(t.text)]; ok {
			return nil, p.errAt(t, "aggregates cannot be used in WHERE conditions")
		}
		if strings.EqualFold(t.text, "upper") {
			upper = true
		} else if _, ok := LookupColumn(t.text); !ok {
			return nil, p.errAt(t, "unknown function %s: a condition takes a column or UPPER(COLUMN)", clip(t.text))
		}
	}
	if t.kind != tokIdent || isReserved(t.text) {
		return nil, p.expected("a condition")
	}
	if err := p.countCondition(); err != nil {
		return nil, err
	}
	var c *Column
	if upper {
		p.next() // UPPER
		p.next() // (
		ct := p.tok()
		var err *SyntaxError
		if c, err = p.column("a column"); err != nil {
			return nil, err
		}
		if c.Type != TypeString {
			return nil, p.errAt(ct, "UPPER needs a string column; %s is a%s %s column", c.Name, article(c.Type), c.Type)
		}
		if p.tok().kind != tokRParen {
			return nil, p.expected("')'")
		}
		p.next()
	} else {
		var err *SyntaxError
		if c, err = p.column("a column"); err != nil {
			return nil, err
		}
	}
	e, err := p.predicate(c)
	if err != nil {
		return nil, err
	}
	if upper {
		setUpper(e)
	}
	// GenQuery1: "COL like 'a%' || = 'b'" ORs conditions on one column.
	if p.tok().kind != tokOrOr {
		return e, nil
	}
	// The group prints as a parenthesised OR, so it counts as a level of
	// nesting; otherwise the canonical form could exceed MaxDepth.
	if p.depth+1 > MaxDepth {
		return nil, p.errAt(p.tok(), "conditions are nested too deeply (more than %d parentheses and NOTs)", MaxDepth)
	}
	terms := []Expr{e}
	for p.tok().kind == tokOrOr {
		p.next()
		if err := p.countCondition(); err != nil {
			return nil, err
		}
		e, err := p.predicate(c)
		if err != nil {
			return nil, err
		}
		if upper {
			setUpper(e)
		}
		terms = appendFlat[*Or](terms, e)
	}
	return &Or{Terms: terms}, nil
}

// setUpper marks the predicate e (or the one a NOT holds) as comparing
// UPPER(column).
func setUpper(e Expr) {
	switch e := e.(type) {
	case *Compare:
		e.Upper = true
	case *Like:
		e.Upper = true
	case *In:
		e.Upper = true
	case *Between:
		e.Upper = true
	case *Not:
		setUpper(e.X)
	}
}

// countCondition counts the condition that starts at the current token
// against MaxConditions.
func (p *parser) countCondition() *SyntaxError {
	if p.conds == MaxConditions {
		return p.errAt(p.tok(), "too many conditions: the limit is %d (to compare a column with many values, write COLUMN IN ('a', 'b', ...), which takes up to %d)", MaxConditions, MaxInList)
	}
	p.conds++
	return nil
}

// predicate parses what follows a column in a condition.
func (p *parser) predicate(c *Column) (Expr, *SyntaxError) {
	t := p.tok()
	switch {
	case t.kind == tokOp:
		p.next()
		v, err := p.value(c)
		if err != nil {
			return nil, err
		}
		return &Compare{Column: c, Op: parseOp(t.text), Value: v}, nil
	case p.isKeyword("not"):
		p.next()
		switch {
		case p.isKeyword("like"), p.isKeyword("in"), p.isKeyword("between"):
			e, err := p.predicate(c)
			if err != nil {
				return nil, err
			}
			return &Not{X: e}, nil
		}
		return nil, p.expected("LIKE, IN or BETWEEN")
	case p.isKeyword("like"):
		if c.Type != TypeString {
			return nil, p.errAt(t, "LIKE needs a string column; %s is a%s %s column (use comparisons or BETWEEN)", c.Name, article(c.Type), c.Type)
		}
		p.next()
		pt := p.tok()
		if pt.kind != tokString {
			return nil, p.expected("a quoted pattern")
		}
		if msg := checkLikePattern(pt.text); msg != "" {
			return nil, p.errAt(pt, "%s", msg)
		}
		p.next()
		return &Like{Column: c, Pattern: pt.text}, nil
	case p.isKeyword("in"):
		p.next()
		if p.tok().kind != tokLParen {
			return nil, p.expected("'('")
		}
		p.next()
		in := &In{Column: c}
		for {
			if len(in.Values) == MaxInList {
				return nil, p.errAt(p.tok(), "too many values in IN: the limit is %d", MaxInList)
			}
			v, err := p.value(c)
			if err != nil {
				return nil, err
			}
			in.Values = append(in.Values, v)
			if p.tok().kind != tokComma {
				break
			}
			p.next()
		}
		if p.tok().kind != tokRParen {
			return nil, p.expected("',' or ')'")
		}
		p.next()
		return in, nil
	case p.isKeyword("between"):
		p.next()
		lo, err := p.value(c)
		if err != nil {
			return nil, err
		}
		p.acceptKeyword("and") // optional, as in GenQuery1's "between 'a' 'b'"
		hi, err := p.value(c)
		if err != nil {
			return nil, err
		}
		return &Between{Column: c, Low: lo, High: hi}, nil
	case p.isKeyword("is"):
		return nil, p.errAt(t, "IS [NOT] NULL is not supported: missing values are empty strings, so compare with ''")
	}
	return nil, p.expected("an operator (=, <>, <, <=, >, >=, LIKE, NOT LIKE, IN, BETWEEN)")
}

func article(t Type) string {
	if t == TypeInt {
		return "n"
	}
	return ""
}

func parseOp(s string) Op {
	switch s {
	case "=":
		return OpEq
	case "<>", "!=":
		return OpNe
	case "<":
		return OpLt
	case "<=":
		return OpLe
	case ">":
		return OpGt
	}
	return OpGe
}

// checkLikePattern returns a message if the pattern is malformed.
func checkLikePattern(pat string) string {
	for i := 0; i < len(pat); i++ {
		if pat[i] == '\\' {
			if i+1 == len(pat) {
				return `LIKE pattern ends with an escape character '\'; write '\\' for a backslash`
			}
			i++
		}
	}
	return ""
}

// value parses a literal and converts it to the type of column c.
func (p *parser) value(c *Column) (Value, *SyntaxError) {
	t := p.tok()
	if t.kind == tokIdent && !isReserved(t.text) {
		if other, ok := LookupColumn(t.text); ok {
			return Value{}, p.errAt(t, "cannot compare %s with column %s: conditions compare a column with a value", c.Name, other.Name)
		}
		return Value{}, p.errAt(t, "expected a value after %s, found %s (quote text: %s)", p.toks[p.i-1].describe(), t.describe(), clip(quote(t.text)))
	}
	if t.kind != tokString && t.kind != tokNumber {
		return Value{}, p.expected("a value")
	}
	v, msg := convert(c, t)
	if msg != "" {
		return Value{}, p.errAt(t, "%s", msg)
	}
	p.next()
	return v, nil
}

// convert types literal t for column c, or returns a message saying why it
// cannot.
func convert(c *Column, t token) (Value, string) {
	switch c.Type {
	case TypeString:
		if t.kind != tokString {
			return Value{}, fmt.Sprintf("%s is a string column: quote the value, '%s'", c.Name, clip(t.text))
		}
		return StringValue(t.text), ""
	case TypeInt:
		v, ok := parseNumber(t.text)
		if !ok {
			return Value{}, fmt.Sprintf("%s is an integer column, and %s is not a number", c.Name, t.describeValue())
		}
		if v.Kind == 0 {
			return Value{}, fmt.Sprintf("number %s is out of range", clip(t.text))
		}
		return v, ""
	case TypeTime:
		tm, ok := parseTime(t)
		if !ok {
			return Value{}, fmt.Sprintf("%s is a time column, and %s is not a time (write '2024-01-31T12:00:00Z', '2024-01-31.12:00:00', '2024-01-31' or unix seconds)", c.Name, t.describeValue())
		}
		if tm.Year() < 0 || tm.Year() > 9999 {
			return Value{}, fmt.Sprintf("time %s is out of range (years 0 to 9999)", t.describeValue())
		}
		return TimeValue(tm), ""
	}
	return Value{}, "column of unknown type"
}

func (t token) describeValue() string {
	if t.kind == tokString {
		return clip(quote(t.text))
	}
	return clip(t.text)
}

// parseNumber parses s as the query language writes numbers. ok is false if
// s is not a number; a zero Kind with ok means it is out of range.
func parseNumber(s string) (v Value, ok bool) {
	if s == "" || !(isDigit(s[0]) || s[0] == '-' || s[0] == '.') {
		return Value{}, false
	}
	if n, err := lexNumber(s, 0); err != nil || n != len(s) {
		return Value{}, false
	}
	if !strings.ContainsAny(s, ".eE") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return Value{}, true
		}
		return IntValue(n), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return Value{}, true
	}
	return FloatValue(f), true
}

// Unix seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
const (
	minUnix = -62167219200
	maxUnix = 253402300799
)

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02.15:04:05", // iRODS
	"2006-01-02",
}

// parseTime reads a time literal: unix seconds (a number, or digits in
// quotes as iRODS stores them), RFC 3339, or one of timeLayouts in UTC.
func parseTime(t token) (time.Time, bool) {
	s := t.text
	if t.kind == tokNumber || (s != "" && strings.Trim(s, "0123456789") == "") {
		v, ok := parseNumber(s)
		if !ok {
			return time.Time{}, false
		}
		switch v.Kind {
		case KindInt:
			if v.Int < minUnix || v.Int > maxUnix {
				return time.Time{}, false
			}
			return time.Unix(v.Int, 0).UTC(), true
		case KindFloat:
			if v.Float < minUnix || v.Float > maxUnix {
				return time.Time{}, false
			}
			sec := math.Floor(v.Float)
			ns := math.Round((v.Float - sec) * 1e9)
			return time.Unix(int64(sec), int64(ns)).UTC(), true
		}
		return time.Time{}, false
	}
	for _, layout := range timeLayouts {
		if tm, err := time.Parse(layout, s); err == nil {
			return tm.UTC(), true
		}
	}
	return time.Time{}, false
}
