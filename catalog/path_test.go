package catalog

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	long := strings.Repeat("x", MaxNameLen)
	cases := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"data.csv", true},
		{"with space", true},
		{" leading and trailing ", true},
		{"...", true},
		{".hidden", true},
		{"é日本", true},
		{"a\\b", true},
		{long, true},
		{long + "x", false},
		{strings.Repeat("é", MaxNameLen/2), true},        // 1024 bytes
		{strings.Repeat("é", MaxNameLen/2) + "x", false}, // 1025 bytes, 513 characters
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"/", false},
		{"a\x00b", false},
		{"\x00", false},
		{"tab\there", false},
		{"new\nline", false},
		{"del\x7f", false},
		{"\xff", false},
		{"a\xc3", false},        // truncated sequence
		{"\xed\xa0\x80", false}, // UTF-16 surrogate
	}
	for _, tc := range cases {
		err := ValidateName(tc.name)
		if tc.ok && err != nil {
			t.Errorf("ValidateName(%.40q) = %v, want ok", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateName(%.40q) = %v, want ErrInvalidName", tc.name, err)
		}
	}
}

func TestParsePath(t *testing.T) {
	longName := strings.Repeat("n", MaxNameLen)
	// A path of exactly MaxPathLen bytes: names of MaxNameLen, then one
	// shorter name to fill up.
	var b strings.Builder
	for b.Len() < MaxPathLen-MaxNameLen-1 {
		b.WriteString("/" + longName)
	}
	b.WriteString("/" + strings.Repeat("m", MaxPathLen-b.Len()-1))
	maxPath := b.String()
	cases := []struct {
		in, want string // want "" means an error
	}{
		{"/", "/"},
		{"/tempZone", "/tempZone"},
		{"/tempZone/home/alice/x.dat", "/tempZone/home/alice/x.dat"},
		{"/a/", "/a"},
		{"/a///", "/a"},
		{"//", "/"},
		{"/a/b c/é", "/a/b c/é"},
		{"/" + longName, "/" + longName},
		{maxPath, maxPath},
		{maxPath + "x", ""},
		{"/" + longName + "x", ""},
		{"", ""},
		{"a", ""},
		{"a/b", ""},
		{"./a", ""},
		{"/a//b", ""},
		{"//a", ""},
		{"/a/./b", ""},
		{"/a/../b", ""},
		{"/..", ""},
		{"/.", ""},
		{"/a/..", ""},
		{"/a\x00", ""},
		{"/a/\xff", ""},
		{"/a\nb", ""},
	}
	for _, tc := range cases {
		p, err := ParsePath(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("ParsePath(%.60q) = %q, %v; want ErrInvalidName", tc.in, p, err)
			}
			if !p.IsZero() {
				t.Errorf("ParsePath(%.60q) failed but returned %q", tc.in, p)
			}
			continue
		}
		if err != nil || p.String() != tc.want {
			t.Errorf("ParsePath(%.60q) = %.60q, %v; want %.60q", tc.in, p, err, tc.want)
		}
	}
}

func TestMustPath(t *testing.T) {
	if MustPath("/a/b").String() != "/a/b" {
		t.Error("MustPath(/a/b)")
	}
	defer func() {
		if recover() == nil {
			t.Error("MustPath(relative) did not panic")
		}
	}()
	MustPath("relative")
}

func TestResolve(t *testing.T) {
	home := MustPath("/tempZone/home/alice")
	cases := []struct {
		cwd  Path
		in   string
		want string // "" means an error
	}{
		{home, "x.dat", "/tempZone/home/alice/x.dat"},
		{home, "./x.dat", "/tempZone/home/alice/x.dat"},
		{home, "a/b/", "/tempZone/home/alice/a/b"},
		{home, "a//b", "/tempZone/home/alice/a/b"},
		{home, ".", "/tempZone/home/alice"},
		{home, "..", "/tempZone/home"},
		{home, "../bob/y", "/tempZone/home/bob/y"},
		{home, "../../../..", "/"},
		{home, "../../../../../../etc", "/etc"},
		{home, "/other/zone", "/other/zone"},
		{home, "/a/../b/./c/", "/b/c"},
		{home, "/..", "/"},
		{home, "/", "/"},
		{MustPath("/"), "a", "/a"},
		{MustPath("/"), "..", "/"},
		{Path{}, "/abs", "/abs"},
		{Path{}, "rel", ""},
		{home, "", ""},
		{home, "a\x00b", ""},
		{home, "bad\xff", ""},
		{home, strings.Repeat("x", MaxNameLen+1), ""},
		{home, strings.Repeat("abcdefgh/", MaxPathLen/9+1), ""}, // too long in the end
		{home, "a\x00/..", "/tempZone/home/alice"},              // the bad name is gone
	}
	for _, tc := range cases {
		p, err := Resolve(tc.cwd, tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("Resolve(%q, %.40q) = %q, %v; want ErrInvalidName", tc.cwd, tc.in, p, err)
			}
			continue
		}
		if err != nil || p.String() != tc.want {
			t.Errorf("Resolve(%q, %.40q) = %q, %v; want %q", tc.cwd, tc.in, p, err, tc.want)
		}
	}
}

