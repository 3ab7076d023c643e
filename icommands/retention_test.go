package icommands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRetentionAttacker tries, as an attacker would, every way the
// icommands offer to remove or change a data object under a compliance
// lock: as its owner, as another user with a write ticket, as rodsadmin
// (with --bypass-governance too), and through a rule's actions. Every one
// is refused, or (reading, metadata, a verified move) leaves the object's
// bytes and lock as they were. The second server on the same catalog is
// in zones' TestRetentionTwoServers.
func TestRetentionAttacker(t *testing.T) {
	rods := newSession(t)
	rods.must(t, "iadmin", "mkuser", "alice", "rodsuser", "alice pw")
	rods.must(t, "iadmin", "mkuser", "bob", "rodsuser", "bob pw")
	second := rods.local("vault2")
	rods.must(t, "iadmin", "mkresc", "second", "posix", second)
	alice, r := rods.as(t, "alice", "alice pw")
	if r.code != 0 {
		t.Fatalf("alice's login: %+v", r)
	}
	bob, r := rods.as(t, "bob", "bob pw")
	if r.code != 0 {
		t.Fatalf("bob's login: %+v", r)
	}
	write := func(name, text string) string {
		p := alice.local(name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	original := write("v.dat", "the retained bytes\n")
	evil := write("evil.dat", "replacement bytes\n")
	home := "/tempZone/home/alice"
	v := home + "/g/p/v.dat"
	alice.must(t, "imkdir", "-p", home+"/g/p")
	alice.must(t, "iput", "-K", original, v)
	alice.must(t, "iput", evil, home+"/other.dat")
	alice.must(t, "iretention", "set", "--mode", "compliance", "--for", "10y", v)
	lock := alice.must(t, "iretention", "ls", v)
	if !strings.HasPrefix(lock, "compliance ") || strings.Contains(lock, "hold") {
		t.Fatalf("iretention ls: %q", lock)
	}
	until := strings.Fields(lock)[1]

	// refused runs an attack that must exit with code and leave v alone.
	refused := func(who *session, code int, args ...string) {
		t.Helper()
		r := who.run(t, args...)
		if r.code != code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.out, r.err)
			return
		}
		if code == ExitPolicy && !(strings.Contains(r.err, " lock until 20") || strings.Contains(r.err, "legal hold")) {
			t.Errorf("%s: the refusal does not name the lock and its date: %s", strings.Join(args, " "), r.err)
		}
	}
	intact := func(when string) {
		t.Helper()
		if got := alice.must(t, "iretention", "ls", v); got != lock && !strings.HasPrefix(got, "compliance "+until) {
			t.Errorf("%s: the lock is now %q, was %q", when, got, lock)
		}
		dst := filepath.Join(t.TempDir(), "v.dat")
		alice.must(t, "iget", "-K", v, dst)
		if b, err := os.ReadFile(dst); err != nil || string(b) != "the retained bytes\n" {
			t.Fatalf("%s: the object holds %q (%v)", when, b, err)
		}
	}

	// Removal: the object, its parent, its grandparent, to the trash or
	// for good; by its owner and by rodsadmin.
	for _, who := range []*session{alice, rods} {
		refused(who, ExitPolicy, "irm", v)
		refused(who, ExitPolicy, "irm", "-f", v)
		refused(who, ExitPolicy, "irm", "-r", home+"/g/p")
		refused(who, ExitPolicy, "irm", "-r", home+"/g")
		refused(who, ExitPolicy, "irm", "-rf", home+"/g")
	}
	// Renames and moves of the object and of an ancestor.
	refused(alice, ExitPolicy, "imv", v, home+"/g/p/w.dat")
	refused(alice, ExitPolicy, "imv", v, home+"/moved.dat")
	refused(alice, ExitPolicy, "imv", home+"/g/p", home+"/g/q")
	refused(alice, ExitPolicy, "imv", home+"/g", home+"/h")
	refused(rods, ExitPolicy, "imv", home+"/g", "/tempZone/home/rods/stolen")
	// Overwrites: put, copy, register over it.
	refused(alice, ExitPolicy, "iput", "-f", evil, v)
	refused(rods, ExitPolicy, "iput", "-f", evil, v)
	refused(alice, ExitPolicy, "icp", "-f", home+"/other.dat", v)
	vault := filepath.Join(rods.dir, "zone", "vault")
	if err := os.MkdirAll(filepath.Join(vault, "imports"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vault, "imports", "evil.dat"), []byte("registered over\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused(rods, ExitPolicy, "ireg", "imports/evil.dat", v)
	// A write ticket for the collection, used by another user.
	secret := strings.TrimSpace(alice.must(t, "iticket", "create", "write", home+"/g"))
	refused(bob, ExitPolicy, "iput", "-f", "--ticket", secret, evil, v)
	refused(bob, ExitPermission, "irm", v)
	intact("after removals, moves and overwrites")

	// Replicas: the last good one always stays; a move needs a verified
	// copy, and one is made here, so the object moves whole (allowed).
	refused(alice, 0, "itrim", "-N", "1", v)
	refused(alice, ExitUsage, "itrim", "-N", "0", v)
	refused(alice, 0, "iphymv", "-R", "second", v)
	if out := alice.must(t, "ils", "-L", v); !strings.Contains(out, "second") || strings.Contains(out, "demoResc") {
		t.Errorf("after a verified move: %s", out)
	}
	intact("after a verified move")
	// A registered file has no checksum: no copy of it can be verified,
	// so its lock keeps it where it is.
	if err := os.WriteFile(filepath.Join(vault, "imports", "w.dat"), []byte("registered\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := home + "/g/p/w.dat"
	rods.must(t, "ireg", "--owner", "alice", "imports/w.dat", w)
	alice.must(t, "iretention", "set", "--mode", "compliance", "--until", time.Now().AddDate(5, 0, 0).Format("2006-01-02"), w)
	r = alice.run(t, "iphymv", "-R", "second", w)
	if r.code != ExitPolicy || !strings.Contains(r.err, "no checksum") {
		t.Errorf("iphymv of a locked object without a checksum: exit %d, %s", r.code, r.err)
	}

	// Metadata: the lock is not metadata; adding is allowed, and removing
	// every AVU leaves the lock.
	alice.must(t, "imeta", "add", "-d", v, "note", "kept")
	alice.must(t, "imeta", "rmw", "-d", v, "%", "%")
	if out := alice.must(t, "imeta", "ls", "-d", v); strings.Contains(out, "compliance") || strings.Contains(out, "retention") {
		t.Errorf("the lock shows as metadata: %s", out)
	}
	intact("after metadata changes")

	// The lock itself: shortened, weakened, removed; by the owner and by
	// rodsadmin, with --bypass-governance too.
	sooner := time.Now().AddDate(1, 0, 0).Format("2006-01-02")
	for _, who := range []*session{alice, rods} {
		refused(who, ExitPolicy, "iretention", "set", "--mode", "compliance", "--until", sooner, v)
		refused(who, ExitPolicy, "iretention", "set", "--mode", "compliance", "--for", "1d", v)
		refused(who, ExitPolicy, "iretention", "set", "--mode", "governance", "--for", "20y", v)
		refused(who, ExitPolicy, "iretention", "rm", v)
		refused(who, ExitPolicy, "iretention", "set", "--mode", "compliance", "--for", "1d", "-r", home+"/g")
	}
	refused(alice, ExitPermission, "iretention", "rm", "--bypass-governance", v)
	refused(rods, ExitPolicy, "iretention", "rm", "--bypass-governance", v)
	refused(rods, ExitPolicy, "iretention", "set", "--bypass-governance", "--mode", "compliance", "--until", sooner, v)
	refused(rods, ExitPolicy, "iretention", "set", "--bypass-governance", "--mode", "governance", "--for", "1d", v)
	refused(bob, ExitPermission, "iretention", "set", "--mode", "governance", "--for", "1d", v)
	// A legal hold: the owner places it, and cannot release it; rodsadmin
	// releases it, and the compliance lock still stands.
	alice.must(t, "iretention", "hold", "on", v)
	refused(alice, ExitPermission, "iretention", "hold", "off", v)
	refused(bob, ExitPermission, "iretention", "hold", "off", v)
	rods.must(t, "iretention", "hold", "off", v)
	refused(rods, ExitPolicy, "irm", "-f", v)
	intact("after attacks on the lock")

	// The trash: nothing locked gets there, but a file registered into it
	// and locked there stays, whoever empties it.
	trashed := "/tempZone/trash/home/alice/t.dat"
	if err := os.WriteFile(filepath.Join(vault, "imports", "t.dat"), []byte("in the trash\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rods.must(t, "ireg", "-p", "--owner", "alice", "imports/t.dat", trashed)
	alice.must(t, "iretention", "set", "--mode", "compliance", "--for", "1y", trashed)
	refused(alice, ExitPolicy, "irmtrash")
	refused(rods, ExitPolicy, "irmtrash", "-u", "alice")
	refused(rods, ExitPolicy, "irmtrash", "-M")
	alice.must(t, "ils", trashed)

	// A rule's actions: a post rule on metadata.add that trims and moves
	// the object. The actions fail on the lock; the object stays.
	rule := `rules:
  - name: attack
    on: [metadata.add]
    when: post
    condition: object.name == "w.dat"
    then:
      - trim: {keep: 1}
      - move: {resource: "'second'"}
`
	if err := os.WriteFile(filepath.Join(rods.dir, "zone", "rules", "attack.yaml"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(rods.must(t, "irule"), "attack"); {
		if time.Now().After(deadline) {
			t.Fatal("the rule was not loaded")
		}
		time.Sleep(100 * time.Millisecond)
	}
	alice.must(t, "imeta", "add", "-d", w, "trigger", "1")
	if out := alice.must(t, "ils", "-L", w); !strings.Contains(out, "demoResc") || strings.Contains(out, "second") {
		t.Errorf("after the rule's move: %s", out)
	}
	audit := rods.must(t, "irule", "--audit", "--rule", "attack")
	if !strings.Contains(audit, "no checksum") {
		t.Errorf("the rule's refused move is not in the audit log:\n%s", audit)
	}
	intact("at the end")
}

// TestRetentionGovernance: a governance lock is extended by its owner,
// shortened and removed only by rodsadmin with --bypass-governance, which
// the audit log records; then the object can go.
func TestRetentionGovernance(t *testing.T) {
	rods := newSession(t)
	rods.must(t, "iadmin", "mkuser", "alice", "rodsuser", "alice pw")
	alice, _ := rods.as(t, "alice", "alice pw")
	f := alice.local("g.dat")
	if err := os.WriteFile(f, []byte("governed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := "/tempZone/home/alice/g.dat"
	alice.must(t, "iput", f, g)
	alice.must(t, "iretention", "set", "--mode", "governance", "--for", "30d", g)
	alice.must(t, "iretention", "set", "--mode", "governance", "--for", "60d", g)
	if r := alice.run(t, "iretention", "set", "--mode", "governance", "--for", "1d", g); r.code != ExitPolicy ||
		!strings.Contains(r.err, "without --bypass-governance") {
		t.Errorf("owner shortens: exit %d, %s", r.code, r.err)
	}
	if r := rods.run(t, "iretention", "set", "--mode", "governance", "--for", "1d", g); r.code != ExitPolicy {
		t.Errorf("rodsadmin shortens without the bypass: exit %d, %s", r.code, r.err)
	}
	rods.must(t, "iretention", "set", "--bypass-governance", "--mode", "governance", "--for", "1d", g)
	rods.must(t, "iretention", "rm", "--bypass-governance", g)
	if out := alice.must(t, "iretention", "ls", g); !strings.HasPrefix(out, "-") {
		t.Errorf("after the bypass: %q", out)
	}
	b, err := os.ReadFile(filepath.Join(rods.dir, "zone", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"outcome":"governance bypassed"`); n != 2 {
		t.Errorf("%d audited bypasses, want 2:\n%s", n, b)
	}
	alice.must(t, "irm", "-f", g)
}

// TestRetentionBadInput: bad dates, periods, modes and targets are
// refused with clear errors, and nothing changes.
func TestRetentionBadInput(t *testing.T) {
	rods := newSession(t)
	rods.must(t, "iadmin", "mkuser", "alice", "rodsuser", "alice pw")
	rods.must(t, "iadmin", "mkuser", "bob", "rodsuser", "bob pw")
	alice, _ := rods.as(t, "alice", "alice pw")
	bob, _ := rods.as(t, "bob", "bob pw")
	f := alice.local("a.dat")
	if err := os.WriteFile(f, []byte("a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := "/tempZone/home/alice/a.dat"
	alice.must(t, "iput", f, a)
	alice.must(t, "imkdir", "/tempZone/home/alice/c")
	for _, c := range []struct {
		who  *session
		code int
		msg  string
		args []string
	}{
		{alice, ExitUsage, "in the past", []string{"set", "--mode", "compliance", "--until", "2001-01-01", a}},
		{alice, ExitUsage, "want a date", []string{"set", "--mode", "compliance", "--until", "next year", a}},
		{alice, ExitUsage, "unknown unit", []string{"set", "--mode", "compliance", "--for", "10x", a}},
		{alice, ExitUsage, "hours", []string{"set", "--mode", "compliance", "--for", "PT5H", a}},
		{alice, ExitUsage, "zero", []string{"set", "--mode", "compliance", "--for", "0d", a}},
		{alice, ExitUsage, "governance or compliance", []string{"set", "--mode", "forever", "--for", "1y", a}},
		{alice, ExitUsage, "one of them", []string{"set", "--mode", "compliance", "--for", "1y", "--until", "2040-01-01", a}},
		{alice, ExitUsage, "one of them", []string{"set", "--mode", "compliance", a}},
		{alice, ExitUsage, "--mode", []string{"set", "--for", "1y", a}},
		{alice, ExitUsage, "--for PERIOD", []string{"set", "--default", "--mode", "compliance", "/tempZone/home/alice/c"}},
		{alice, ExitUsage, "unknown subcommand", []string{"lock", a}},
		{alice, ExitUsage, "on|off", []string{"hold", "maybe", a}},
		{alice, ExitFailure, "is a collection", []string{"set", "--mode", "compliance", "--for", "1y", "/tempZone/home/alice/c"}},
		{alice, ExitFailure, "is a data object", []string{"set", "--default", "--mode", "compliance", "--for", "1y", a}},
		{alice, ExitNotFound, "", []string{"set", "--mode", "compliance", "--for", "1y", "/tempZone/home/alice/none"}},
		{bob, ExitPermission, "own", []string{"set", "--mode", "compliance", "--for", "1y", a}},
		{bob, ExitPermission, "own", []string{"set", "--default", "--mode", "compliance", "--for", "1y", "/tempZone/home/alice/c"}},
		{bob, ExitPermission, "own", []string{"set", "-r", "--mode", "compliance", "--for", "1y", "/tempZone/home/alice"}},
		{bob, ExitPermission, "own", []string{"hold", "on", a}},
	} {
		r := c.who.run(t, append([]string{"iretention"}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.err, c.msg) {
			t.Errorf("iretention %s: exit %d, %q; want %d and %q", strings.Join(c.args, " "), r.code, r.err, c.code, c.msg)
		}
	}
	if out := alice.must(t, "iretention", "ls", "-r", "/tempZone/home/alice"); strings.Contains(out, "compliance") || strings.Contains(out, "hold") {
		t.Errorf("refused changes left locks:\n%s", out)
	}
	// A collection default reaches what is put there, and -r locks a tree.
	alice.must(t, "iretention", "set", "--default", "--mode", "governance", "--for", "P1Y", "/tempZone/home/alice/c")
	alice.must(t, "iput", f, "/tempZone/home/alice/c/new.dat")
	if out := alice.must(t, "iretention", "ls", "/tempZone/home/alice/c/new.dat"); !strings.HasPrefix(out, "governance ") {
		t.Errorf("an object put under a default: %q", out)
	}
	out := alice.must(t, "iretention", "ls", "--json", "/tempZone/home/alice/c")
	if !strings.Contains(out, `"default_period":"P1Y"`) || !strings.Contains(out, `"locked":true`) {
		t.Errorf("iretention ls --json of the collection:\n%s", out)
	}
}
