package rpc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// TestQuotaAtCommit puts data of unknown size, which the check before the
// transfer cannot judge: the commit refuses it, and neither the data
// object nor its file is left.
func TestQuotaAtCommit(t *testing.T) {
	e := newWalkEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	alice, rods := e.user("alice"), e.user(zones.DefaultAdmin)
	home := e.zone.Home("alice")
	if err := e.zone.SetQuota(ctx, zones.As(rods), catalog.Quota{Kind: catalog.QuotaCollection, Path: home, MaxBytes: 100}); err != nil {
		t.Fatal(err)
	}
	resc, err := e.cat.Resource(ctx, zones.DefaultResource)
	if err != nil {
		t.Fatal(err)
	}
	vault := resc.Location
	before := countFiles(t, vault)
	p := catalog.MustPath(home.String() + "/big")
	_, err = e.zone.Put(ctx, zones.As(alice), zones.PutRequest{Path: p, Size: -1}, bytes.NewReader(make([]byte, 150)))
	if !errors.Is(err, catalog.ErrQuotaExceeded) || !strings.Contains(err.Error(), "collection "+home.String()) {
		t.Fatalf("put of 150 bytes under a quota of 100: %v", err)
	}
	if _, err := e.cat.DataObject(ctx, p); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("refused put left the data object: %v", err)
	}
	if after := countFiles(t, vault); after != before {
		t.Errorf("refused put left %d files in the vault", after-before)
	}
	// Within the quota, the same put works.
	if _, err := e.zone.Put(ctx, zones.As(alice), zones.PutRequest{Path: p, Size: -1}, bytes.NewReader(make([]byte, 90))); err != nil {
		t.Fatal(err)
	}
	qs, err := e.zone.ListQuotas(ctx, zones.As(alice), false)
	if err != nil || len(qs) != 1 || qs[0].UsedBytes != 90 || qs[0].UsedObjects != 1 {
		t.Errorf("alice's quotas: %+v, %v", qs, err)
	}
	if _, err := e.zone.ListQuotas(ctx, zones.As(alice), true); !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("iquota -a as alice: %v", err)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
