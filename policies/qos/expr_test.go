package qos

import (
	"errors"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
)

// storages are the resources the table matches against.
var storages = map[string]map[string]string{
	"de-disk": {"geo": "DE", "type": "disk", "latency": "5"},
	"de-tape": {"geo": "DE", "type": "tape", "latency": "14400000"},
	"fr-disk": {"geo": "FR", "type": "disk", "latency": "10.5"},
	"pl-disk": {"geo": "PL", "type": "disk", "latency": "abc"},
	"bare":    {},
}

func matching(e *Expr) string {
	var out []string
	for _, name := range []string{"bare", "de-disk", "de-tape", "fr-disk", "pl-disk"} {
		if e.Match(storages[name]) {
			out = append(out, name)
		}
	}
	return strings.Join(out, ",")
}

func TestParseAndMatch(t *testing.T) {
	cases := []struct {
		expr  string
		canon string
		match string
	}{
		{"geo=DE", "geo=DE", "de-disk,de-tape"},
		{" geo = DE ", "geo=DE", "de-disk,de-tape"},
		{"anyStorage", "anyStorage", "bare,de-disk,de-tape,fr-disk,pl-disk"},
		{"geo=DE & type=disk", "geo=DE & type=disk", "de-disk"},
		{"geo=DE&type=tape", "geo=DE & type=tape", "de-tape"},
		{"geo=FR | (geo=PL & type=disk)", "geo=FR | (geo=PL & type=disk)", "fr-disk,pl-disk"},
		{"anyStorage \\ type=disk", "anyStorage \\ type=disk", "bare,de-tape"},
		{"latency < 8", "latency<8", "de-disk"},
		{"latency<=10.5", "latency<=10.5", "de-disk,fr-disk"},
		{"latency>10.5", "latency>10.5", "de-tape"},
		{"latency >= 5", "latency>=5", "de-disk,de-tape,fr-disk"},
		{"latency=5.0", "latency=5.0", "de-disk"},
		{"latency=1.44e7", "latency=1.44e7", "de-tape"},
		{"latency=abc", "latency=abc", "pl-disk"},
		// Left to right, one precedence: (geo=FR | geo=DE) & type=disk.
		{"geo=FR | geo=DE & type=disk", "geo=FR | geo=DE & type=disk", "de-disk,fr-disk"},
		{"geo=FR | (geo=DE & type=disk)", "geo=FR | (geo=DE & type=disk)", "de-disk,fr-disk"},
		{"type=disk \\ (geo=DE | geo=FR)", "type=disk \\ (geo=DE | geo=FR)", "pl-disk"},
		{"((geo=DE))", "geo=DE", "de-disk,de-tape"},
		{"(geo=DE | geo=FR) \\ latency>6", "geo=DE | geo=FR \\ latency>6", "de-disk"},
		{"nokey=x", "nokey=x", ""},
		{"latency>-1e3", "latency>-1e3", "de-disk,de-tape,fr-disk"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			e, err := Parse(tc.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.expr, err)
			}
			if got := e.String(); got != tc.canon {
				t.Errorf("String() = %q, want %q", got, tc.canon)
			}
			if got := matching(e); got != tc.match {
				t.Errorf("matches %q, want %q", got, tc.match)
			}
			again, err := Parse(e.String())
			if err != nil || again.String() != e.String() || matching(again) != tc.match {
				t.Errorf("canonical form %q does not read back: %v", e.String(), err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		expr string
		pos  int // from 1, as the message says
		msg  string
	}{
		{"", 1, "empty expression"},
		{"   ", 4, "empty expression"},
		{"geo", 4, "unexpected end of expression after key geo"},
		{"geo=", 5, "want a value after geo="},
		{"=DE", 1, `unexpected "="`},
		{"geo=DE &", 9, "unexpected end of expression"},
		{"geo=DE & & type=disk", 10, `unexpected "&"`},
		{"geo=DE type=disk", 8, `unexpected "type": want &, |, \ or the end`},
		{"(geo=DE", 8, "want ) to close the ( at position 1"},
		{"geo=DE)", 7, `unexpected ")"`},
		{"latency < fast", 11, `< compares numbers: "fast" is not a number`},
		{"latency < NaN", 11, "is not a number"},
		{"latency < 0x10", 11, "is not a number"},
		{"latency <= Inf", 12, "is not a number"},
		{"1geo=DE", 1, `key "1geo"`},
		{"anyStorage=1", 11, "anyStorage takes no comparison"},
		{"geo==DE", 5, `unexpected "=": want a value`},
		{"()", 2, `unexpected ")"`},
		{strings.Repeat("(", MaxDepth+1) + "a=1" + strings.Repeat(")", MaxDepth+1), MaxDepth + 1, "nested deeper"},
		{strings.Repeat("a", MaxLength+1), MaxLength + 1, "longer than"},
		{"geo=\xff", 5, "not valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Parse(tc.expr)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, want a *SyntaxError", tc.expr, err)
			}
			if !errors.Is(err, catalog.ErrInvalidArgument) {
				t.Errorf("error %v is not an invalid argument", err)
			}
			if se.Pos+1 != tc.pos || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("Parse(%q): position %d %q, want position %d %q", tc.expr, se.Pos+1, se.Msg, tc.pos, tc.msg)
			}
			if !strings.Contains(err.Error(), "position") {
				t.Errorf("message %q does not name the position", err)
			}
		})
	}
}

// FuzzParse: no input panics, a syntax error points inside the input, and
// what parses has a canonical form that reads back to itself and matches
// the same resources.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"geo=DE", "anyStorage \\ type=disk", "geo=FR | (geo=PL & type=disk)", "latency<8",
		"a>=1e3&(b<=2|c=x)\\d=y", "((", "a=1)", "latency < NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): %v is not a *SyntaxError", s, err)
			}
			if se.Pos < 0 || se.Pos > len(s) {
				t.Fatalf("Parse(%q): position %d outside the input", s, se.Pos)
			}
			return
		}
		canon := e.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form %q of %q reads back as %q", canon, s, again.String())
		}
		for name, attrs := range storages {
			if e.Match(attrs) != again.Match(attrs) {
				t.Fatalf("%q and its canonical form %q differ on %s", s, canon, name)
			}
		}
	})
}
