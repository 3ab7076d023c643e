package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/internal/passwordhash"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/zones"
)

func TestLoginThrottleDelay(t *testing.T) {
	th := newLoginThrottle()
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{1, 300 * time.Millisecond}, // as before the throttle: tests log in wrongly often
		{2, 600 * time.Millisecond},
		{3, 1200 * time.Millisecond},
		{4, 2400 * time.Millisecond},
		{5, 4800 * time.Millisecond},
		{6, 5 * time.Second},
		{1000, 5 * time.Second},
	} {
		if got := th.delay(tc.failures); got != tc.want {
			t.Errorf("delay after %d failures = %v, want %v", tc.failures, got, tc.want)
		}
	}
}

// fastThrottle is a throttle with short delays, for tests.
func fastThrottle() *loginThrottle {
	th := newLoginThrottle()
	th.base, th.max = 40*time.Millisecond, 400*time.Millisecond
	return th
}

func TestLoginThrottleCounts(t *testing.T) {
	alice := catalog.UserID{Name: "alice", Zone: "z"}
	for _, tc := range []struct {
		name   string
		events string // f: a failure, s: a success, w: past the forget time
		want   int    // failures counted for alice
	}{
		{"none", "", 0},
		{"failures add up", "fff", 3},
		{"a success resets", "fffs", 0},
		{"counting again after a success", "ffsf", 1},
		{"forgotten after a while", "fffw", 0},
		{"forgotten, then failing again", "ffwf", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := fastThrottle()
			th.base = time.Millisecond
			th.forget = 30 * time.Millisecond
			for _, ev := range tc.events {
				if ev == 'w' {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				a, err := th.admit(context.Background(), alice, "")
				if err != nil {
					t.Fatal(err)
				}
				if ev == 'f' {
					a.failed()
					a.release()
				} else {
					a.succeeded()
				}
			}
			th.mu.Lock()
			got := th.entry("user "+alice.String(), time.Now()).failures
			th.mu.Unlock()
			if got != tc.want {
				t.Errorf("after %q: %d failures, want %d", tc.events, got, tc.want)
			}
		})
	}
}

func TestLoginThrottleBounded(t *testing.T) {
	th := fastThrottle()
	// The host's failures grow its delay up to max on every attempt: both
	// tiny, or the 1000 attempts wait minutes.
	th.base, th.max = time.Microsecond, 10*time.Microsecond
	th.limit = 100
	for i := range 1000 {
		a, err := th.admit(context.Background(), catalog.UserID{Name: fmt.Sprint("name", i), Zone: "z"}, "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		a.failed()
		a.release()
	}
	if n := len(th.entries); n > 100 || th.lru.Len() != n {
		t.Fatalf("%d entries (list %d) after 1000 names, want at most 100", n, th.lru.Len())
	}
	// The host, used on every attempt, is the most recent and stays.
	th.mu.Lock()
	defer th.mu.Unlock()
	if e := th.entry("host 10.0.0.1", time.Now()); e.failures != 1000 {
		t.Errorf("host failures = %d, want 1000", e.failures)
	}
}

func TestLoginThrottleHost(t *testing.T) {
	th := fastThrottle()
	th.hostFree = 3
	ctx := context.Background()
	fail := func(name string) {
		a, err := th.admit(ctx, catalog.UserID{Name: name, Zone: "z"}, "10.0.0.2")
		if err != nil {
			t.Fatal(err)
		}
		a.failed()
		a.release()
	}
	// Within the host's allowance, logins of fresh names are not delayed.
	start := time.Now()
	for i := range 3 {
		fail(fmt.Sprint("a", i))
	}
	if d := time.Since(start); d > 30*time.Millisecond {
		t.Errorf("3 failures within the allowance took %v", d)
	}
	// Past it, every login from the host waits, whatever the name.
	fail("b0") // the 4th failure: the next waits 40 ms
	fail("b1") // the 5th: the next waits 80 ms
	start = time.Now()
	a, err := th.admit(ctx, catalog.UserID{Name: "fresh", Zone: "z"}, "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	a.succeeded()
	if d := time.Since(start); d < 70*time.Millisecond {
		t.Errorf("a login from a host past its allowance waited only %v", d)
	}
	// Another host is not affected.
	start = time.Now()
	a, err = th.admit(ctx, catalog.UserID{Name: "fresh", Zone: "z"}, "10.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	a.succeeded()
	if d := time.Since(start); d > 30*time.Millisecond {
		t.Errorf("a login from another host waited %v", d)
	}
}

// TestLoginThrottleSerializes sends wrong passwords for one name in
// parallel, native and unknown alike: they are answered one after the
// other with growing delays, while a login of another name goes through
// at once.
func TestLoginThrottleSerializes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	zone := zones.New(cat, zones.Options{Drivers: drivers.Default(), Logger: slog.New(slog.DiscardHandler)})
	z := &testZone{Zone: zone, Authenticator: New(zone, Options{Logger: slog.New(slog.DiscardHandler)})}
	hash, err := passwordhash.Hash("rods-pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{AdminPasswordHash: hash, VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	z.throttle = fastThrottle()
	z.throttle.base, z.throttle.max = 100*time.Millisecond, time.Second
	admin, err := z.cat.User(ctx, catalog.UserID{Name: "rods", Zone: z.Name()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := z.MakeUser(ctx, zones.As(admin), "alice", catalog.UserTypeUser, "alice-pw"); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"alice", "nobody"} { // a native user, an unknown name
		t.Run(target, func(t *testing.T) {
			const guesses = 4
			start := time.Now()
			var wg sync.WaitGroup
			for range guesses {
				wg.Go(func() {
					if _, _, err := z.testLogin(target, "guess"); !errors.Is(err, zones.ErrUnauthenticated) {
						t.Errorf("wrong password for %s: %v", target, err)
					}
				})
			}
			// Meanwhile another name logs in at once.
			time.Sleep(10 * time.Millisecond)
			other := time.Now()
			if _, _, err := z.testLogin("rods", "rods-pw"); err != nil {
				t.Fatal(err)
			}
			otherTook := time.Since(other)
			wg.Wait()
			took := time.Since(start)
			// Serialized: 100+200+400+800 ms at least.
			if want := 1500 * time.Millisecond; took < want {
				t.Errorf("%d parallel wrong logins of %s took %v, want at least %v", guesses, target, took, want)
			}
			if otherTook > 700*time.Millisecond {
				t.Errorf("a login of another name took %v while %s was being guessed", otherTook, target)
			}
			// A success resets the account (alice); the unknown name stays slowed.
			if target == "alice" {
				if _, _, err := z.testLogin("alice", "alice-pw"); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				z.testLogin("alice", "guess")
				if d := time.Since(start); d > 700*time.Millisecond {
					t.Errorf("the first failure after a success took %v", d)
				}
			}
		})
	}
}
