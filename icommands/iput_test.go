package icommands

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
)

// TestIputTrustsBytesRead uploads files whose stat size is not their
// length (procfs says 0, sysfs 4096) and checks that what is stored is
// what was read: iput /proc/self/status stored 0 bytes with exit 0.
func TestIputTrustsBytesRead(t *testing.T) {
	s := newSession(t)
	empty := s.local("empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s.must(t, "imkdir", "many")
	cases := []struct {
		name   string
		args   []string // iput's arguments
		locals []string // the files uploaded, in the order of objects
		objs   []string
	}{
		{"procfs", []string{"/proc/version", "version"}, []string{"/proc/version"}, []string{"version"}},
		{"procfs of the process", []string{"/proc/self/cmdline", "cmdline"}, []string{"/proc/self/cmdline"}, []string{"cmdline"}},
		{"sysfs says 4096", []string{"/sys/devices/system/cpu/online", "online"}, []string{"/sys/devices/system/cpu/online"}, []string{"online"}},
		{"empty file", []string{empty, "empty"}, []string{empty}, []string{"empty"}},
		// Several small files go over one PutMany stream.
		{"several", []string{"/proc/version", "/proc/self/cmdline", empty, "many"},
			[]string{"/proc/version", "/proc/self/cmdline", empty}, []string{"many/version", "many/cmdline", "many/empty"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, l := range tc.locals {
				if _, err := os.Stat(l); err != nil {
					t.Skipf("%s: %v", l, err)
				}
			}
			s.must(t, append([]string{"iput", "--json"}, tc.args...)...)
			for i, obj := range tc.objs {
				want, err := os.ReadFile(tc.locals[i])
				if err != nil {
					t.Fatal(err)
				}
				got := s.local("got")
				os.Remove(got)
				s.must(t, "iget", obj, got)
				b, err := os.ReadFile(got)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, want) {
					t.Errorf("%s: stored %d bytes %.40q, the file has %d %.40q", tc.locals[i], len(b), b, len(want), want)
				}
				var e struct{ Size int64 }
				if err := json.Unmarshal([]byte(strings.TrimSpace(s.must(t, "ils", "--json", obj))), &e); err != nil || e.Size != int64(len(want)) {
					t.Errorf("%s: ils says size %d (%v), want %d", obj, e.Size, err, len(want))
				}
			}
		})
	}
}

// TestIputLongerThanStat uploads files longer than stat said when iput
// planned them (procfs says 0 bytes for files of any length): alone, past
// what fits in the put header, and among small files, past what PutMany
// takes. All of each is stored.
func TestIputLongerThanStat(t *testing.T) {
	s := newSession(t)
	c := s.client(t)
	ctx := context.Background()
	big := s.local("big")
	want := bytes.Repeat([]byte("0123456789abcdef"), (inlineLimit+putManyLimit)/16+3)
	if err := os.WriteFile(big, want, 0o600); err != nil {
		t.Fatal(err)
	}
	small := s.local("small")
	if err := os.WriteFile(small, []byte("small"), 0o600); err != nil {
		t.Fatal(err)
	}
	home := "/tempZone/home/rods/"
	check := func(t *testing.T, obj string, want []byte) {
		t.Helper()
		got := s.local("got")
		os.Remove(got)
		s.must(t, "iget", obj, got)
		b, err := os.ReadFile(got)
		if err != nil || !bytes.Equal(b, want) {
			t.Errorf("%s: stored %d bytes (%v), want %d", obj, len(b), err, len(want))
		}
	}
	t.Run("alone", func(t *testing.T) {
		for _, verify := range []bool{false, true} {
			dest := catalog.MustPath(home + "alone")
			if verify {
				dest = catalog.MustPath(home + "alone-verified")
			}
			if _, err := putFile(ctx, c, putJob{local: big, size: 0, dest: dest}, iputOptions{verify: verify}, &progress{}); err != nil {
				t.Fatalf("verify %v: %v", verify, err)
			}
			check(t, dest.String(), want)
		}
	})
	t.Run("among small files", func(t *testing.T) {
		s.must(t, "imkdir", "many")
		var out bytes.Buffer
		a := &app{Streams: &Streams{Out: &out, Err: &out}}
		plan := &putPlan{}
		plan.add(putJob{local: big, size: 0, dest: catalog.MustPath(home + "many/big")})
		plan.add(putJob{local: small, size: 5, dest: catalog.MustPath(home + "many/small")})
		err := uploadPlan(ctx, a, c, plan, iputOptions{threads: 4})
		if err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		check(t, home+"many/big", want)
		check(t, home+"many/small", []byte("small"))
	})
}
