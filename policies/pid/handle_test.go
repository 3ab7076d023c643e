package pid

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/arca-data/arca/catalog"
)

func TestParseHandle(t *testing.T) {
	for in, want := range map[string]Handle{
		"21.T12995/abc":                        {"21.T12995", "abc"},
		"hdl:21.T12995/abc":                    {"21.T12995", "abc"},
		"HDL:21.T12995/abc":                    {"21.T12995", "abc"},
		"https://hdl.handle.net/10.1234/x/y.z": {"10.1234", "x/y.z"},
		"info:hdl/20.500.12345/é?#%":           {"20.500.12345", "é?#%"},
		"0.NA/21.T12995":                       {"0.NA", "21.T12995"},
	} {
		got, err := ParseHandle(in)
		if err != nil || got != want {
			t.Errorf("ParseHandle(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "abc", "/abc", "21.T1/", "21..T1/x", ".21/x", "21./x", "21.T 1/x", "21.T1/a b", "21.T1/a\tb",
		"21.T1/a\x00b", "21.T1/\x7f", "21_T1/x", "21.T1/" + strings.Repeat("x", MaxHandle), "21.T1/\xff",
		"hdl:", "https://hdl.handle.net/", "21.T1/x\u2028y",
	} {
		if h, err := ParseHandle(in); !errors.Is(err, ErrInvalidHandle) || !errors.Is(err, catalog.ErrInvalidArgument) {
			t.Errorf("ParseHandle(%q) = %v, %v; want ErrInvalidHandle", in, h, err)
		}
	}
	if err := Responsible(Handle{"21.t12995", "x"}, "21.T12995"); err != nil {
		t.Errorf("prefixes differ in case only: %v", err)
	}
	if err := Responsible(Handle{"10.1234", "x"}, "21.T12995"); !errors.Is(err, ErrOtherPrefix) {
		t.Errorf("another prefix: %v", err)
	}
	if h := (Handle{"21.T1", "AbC"}); h.Key() != "21.t1/abc" {
		t.Errorf("key %q", h.Key())
	}
	for _, bad := range []string{"", "21.", "a/b", "21 T1"} {
		if _, err := ParsePrefix(bad); err == nil {
			t.Errorf("ParsePrefix(%q) took it", bad)
		}
	}
}

// FuzzParseHandle: a handle that parses is valid UTF-8 without spaces or
// control characters, and its string parses to itself.
func FuzzParseHandle(f *testing.F) {
	for _, s := range []string{"21.T12995/abc", "hdl:10.1/x", "https://hdl.handle.net/1/2/3", "0.NA/1", "a/b c", "x", "1/\x00", "1//", "info:hdl/1/é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHandle(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidHandle) {
				t.Fatalf("ParseHandle(%q): %v is not ErrInvalidHandle", s, err)
			}
			return
		}
		str := h.String()
		if !utf8.ValidString(str) || len(str) > MaxHandle || h.Prefix == "" || h.Suffix == "" {
			t.Fatalf("ParseHandle(%q) = %q", s, str)
		}
		if strings.ContainsFunc(str, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
			t.Fatalf("ParseHandle(%q) = %q holds a space or control character", s, str)
		}
		again, err := ParseHandle(str)
		if err != nil || again != h {
			t.Fatalf("ParseHandle(%q) = %v, but its string %q parses to %v, %v", s, h, str, again, err)
		}
	})
}
