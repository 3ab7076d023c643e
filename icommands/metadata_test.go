package icommands

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
)

func TestParseMetadataTriplets(t *testing.T) {
	av := func(a, v, u string) catalog.AVU { return catalog.AVU{Attribute: a, Value: v, Unit: u} }
	cases := []struct {
		in   string
		want []catalog.AVU
		err  string
	}{
		{"a;1;u", []catalog.AVU{av("a", "1", "u")}, ""},
		{"attr;value;unit;attr2;value2;", []catalog.AVU{av("attr", "value", "unit"), av("attr2", "value2", "")}, ""},
		{"a;1;;b;2", []catalog.AVU{av("a", "1", ""), av("b", "2", "")}, ""},
		{"a;1", []catalog.AVU{av("a", "1", "")}, ""},
		{"a;1;u;", []catalog.AVU{av("a", "1", "u")}, ""},
		{`a\;b;x\\y;c\d`, []catalog.AVU{av("a;b", `x\y`, `c\d`)}, ""},
		{"projekt;Ünïcode ✓;µm", []catalog.AVU{av("projekt", "Ünïcode ✓", "µm")}, ""},
		{"", nil, "has no value"},
		{"a", nil, "has no value"},
		{"a;1;u;b", nil, `attribute "b" has no value`},
		{";1;u", nil, "empty attribute"},
		{"a;;u", nil, "empty value"},
		{"a;1;u;a;1;u", nil, "given twice"},
		{"a;\x00;u", nil, "NUL"},
		{"a;" + strings.Repeat("v", catalog.MaxValueLen+1), nil, "longer than 2700 bytes"},
	}
	for _, tc := range cases {
		got, err := parseMetadataTriplets(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parse(%q) = %v, %v; want error saying %q", tc.in, got, err, tc.err)
			}
			if exitCode(inputError(err)) != ExitUsage {
				t.Errorf("parse(%q): %v is not a usage error", tc.in, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseMetadataTriplets(f *testing.F) {
	for _, s := range []string{"a;1;u", "attr;value;unit;attr2;value2;", `a\;b;x\\y;\`, "a;1;;b;2", ";;;", "a;é;\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		avus, err := parseMetadataTriplets(s)
		if err != nil {
			if !errors.Is(err, catalog.ErrInvalidArgument) && !errors.Is(err, catalog.ErrExists) {
				t.Fatalf("parse(%q): error %v wraps neither ErrInvalidArgument nor ErrExists", s, err)
			}
			return
		}
		if err := catalog.ValidateAVUs(avus); err != nil {
			t.Fatalf("parse(%q) accepted invalid AVUs %v: %v", s, avus, err)
		}
		again, err := parseMetadataTriplets(formatMetadataTriplets(avus))
		if err != nil || !slices.Equal(again, avus) {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", s, avus, formatMetadataTriplets(avus), again, err)
		}
	})
}

func TestParseImeta(t *testing.T) {
	av := func(a, v, u string) catalog.AVU { return catalog.AVU{Attribute: a, Value: v, Unit: u} }
	cases := []struct {
		args    string
		want    imetaArgs
		wantErr string
	}{
		{"add -d f a 1", imetaArgs{sub: "add", name: "f", avu: av("a", "1", "")}, ""},
		{"add -C c a -12 m", imetaArgs{sub: "add", name: "c", avu: av("a", "-12", "m")}, ""},
		{"--json ls -R demoResc", imetaArgs{sub: "ls", name: "demoResc", jsonFlag: true}, ""},
		{"ls -u alice attr --json", imetaArgs{sub: "ls", name: "alice", avu: av("attr", "", ""), jsonFlag: true}, ""},
		{"add -d f a -- --json", imetaArgs{sub: "add", name: "f", avu: av("a", "--json", "")}, ""},
		{"rmw -d f a%", imetaArgs{}, "takes ATTR VALUE"},
		{"rmw -d f a% %", imetaArgs{sub: "rmw", name: "f", avu: av("a%", "%", "%")}, ""},
		{"rm -d f a 1", imetaArgs{sub: "rm", name: "f", avu: av("a", "1", "")}, ""},
		{"mod -d f a 1 u n:b v:2 u:", imetaArgs{sub: "mod", name: "f", avu: av("a", "1", "u"), newAVU: av("b", "2", "")}, ""},
		{"mod -d f a 1 v:2", imetaArgs{sub: "mod", name: "f", avu: av("a", "1", ""), newAVU: av("a", "2", "")}, ""},
		{"mod -d f a 1 u", imetaArgs{}, "say what changes"},
		{"mod -d f a 1 v:2 v:3", imetaArgs{}, "given twice"},
		{"mod -d f a 1 v:2 x", imetaArgs{}, `"x" is not`},
		{"mod -d f a 1 n:", imetaArgs{}, "empty attribute"},
		{"", imetaArgs{}, "name a subcommand"},
		{"frob -d f a 1", imetaArgs{}, `unknown subcommand "frob"`},
		{"add -x f a 1", imetaArgs{}, `"-x" is not -d`},
		{"add -d", imetaArgs{}, "needs -d|-C|-R|-u and a name"},
		{"add -d f a", imetaArgs{}, "got 1 word"},
		{"add -d f a 1 u extra", imetaArgs{}, "got 4 word"},
		{"add -d f  1", imetaArgs{}, "empty attribute"},
		{"ls -d f a b", imetaArgs{}, "takes [ATTR]"},
	}
	for _, tc := range cases {
		args := strings.Split(tc.args, " ")
		if tc.args == "" {
			args = nil
		}
		got, err := parseImeta(args)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitCode(err) != ExitUsage {
				t.Errorf("imeta %s: error %v, want a usage error saying %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("imeta %s: %v", tc.args, err)
			continue
		}
		got.kind = 0
		if got != tc.want {
			t.Errorf("imeta %s:\n got %+v\nwant %+v", tc.args, got, tc.want)
		}
	}
}
