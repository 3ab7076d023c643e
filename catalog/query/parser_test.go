package query

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func col(name string) *Column {
	c, ok := LookupColumn(name)
	if !ok {
		panic("no column " + name)
	}
	return c
}

// mustParse parses s and checks that its canonical form re-parses to an
// equal query whose canonical form is the same.
func mustParse(t *testing.T, s string) *Query {
	t.Helper()
	q, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	canon := q.String()
	q2, err := Parse(canon)
	if err != nil {
		t.Fatalf("Parse(canonical %q of %q): %v", canon, s, err)
	}
	if !reflect.DeepEqual(q, q2) {
		t.Fatalf("canonical form changes the query:\n in:    %q\n canon: %q\n again: %q", s, canon, q2.String())
	}
	if q2.String() != canon {
		t.Fatalf("canonical form is not stable: %q then %q", canon, q2.String())
	}
	return q
}

func TestParseCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		// The example.
		{"select COLL_NAME, DATA_NAME, DATA_SIZE where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE like 'abc%'",
			"select COLL_NAME, DATA_NAME, DATA_SIZE where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE like 'abc%'"},
		// Keywords and column names are case-insensitive; blanks are free.
		{"SELECT data_name\n\tWHERE   Data_Size>=10", "select DATA_NAME where DATA_SIZE >= 10"},
		{"Select DATA_NAME Where DATA_NAME Like 'x' Or Not DATA_SIZE < 3", "select DATA_NAME where DATA_NAME like 'x' or not DATA_SIZE < 3"},
		// Operators.
		{"select DATA_NAME where DATA_SIZE != 0", "select DATA_NAME where DATA_SIZE <> 0"},
		{"select DATA_NAME where DATA_SIZE<>0 and DATA_SIZE<1 and DATA_SIZE<=2 and DATA_SIZE>3 and DATA_SIZE>=4 and DATA_SIZE=5",
			"select DATA_NAME where DATA_SIZE <> 0 and DATA_SIZE < 1 and DATA_SIZE <= 2 and DATA_SIZE > 3 and DATA_SIZE >= 4 and DATA_SIZE = 5"},
		// Strings: '' escapes a quote; anything else is literal.
		{"select DATA_NAME where DATA_NAME = 'it''s'", "select DATA_NAME where DATA_NAME = 'it''s'"},
		{"select DATA_NAME where DATA_NAME = ''", "select DATA_NAME where DATA_NAME = ''"},
		{"select DATA_NAME where DATA_NAME = 'select x where y and z in (1)'", "select DATA_NAME where DATA_NAME = 'select x where y and z in (1)'"},
		{"select DATA_NAME where DATA_NAME = 'naïve ☃'", "select DATA_NAME where DATA_NAME = 'naïve ☃'"},
		// Numbers: quoted numbers are accepted for integer columns (iRODS quotes everything).
		{"select DATA_NAME where DATA_SIZE > '100000'", "select DATA_NAME where DATA_SIZE > 100000"},
		{"select DATA_NAME where DATA_SIZE > 1.5e6", "select DATA_NAME where DATA_SIZE > 1.5e+06"},
		{"select DATA_NAME where DATA_SIZE > 2.0", "select DATA_NAME where DATA_SIZE > 2.0"},
		{"select DATA_NAME where DATA_SIZE > -1", "select DATA_NAME where DATA_SIZE > -1"},
		{"select DATA_NAME where DATA_SIZE > .5", "select DATA_NAME where DATA_SIZE > 0.5"},
		{"select DATA_NAME where DATA_REPL_STATUS = '1'", "select DATA_NAME where DATA_REPL_STATUS = 1"},
		// Times.
		{"select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31T12:00:00Z'", "select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31T12:00:00Z'"},
		{"select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31T12:00:00+02:00'", "select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31T10:00:00Z'"},
		{"select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31T12:00:00.25Z'", "select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31T12:00:00.25Z'"},
		{"select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31.12:00:00'", "select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31T12:00:00Z'"},
		{"select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31 12:00:00'", "select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31T12:00:00Z'"},
		{"select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31T12:00:00'", "select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31T12:00:00Z'"},
		{"select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31'", "select DATA_NAME where DATA_MODIFY_TIME > '2024-01-31T00:00:00Z'"},
		{"select DATA_NAME where DATA_MODIFY_TIME > 1700000000", "select DATA_NAME where DATA_MODIFY_TIME > '2023-11-14T22:13:20Z'"},
		{"select DATA_NAME where DATA_MODIFY_TIME > '01700000000'", "select DATA_NAME where DATA_MODIFY_TIME > '2023-11-14T22:13:20Z'"},
		{"select DATA_NAME where DATA_MODIFY_TIME > 1700000000.5", "select DATA_NAME where DATA_MODIFY_TIME > '2023-11-14T22:13:20.5Z'"},
		{"select DATA_NAME where DATA_MODIFY_TIME between '2024-01-01' and '2024-02-01'",
			"select DATA_NAME where DATA_MODIFY_TIME between '2024-01-01T00:00:00Z' and '2024-02-01T00:00:00Z'"},
		// LIKE, IN, BETWEEN and their negations.
		{"select DATA_NAME where DATA_NAME not like '%.txt'", "select DATA_NAME where DATA_NAME not like '%.txt'"},
		{"select DATA_NAME where not DATA_NAME like '%.txt'", "select DATA_NAME where DATA_NAME not like '%.txt'"},
		{`select DATA_NAME where DATA_NAME like 'a\%b\_c\\'`, `select DATA_NAME where DATA_NAME like 'a\%b\_c\\'`},
		{"select DATA_NAME where DATA_RESC_NAME in ('a','b', 'c')", "select DATA_NAME where DATA_RESC_NAME in ('a', 'b', 'c')"},
		{"select DATA_NAME where DATA_RESC_NAME not in ('a')", "select DATA_NAME where DATA_RESC_NAME not in ('a')"},
		{"select DATA_NAME where DATA_SIZE in (1, '2', 3.5)", "select DATA_NAME where DATA_SIZE in (1, 2, 3.5)"},
		{"select DATA_NAME where DATA_SIZE between 1 and 10", "select DATA_NAME where DATA_SIZE between 1 and 10"},
		{"select DATA_NAME where DATA_SIZE not between 1 and 10", "select DATA_NAME where DATA_SIZE not between 1 and 10"},
		{"select DATA_NAME, DATA_SIZE where DATA_SIZE BETWEEN '100000' '100200'", // GenQuery1 form
			"select DATA_NAME, DATA_SIZE where DATA_SIZE between 100000 and 100200"},
		{"select DATA_NAME where DATA_SIZE between 1 and 10 and DATA_NAME = 'x'", "select DATA_NAME where DATA_SIZE between 1 and 10 and DATA_NAME = 'x'"},
		{"select DATA_NAME where not not DATA_NAME = 'x'", "select DATA_NAME where not not DATA_NAME = 'x'"},
		{"select DATA_NAME where not (DATA_NAME not like 'x')", "select DATA_NAME where not DATA_NAME not like 'x'"},
		// GenQuery1 || ORs conditions on one column.
		{"select DATA_NAME where DATA_NAME like 'a%' || = 'b'", "select DATA_NAME where DATA_NAME like 'a%' or DATA_NAME = 'b'"},
		{"select DATA_NAME where DATA_NAME like 'a%' || = 'b' and DATA_SIZE > 1", "select DATA_NAME where (DATA_NAME like 'a%' or DATA_NAME = 'b') and DATA_SIZE > 1"},
		// Parentheses are kept only where needed; nested ANDs and ORs flatten.
		{"select DATA_NAME where ((DATA_SIZE = 1))", "select DATA_NAME where DATA_SIZE = 1"},
		{"select DATA_NAME where DATA_SIZE = 1 and (DATA_SIZE = 2 and DATA_SIZE = 3)", "select DATA_NAME where DATA_SIZE = 1 and DATA_SIZE = 2 and DATA_SIZE = 3"},
		{"select DATA_NAME where (DATA_SIZE = 1 or DATA_SIZE = 2) or DATA_SIZE = 3", "select DATA_NAME where DATA_SIZE = 1 or DATA_SIZE = 2 or DATA_SIZE = 3"},
		{"select DATA_NAME where (DATA_SIZE = 1 or DATA_SIZE = 2) and DATA_SIZE = 3", "select DATA_NAME where (DATA_SIZE = 1 or DATA_SIZE = 2) and DATA_SIZE = 3"},
		{"select DATA_NAME where not (DATA_SIZE = 1 and DATA_SIZE = 2)", "select DATA_NAME where not (DATA_SIZE = 1 and DATA_SIZE = 2)"},
		// Aggregates and grouping.
		{"SELECT USER_NAME, SUM(DATA_SIZE), COUNT(DATA_NAME), RESC_NAME", // iquest help example: implicit grouping
			"select USER_NAME, sum(DATA_SIZE), count(DATA_NAME), RESC_NAME group by USER_NAME, RESC_NAME"},
		{"select count(DATA_ID) where COLL_NAME like '/tempZone/home/rods%'", "select count(DATA_ID) where COLL_NAME like '/tempZone/home/rods%'"},
		{"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project' group by META_DATA_ATTR_VALUE order by count(DATA_ID) desc limit 10",
			"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project' group by META_DATA_ATTR_VALUE order by count(DATA_ID) desc limit 10"},
		{"select min(DATA_MODIFY_TIME), max(DATA_NAME), avg(DATA_SIZE)", "select min(DATA_MODIFY_TIME), max(DATA_NAME), avg(DATA_SIZE)"},
		{"select DATA_RESC_NAME, sum(DATA_SIZE) group by DATA_RESC_NAME, DATA_OWNER_NAME", "select DATA_RESC_NAME, sum(DATA_SIZE) group by DATA_RESC_NAME, DATA_OWNER_NAME"},
		{"select DATA_NAME group by DATA_NAME", "select DATA_NAME group by DATA_NAME"},
		{"select DATA_NAME, DATA_NAME, count(DATA_NAME)", "select DATA_NAME, DATA_NAME, count(DATA_NAME) group by DATA_NAME"},
		// UPPER(column) on string columns, for iquest uppercase.
		{"select DATA_NAME where UPPER(data_name) = 'A.TXT'", "select DATA_NAME where upper(DATA_NAME) = 'A.TXT'"},
		{"select DATA_NAME where upper ( DATA_NAME ) like 'A%' || = 'B' || not like 'C%'",
			"select DATA_NAME where upper(DATA_NAME) like 'A%' or upper(DATA_NAME) = 'B' or upper(DATA_NAME) not like 'C%'"},
		{"select DATA_NAME where not upper(DATA_NAME) in ('A', 'B') and upper(COLL_NAME) not between 'A' and 'B'",
			"select DATA_NAME where upper(DATA_NAME) not in ('A', 'B') and upper(COLL_NAME) not between 'A' and 'B'"},
		// ORDER BY, LIMIT, OFFSET.
		{"select DATA_NAME, DATA_SIZE order by DATA_SIZE desc, DATA_NAME asc", "select DATA_NAME, DATA_SIZE order by DATA_SIZE desc, DATA_NAME"},
		{"select DATA_NAME limit 0", "select DATA_NAME limit 0"},
		{"select DATA_NAME offset 0", "select DATA_NAME"},
		{"select DATA_NAME offset 20", "select DATA_NAME offset 20"},
		{"select DATA_NAME limit 10 offset 20", "select DATA_NAME limit 10 offset 20"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q := mustParse(t, tt.in)
			if got := q.String(); got != tt.want {
				t.Errorf("Parse(%q).String()\n got: %s\nwant: %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseAST(t *testing.T) {
	q := mustParse(t, "select COLL_NAME, count(DATA_ID) where META_DATA_ATTR_NAME = 'project' and (DATA_SIZE > 10 or DATA_NAME not like 'x%') order by COLL_NAME desc limit 5")
	want := &Query{
		Select: []SelectItem{{Column: col("COLL_NAME")}, {Agg: AggCount, Column: col("DATA_ID")}},
		Where: &And{Terms: []Expr{
			&Compare{Column: col("META_DATA_ATTR_NAME"), Op: OpEq, Value: StringValue("project")},
			&Or{Terms: []Expr{
				&Compare{Column: col("DATA_SIZE"), Op: OpGt, Value: IntValue(10)},
				&Not{X: &Like{Column: col("DATA_NAME"), Pattern: "x%"}},
			}},
		}},
		GroupBy: []*Column{col("COLL_NAME")},
		OrderBy: []OrderItem{{Item: SelectItem{Column: col("COLL_NAME")}, Desc: true}},
		Limit:   5,
	}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("got  %s\nwant %s", q, want)
	}

	q = mustParse(t, "select DATA_NAME where DATA_MODIFY_TIME between '2024-01-31.12:00:00' and 1706745600 and DATA_SIZE in (1, 2.5)")
	want = &Query{
		Select: []SelectItem{{Column: col("DATA_NAME")}},
		Where: &And{Terms: []Expr{
			&Between{Column: col("DATA_MODIFY_TIME"),
				Low:  TimeValue(time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC)),
				High: TimeValue(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC))},
			&In{Column: col("DATA_SIZE"), Values: []Value{IntValue(1), FloatValue(2.5)}},
		}},
		Limit: -1,
	}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("got  %s\nwant %s", q, want)
	}
	if !q.Where.(*And).Terms[0].(*Between).Low.Equal(TimeValue(time.Date(2024, 1, 31, 13, 0, 0, 0, time.FixedZone("x", 3600)))) {
		t.Error("Value.Equal: same instant in another zone should be equal")
	}

	cols := mustParse(t, "select DATA_NAME, sum(DATA_SIZE) where COLL_NAME = 'x' and DATA_NAME = 'y' group by DATA_NAME, USER_NAME").Columns()
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "DATA_NAME DATA_SIZE COLL_NAME USER_NAME" {
		t.Errorf("Columns() = %s", got)
	}
}

