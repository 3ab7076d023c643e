package zones

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// The tier settings refuse what would leave a group with a gap, two
// resources at one index or a bad value, and change nothing then.
func TestSetTierBadInput(t *testing.T) {
	e := newFaultEnv(t)
	for _, n := range []string{"fast", "mid", "slow"} {
		e.mkresc(n, "posix")
	}
	rods := As(e.rods)
	set := func(resc, field, value string) error {
		_, err := e.zone.ModifyResource(e.ctx, rods, resc, field, value)
		return err
	}
	for _, c := range [][3]string{{"fast", "tier", "g 0"}, {"mid", "tier", "g 1"}, {"fast", "tier_time", "30d"}, {"mid", "tier_time", "3600"}} {
		if err := set(c[0], c[1], c[2]); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
	}
	before, err := e.zone.TierGroups(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		resc, field, value, want string
	}{
		{"slow", "tier", "g 3", "gap: no resource at index 2"},
		{"slow", "tier", "g 1", "two resources at index 1"},
		{"fast", "untier", "", "gap: no resource at index 0"},
		{"slow", "tier", "g -1", "from 0"},
		{"slow", "tier", "g x", "from 0"},
		{"slow", "tier", "g", "give the group and the index"},
		{"slow", "tier", "g'x 2", "no spaces, quotes"},
		{"fast", "tier_time", "soon", "tier time \"soon\""},
		{"fast", "tier_time", "-5", "seconds from 0"},
		{"fast", "tier_verify", "md5", "want catalog, size, checksum"},
		{"fast", "tier_preserve", "yes", "want true or false"},
		{"slow", "tier_restage", "true", "in no tier group"},
		{"slow", "untier", "", "in no tier group"},
		{"fast", "tierx", "1", "cannot modify"},
		{"nosuch", "tier", "g 2", "not found"},
	}
	for _, c := range cases {
		err := set(c.resc, c.field, c.value)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("modresc %s %s %q: %v, want an error saying %q", c.resc, c.field, c.value, err, c.want)
		}
	}
	after, err := e.zone.TierGroups(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 1 || len(after[0].Levels) != 2 || len(before[0].Levels) != 2 {
		t.Fatalf("after refused changes: %+v (before %+v)", after, before)
	}
	g := after[0]
	if g.Name != "g" || g.Levels[0].Resource != "fast" || g.Levels[0].Rest != 30*24*time.Hour ||
		g.Levels[1].Resource != "mid" || g.Levels[1].Rest != time.Hour || g.Levels[0].Verify != "catalog" {
		t.Errorf("tier group %+v", g)
	}
	// The last tier leaves, then the group is fine with one fewer; a
	// resource moves within its group when that leaves no gap.
	if err := set("mid", "untier", ""); err != nil {
		t.Fatal(err)
	}
	if err := set("slow", "tier", "g 1"); err != nil {
		t.Fatal(err)
	}
	if err := set("slow", "tier_restage", "true"); err != nil {
		t.Fatal(err)
	}
	groups, err := e.zone.TierGroups(e.ctx)
	if err != nil || len(groups[0].Levels) != 2 || groups[0].Levels[1].Resource != "slow" || groups[0].Restage != 1 {
		t.Fatalf("tier groups %+v, %v", groups, err)
	}
}

// Reads and writes of objects on tiered resources are noted and written to
// the catalog in one batch; those on other resources are not.
func TestAccessTimesBatched(t *testing.T) {
	e := newFaultEnv(t)
	e.mkresc("fast", "posix")
	e.mkresc("plain", "posix")
	if err := e.put("before", "fast", []byte("put before the tier was"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.ModifyResource(e.ctx, As(e.rods), "fast", "tier", "g 0"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if err := e.put(n, "fast", []byte(n), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.put("c", "plain", []byte("c"), false); err != nil {
		t.Fatal(err)
	}
	if got := e.zone.pendingAccessTimes(); len(got) != 2 {
		t.Fatalf("pending after puts: %v, want a and b", got)
	}
	if err := e.zone.FlushAccessTimes(e.ctx); err != nil {
		t.Fatal(err)
	}
	if len(e.zone.pendingAccessTimes()) != 0 {
		t.Fatal("pending after a flush")
	}
	at := func(n string) string {
		avus, err := e.cat.ListMetadata(e.ctx, catalog.ObjectTarget(e.path(n)))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range avus {
			if a.Attribute == catalog.AccessTimeAttr {
				return a.Value
			}
		}
		return ""
	}
	// What was on the resource before it joined the group gets its last
	// write as its access time, in the background.
	deadline := time.Now().Add(10 * time.Second)
	for at("before") == "" {
		if time.Now().After(deadline) {
			t.Fatal("the object put before the resource was tiered has no access time")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if at("a") == "" || at("b") == "" || at("c") != "" {
		t.Fatalf("access times a=%q b=%q c=%q", at("a"), at("b"), at("c"))
	}
	first := at("a")
	time.Sleep(1100 * time.Millisecond)
	_, _, rc, err := e.zone.Open(e.ctx, As(e.rods), e.path("a"), 0)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
	if err := e.zone.FlushAccessTimes(e.ctx); err != nil {
		t.Fatal(err)
	}
	if at("a") <= first {
		t.Errorf("a read: access time %s, was %s", at("a"), first)
	}
	// A batch whose object went meanwhile is written all the same.
	if err := e.put("d", "fast", []byte("d"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.Remove(e.ctx, As(e.rods), e.path("d"), false, true); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.FlushAccessTimes(e.ctx); err != nil {
		t.Fatalf("a batch naming a removed object: %v", err)
	}
}

// A read of an object found only on a slow tier brings it back to the
// restage tier in the background, and trims the slow replica.
func TestRestageAfterRead(t *testing.T) {
	e := newFaultEnv(t)
	e.mkresc("fast", "posix")
	e.mkresc("slow", "posix")
	rods := As(e.rods)
	for _, c := range [][3]string{{"fast", "tier", "g 0"}, {"slow", "tier", "g 1"}, {"fast", "tier_time", "1"}} {
		if _, err := e.zone.ModifyResource(e.ctx, rods, c[0], c[1], c[2]); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.put("cold", "slow", []byte("cold bytes"), false); err != nil {
		t.Fatal(err)
	}
	_, rep, rc, err := e.zone.Open(e.ctx, rods, e.path("cold"), 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "cold bytes" || rep.Resource != "slow" {
		t.Fatalf("read %q from %s", b, rep.Resource)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		reps := e.replicasOf("cold")
		if len(reps) == 1 && reps["fast"] == catalog.ReplicaGood {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not restaged: replicas %v", reps)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Read again from the fast tier: nothing more to do.
	_, rep, rc, err = e.zone.Open(e.ctx, rods, e.path("cold"), 0)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if rep.Resource != "fast" {
		t.Errorf("read from %s after the restage", rep.Resource)
	}
	if err := e.zone.VerifyReplica(e.ctx, e.path("cold"), rep.Number, "checksum"); err != nil {
		t.Errorf("verify the restaged replica: %v", err)
	}
	if err := e.zone.VerifyReplica(e.ctx, e.path("cold"), rep.Number, "size"); err != nil {
		t.Errorf("verify the restaged replica's size: %v", err)
	}
	if err := e.zone.VerifyReplica(e.ctx, e.path("cold"), 99, "size"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("verify a replica that is not there: %v", err)
	}
}
