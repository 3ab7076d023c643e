package icommands

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestAdminMode: as in iRODS, a rodsadmin sees the whole namespace but acts
// on other users' data only with -M (admin mode); what it creates with -M
// in alice's home is alice's, so that she sees it and her irm -r removes it.
func TestAdminMode(t *testing.T) {
	s := newSession(t)
	s.must(t, "iadmin", "mkuser", "alice", "rodsuser", "alice pw")
	alice, r := s.as(t, "alice", "alice pw")
	if r.code != 0 {
		t.Fatalf("alice's login: %s", r.err)
	}
	if err := os.WriteFile(s.local("f.txt"), []byte("bytes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	alice.must(t, "imkdir", "proj")
	alice.must(t, "iput", s.local("f.txt"), "proj/hers.txt")
	home := "/tempZone/home/alice"

	// Without -M: the namespace shows, the data does not open or change.
	if out := s.must(t, "ils", "-l", home+"/proj"); !strings.Contains(out, "hers.txt") {
		t.Errorf("ils of alice's collection by rods: %q", out)
	}
	s.must(t, "imeta", "ls", "-d", home+"/proj/hers.txt")
	refused := [][]string{
		{"iput", s.local("f.txt"), home + "/proj/planted.txt"},
		{"iget", home + "/proj/hers.txt", s.local("got.txt")},
		{"imkdir", home + "/proj/made"},
		{"irm", home + "/proj/hers.txt"},
		{"imv", home + "/proj/hers.txt", home + "/proj/moved.txt"},
		{"icp", home + "/proj/hers.txt", "/tempZone/home/rods/copy.txt"},
		{"ichksum", home + "/proj/hers.txt"},
		{"imeta", "add", "-d", home + "/proj/hers.txt", "a", "b"},
		{"ichmod", "read", "rods", home + "/proj/hers.txt"},
		{"irepl", "-R", "demoResc", home + "/proj/hers.txt"},
		{"iticket", "create", "read", home + "/proj/hers.txt"},
	}
	for _, args := range refused {
		if r := s.run(t, args...); r.code != ExitPermission {
			t.Errorf("%s without -M: exit %d, want %d (stderr %s)", strings.Join(args, " "), r.code, ExitPermission, r.err)
		}
	}

	// With -M: it may.
	s.must(t, "iput", "-M", s.local("f.txt"), home+"/proj/planted.txt")
	s.must(t, "imkdir", "-M", home+"/proj/made")
	s.must(t, "iput", "-M", s.local("f.txt"), home+"/proj/made/deep.txt")
	s.must(t, "iget", "-M", home+"/proj/hers.txt", s.local("got.txt"))
	// A large file goes over the data channel, which carries -M too.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	if err := os.WriteFile(s.local("big.bin"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	alice.must(t, "iput", s.local("big.bin"), "proj/big.bin")
	if r := s.run(t, "iget", home+"/proj/big.bin", s.local("big.out")); r.code != ExitPermission {
		t.Errorf("iget of a large file without -M: exit %d", r.code)
	}
	s.must(t, "iget", "-M", home+"/proj/big.bin", s.local("big.out"))
	s.must(t, "iput", "-M", "-f", s.local("big.bin"), home+"/proj/big.bin")
	if got, _ := os.ReadFile(s.local("big.out")); !bytes.Equal(got, big) {
		t.Error("iget -M of a large file: other bytes")
	}
	s.must(t, "ichksum", "-M", home+"/proj/hers.txt")
	s.must(t, "imeta", "-M", "add", "-d", home+"/proj/hers.txt", "a", "b")
	s.must(t, "ichmod", "-M", "read", "rods", home+"/proj/hers.txt")
	s.must(t, "iget", "-f", home+"/proj/hers.txt", s.local("got.txt")) // the grant now reaches

	// What rods planted is alice's: she sees it, and removes the tree.
	var e struct{ Owner string }
	if err := json.Unmarshal([]byte(alice.must(t, "ils", "--json", "proj/planted.txt")), &e); err != nil || e.Owner != "alice#tempZone" {
		t.Errorf("owner of what rods put in alice's home: %v %+v", err, e)
	}
	if out := alice.must(t, "ils", "-r", "proj"); !strings.Contains(out, "planted.txt") || !strings.Contains(out, "deep.txt") {
		t.Errorf("alice does not see what rods put in her home:\n%s", out)
	}
	alice.must(t, "irm", "-r", "proj")

	// -M is for a rodsadmin only.
	if r := alice.run(t, "iput", "-M", s.local("f.txt"), "other.txt"); r.code != ExitPermission || !strings.Contains(r.err, "admin mode") {
		t.Errorf("alice's iput -M: exit %d, stderr %s", r.code, r.err)
	}

	// Its own home needs no -M.
	s.must(t, "iput", s.local("f.txt"), "mine.txt")
	s.must(t, "irm", "-f", "mine.txt")
}