func TestPathParts(t *testing.T) {
	cases := []struct {
		path, parent, name, zone string
		components               []string
	}{
		{"/", "/", "", "", nil},
		{"/tempZone", "/", "tempZone", "tempZone", []string{"tempZone"}},
		{"/tempZone/home", "/tempZone", "home", "tempZone", []string{"tempZone", "home"}},
		{"/z/a/é b", "/z/a", "é b", "z", []string{"z", "a", "é b"}},
	}
	for _, tc := range cases {
		p := MustPath(tc.path)
		if got := p.Parent().String(); got != tc.parent {
			t.Errorf("%s: Parent = %q, want %q", tc.path, got, tc.parent)
		}
		if got := p.Name(); got != tc.name {
			t.Errorf("%s: Name = %q, want %q", tc.path, got, tc.name)
		}
		if got := p.Zone(); got != tc.zone {
			t.Errorf("%s: Zone = %q, want %q", tc.path, got, tc.zone)
		}
		if got := p.Components(); !slices.Equal(got, tc.components) {
			t.Errorf("%s: Components = %q, want %q", tc.path, got, tc.components)
		}
		if p.IsRoot() != (tc.path == "/") || p.IsZero() {
			t.Errorf("%s: IsRoot %v, IsZero %v", tc.path, p.IsRoot(), p.IsZero())
		}
	}
	var zero Path
	if !zero.IsZero() || zero.IsRoot() || zero.Zone() != "" || zero.Components() != nil {
		t.Errorf("zero Path: IsZero %v IsRoot %v Zone %q Components %q", zero.IsZero(), zero.IsRoot(), zero.Zone(), zero.Components())
	}
}

func TestJoin(t *testing.T) {
	cases := []struct {
		dir, name, want string // want "" means an error
	}{
		{"/", "tempZone", "/tempZone"},
		{"/a", "b", "/a/b"},
		{"/a/b", "c d.txt", "/a/b/c d.txt"},
		{"/a", "", ""},
		{"/a", ".", ""},
		{"/a", "..", ""},
		{"/a", "b/c", ""},
		{"/a", "b\x00", ""},
		{"/a", "\xfe", ""},
		{"/a", strings.Repeat("x", MaxNameLen+1), ""},
	}
	for _, tc := range cases {
		p, err := MustPath(tc.dir).Join(tc.name)
		if tc.want == "" {
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("Join(%q, %.40q) = %q, %v; want ErrInvalidName", tc.dir, tc.name, p, err)
			}
			continue
		}
		if err != nil || p.String() != tc.want {
			t.Errorf("Join(%q, %q) = %q, %v; want %q", tc.dir, tc.name, p, err, tc.want)
		}
	}
	// A join may not make a path longer than ParsePath accepts.
	deep := MustPath("/" + strings.Repeat("d", MaxNameLen))
	var err error
	for err == nil {
		deep, err = deep.Join(strings.Repeat("d", MaxNameLen))
		if err == nil {
			if _, perr := ParsePath(deep.String()); perr != nil {
				t.Fatalf("Join made %d bytes that ParsePath refuses: %v", len(deep.String()), perr)
			}
		}
	}
	if !errors.Is(err, ErrInvalidName) {
		t.Errorf("over-long join: %v, want ErrInvalidName", err)
	}
}

func TestHasPrefix(t *testing.T) {
	cases := []struct {
		p, dir string
		want   bool
	}{
		{"/a/b", "/a", true},
		{"/a", "/a", true},
		{"/a/b/c", "/a", true},
		{"/ab", "/a", false},
		{"/a-b", "/a", false},
		{"/a", "/a/b", false},
		{"/a", "/", true},
		{"/", "/", true},
		{"/", "/a", false},
	}
	for _, tc := range cases {
		if got := MustPath(tc.p).HasPrefix(MustPath(tc.dir)); got != tc.want {
			t.Errorf("HasPrefix(%s, %s) = %v, want %v", tc.p, tc.dir, got, tc.want)
		}
	}
}

func TestRebase(t *testing.T) {
	cases := []struct {
		p, old, new, want string
	}{
		{"/a/b/c", "/a", "/x", "/x/b/c"},
		{"/a/b/c", "/a/b", "/x/y/z", "/x/y/z/c"},
		{"/a", "/a", "/x", "/x"},
		{"/a/b", "/a", "/", "/b"},
		{"/a/b", "/", "/x", "/x/a/b"},
		{"/", "/", "/x", "/x"},
		{"/a", "/", "/", "/a"},
		{"/é/ü", "/é", "/ö", "/ö/ü"},
	}
	for _, tc := range cases {
		got := MustPath(tc.p).Rebase(MustPath(tc.old), MustPath(tc.new))
		if got.String() != tc.want {
			t.Errorf("Rebase(%s, %s, %s) = %s, want %s", tc.p, tc.old, tc.new, got, tc.want)
		}
		if q, err := ParsePath(got.String()); err != nil || q != got {
			t.Errorf("Rebase(%s, %s, %s) = %q does not re-parse: %v", tc.p, tc.old, tc.new, got, err)
		}
	}
}

