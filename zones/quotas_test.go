package zones

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/arca-data/arca/catalog"
)

// TestConcurrentPutsUnderQuota is issue 23's item 5: a user with a quota of
// 10 data objects and nothing stored runs 40 puts at once. Exactly 10 are
// stored, whatever the order: puts in progress do not count against each
// other, and the commit never lets the quota be passed.
func TestConcurrentPutsUnderQuota(t *testing.T) {
	e := newFaultEnv(t)
	q := catalog.Quota{Kind: catalog.QuotaUser, Principal: e.rods.UserID(), MaxObjects: 10}
	if err := e.zone.SetQuota(e.ctx, As(e.rods), q); err != nil {
		t.Fatal(err)
	}
	const puts = 40
	var wg sync.WaitGroup
	errs := make([]error, puts)
	start := make(chan struct{})
	for i := range puts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = e.put(fmt.Sprintf("f%02d", i), "", bytes.Repeat([]byte{byte(i)}, 64<<10), false)
		}()
	}
	close(start)
	wg.Wait()
	stored := 0
	for i, err := range errs {
		switch {
		case err == nil:
			stored++
		case !errors.Is(err, catalog.ErrQuotaExceeded):
			t.Errorf("put %d: %v", i, err)
		}
	}
	if stored != 10 {
		t.Errorf("%d of %d puts stored under a quota of 10 data objects; want exactly 10", stored, puts)
	}
	qs, err := e.zone.ListQuotas(e.ctx, As(e.rods), true)
	if err != nil || len(qs) != 1 || qs[0].UsedObjects != 10 || qs[0].UsedBytes != 10*64<<10 {
		t.Errorf("quotas after the puts: %+v, %v", qs, err)
	}
	// What was refused left nothing: no data object, no file.
	objs, err := e.cat.ListObjects(e.ctx, e.zone.Home(DefaultAdmin), "", 100)
	if err != nil || len(objs) != 10 {
		t.Errorf("%d data objects in the home, want 10 (%v)", len(objs), err)
	}
	if orphans := e.orphans(); len(orphans) != 0 {
		t.Errorf("refused puts left %d files: %+v", len(orphans), orphans)
	}
}
