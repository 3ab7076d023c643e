package catalog

import (
	"errors"
	"testing"
)

func TestParseQoSAttributes(t *testing.T) {
	cases := []struct {
		in, want string
		bad      bool
	}{
		{in: "", want: ""},
		{in: "  ", want: ""},
		{in: "type=tape,geo=DE,tier=cold", want: "geo=DE,tier=cold,type=tape"},
		{in: " geo = DE , latency=20 ", want: "geo=DE,latency=20"},
		{in: "x.y-z_1=a-b.c", want: "x.y-z_1=a-b.c"},
		{in: "geo", bad: true},
		{in: "geo=", bad: true},
		{in: "=DE", bad: true},
		{in: "1geo=DE", bad: true},
		{in: "geo=D E", bad: true},
		{in: "geo=DE,geo=FR", bad: true},
		{in: "geo=DE,,type=disk", bad: true},
		{in: "geo=(DE)", bad: true},
		{in: "a=b=c", bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := CanonicalQoSAttributes(tc.in)
			if tc.bad {
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("CanonicalQoSAttributes(%q) = %q, %v; want ErrInvalidArgument", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CanonicalQoSAttributes(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzParseQoSAttributes: what parses has a canonical form that reads back
// to itself.
func FuzzParseQoSAttributes(f *testing.F) {
	for _, s := range []string{"type=tape,geo=DE,tier=cold", " a = b ", "geo", "a=b,a=c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		canon, err := CanonicalQoSAttributes(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("CanonicalQoSAttributes(%q): %v is not an invalid argument", s, err)
			}
			return
		}
		again, err := CanonicalQoSAttributes(canon)
		if err != nil || again != canon {
			t.Fatalf("canonical form %q of %q reads back as %q, %v", canon, s, again, err)
		}
	})
}