// sexpr renders a condition fully parenthesised, to test precedence.
func sexpr(e Expr) string {
	switch e := e.(type) {
	case *And:
		return "(and " + sexprs(e.Terms) + ")"
	case *Or:
		return "(or " + sexprs(e.Terms) + ")"
	case *Not:
		return "(not " + sexpr(e.X) + ")"
	case *Compare:
		return e.Column.Name[len("DATA_"):] + e.Op.String() + e.Value.String()
	case *Like:
		return e.Column.Name[len("DATA_"):] + "~" + e.Pattern
	}
	return ExprString(e)
}

func sexprs(es []Expr) string {
	var s []string
	for _, e := range es {
		s = append(s, sexpr(e))
	}
	return strings.Join(s, " ")
}

func TestPrecedence(t *testing.T) {
	tests := []struct{ cond, want string }{
		{"DATA_SIZE = 1 or DATA_SIZE = 2 and DATA_SIZE = 3", "(or SIZE=1 (and SIZE=2 SIZE=3))"},
		{"DATA_SIZE = 1 and DATA_SIZE = 2 or DATA_SIZE = 3", "(or (and SIZE=1 SIZE=2) SIZE=3)"},
		{"not DATA_SIZE = 1 and DATA_SIZE = 2", "(and (not SIZE=1) SIZE=2)"},
		{"not DATA_SIZE = 1 or DATA_SIZE = 2", "(or (not SIZE=1) SIZE=2)"},
		{"not (DATA_SIZE = 1 or DATA_SIZE = 2)", "(not (or SIZE=1 SIZE=2))"},
		{"DATA_SIZE = 1 and not DATA_SIZE = 2 or not not DATA_SIZE = 3 and DATA_SIZE = 4",
			"(or (and SIZE=1 (not SIZE=2)) (and (not (not SIZE=3)) SIZE=4))"},
		{"(DATA_SIZE = 1 or DATA_SIZE = 2) and (DATA_SIZE = 3 or DATA_SIZE = 4)", "(and (or SIZE=1 SIZE=2) (or SIZE=3 SIZE=4))"},
		{"DATA_SIZE = 1 and (DATA_SIZE = 2 and (DATA_SIZE = 3 and DATA_SIZE = 4))", "(and SIZE=1 SIZE=2 SIZE=3 SIZE=4)"},
		{"DATA_SIZE between 1 and 2 and DATA_SIZE = 3 or DATA_SIZE = 4", "(or (and DATA_SIZE between 1 and 2 SIZE=3) SIZE=4)"},
		{"DATA_NAME like 'a' || like 'b' and DATA_SIZE = 1", "(and (or NAME~a NAME~b) SIZE=1)"},
		{"not DATA_NAME like 'a' || like 'b'", "(not (or NAME~a NAME~b))"},
		{"DATA_NAME not like 'a' and DATA_SIZE = 1", "(and (not NAME~a) SIZE=1)"},
	}
	for _, tt := range tests {
		q := mustParse(t, "select DATA_NAME where "+tt.cond)
		if got := sexpr(q.Where); got != tt.want {
			t.Errorf("%s\n got: %s\nwant: %s", tt.cond, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		pos  int // 1-based column
		msg  string
		line int // 0 means 1
	}{
		{"select DATA_NAME where DATA_SIZE =", 35, "expected a value after '=', found end of query", 0},
		{"select DATA_NAME where DATA_SIZE =   ", 35, "expected a value after '=', found end of query", 0},
		{"", 1, "expected SELECT at the start of the query, found end of query", 0},
		{"DATA_NAME", 1, "expected SELECT at the start of the query, found DATA_NAME", 0},
		{"select", 7, "expected a column or aggregate after SELECT, found end of query", 0},
		{"select where", 8, "expected a column or aggregate after SELECT, found WHERE", 0},
		{"select DATA_NAME,", 18, "expected a column or aggregate after ',', found end of query", 0},
		{"select DATA_SZE", 8, "unknown column DATA_SZE, did you mean DATA_SIZE?", 0},
		{"select data_sze", 8, "unknown column data_sze, did you mean DATA_SIZE?", 0},
		{"select META_DATA_ATTR_NAMES", 8, "did you mean META_DATA_ATTR_NAME?", 0},
		{"select FOO", 8, "unknown column FOO", 0},
		{"select DATA_NAME DATA_SIZE", 18, "expected ',', WHERE, GROUP BY, ORDER BY, LIMIT, OFFSET or end of query, found DATA_SIZE", 0},
		{"select DATA_NAME where", 23, "expected a condition after WHERE, found end of query", 0},
		{"select DATA_NAME where DATA_SIZE = 1 and", 41, "expected a condition after AND, found end of query", 0},
		{"select DATA_NAME where DATA_SIZE = 1 DATA_NAME = 'x'", 38, "expected AND, OR, GROUP BY, ORDER BY, LIMIT, OFFSET or end of query, found DATA_NAME", 0},
		{"select DATA_NAME where upper(DATA_SIZE) = 1", 30, "UPPER needs a string column; DATA_SIZE is an integer column", 0},
		{"select DATA_NAME where upper(DATA_NAME = 'a'", 40, "expected ')' after DATA_NAME, found '='", 0},
		{"select DATA_NAME where lower(DATA_NAME) = 'a'", 24, "unknown function lower: a condition takes a column or UPPER(COLUMN)", 0},
		{"select upper(DATA_NAME)", 8, "unknown function upper: the aggregates are", 0},
		{"select DATA_NAME where DATA_SIZE", 33, "expected an operator (=, <>, <, <=, >, >=, LIKE, NOT LIKE, IN, BETWEEN) after DATA_SIZE, found end of query", 0},
		{"select DATA_NAME where DATA_SIZE not = 1", 38, "expected LIKE, IN or BETWEEN after NOT, found '='", 0},
		{"select DATA_NAME where (DATA_SIZE = 1", 38, "expected ')' after number 1, found end of query", 0},
		{"select DATA_NAME where DATA_SIZE = 1)", 37, "found ')'", 0},
		{"select DATA_NAME where DATA_NAME = abc", 36, "expected a value after '=', found abc (quote text: 'abc')", 0},
		{"select DATA_NAME where DATA_NAME = COLL_NAME", 36, "cannot compare DATA_NAME with column COLL_NAME", 0},
		{`select DATA_NAME where DATA_NAME = "abc"`, 36, "quote values with single quotes", 0},
		{"select DATA_NAME where DATA_NAME = 'abc", 36, "unterminated string: no closing quote", 0},
		{"select DATA_NAME where DATA_NAME == 'abc'", 34, "use '=' to compare", 0},
		{"select DATA_NAME where DATA_NAME ! 'abc'", 34, "unexpected '!'", 0},
		{"select DATA_NAME where DATA_NAME = 'a' | = 'b'", 40, "unexpected '|'", 0},
		{"select DATA_NAME where DATA_NAME = 'a' # x", 40, "unexpected character '#'", 0},
		{"select DATA_NAME where DATA_SIZE = 12abc", 36, "malformed number", 0},
		{"select DATA_NAME where DATA_SIZE = 1.2.3", 36, "malformed number", 0},
		// Type errors.
		{"select DATA_NAME where DATA_SIZE = 'abc'", 36, "DATA_SIZE is an integer column, and 'abc' is not a number", 0},
		{"select DATA_NAME where DATA_SIZE in (1, 'x')", 41, "DATA_SIZE is an integer column, and 'x' is not a number", 0},
		{"select DATA_NAME where DATA_SIZE = 99999999999999999999", 36, "number 99999999999999999999 is out of range", 0},
		{"select DATA_NAME where DATA_SIZE = 1e999", 36, "number 1e999 is out of range", 0},
		{"select DATA_NAME where DATA_NAME = 5", 36, "DATA_NAME is a string column: quote the value, '5'", 0},
		{"select DATA_NAME where DATA_SIZE like '1%'", 34, "LIKE needs a string column; DATA_SIZE is an integer column", 0},
		{"select DATA_NAME where DATA_CREATE_TIME like '01508165%'", 41, "LIKE needs a string column; DATA_CREATE_TIME is a time column", 0},
		{"select DATA_NAME where DATA_NAME like 5", 39, "expected a quoted pattern after LIKE, found number 5", 0},
		{`select DATA_NAME where DATA_NAME like 'abc\'`, 39, "LIKE pattern ends with an escape character", 0},
		{"select DATA_NAME where DATA_MODIFY_TIME > 'yesterday'", 43, "DATA_MODIFY_TIME is a time column, and 'yesterday' is not a time", 0},
		{"select DATA_NAME where DATA_MODIFY_TIME > 999999999999", 43, "is not a time", 0},
		{"select DATA_NAME where DATA_MODIFY_TIME > '0000-01-01T00:00:00+01:00'", 43, "is out of range", 0},
		{"select DATA_NAME where DATA_SIZE is null", 34, "IS [NOT] NULL is not supported", 0},
		{"select DATA_NAME where DATA_SIZE in ()", 38, "expected a value after '(', found ')'", 0},
		{"select DATA_NAME where DATA_SIZE in (1 2)", 40, "expected ',' or ')' after number 1, found number 2", 0},
		{"select DATA_NAME where DATA_SIZE between 1", 43, "expected a value after number 1, found end of query", 0},
		// Aggregates and grouping.
		{"select sum(DATA_NAME)", 12, "SUM needs a numeric column; DATA_NAME is a string", 0},
		{"select avg(DATA_MODIFY_TIME)", 12, "AVG needs a numeric column; DATA_MODIFY_TIME is a time", 0},
		{"select count(*)", 14, "COUNT(*) is not supported: count a column, e.g. COUNT(DATA_ID)", 0},
		{"select count(DATA_ID", 21, "expected ')' after DATA_ID, found end of query", 0},
		{"select median(DATA_SIZE)", 8, "unknown function median", 0},
		{"select ORDER_DESC(DATA_ID)", 8, "ORDER_DESC(...) is GenQuery1 syntax", 0},
		{"select DATA_NAME where count(DATA_ID) > 1", 24, "aggregates cannot be used in WHERE conditions", 0},
		{"select DATA_NAME, DATA_SIZE, count(DATA_ID) group by DATA_NAME", 19, "DATA_SIZE must be in GROUP BY or inside an aggregate", 0},
		{"select DATA_NAME group by", 26, "expected a column after BY, found end of query", 0},
		{"select DATA_NAME group DATA_NAME", 24, "expected BY after GROUP, found DATA_NAME", 0},
		{"select DATA_NAME group by DATA_NAME, DATA_NAME", 38, "DATA_NAME appears twice in GROUP BY", 0},
		{"select DATA_NAME group by count(DATA_NAME)", 27, "GROUP BY takes columns, not aggregates", 0},
		{"select distinct DATA_NAME", 8, "DISTINCT is not needed", 0},
		// ORDER BY, LIMIT, OFFSET.
		{"select DATA_NAME order by DATA_SIZE", 27, "cannot order by DATA_SIZE: it is not in the select list", 0},
		{"select DATA_NAME, count(DATA_ID) order by count(DATA_NAME)", 43, "cannot order by count(DATA_NAME): it is not in the select list", 0},
		{"select DATA_NAME order by DATA_NAME up", 37, "expected ',', ASC, DESC, LIMIT, OFFSET or end of query, found up", 0},
		{"select DATA_NAME limit", 23, "expected a number after LIMIT, found end of query", 0},
		{"select DATA_NAME limit -1", 24, "LIMIT -1: want a whole number", 0},
		{"select DATA_NAME limit 1.5", 24, "LIMIT 1.5: want a whole number", 0},
		{"select DATA_NAME offset 1 limit 1", 27, "expected end of query, found LIMIT", 0},
		{"select DATA_NAME limit 1 limit 2", 26, "expected OFFSET or end of query, found LIMIT", 0},
		// Multi-line queries report the line.
		{"select DATA_NAME\nwhere DATA_SIZE =\n  'x'", 3, "DATA_SIZE is an integer column", 3},
		{"select DATA_NAME\r\nwhere\tDATA_SZE = 1", 7, "did you mean DATA_SIZE?", 2},
		// Invalid UTF-8.
		{"select DATA_NAME where DATA_NAME = '\xff'", 37, "invalid UTF-8", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tt.in, q)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError: %v", err, err)
			}
			line := max(tt.line, 1)
			if se.Line != line || se.Pos != tt.pos || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("Parse(%q):\n got %d:%d: %s\nwant %d:%d: ...%s...", tt.in, se.Line, se.Pos, se.Msg, line, tt.pos, tt.msg)
			}
		})
	}
}

