// Package pidtest is the conformance suite of pid.Provider: the zone's
// own registry and the Handle REST client both run it,
//
//	pidtest.Run(t, func(t *testing.T) pid.Provider { ... })
//
// The open function returns a provider with prefix Prefix and no records
// that other subtests made (a fresh one, or one whose suffixes do not
// collide: every subtest uses suffixes of its own).
package pidtest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/policies/pid"
)

// Prefix is the prefix the providers under test serve.
const Prefix = "21.T99999"

var seq atomic.Int64

// fresh is a handle no subtest used before.
func fresh(suffix string) pid.Handle {
	return pid.Handle{Prefix: Prefix, Suffix: fmt.Sprintf("%s-%d-%d", suffix, time.Now().UnixNano(), seq.Add(1))}
}

func record(url string) []pid.Value {
	now := time.Now()
	return []pid.Value{
		pid.StringValue(1, pid.TypeURL, url, now),
		pid.StringValue(2, pid.TypeChecksum, "sha2:abc", now),
		pid.StringValue(9, pid.TypeProfile, "1", now),
		pid.AdminValue(Prefix, now),
	}
}

// Run runs the suite.
func Run(t *testing.T, open func(t *testing.T) pid.Provider) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, p pid.Provider)
	}{
		{"CreateResolve", func(t *testing.T, p pid.Provider) {
			if p.Prefix() != Prefix {
				t.Fatalf("prefix %q, want %q", p.Prefix(), Prefix)
			}
			h := fresh("cr")
			if err := p.Create(ctx, h, record("https://example.org/a")); err != nil {
				t.Fatal(err)
			}
			got, err := p.Resolve(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 4 {
				t.Fatalf("%d values, want 4: %v", len(got), got)
			}
			for i, want := range []struct {
				index int
				typ   string
				val   string
			}{{1, pid.TypeURL, "https://example.org/a"}, {2, pid.TypeChecksum, "sha2:abc"}, {9, pid.TypeProfile, "1"}, {100, pid.TypeAdmin, ""}} {
				v := got[i]
				if v.Index != want.index || v.Type != want.typ || (want.val != "" && v.String() != want.val) || v.TTL <= 0 || v.Timestamp.IsZero() {
					t.Errorf("value %d: %+v (%s), want %d %s %q", i, v, v.String(), want.index, want.typ, want.val)
				}
			}
			if got[3].Data.Format != "admin" {
				t.Errorf("HS_ADMIN of format %q", got[3].Data.Format)
			}
		}},
		{"Exists", func(t *testing.T, p pid.Provider) {
			h := fresh("ex")
			if err := p.Create(ctx, h, record("https://example.org/first")); err != nil {
				t.Fatal(err)
			}
			err := p.Create(ctx, h, record("https://example.org/second"))
			if !errors.Is(err, catalog.ErrExists) {
				t.Errorf("second create: %v, want ErrExists", err)
			}
			// Handles are case-insensitive: the same one in other case.
			up := pid.Handle{Prefix: "21.t99999", Suffix: h.Suffix}
			if err := p.Create(ctx, up, record("https://example.org/third")); !errors.Is(err, catalog.ErrExists) && !errors.Is(err, pid.ErrOtherPrefix) {
				t.Errorf("create in other case: %v, want ErrExists", err)
			}
			got, err := p.Resolve(ctx, h)
			if err != nil || got[0].String() != "https://example.org/first" {
				t.Errorf("after refused creates: %v %v", got, err)
			}
		}},
		{"NotFound", func(t *testing.T, p pid.Provider) {
			h := fresh("nf")
			if _, err := p.Resolve(ctx, h); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("resolve: %v, want ErrNotFound", err)
			}
			if err := p.Update(ctx, h, record("https://example.org/x")); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("update: %v, want ErrNotFound", err)
			}
			if _, err := p.Resolve(ctx, h); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("an update of nothing made a record: %v", err)
			}
		}},
		{"Update", func(t *testing.T, p pid.Provider) {
			h := fresh("up")
			if err := p.Create(ctx, h, record("https://example.org/old")); err != nil {
				t.Fatal(err)
			}
			vs := record("https://example.org/new")
			vs = append(vs, pid.StringValue(11, pid.TypeStatus, "removed", time.Now()))
			if err := p.Update(ctx, h, vs); err != nil {
				t.Fatal(err)
			}
			got, err := p.Resolve(ctx, h)
			if err != nil || len(got) != 5 || got[0].String() != "https://example.org/new" || got[3].Type != pid.TypeStatus {
				t.Errorf("after update: %v %v", got, err)
			}
		}},
		{"SuffixCharacters", func(t *testing.T, p pid.Provider) {
			h := fresh("odd/suffix?with#chars&é+100%")
			if err := p.Create(ctx, h, record("https://example.org/odd")); err != nil {
				t.Fatal(err)
			}
			if got, err := p.Resolve(ctx, h); err != nil || got[0].String() != "https://example.org/odd" {
				t.Errorf("resolve %s: %v %v", h, got, err)
			}
		}},
		{"OtherPrefix", func(t *testing.T, p pid.Provider) {
			h := pid.Handle{Prefix: "10.1234", Suffix: fresh("op").Suffix}
			for what, err := range map[string]error{
				"create": p.Create(ctx, h, record("https://example.org/x")),
				"update": p.Update(ctx, h, record("https://example.org/x")),
			} {
				if !errors.Is(err, pid.ErrOtherPrefix) {
					t.Errorf("%s under another prefix: %v, want ErrOtherPrefix", what, err)
				}
			}
			if _, err := p.Resolve(ctx, h); !errors.Is(err, pid.ErrOtherPrefix) {
				t.Errorf("resolve under another prefix: %v, want ErrOtherPrefix", err)
			}
		}},
		{"BadValues", func(t *testing.T, p pid.Provider) {
			h := fresh("bv")
			bad := [][]pid.Value{
				nil,
				{pid.StringValue(0, pid.TypeURL, "x", time.Now())},
				{pid.StringValue(1, pid.TypeURL, "x", time.Now()), pid.StringValue(1, pid.TypeChecksum, "y", time.Now())},
				{pid.StringValue(1, "", "x", time.Now())},
				{{Index: 1, Type: pid.TypeURL, Data: pid.Data{Format: "string", Value: []byte(`42`)}}},
				{{Index: 1, Type: pid.TypeURL, Data: pid.Data{Format: "base64", Value: []byte(`"eA=="`)}}},
			}
			for i, vs := range bad {
				if err := p.Create(ctx, h, vs); !errors.Is(err, catalog.ErrInvalidArgument) {
					t.Errorf("bad record %d: %v, want ErrInvalidArgument", i, err)
				}
			}
			if _, err := p.Resolve(ctx, h); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("bad records made one: %v", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}
