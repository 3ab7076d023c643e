package raid

import (
	"errors"
	"testing"
)

func TestParseORCID(t *testing.T) {
	for in, want := range map[string]string{
		"0000-0002-1825-0097":                    "https://orcid.org/0000-0002-1825-0097",
		"https://orcid.org/0000-0002-4368-8058":  "https://orcid.org/0000-0002-4368-8058",
		"http://orcid.org/0000-0001-5109-3700":   "https://orcid.org/0000-0001-5109-3700",
		"0000-0002-1694-233x":                    "https://orcid.org/0000-0002-1694-233X",
		" https://ORCID.org/0000-0002-1694-233X": "https://orcid.org/0000-0002-1694-233X",
	} {
		if got, err := ParseORCID(in); err != nil || got != want {
			t.Errorf("ParseORCID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"0000-0002-1825-0098", "0000-0002-1825-009", "0000000218250097", "0000-0002-1825-009X",
		"000a-0002-1825-0097", "", "https://orcid.org/", "0000-0002-1694-2330"} {
		if _, err := ParseORCID(in); !errors.Is(err, ErrORCID) {
			t.Errorf("ParseORCID(%q): %v, want ErrORCID", in, err)
		}
	}
}

func TestParseROR(t *testing.T) {
	for in, want := range map[string]string{
		"038sjwq14":                 "https://ror.org/038sjwq14",
		"https://ror.org/02stey378": "https://ror.org/02stey378",
		"04qw24q55":                 "https://ror.org/04qw24q55",
		"03YRM5C26":                 "https://ror.org/03yrm5c26",
		"ror.org/05gq02987":         "https://ror.org/05gq02987",
	} {
		if got, err := ParseROR(in); err != nil || got != want {
			t.Errorf("ParseROR(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"038sjwq15", "138sjwq14", "038sjwq1", "038sjuq14", "038sjwqx4", "", "https://ror.org/"} {
		if _, err := ParseROR(in); !errors.Is(err, ErrROR) {
			t.Errorf("ParseROR(%q): %v, want ErrROR", in, err)
		}
	}
}

// FuzzParseORCID: an iD that parses is a canonical URI that parses to
// itself, and a changed digit fails the check.
func FuzzParseORCID(f *testing.F) {
	for _, s := range []string{"0000-0002-1825-0097", "https://orcid.org/0000-0001-5109-3700", "0000-0002-1694-233X", "x", "0000-0000-0000-0000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseORCID(s)
		if err != nil {
			if !errors.Is(err, ErrORCID) {
				t.Fatalf("ParseORCID(%q): %v is not ErrORCID", s, err)
			}
			return
		}
		if len(id) != len(ORCIDSchema)+19 {
			t.Fatalf("ParseORCID(%q) = %q", s, id)
		}
		again, err := ParseORCID(id)
		if err != nil || again != id {
			t.Fatalf("ParseORCID(%q) = %q, which parses to %q, %v", s, id, again, err)
		}
		b := []byte(id)
		i := len(ORCIDSchema) + 2 // a digit of the first group
		b[i] = '0' + (b[i]-'0'+1)%10
		if _, err := ParseORCID(string(b)); err == nil {
			t.Fatalf("%q, one digit off %q, passes the check", b, id)
		}
	})
}
