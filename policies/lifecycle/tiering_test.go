package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

func TestTierPass(t *testing.T) {
	cases := []struct {
		name     string
		settings [][3]string
		qos      string // a requirement on the home collection, one replica
		want     string // the replicas of each object after the pass
	}{
		{"move", nil, "", "slow"},
		{"preserve", [][3]string{{"fast", "tier_preserve", "true"}}, "", "fast,slow"},
		{"verify size", [][3]string{{"slow", "tier_verify", "size"}}, "", "slow"},
		{"verify checksum", [][3]string{{"slow", "tier_verify", "checksum"}}, "", "slow"},
		// QoS wants a disk copy: the object stays on the fast tier.
		{"kept by qos", [][3]string{{"fast", "qos", "type=disk"}, {"slow", "qos", "type=tape"}}, "type=disk", "fast"},
		// Both tiers are disk: the move keeps the requirement true.
		{"qos met on the next tier", [][3]string{{"fast", "qos", "type=disk"}, {"slow", "qos", "type=disk"}}, "type=disk", "slow"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			z, rods, dir := testZone(t)
			for _, n := range []string{"fast", "slow"} {
				if _, err := z.MakeResource(ctx, rods, catalog.Resource{Name: n, Type: "posix", Location: filepath.Join(dir, n)}); err != nil {
					t.Fatal(err)
				}
			}
			settings := append([][3]string{{"fast", "tier", "g 0"}, {"fast", "tier_time", "1"}, {"slow", "tier", "g 1"}}, c.settings...)
			for _, s := range settings {
				if _, err := z.ModifyResource(ctx, rods, s[0], s[1], s[2]); err != nil {
					t.Fatal(err)
				}
			}
			if c.qos != "" {
				if _, err := z.AddQoS(ctx, rods, catalog.MustPath("/tempZone/home/rods"), c.qos, 1); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 5 {
				data := []byte(fmt.Sprintf("object %d", i))
				if _, err := z.Put(ctx, rods, zones.PutRequest{Path: catalog.MustPath(fmt.Sprintf("/tempZone/home/rods/o%d", i)), Size: int64(len(data)), Resource: "fast"}, bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
			}
			if err := z.FlushAccessTimes(ctx); err != nil {
				t.Fatal(err)
			}
			// Nothing is at rest yet.
			res, err := TierPass(ctx, z, rods, "", 2, 3, time.Now())
			if err != nil || res.Selected != 0 {
				t.Fatalf("first pass: %+v, %v", res, err)
			}
			res, err = TierPass(ctx, z, rods, "g", 2, 3, time.Now().Add(2*time.Second))
			moved, kept := 5, 0
			if c.want == "fast" {
				moved, kept = 0, 5
			}
			if err != nil || res.Selected != 5 || res.Moved != moved || res.Kept != kept || res.Failed != 0 {
				t.Fatalf("pass: %+v, %v", res, err)
			}
			for i := range 5 {
				e, err := z.Stat(ctx, rods, catalog.MustPath(fmt.Sprintf("/tempZone/home/rods/o%d", i)))
				if err != nil {
					t.Fatal(err)
				}
				got := ""
				for _, r := range e.Object.Good() {
					if got != "" {
						got += ","
					}
					got += r.Resource
				}
				if got != c.want || len(e.Object.Replicas) != len(e.Object.Good()) {
					t.Errorf("o%d: replicas %+v, want good ones on %s", i, e.Object.Replicas, c.want)
				}
			}
			// A second pass finds nothing more to do.
			if res, err := TierPass(ctx, z, rods, "g", 2, 3, time.Now().Add(2*time.Second)); err != nil || res.Failed != 0 {
				t.Errorf("second pass: %+v, %v", res, err)
			}
			if _, err := TierPass(ctx, z, rods, "nosuch", 0, 0, time.Now()); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("a group that is not there: %v", err)
			}
		})
	}
}