// checkPath checks the invariants of a valid Path.
func checkPath(t *testing.T, what string, p Path) {
	t.Helper()
	s := p.String()
	switch {
	case p.IsZero():
		t.Fatalf("%s: zero Path without an error", what)
	case !strings.HasPrefix(s, "/"):
		t.Fatalf("%s: %q is not absolute", what, s)
	case strings.Contains(s, "//"):
		t.Fatalf("%s: %q contains //", what, s)
	case strings.Contains(s+"/", "/../") || strings.Contains(s+"/", "/./"):
		t.Fatalf("%s: %q contains a dot component", what, s)
	case s != "/" && strings.HasSuffix(s, "/"):
		t.Fatalf("%s: %q ends with /", what, s)
	case len(s) > MaxPathLen:
		t.Fatalf("%s: %d bytes", what, len(s))
	}
	q, err := ParsePath(s)
	if err != nil || q != p {
		t.Fatalf("%s: %q re-parses to %q, %v", what, s, q, err)
	}
	for _, c := range p.Components() {
		if err := ValidateName(c); err != nil {
			t.Fatalf("%s: component of %q: %v", what, s, err)
		}
	}
	if !p.IsRoot() {
		parent := p.Parent()
		if back, err := parent.Join(p.Name()); err != nil || back != p {
			t.Fatalf("%s: Parent %q joined with Name %q = %q, %v", what, parent, p.Name(), back, err)
		}
		if !p.HasPrefix(parent) || parent.HasPrefix(p) {
			t.Fatalf("%s: %q and its parent %q", what, p, parent)
		}
		if p.Zone() != p.Components()[0] {
			t.Fatalf("%s: Zone %q", what, p.Zone())
		}
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/", "/tempZone/home/alice", "/a/", "//", "/a//b", "/a/../b", "/é", "a", "", "/a\x00", "/\xff", "/a/./b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("ParsePath(%q): %v does not wrap ErrInvalidName", s, err)
			}
			if !p.IsZero() {
				t.Fatalf("ParsePath(%q) failed but returned %q", s, p)
			}
			return
		}
		checkPath(t, "ParsePath", p)
		if strings.TrimRight(s, "/") != strings.TrimRight(p.String(), "/") {
			t.Fatalf("ParsePath(%q) = %q changed more than trailing slashes", s, p)
		}
		r := p.Rebase(p.Parent(), MustPath("/moved"))
		if !p.IsRoot() && len(r.String()) <= MaxPathLen {
			checkPath(t, "Rebase", r)
		}
	})
}

func FuzzResolve(f *testing.F) {
	for _, c := range [][2]string{{"/tempZone/home/alice", "x"}, {"/", ".."}, {"/a", "../../b/./c/"}, {"", "/abs"}, {"", "rel"}, {"/a", "b//c"}, {"/a", "\x00/.."}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, cwd, in string) {
		dir, _ := ParsePath(cwd) // the zero Path when cwd is invalid
		p, err := Resolve(dir, in)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("Resolve(%q, %q): %v does not wrap ErrInvalidName", dir, in, err)
			}
			return
		}
		checkPath(t, "Resolve", p)
		if q, err := ParsePath(in); err == nil && q != p {
			t.Fatalf("Resolve(%q, %q) = %q, but ParsePath gives %q", dir, in, p, q)
		}
		if q, err := Resolve(p, "."); err != nil || q != p {
			t.Fatalf("Resolve(%q, .) = %q, %v", p, q, err)
		}
		if q, err := Resolve(p, ".."); err != nil || q != p.Parent() {
			t.Fatalf("Resolve(%q, ..) = %q, %v; want %q", p, q, err, p.Parent())
		}
	})
}

func FuzzJoin(f *testing.F) {
	f.Add("/a", "b")
	f.Add("/", "x")
	f.Add("/"+strings.Repeat("d/", 4094)+"d", "name") // 8190 bytes: joining overflows
	f.Fuzz(func(t *testing.T, dir, name string) {
		d, err := ParsePath(dir)
		if err != nil {
			return
		}
		p, err := d.Join(name)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("Join(%q, %q): %v does not wrap ErrInvalidName", d, name, err)
			}
			return
		}
		checkPath(t, "Join", p)
		if p.Name() != name || p.Parent() != d {
			t.Fatalf("Join(%q, %q) = %q", d, name, p)
		}
	})
}