func TestSyntaxErrorFormat(t *testing.T) {
	_, err := Parse("select DATA_NAME where DATA_SIZE =")
	want := "query:1:35: expected a value after '=', found end of query\n" +
		"  select DATA_NAME where DATA_SIZE =\n" +
		"                                    ^"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}

	// Tabs are kept in the caret line so the caret stays aligned.
	_, err = Parse("select\tDATA_NAME\twhere\tDATA_SZE = 1")
	want = "query:1:24: unknown column DATA_SZE, did you mean DATA_SIZE?\n" +
		"  select\tDATA_NAME\twhere\tDATA_SZE = 1\n" +
		"        \t         \t     \t^"
	if err.Error() != want {
		t.Errorf("got\n%q\nwant\n%q", err, want)
	}

	// Only the line of the error is shown.
	_, err = Parse("select DATA_NAME\nwhere DATA_SIZE = 'x'\norder by DATA_NAME")
	want = "query:2:19: DATA_SIZE is an integer column, and 'x' is not a number\n" +
		"  where DATA_SIZE = 'x'\n" +
		"                    ^"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}

	// Long lines are shown as a window around the caret.
	long := "select DATA_NAME where DATA_NAME in (" + strings.Repeat("'aaaaaaaa', ", 50) + "5)"
	_, err = Parse(long)
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "  ...") || len(lines[1]) > 120 ||
		strings.Index(lines[2], "^") != strings.Index(lines[1], "5)") {
		t.Errorf("long line error:\n%s", err)
	}

	// Control characters are not echoed.
	_, err = Parse("select DATA_NAME where DATA_NAME = 'a\x1b[2J' x")
	if strings.Contains(err.Error(), "\x1b") {
		t.Errorf("escape character echoed: %q", err)
	}
}

