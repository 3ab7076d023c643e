package examples

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/policies"
	"github.com/arca-data/arca/policies/lifecycle"
	"github.com/arca-data/arca/zones"
)

// webhook is a real HTTP server that keeps the events POSTed to it.
type webhook struct {
	mu     sync.Mutex
	events []lifecycle.Event
	srv    *httptest.Server
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var ev lifecycle.Event
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(rw, "want a JSON POST", http.StatusBadRequest)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.events = append(w.events, ev)
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhook) about(path string) []lifecycle.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []lifecycle.Event
	for _, e := range w.events {
		if e.Path == path {
			out = append(out, e)
		}
	}
	return out
}

// TestLifecycleExpiry is the lifecycle policy's expiry scenario, with the
// shipped rule set (policies/lifecycle/rules) run every second instead of
// daily: an object that expires within 30 days gets one notice (audit and
// webhook) to its owner and the stewards; one whose time is up goes to the
// trash, audited; a locked one that has expired stays; one in the trash is
// left alone; an object with no expiry is not touched.
func TestLifecycleExpiry(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	files := map[string][]byte{}
	dir := filepath.Join("..", "policies", "lifecycle", "rules")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = []byte(strings.ReplaceAll(string(b), `"@daily"`, `"@every 1s"`))
	}
	hook := newWebhook(t)
	z := newZoneWith(t, files, policies.Options{NotifyURL: hook.srv.URL})
	alice := zones.As(z.alice)
	home := "/tempZone/home/alice/"
	for _, n := range []string{"soon.dat", "gone.dat", "locked.dat", "kept.dat"} {
		if err := z.put(t, z.alice, home+n); err != nil {
			t.Fatal(err)
		}
	}
	expire := func(name string, at time.Time) {
		t.Helper()
		err := z.SetExpiry(ctx, alice, zones.ExpiryRequest{Path: catalog.MustPath(home + name), At: at}, func(zones.Expiry) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	expire("soon.dat", time.Now().AddDate(0, 0, 10))
	expire("gone.dat", time.Now().Add(2*time.Second))
	expire("locked.dat", time.Now().Add(2*time.Second))
	if err := z.SetRetention(ctx, alice, zones.RetentionRequest{Path: catalog.MustPath(home + "locked.dat"), Mode: catalog.LockCompliance, For: catalog.Period{Years: 1}},
		func(catalog.ObjectLock) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// Bad input: a date in the past, neither date nor period.
	if err := z.SetExpiry(ctx, alice, zones.ExpiryRequest{Path: catalog.MustPath(home + "kept.dat"), At: time.Now().Add(-time.Hour)}, func(zones.Expiry) error { return nil }); err == nil {
		t.Error("an expiry in the past was set")
	}
	if err := z.SetExpiry(ctx, alice, zones.ExpiryRequest{Path: catalog.MustPath(home + "kept.dat")}, func(zones.Expiry) error { return nil }); err == nil {
		t.Error("an expiry with no date was set")
	}
	if _, ok := z.avus(t, home+"kept.dat")[zones.ExpiryAttribute]; ok {
		t.Error("a refused expiry left its AVU")
	}

	go z.RunJobs(ctx, zones.JobOptions{Poll: 50 * time.Millisecond})
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := z.cat.Stat(ctx, catalog.MustPath(home+"gone.dat"))
		gone := err != nil
		if gone && len(hook.about(home+"soon.dat")) > 0 && strings.Contains(z.audit.String(), `"outcome":"disposed"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expiry did not run: gone.dat removed %v, events %+v\naudit:\n%s", gone, hook.events, z.audit.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A few more runs: nothing is told twice, nothing locked goes.
	time.Sleep(2500 * time.Millisecond)

	soon := hook.about(home + "soon.dat")
	if len(soon) != 1 {
		t.Fatalf("notices of soon.dat: %+v", soon)
	}
	if ev := soon[0]; ev.Event != "expiry notice" || ev.Owner != "alice#tempZone" || ev.Zone != "tempZone" || ev.Rule != "expiry-notice" ||
		strings.Join(ev.To, ",") != "alice#tempZone,stewards#tempZone" || !strings.Contains(ev.Message, "it will go to the trash") {
		t.Errorf("the notice: %+v", ev)
	}
	if locked := hook.about(home + "locked.dat"); len(locked) != 1 || !strings.Contains(locked[0].Message, "locked") {
		t.Errorf("notices of locked.dat: %+v", locked)
	}
	if _, err := z.cat.Stat(ctx, catalog.MustPath(home+"locked.dat")); err != nil {
		t.Errorf("the locked object expired and went: %v", err)
	}
	if _, err := z.cat.Stat(ctx, catalog.MustPath(home+"soon.dat")); err != nil {
		t.Errorf("the object that expires in 10 days went: %v", err)
	}
	if _, err := z.cat.Stat(ctx, catalog.MustPath(home+"kept.dat")); err != nil {
		t.Errorf("the object with no expiry went: %v", err)
	}
	if n := strings.Count(z.audit.String(), `"outcome":"disposed"`); n != 1 {
		t.Errorf("%d disposals audited, want 1:\n%s", n, z.audit.String())
	}
	if !strings.Contains(z.audit.String(), `"path":"`+home+`gone.dat"`) {
		t.Errorf("the disposal does not name its object:\n%s", z.audit.String())
	}
	// The trash holds it; the rules leave it there.
	m := regexp.MustCompile(`removed to the trash, at (/[^ ]+) `).FindStringSubmatch(z.audit.String())
	if m == nil {
		t.Fatalf("the disposal does not say where in the trash:\n%s", z.audit.String())
	}
	if e, err := z.cat.Stat(ctx, catalog.MustPath(m[1])); err != nil || e.Object == nil {
		t.Errorf("the disposed object is not in the trash at %s: %v", m[1], err)
	}
}
