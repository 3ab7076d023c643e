package auth

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
)

// Defaults of the login throttle.
const (
	// failedLoginDelay is the delay of a first failure; each further
	// failure of the same account doubles it, up to failedLoginMaxDelay.
	failedLoginDelay    = 300 * time.Millisecond
	failedLoginMaxDelay = 5 * time.Second
	// throttleForget is how long an account or host is remembered after
	// its last failure.
	throttleForget = 15 * time.Minute
	// throttleEntries bounds the memory: an attacker cycling names pushes
	// out the oldest entries, not the server's memory.
	throttleEntries = 10000
	// hostFreeFailures is how many failures a client host has before its
	// logins, of any name, are spaced out: many users may share a host
	// (NAT, a login node), and each of them may mistype.
	hostFreeFailures = 10
)

// loginThrottle slows down password guessing per account (name and zone)
// and per client host, whether or not the account exists and however it
// authenticates (native, LDAP), so that neither the delay nor its growth
// tells which names exist.
//
// An account admits one login at a time: a login waits for the one before
// it, and a failed one holds the account for its delay (300 ms, doubling
// with each failure, at most 5 s) before it answers. Guesses sent in
// parallel are thus as slow as guesses sent one by one. A success resets
// the account. A host past hostFreeFailures failures has its logins
// spaced by the same growing delay, counted from the failures past that
// allowance; a success does not reset a host (an attacker with one account
// of their own could reset it), forgetting does. Entries are forgotten
// throttleForget after their last failure, and at most throttleEntries are
// kept, the least recently used going first.
type loginThrottle struct {
	base, max time.Duration
	forget    time.Duration
	hostFree  int

	mu      sync.Mutex
	entries map[string]*list.Element // of *throttleEntry
	lru     list.List                // front: most recently used
	limit   int
}

type throttleEntry struct {
	key      string
	failures int
	last     time.Time     // of the last failure
	next     time.Time     // hosts: when the next login may be checked
	gate     chan struct{} // accounts: held by the login being checked
}

func newLoginThrottle() *loginThrottle {
	return &loginThrottle{base: failedLoginDelay, max: failedLoginMaxDelay, forget: throttleForget,
		hostFree: hostFreeFailures, entries: map[string]*list.Element{}, limit: throttleEntries}
}

// delay is the delay after the nth failure.
func (t *loginThrottle) delay(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := t.base
	for i := 1; i < n && d < t.max; i++ {
		d *= 2
	}
	return min(d, t.max)
}

// entry returns the entry of key, made fresh when it is new or forgotten.
// t.mu is held.
func (t *loginThrottle) entry(key string, now time.Time) *throttleEntry {
	if el, ok := t.entries[key]; ok {
		e := el.Value.(*throttleEntry)
		if e.failures > 0 && now.Sub(e.last) > t.forget {
			e.failures, e.next = 0, time.Time{}
		}
		t.lru.MoveToFront(el)
		return e
	}
	for t.lru.Len() >= t.limit {
		old := t.lru.Back()
		t.lru.Remove(old)
		delete(t.entries, old.Value.(*throttleEntry).key)
	}
	e := &throttleEntry{key: key, gate: make(chan struct{}, 1)}
	t.entries[key] = t.lru.PushFront(e)
	return e
}

// attempt is one login between admit and its end.
type attempt struct {
	t          *loginThrottle
	user, host *throttleEntry
	released   bool
}

// admit waits until a login of account (and from host, if not empty) may
// be checked. The caller ends the attempt with failed or succeeded.
func (t *loginThrottle) admit(ctx context.Context, account catalog.UserID, host string) (*attempt, error) {
	t.mu.Lock()
	a := &attempt{t: t, user: t.entry("user "+account.String(), time.Now())}
	t.mu.Unlock()
	select {
	case a.user.gate <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if host == "" {
		return a, nil
	}
	now := time.Now()
	t.mu.Lock()
	a.host = t.entry("host "+host, now)
	var wait time.Duration
	if over := a.host.failures - t.hostFree; over > 0 {
		// Reserve the next slot of the host, so that parallel logins
		// from it are spaced too.
		start := now
		if a.host.next.After(start) {
			start = a.host.next
		}
		a.host.next = start.Add(t.delay(over))
		wait = start.Sub(now)
	}
	t.mu.Unlock()
	if err := sleep(ctx, wait); err != nil {
		a.release()
		return nil, err
	}
	return a, nil
}

// failed counts a failure and returns how long the caller waits before
// answering; the account stays held until the caller calls release.
func (a *attempt) failed() time.Duration {
	t, now := a.t, time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	a.user.failures++
	a.user.last = now
	if a.host != nil {
		a.host.failures++
		a.host.last = now
		if next := now.Add(t.delay(a.host.failures - t.hostFree)); next.After(a.host.next) {
			a.host.next = next
		}
	}
	return t.delay(a.user.failures)
}

// succeeded resets the account and releases it.
func (a *attempt) succeeded() {
	a.t.mu.Lock()
	a.user.failures = 0
	a.t.mu.Unlock()
	a.release()
}

// release lets the next login of the account be checked.
func (a *attempt) release() {
	if !a.released {
		a.released = true
		<-a.user.gate
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