func TestLimits(t *testing.T) {
	check := func(name, q, msg string) {
		t.Helper()
		_, err := Parse(q)
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Msg, msg) {
			t.Errorf("%s: got %v, want %q", name, err, msg)
		}
	}
	check("length", "select DATA_NAME where DATA_NAME = '"+strings.Repeat("x", MaxQueryLength)+"'", "query is too long")
	check("parens", "select DATA_NAME where "+strings.Repeat("(", 20000)+"DATA_SIZE = 1"+strings.Repeat(")", 20000), "nested too deeply")
	check("nots", "select DATA_NAME where "+strings.Repeat("not ", MaxDepth+1)+"DATA_SIZE = 1", "nested too deeply")
	check("in", "select DATA_NAME where DATA_SIZE in ("+strings.Repeat("1,", MaxInList)+"1)", "too many values in IN")

	// Conditions and list items, however they are joined: 2,500 ORs made
	// SQLite fail with "Expression tree is too large" (issue 23).
	for _, tc := range []struct{ name, q string }{
		{"or", "select DATA_NAME where " + strings.Repeat("DATA_NAME = 'x' or ", 2499) + "DATA_NAME = 'x'"},
		{"or at limit+1", "select DATA_NAME where " + strings.Repeat("DATA_SIZE = 1 or ", MaxConditions) + "DATA_SIZE = 1"},
		{"and", "select DATA_NAME where " + strings.Repeat("DATA_SIZE = 1 and ", MaxConditions) + "DATA_SIZE = 1"},
		{"||", "select DATA_NAME where DATA_NAME = 'a'" + strings.Repeat(" || = 'a'", MaxConditions)},
		{"mixed", "select DATA_NAME where " + strings.Repeat("(DATA_SIZE = 1 or DATA_NAME like 'a%' || = 'b') and ", MaxConditions/3+1) + "not DATA_SIZE between 1 and 2"},
		{"nested", "select DATA_NAME where " + strings.Repeat("(DATA_SIZE in (1, 2) or ", 99) + strings.Repeat("DATA_SIZE = 1 or ", MaxConditions) + "DATA_SIZE = 1" + strings.Repeat(")", 99)},
	} {
		check(tc.name, tc.q, fmt.Sprintf("too many conditions: the limit is %d", MaxConditions))
	}
	check("select", "select "+strings.Repeat("DATA_NAME, ", MaxItems)+"DATA_SIZE", fmt.Sprintf("too many items in SELECT: the limit is %d", MaxItems))
	check("order by", "select DATA_NAME order by "+strings.Repeat("DATA_NAME, ", MaxItems)+"DATA_NAME", "too many items in ORDER BY")

	// A || group prints as a parenthesised OR, so it counts as a level.
	check("||", "select DATA_NAME where "+strings.Repeat("not ", MaxDepth)+"DATA_NAME = 'a' || = 'b'", "nested too deeply")
	mustParse(t, "select DATA_NAME where "+strings.Repeat("not ", MaxDepth-1)+"DATA_NAME = 'a' || = 'b'")
	mustParse(t, "select DATA_NAME where "+strings.Repeat("(DATA_SIZE = 1 or ", 49)+strings.Repeat("not ", 50)+"DATA_NAME = 'a' || = 'b'"+strings.Repeat(")", 49))

	// Just inside the limits parses.
	mustParse(t, "select DATA_NAME where "+strings.Repeat("(", MaxDepth)+"DATA_SIZE = 1"+strings.Repeat(")", MaxDepth))
	mustParse(t, "select DATA_NAME where "+strings.Repeat("not ", MaxDepth)+"DATA_SIZE = 1")
	mustParse(t, "select DATA_NAME where DATA_SIZE in ("+strings.Repeat("1,", MaxInList-1)+"1)")
	mustParse(t, "select DATA_NAME where "+strings.Repeat("DATA_SIZE = 1 and ", MaxConditions-1)+"DATA_SIZE = 1")
	mustParse(t, "select DATA_NAME where "+strings.Repeat("DATA_SIZE = 1 or ", MaxConditions-1)+"DATA_SIZE = 1")
	mustParse(t, "select DATA_NAME where DATA_NAME = 'a'"+strings.Repeat(" || = 'a'", MaxConditions-1))
	mustParse(t, "select "+strings.Repeat("DATA_NAME, ", MaxItems-1)+"DATA_SIZE")
	mustParse(t, "select DATA_NAME order by "+strings.Repeat("DATA_NAME, ", MaxItems-1)+"DATA_NAME")
	mustParse(t, "select DATA_NAME where DATA_NAME = '"+strings.Repeat("x", MaxQueryLength-100)+"'")
	mustParse(t, "select DATA_NAME where DATA_MODIFY_TIME between '0000-01-01T00:00:00Z' and '9999-12-31T23:59:59.999999999Z'")
	mustParse(t, fmt.Sprintf("select DATA_NAME where DATA_MODIFY_TIME between %d and %d limit 9223372036854775807", minUnix, maxUnix))
}

