package httpapi

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseURLPath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"", "/"},
		{"/", "/"},
		{"tempZone/home/alice", "/tempZone/home/alice"},
		{"tempZone/home/alice/", "/tempZone/home/alice"},
		{"tempZone/a%20b/c%3Fd", "/tempZone/a b/c?d"},
		{"tempZone/100%25", "/tempZone/100%"},
		{"tempZone/%E2%82%AC", "/tempZone/€"},
	} {
		p, err := ParseURLPath(tc.in)
		if err != nil || p.String() != tc.want {
			t.Errorf("ParseURLPath(%q) = %q, %v; want %q", tc.in, p, err, tc.want)
		}
	}
	for _, in := range []string{
		"tempZone/../etc", "tempZone/./x", "..", "tempZone/%2e%2e/x", "tempZone/%2E%2E", "tempZone/%2e",
		"tempZone%2fhome", "tempZone/a%2Fb", "tempZone/a%5cb", "tempZone/%00", "tempZone/%252e%252e/x",
		"tempZone/%252F", "tempZone//home", "tempZone/%", "tempZone/%zz", "tempZone/a%0Ab",
	} {
		if p, err := ParseURLPath(in); err == nil {
			t.Errorf("ParseURLPath(%q) = %q, want an error", in, p)
		} else if ProblemOf(err).Status != 400 {
			t.Errorf("ParseURLPath(%q): %v is not a 400", in, err)
		}
	}
}

// FuzzParseURLPath: whatever the URL, a path that passes has no . or ..
// component and no slash inside a name, and escaping it again gives it
// back.
func FuzzParseURLPath(f *testing.F) {
	for _, s := range []string{"", "tempZone/home/a%20b", "a/../b", "%2e%2e", "a%2fb", "%252e", "a//b", "100%25", "x/%E2%82%AC/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseURLPath(s)
		if err != nil {
			return
		}
		for _, c := range p.Components() {
			if c == "." || c == ".." || c == "" || strings.ContainsAny(c, "/\x00") {
				t.Fatalf("ParseURLPath(%q) = %q: component %q", s, p, c)
			}
		}
		var b strings.Builder
		for _, c := range p.Components() {
			b.WriteString("/" + url.PathEscape(c))
		}
		q, err := ParseURLPath(b.String())
		if err != nil || q != p {
			t.Fatalf("ParseURLPath(%q) = %q, but its escaped form %q gives %q, %v", s, p, b.String(), q, err)
		}
	})
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		h    string
		size int64
		want []ByteRange
		err  bool
	}{
		{"", 10, nil, false},
		{"bytes=0-4", 10, []ByteRange{{0, 5}}, false},
		{"bytes=5-", 10, []ByteRange{{5, 5}}, false},
		{"bytes=-3", 10, []ByteRange{{7, 3}}, false},
		{"bytes=-30", 10, []ByteRange{{0, 10}}, false},
		{"bytes=8-20", 10, []ByteRange{{8, 2}}, false},
		{"bytes=0-0, 9-9", 10, []ByteRange{{0, 1}, {9, 1}}, false},
		{"bytes=20-, 1-1", 10, []ByteRange{{1, 1}}, false},
		{"bytes=10-", 10, nil, true},
		{"bytes=5-4", 10, nil, true},
		{"bytes=a-b", 10, nil, true},
		{"bytes=--1", 10, nil, true},
		{"bytes=+1-2", 10, nil, true},
		{"lines=1-2", 10, nil, true},
		{"bytes=", 10, nil, true},
		{"bytes=99999999999999999999-", 10, nil, true},
		{"bytes=0-0", 0, nil, true},
	} {
		got, err := ParseRange(tc.h, tc.size)
		if (err != nil) != tc.err || len(got) != len(tc.want) {
			t.Errorf("ParseRange(%q, %d) = %v, %v", tc.h, tc.size, got, err)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseRange(%q, %d) = %v, want %v", tc.h, tc.size, got, tc.want)
			}
		}
		if err != nil && ProblemOf(err).Status != 416 {
			t.Errorf("ParseRange(%q): %v is not a 416", tc.h, err)
		}
	}
}

// FuzzParseRange: every range that passes lies inside the object and is not
// empty, and there are at most maxRanges of them.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-5", "bytes=5-", "bytes=0-0,2-3", "bytes=9-1", "bytes= 1 - 2 ,", "bytes=-0"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
			if size < 0 {
				return
			}
		}
		rs, err := ParseRange(h, size)
		if err != nil {
			if ProblemOf(err).Status != 416 {
				t.Fatalf("ParseRange(%q, %d): %v is not a 416", h, size, err)
			}
			return
		}
		if len(rs) > maxRanges {
			t.Fatalf("ParseRange(%q, %d): %d ranges", h, size, len(rs))
		}
		for _, r := range rs {
			if r.Start < 0 || r.Length <= 0 || r.Start+r.Length > size || r.Start+r.Length < r.Start {
				t.Fatalf("ParseRange(%q, %d): range %+v outside the object", h, size, r)
			}
		}
	})
}
