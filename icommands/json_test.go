package icommands

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/api/arcapb"
)

// TestJSONEveryCommand runs every icommand, and every subcommand of iadmin,
// imeta, iticket and irule, with --json in one session and checks the
// shape that scripts rely on: standard output is never empty; it is one
// JSON document, or, where the command's -h says JSON Lines, one object a
// line; numbers are numbers (a value that is a string of digits must be
// text that may hold digits, such as an AVU's value); nothing on stderr.
func TestJSONEveryCommand(t *testing.T) {
	s := newSession(t)
	for name, content := range map[string]string{"one.txt": "one\n", "two.txt": "two two\n", "tree/a.txt": "alpha\n", "tree/b/c.txt": "charlie\n"} {
		p := s.local(name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	vault2 := s.local("vault2")
	if err := os.MkdirAll(filepath.Join(vault2, "imports"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vault2, "imports", "reg.dat"), []byte("registered\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A rule that fires on a put, leaves an audit record and schedules a
	// job, for irule, irule --audit, iqstat and iqdel to list.
	rule := `rules:
  - name: stamp
    on: [put]
    when: post
    condition: object.name == "one.txt"
    then:
      - metadata.set: {attribute: "'stamped'", value: "'yes'"}
      - schedule:
          after: 1h
          do:
            - metadata.set: {attribute: "'checked'", value: "'yes'"}
`
	if err := os.WriteFile(filepath.Join(s.dir, "zone", "rules", "stamp.yaml"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(s.must(t, "irule"), "stamp"); {
		if time.Now().After(deadline) {
			t.Fatal("the rule was not loaded")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A file no replica points to, for fsck --repair to find and remove.
	if err := os.WriteFile(filepath.Join(s.dir, "zone", "vault", "stray.bin"), []byte("stray"), 0o600); err != nil {
		t.Fatal(err)
	}
	home := "/tempZone/home/rods"
	jobID := ""
	steps := []struct {
		args  []string
		lines bool // JSON Lines: the command's help says so
	}{
		{[]string{"ienv"}, false},
		{[]string{"ipwd"}, false},
		{[]string{"imkdir", "c"}, false},
		{[]string{"imkdir", "-p", "d/e", "f"}, true},
		{[]string{"icd", "c"}, false},
		{[]string{"icd"}, false},
		{[]string{"icd", home}, false},
		{[]string{"iput", s.local("one.txt")}, true},
		{[]string{"iput", "-r", s.local("tree")}, true},
		{[]string{"iput", s.local("two.txt"), "c/two.txt"}, true},
		{[]string{"ils"}, true},
		{[]string{"ils", "-L", "-A", "one.txt"}, true},
		{[]string{"iget", "one.txt", s.local("got.txt")}, true},
		{[]string{"ichksum", "-K", "one.txt"}, true},
		{[]string{"icp", "one.txt", "c/copy.txt"}, false},
		{[]string{"imv", "c/copy.txt", "c/moved.txt"}, false},
		{[]string{"ichmod", "read", "public", "one.txt"}, true},
		{[]string{"ichmod", "read", "public", "one.txt", "c"}, true},
		{[]string{"ichmod", "inherit", "c"}, true},
		{[]string{"imeta", "add", "-d", "one.txt", "n", "12", "B"}, false},
		{[]string{"imeta", "set", "-d", "one.txt", "n", "13"}, false},
		{[]string{"imeta", "mod", "-d", "one.txt", "n", "13", "v:14"}, false},
		{[]string{"imeta", "ls", "-d", "one.txt"}, true},
		{[]string{"imeta", "rm", "-d", "one.txt", "n", "14"}, false},
		{[]string{"imeta", "add", "-C", "c", "x", "1"}, false},
		{[]string{"imeta", "rmw", "-C", "c", "x", "%"}, false},
		{[]string{"imeta", "add", "-C", "c", "y", "2"}, false},
		{[]string{"imeta", "rmi", "-C", "c", strconv.FormatUint(avuID(&arcapb.AVU{Attribute: "y", Value: "2"}), 10)}, false},
		{[]string{"imeta", "ls", "-ld", "one.txt"}, true},
		{[]string{"imeta", "lsw", "-d", "one.txt", "%"}, true},
		{[]string{"imeta", "cp", "-d", "-C", "one.txt", "c"}, false},
		{[]string{"imeta", "addw", "-d", "one%", "checked", "yes"}, false},
		{[]string{"iqos", "add", "c", "anyStorage", "--replicas", "1"}, false},
		{[]string{"iqos", "ls", "-r", "c"}, true},
		{[]string{"iqos", "rm", "c", "anyStorage"}, false},
		{[]string{"irsync", "-r", s.local("tree"), "i:synced"}, true},
		{[]string{"irsync", "-r", "-l", s.local("tree"), "i:synced"}, true},
		{[]string{"iquest", "select DATA_NAME, DATA_SIZE, DATA_ID where DATA_NAME = 'one.txt'"}, true},
		{[]string{"iquest", "attrs"}, false},
		{[]string{"iadmin", "mkuser", "alice", "rodsuser", "alice pw"}, false},
		{[]string{"iadmin", "moduser", "alice", "info", "Alice"}, false},
		{[]string{"iadmin", "lu"}, true},
		{[]string{"iadmin", "lu", "alice"}, false},
		{[]string{"iadmin", "lua"}, true},
		{[]string{"iadmin", "lua", "alice"}, false},
		{[]string{"iadmin", "mkgroup", "lab"}, false},
		{[]string{"iadmin", "atg", "lab", "alice"}, false},
		{[]string{"iadmin", "lg"}, true},
		{[]string{"iadmin", "lg", "lab"}, false},
		{[]string{"iadmin", "lgd", "lab"}, false},
		{[]string{"iadmin", "rfg", "lab", "alice"}, false},
		{[]string{"iadmin", "suq", "alice", "total", "1G", "10"}, false},
		{[]string{"iadmin", "sgq", "lab", "total", "1G"}, false},
		{[]string{"iadmin", "scq", "c", "1G", "100"}, false},
		{[]string{"iadmin", "lq"}, true},
		{[]string{"iquota", "-a"}, true},
		{[]string{"iadmin", "mkresc", "second", "posix", vault2}, false},
		{[]string{"iadmin", "modresc", "second", "comment", "the second"}, false},
		{[]string{"iadmin", "lr"}, true},
		{[]string{"iadmin", "lr", "second"}, false},
		{[]string{"ilsresc"}, true},
		{[]string{"ilsresc", "second"}, false},
		{[]string{"ireg", "-R", "second", "imports/reg.dat", home + "/reg.dat"}, false},
		{[]string{"irepl", "-R", "second", "one.txt"}, true},
		{[]string{"itrim", "-N", "1", "-S", "second", "one.txt"}, true},
		{[]string{"iphymv", "-R", "second", "c/two.txt"}, true},
		{[]string{"iphymv", "-R", "demoResc", "c/two.txt"}, true},
		{[]string{"iuserinfo"}, false},
		{[]string{"iuserinfo", "lab"}, false},
		{[]string{"iticket", "create", "read", "one.txt", "secret-ticket-1"}, false},
		{[]string{"iticket", "mod", "secret-ticket-1", "uses", "5"}, false},
		{[]string{"iticket", "ls"}, true},
		{[]string{"iticket", "ls", "secret-ticket-1"}, true},
		{[]string{"iticket", "delete", "secret-ticket-1"}, false},
		{[]string{"irule"}, true},
		{[]string{"irule", "--dry-run", "put", "x.dat"}, false},
		{[]string{"irule", "--audit"}, true},
		{[]string{"iqstat"}, true},
		{[]string{"iqdel", "JOB"}, true},
		{[]string{"fsck", "--repair"}, true},
		{[]string{"irm", "-f", "reg.dat"}, true},
		{[]string{"iadmin", "rmresc", "second"}, false},
		{[]string{"irm", "c/moved.txt"}, true},
		{[]string{"irm", "-r", "d", "f"}, true},
		{[]string{"irmtrash"}, false},
		{[]string{"iadmin", "rmgroup", "lab"}, false},
		{[]string{"iadmin", "rmuser", "alice"}, false},
		{[]string{"ipasswd"}, false},
		{[]string{"iinit"}, false},
		{[]string{"iexit"}, false},
	}
	digits := regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	// Keys whose values are text that may be all digits.
	text := map[string]bool{"value": true, "attribute": true, "unit": true, "info": true, "name": true, "ticket": true,
		"version": true, "rules_version": true}
	var check func(t *testing.T, key string, v any)
	check = func(t *testing.T, key string, v any) {
		switch v := v.(type) {
		case string:
			if digits.MatchString(v) && !text[key] {
				t.Errorf("%q: %q is a number as a string", key, v)
			}
		case map[string]any:
			for k, x := range v {
				check(t, k, x)
			}
		case []any:
			for _, x := range v {
				check(t, key, x)
			}
		}
	}
	for _, st := range steps {
		name := strings.Join(st.args, " ")
		t.Run(name, func(t *testing.T) {
			st.args = slices.Clone(st.args)
			for i, a := range st.args {
				if a == "JOB" {
					st.args[i] = jobID
				}
			}
			args := append([]string{st.args[0], "--json"}, st.args[1:]...)
			if st.args[0] == "imeta" {
				args = append(st.args[:1:1], append(st.args[1:], "--json")...)
			}
			stdin := ""
			if st.args[0] == "ipasswd" {
				s.env["ARCA_NEW_PASSWORD"] = s.env["ARCA_PASSWORD"]
			}
			r := s.runIn(t, stdin, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			if r.err != "" {
				t.Errorf("stderr: %s", r.err)
			}
			if strings.TrimSpace(r.out) == "" {
				t.Fatal("no output")
			}
			docs := []string{r.out}
			if st.lines {
				docs = strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
			} else if n := strings.Count(strings.TrimSuffix(r.out, "\n"), "\n"); n > 0 {
				t.Errorf("%d lines, want one document:\n%s", n+1, r.out)
			}
			for _, d := range docs {
				var v any
				if err := json.Unmarshal([]byte(d), &v); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, d)
				}
				if _, ok := v.(map[string]any); !ok && st.lines {
					t.Errorf("a JSON Lines line that is not an object: %s", d)
				}
				check(t, "", v)
				if m, ok := v.(map[string]any); ok && st.args[0] == "iqstat" && jobID == "" {
					if id, ok := m["id"].(float64); ok {
						jobID = strconv.FormatInt(int64(id), 10)
					}
				}
			}
		})
	}
}