func TestRegistry(t *testing.T) {
	for _, c := range Columns() {
		if c.Name != strings.ToUpper(c.Name) || c.Doc == "" || c.Type < TypeString || c.Type > TypeTime || c.Entity.String() == "" {
			t.Errorf("bad registry entry %+v", c)
		}
		if isReserved(c.Name) {
			t.Errorf("column %s is a keyword", c.Name)
		}
		if _, ok := aggFuncs[strings.ToLower(c.Name)]; ok {
			t.Errorf("column %s is an aggregate name", c.Name)
		}
		got, ok := LookupColumn(strings.ToLower(c.Name))
		if !ok || got != c {
			t.Errorf("LookupColumn(%s) = %v, %v", strings.ToLower(c.Name), got, ok)
		}
	}
	// The names the issue and iRODS users rely on.
	for _, n := range strings.Fields(`COLL_NAME COLL_OWNER_NAME COLL_CREATE_TIME COLL_MODIFY_TIME DATA_NAME DATA_SIZE
		DATA_CHECKSUM DATA_OWNER_NAME DATA_RESC_NAME DATA_REPL_NUM DATA_REPL_STATUS DATA_PATH DATA_CREATE_TIME
		DATA_MODIFY_TIME META_DATA_ATTR_NAME META_DATA_ATTR_VALUE META_DATA_ATTR_UNITS META_COLL_ATTR_NAME
		META_COLL_ATTR_VALUE META_COLL_ATTR_UNITS META_RESC_ATTR_NAME META_RESC_ATTR_VALUE META_RESC_ATTR_UNITS
		META_USER_ATTR_NAME META_USER_ATTR_VALUE META_USER_ATTR_UNITS USER_NAME USER_TYPE USER_ZONE USER_GROUP_NAME
		RESC_NAME RESC_TYPE_NAME RESC_LOC RESC_VAULT_PATH RESC_CLASS_NAME ZONE_NAME DATA_ACCESS_NAME COLL_ACCESS_NAME
		COLL_ID COLL_PARENT_NAME COLL_INHERITANCE DATA_ID DATA_RESC_HIER`) {
		if _, ok := LookupColumn(n); !ok {
			t.Errorf("column %s is missing", n)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"DATA_SZE", "DATA_SIZE"}, {"COLL_NAM", "COLL_NAME"}, {"META_DATA_ATTR_VAL", "META_DATA_ATTR_VALUE"},
		{"DATA_CHEKSUM", "DATA_CHECKSUM"}, {"xyz", ""}, {"DATA", ""}, {strings.Repeat("A", 100), ""},
	} {
		if got := suggest(tt.in); got != tt.want {
			t.Errorf("suggest(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSelectItemType(t *testing.T) {
	q := mustParse(t, "select DATA_NAME, count(DATA_NAME), sum(DATA_SIZE), avg(DATA_SIZE), min(DATA_MODIFY_TIME), max(DATA_NAME)")
	want := []Type{TypeString, TypeInt, TypeInt, TypeFloat, TypeTime, TypeString}
	for i, s := range q.Select {
		if s.Type() != want[i] {
			t.Errorf("%s: type %s, want %s", s, s.Type(), want[i])
		}
	}
	if !q.Aggregated() || mustParse(t, "select DATA_NAME").Aggregated() {
		t.Error("Aggregated")
	}
}
