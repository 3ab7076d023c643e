package query

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"select COLL_NAME, DATA_NAME, DATA_SIZE where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE like 'abc%'",
	"SELECT USER_NAME, SUM(DATA_SIZE), COUNT(DATA_NAME), RESC_NAME",
	"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'p' group by META_DATA_ATTR_VALUE order by count(DATA_ID) desc limit 10 offset 2",
	"select DATA_NAME where not (DATA_SIZE between 1 and 2.5 or DATA_NAME not in ('a', 'b''c')) and DATA_MODIFY_TIME > '2024-01-31.12:00:00'",
	"select DATA_NAME where DATA_NAME like 'a%' || = 'b' and DATA_MODIFY_TIME < 1700000000.25",
	"select DATA_NAME where DATA_SIZE > '1e3' and DATA_CREATE_TIME between '01700000000' '2024-01-31T12:00:00+05:30'",
	"select min(DATA_MODIFY_TIME), avg(DATA_SIZE) where not not DATA_REPL_STATUS = '1'",
	"select DATA_NAME where DATA_SIZE =",
	"select DATA_NAME\nwhere\tDATA_SZE = 'x",
	"select DATA_NAME where ((((DATA_SIZE = 1))))",
	"select DATA_NAME where upper(DATA_NAME) like 'A%' || = 'B' and not upper(COLL_NAME) in ('X')",
}

// FuzzParse checks that Parse never panics, that every error is a
// *SyntaxError that renders, and that a parsed query's canonical form
// re-parses to an equal query with the same canonical form.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError: %v", err, err)
			}
			if se.Line < 1 || se.Pos < 1 || se.Offset < 0 || se.Offset > len(s) || se.Msg == "" {
				t.Fatalf("bad error position: %+v", se)
			}
			msg := se.Error()
			if strings.Count(msg, "\n") != 2 || !strings.HasSuffix(msg, "^") {
				t.Fatalf("malformed error rendering: %q", msg)
			}
			return
		}
		canon := q.String()
		q2, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if got := q2.String(); got != canon {
			t.Fatalf("canonical form not stable:\n in:     %q\n canon:  %q\n again:  %q", s, canon, got)
		}
		if !reflect.DeepEqual(q, q2) {
			t.Fatalf("canonical form %q of %q re-parses to a different query", canon, s)
		}
	})
}

// FuzzFormat checks that Format never panics, agrees with CheckFormat, and
// that a format without % reproduces itself.
func FuzzFormat(f *testing.F) {
	f.Add("%s/%s", "a", "b", 2)
	f.Add("For %-12.12s size is %s", "name", "42", 2)
	f.Add("100%% %s", "x", "", 1)
	f.Add("%5.1s|%-3s", "☃☃", "\xff", 2)
	f.Add("%", "", "", 0)
	f.Fuzz(func(t *testing.T, format, a, b string, n int) {
		if n < 0 || n > 3 {
			n = 2
		}
		row := []string{a, b, a}[:n]
		out, err := Format(format, row)
		cerr := CheckFormat(format, n)
		if (err == nil) != (cerr == nil) {
			t.Fatalf("Format error %v but CheckFormat error %v", err, cerr)
		}
		if err != nil {
			return
		}
		if !strings.Contains(format, "%") && out != format {
			t.Fatalf("Format(%q) = %q", format, out)
		}
		if len(out) > len(format)+len(a)*2+len(b)+3*MaxFormatWidth*4 {
			t.Fatalf("output too long: %d bytes", len(out))
		}
	})
}
