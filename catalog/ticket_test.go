package catalog

import (
	"errors"
	"testing"
	"time"
)

func TestParseTicketMod(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		args []string
		want TicketMod
		err  bool
	}{
		{args: []string{"uses", "10"}, want: TicketMod{Field: "uses", Limit: 10}},
		{args: []string{"USES", "0"}, want: TicketMod{Field: "uses"}},
		{args: []string{"write-file", "3"}, want: TicketMod{Field: "write-file", Limit: 3}},
		{args: []string{"write-byte", "1024"}, want: TicketMod{Field: "write-bytes", Limit: 1024}},
		{args: []string{"write-bytes", "1024"}, want: TicketMod{Field: "write-bytes", Limit: 1024}},
		{args: []string{"expire", "2026-12-31"}, want: TicketMod{Field: "expire", Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}},
		{args: []string{"expire", "2026-12-31.23:59:59"}, want: TicketMod{Field: "expire", Expires: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)}},
		{args: []string{"expire", "+36h"}, want: TicketMod{Field: "expire", Expires: now.Add(36 * time.Hour)}},
		{args: []string{"expire", "+7d"}, want: TicketMod{Field: "expire", Expires: now.Add(7 * 24 * time.Hour)}},
		{args: []string{"expire", "none"}, want: TicketMod{Field: "expire"}},
		{args: []string{"add", "user", "alice"}, want: TicketMod{Field: "add", Kind: "user", Name: "alice"}},
		{args: []string{"remove", "Group", "lab"}, want: TicketMod{Field: "remove", Kind: "group", Name: "lab"}},
		{args: []string{"add", "host", "10.0.0.0/8"}, want: TicketMod{Field: "add", Kind: "host", Name: "10.0.0.0/8"}},
		{args: nil, err: true},
		{args: []string{"uses"}, err: true},
		{args: []string{"uses", "-1"}, err: true},
		{args: []string{"uses", "ten"}, err: true},
		{args: []string{"uses", "1", "2"}, err: true},
		{args: []string{"expire", "tomorrow"}, err: true},
		{args: []string{"expire", "+-3h"}, err: true},
		{args: []string{"expire", "+999999d"}, err: true},
		{args: []string{"add", "zone", "x"}, err: true},
		{args: []string{"add", "user"}, err: true},
		{args: []string{"add", "user", "a b"}, err: true},
		{args: []string{"frobnicate", "1"}, err: true},
	}
	for _, tc := range tests {
		got, err := ParseTicketMod(tc.args, now)
		if tc.err {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("ParseTicketMod(%q) = %+v, %v; want ErrInvalidArgument", tc.args, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseTicketMod(%q) = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
}

func TestTicketStrings(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := NewTicketString()
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckTicketString(s); err != nil && len(s) == TicketStringLen {
			// A generated string of digits only is astronomically unlikely.
			t.Errorf("generated %q: %v", s, err)
		}
		if seen[s] {
			t.Fatalf("generated %q twice", s)
		}
		seen[s] = true
		if r, err := ParseTicketRef(s); err != nil || r.String != s {
			t.Errorf("ParseTicketRef(%q) = %+v, %v", s, r, err)
		}
	}
	for _, bad := range []string{"short", "123456789012345", "has space in it", "semi;colon;here", string(make([]byte, 65))} {
		if err := CheckTicketString(bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("CheckTicketString(%q) = %v, want ErrInvalidArgument", bad, err)
		}
	}
	if r, err := ParseTicketRef("42"); err != nil || r.ID != 42 {
		t.Errorf("ParseTicketRef(42) = %+v, %v", r, err)
	}
	if TicketHash("a") == TicketHash("b") || len(TicketHash("a")) != 64 {
		t.Error("TicketHash does not tell strings apart")
	}
}

func TestTicketCovers(t *testing.T) {
	coll := Ticket{Path: MustPath("/z/home/a/c"), Collection: true}
	obj := Ticket{Path: MustPath("/z/home/a/c/o")}
	for _, tc := range []struct {
		t    Ticket
		p    string
		want bool
	}{
		{coll, "/z/home/a/c", true}, {coll, "/z/home/a/c/o", true}, {coll, "/z/home/a/c/d/e", true},
		{coll, "/z/home/a/cc", false}, {coll, "/z/home/a", false},
		{obj, "/z/home/a/c/o", true}, {obj, "/z/home/a/c/o/x", false}, {obj, "/z/home/a/c", false},
	} {
		if got := tc.t.Covers(MustPath(tc.p)); got != tc.want {
			t.Errorf("%s covers %s = %v", tc.t.Path, tc.p, got)
		}
	}
}

// FuzzParseTicketMod: any arguments parse or fail with ErrInvalidArgument,
// and what parses is within bounds.
func FuzzParseTicketMod(f *testing.F) {
	for _, s := range [][3]string{{"uses", "10", ""}, {"expire", "+7d", ""}, {"expire", "2026-12-31.23:59:59", ""}, {"add", "host", "10.0.0.0/8"}, {"remove", "user", "bob#z"}} {
		f.Add(s[0], s[1], s[2])
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for _, args := range [][]string{{a}, {a, b}, {a, b, c}} {
			m, err := ParseTicketMod(args, now)
			if err != nil {
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("ParseTicketMod(%q): %v is not ErrInvalidArgument", args, err)
				}
				continue
			}
			if m.Limit < 0 || (m.Field == "expire" && !m.Expires.IsZero() && m.Expires.Year() > 10000) {
				t.Fatalf("ParseTicketMod(%q) = %+v", args, m)
			}
		}
	})
}

// FuzzTicketString: a ticket reference or string parses or fails cleanly.
func FuzzTicketString(f *testing.F) {
	for _, s := range []string{"42", "0", "-1", "abcdefghijklm", "AAAAAAAAAAAAAAAAAAAAAA", "1e5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseTicketRef(s)
		if err == nil && r.ID == 0 && r.String != s {
			t.Fatalf("ParseTicketRef(%q) = %+v", s, r)
		}
		if err := CheckTicketString(s); err == nil && (len(s) < MinTicketStringLen || len(s) > 64) {
			t.Fatalf("CheckTicketString(%q) accepted a bad length", s)
		}
		if _, err := ParseTicketType(s); err != nil && !errors.Is(err, ErrInvalidArgument) {
			t.Fatal(err)
		}
	})
}
