package rules

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// factsCatalog is a memCatalog holding a tree with metadata on several
// levels: /tempZone/projects/p1/raw/scan.tif and its collections.
func factsCatalog(te *testEngine) {
	obj := catalog.MustPath("/tempZone/projects/p1/raw/scan.tif")
	te.cat.entries[obj.String()] = catalog.Entry{Object: &catalog.DataObject{Path: obj, Owner: alice.UserID(),
		Replicas: []catalog.Replica{{Number: 1, Resource: "demoResc", Size: 7, Status: catalog.ReplicaGood}}}}
	te.cat.entries[catalog.MustPath("/tempZone/projects/p1/raw").String()] = catalog.Entry{Collection: &catalog.Collection{Path: catalog.MustPath("/tempZone/projects/p1/raw")}}
	te.cat.avus[catalog.ObjectTarget(obj).String()] = []catalog.AVU{{Attribute: "retention_until", Value: "2030-01-01"}}
	te.cat.avus[catalog.CollectionTarget(catalog.MustPath("/tempZone/projects/p1/raw")).String()] = []catalog.AVU{{Attribute: "stage", Value: "raw"}}
	te.cat.avus[catalog.CollectionTarget(catalog.MustPath("/tempZone/projects/p1")).String()] = []catalog.AVU{
		{Attribute: "project", Value: "p1"}, {Attribute: "retention_until", Value: "2040-01-01"}, {Attribute: "keyword", Value: "a"}, {Attribute: "keyword", Value: "b"}}
	te.cat.avus[catalog.CollectionTarget(catalog.MustPath("/tempZone")).String()] = []catalog.AVU{{Attribute: "site", Value: "nijmegen"}}
	for name, lock := range map[string]catalog.Lock{
		"locked.tif":  {Mode: catalog.LockCompliance, Until: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Hold: true, SetBy: alice.UserID()},
		"expired.tif": {Mode: catalog.LockGovernance, Until: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), SetBy: alice.UserID()},
	} {
		p := catalog.MustPath("/tempZone/projects/p1/raw/" + name)
		te.cat.entries[p.String()] = catalog.Entry{Object: &catalog.DataObject{Path: p, Owner: alice.UserID(), Lock: lock}}
	}
}

// TestFacts: every fact an operation carries, and the functions on
// paths, strings, lists and numbers, as a rule reads them.
func TestFacts(t *testing.T) {
	scan := "/tempZone/projects/p1/raw/scan.tif"
	op := func(name string, edit func(*Request)) *Request {
		r := &Request{Op: name, Path: catalog.MustPath(scan), User: alice, Size: -1}
		if edit != nil {
			edit(r)
		}
		return r
	}
	bob := catalog.UserID{Name: "bob", Zone: "tempZone"}
	remote := catalog.UserID{Name: "carol", Zone: "otherZone"}
	avu := func(a, v string) catalog.AVU { return catalog.AVU{Attribute: a, Value: v} }
	tests := []struct {
		name      string
		condition string
		req       *Request
	}{
		// acl.set: who is granted what.
		{"acl.set level and grantee", `op.level == "read" && op.grantee == "bob" && op.group == "bob" && !op.recursive`,
			op("acl.set", func(r *Request) { r.Grantee, r.Group, r.Level = bob, "bob", "read" })},
		{"acl.set null removes", `op.level == "null"`, op("acl.set", func(r *Request) { r.Grantee, r.Level = bob, "null" })},
		{"acl.set to another zone", `op.grantee == "carol#otherZone" && op.grantee.split("#")[1] == "otherZone"`,
			op("acl.set", func(r *Request) { r.Grantee, r.Level = remote, "own" })},
		{"acl.set -r", `op.recursive && op.admin`, op("acl.set", func(r *Request) { r.Recursive, r.AdminMode = true, true })},
		{"ticket.create type", `op.level == "write"`, op("ticket.create", func(r *Request) { r.Level = "write" })},
		{"no level elsewhere", `op.level == "" && op.grantee == "" && op.account == ""`, op("get", nil)},

		// metadata.modify: the old and the new AVU.
		{"metadata.modify old and new", `op.metadata == {"retention_until": "2030-01-01"} && op.newMetadata == {"retention_until": "2020-01-01"}`,
			op("metadata.modify", func(r *Request) {
				r.AVUs, r.NewAVUs = []catalog.AVU{avu("retention_until", "2030-01-01")}, []catalog.AVU{avu("retention_until", "2020-01-01")}
			})},
		{"metadata.modify renaming the attribute", `"retention_until" in op.metadata && !("retention_until" in op.newMetadata) && op.newMetadata.until == "2030-01-01"`,
			op("metadata.modify", func(r *Request) {
				r.AVUs, r.NewAVUs = []catalog.AVU{avu("retention_until", "2030-01-01")}, []catalog.AVU{avu("until", "2030-01-01")}
			})},
		{"a shortened retention against the object's", `date(op.newMetadata.retention_until) < date(object.metadata.retention_until)`,
			op("metadata.modify", func(r *Request) {
				r.AVUs, r.NewAVUs = []catalog.AVU{avu("retention_until", "2030-01-01")}, []catalog.AVU{avu("retention_until", "2020-01-01")}
			})},
		{"metadata.set leaves what it sets", `op.newMetadata == op.metadata && op.newMetadata.project == "p2"`,
			op("metadata.set", func(r *Request) { r.AVUs = []catalog.AVU{avu("project", "p2")} })},
		{"metadata.add leaves what it adds", `op.newMetadata.project == "p2"`,
			op("metadata.add", func(r *Request) { r.AVUs = []catalog.AVU{avu("project", "p2")} })},
		{"put leaves what it attaches", `op.newMetadata.project == "p2"`,
			op("put", func(r *Request) { r.AVUs = []catalog.AVU{avu("project", "p2")} })},
		{"metadata.remove leaves nothing new", `op.newMetadata.size() == 0 && op.metadata.project == "p1"`,
			op("metadata.remove", func(r *Request) { r.AVUs = []catalog.AVU{avu("project", "p1")} })},

		// user.*: the account acted on.
		{"user.create account", `op.account == "bob"`, op("user.create", func(r *Request) { r.Path, r.Account = catalog.Path{}, bob })},
		{"user.info of another zone", `op.account == "carol#otherZone"`, op("user.info", func(r *Request) { r.Path, r.Account = catalog.Path{}, remote })},
		{"group.add member and group", `op.account == "bob" && op.group == "lab"`,
			op("group.add", func(r *Request) { r.Path, r.Account, r.Group = catalog.Path{}, bob, "lab" })},

		// Recursive operations.
		{"remove -r", `op.recursive`, op("remove", func(r *Request) { r.Recursive = true })},

		// Destination of rename and copy.
		{"rename dest", `op.dest == "/tempZone/archive/scan.tif" && dest.path == op.dest && dest.name == "scan.tif" && dest.components[1] == "archive" && !dest.exists`,
			op("rename", func(r *Request) { r.Dest = catalog.MustPath("/tempZone/archive/scan.tif") })},
		{"copy dest ancestors", `dest.ancestors.map(a, a.path) == ["/tempZone/projects/p1", "/tempZone/projects", "/tempZone", "/"] && dest.parentMetadata.project == "p1"`,
			op("copy", func(r *Request) { r.Dest = catalog.MustPath("/tempZone/projects/p1/scan.tif") })},

		// Ancestors, nearest first.
		{"ancestor paths", `object.ancestors.map(a, a.path) == ["/tempZone/projects/p1/raw", "/tempZone/projects/p1", "/tempZone/projects", "/tempZone", "/"]`, op("get", nil)},
		{"ancestor names", `object.ancestors.map(a, a.name) == ["raw", "p1", "projects", "tempZone", ""]`, op("get", nil)},
		{"ancestor metadata", `object.ancestors[0].metadata.stage == "raw" && object.ancestors[1].metadata.project == "p1" && object.ancestors[3].metadata.site == "nijmegen" && object.ancestors[2].metadata.size() == 0`, op("get", nil)},
		{"ancestor metadata values", `object.ancestors[1].metadataValues.keyword == ["a", "b"]`, op("get", nil)},
		{"parent metadata is the nearest ancestor's", `object.parentMetadata == object.ancestors[0].metadata`, op("get", nil)},
		{"any ancestor", `object.ancestors.exists(a, "project" in a.metadata)`, op("get", nil)},
		{"the nearest that says", `object.ancestors.filter(a, "retention_until" in a.metadata)[0].metadata.retention_until == "2040-01-01"`, op("get", nil)},
		{"the latest retention of object and ancestors", `[object.metadata.?retention_until.orValue("")].filter(v, v != "").map(v, date(v))` +
			` + object.ancestors.filter(a, "retention_until" in a.metadata).map(a, date(a.metadata.retention_until)) == [date("2030-01-01"), date("2040-01-01")]`, op("get", nil)},
		{"a new object has ancestors too", `!object.exists && object.ancestors.size() == 5 && object.ancestors[0].metadata.stage == "raw"`,
			op("put", func(r *Request) { r.Path = catalog.MustPath("/tempZone/projects/p1/raw/new.tif") })},
		{"the zone collection has one ancestor", `object.ancestors.size() == 1 && object.ancestors[0].path == "/"`,
			op("stat", func(r *Request) { r.Path = catalog.MustPath("/tempZone") })},
		{"no path, no ancestors", `object.ancestors.size() == 0 && object.components.size() == 0 && object.parentMetadata.size() == 0`,
			op("query", func(r *Request) { r.Path = catalog.Path{} })},

		// Retention (the request's now is 2026-01-02).
		{"a lock and a hold", `object.retention.mode == "compliance" && object.retention.until == timestamp("2030-01-01T00:00:00Z") && object.retention.hold && object.retention.locked && object.retention.setBy == "alice#tempZone"`,
			op("remove", func(r *Request) { r.Path = catalog.MustPath("/tempZone/projects/p1/raw/locked.tif") })},
		{"a lock run out", `object.retention.mode == "governance" && object.retention.until < now && !object.retention.locked && !object.retention.hold`,
			op("remove", func(r *Request) { r.Path = catalog.MustPath("/tempZone/projects/p1/raw/expired.tif") })},
		{"no lock", `object.retention.mode == "" && int(object.retention.until) == 0 && !object.retention.locked && object.retention.setBy == ""`, op("get", nil)},
		{"a new object has no lock", `!object.exists && !object.retention.locked`,
			op("put", func(r *Request) { r.Path = catalog.MustPath("/tempZone/projects/p1/raw/new.tif") })},

		// Paths.
		{"object components", `object.components == ["tempZone", "projects", "p1", "raw", "scan.tif"] && object.components[2] == "p1"`, op("get", nil)},
		{"path.base and path.dir", `path.base(object.path) == object.name && path.dir(object.path) == object.parent && path.dir(path.dir(object.path)) == "/tempZone/projects/p1"`, op("get", nil)},
		{"path.components and path.join", `path.components(op.path) == object.components && path.join(object.components.slice(0, 3)) == "/tempZone/projects/p1"`, op("get", nil)},
		{"path edge cases", `path.base("/") == "" && path.dir("/") == "/" && path.dir("/a") == "/" && path.dir("") == "" && path.base("") == "" && path.components("/a//b/") == ["a", "b"] && path.join([]) == "/"`, op("get", nil)},
		{"path of a destination", `path.base(op.dest) == "b.tif" && path.dir(op.dest) == "/tempZone/archive"`,
			op("rename", func(r *Request) { r.Dest = catalog.MustPath("/tempZone/archive/b.tif") })},

		// CEL's string, list and math extensions.
		{"strings", `"a,b,c".split(",") == ["a", "b", "c"] && object.name.substring(0, 4) == "scan" && object.name.replace(".tif", ".tiff") == "scan.tiff" && "ABC".lowerAscii() == "abc" && ["a", "b"].join("/") == "a/b" && object.name.lastIndexOf(".") == 4 && " x ".trim() == "x"`, op("get", nil)},
		{"string format", `"%s is %d bytes".format([object.name, object.size]) == "scan.tif is 7 bytes"`, op("get", nil)},
		{"lists", `[3, 1, 2].sort() == [1, 2, 3] && [1, 1, 2].distinct() == [1, 2] && [[1], [2, 3]].flatten() == [1, 2, 3] && lists.range(3) == [0, 1, 2] && [1, 2, 3].reverse()[0] == 3 && object.components.last().orValue("") == "scan.tif"`, op("get", nil)},
		{"math", `math.greatest(1, 5, 3) == 5 && math.least([4, 2]) == 2 && math.abs(-3) == 3 && math.ceil(1.2) == 2.0 && math.round(2.5) == 3.0`, op("get", nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEngine(t, map[string]string{"f.yaml": "rules:\n  - name: r\n    on: ['*']\n    condition: '" + strings.ReplaceAll(tc.condition, "'", "''") + "'\n    deny: \"'yes'\"\n"})
			factsCatalog(te)
			tc.req.Now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			tc.req.Zone = "tempZone"
			_, err := te.Before(context.Background(), tc.req)
			if err == nil || !strings.Contains(err.Error(), ": yes") {
				t.Errorf("%s: %v, want the rule to hold", tc.condition, err)
			}
		})
	}
}

// TestAncestorsLazy: the list of ancestors costs no lookup; each
// ancestor's metadata costs one, only when read, once per operation, and
// shared with parentMetadata.
func TestAncestorsLazy(t *testing.T) {
	tests := []struct {
		name, condition string
		lookups         int
	}{
		{"paths only", `object.ancestors.size() == 5 && object.ancestors[4].path == "/"`, 0},
		{"one ancestor", `object.ancestors[1].metadata.project == "p1"`, 1},
		{"the same one twice, and parentMetadata", `object.ancestors[0].metadata.stage == "raw" && object.parentMetadata.stage == "raw" && object.ancestors[0].metadataValues.stage == ["raw"]`, 1},
		{"until the first that has it", `object.ancestors.exists(a, "project" in a.metadata)`, 2},
		{"all of them", `object.ancestors.all(a, !("nope" in a.metadata))`, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Two rules read the same facts: the lookups are shared.
			te := newTestEngine(t, map[string]string{"f.yaml": "rules:\n  - name: a\n    on: [get]\n    condition: '" + tc.condition + "'\n    then: [{resource.choose: {name: \"'x'\"}}]\n" +
				"  - name: b\n    on: [get]\n    condition: '" + tc.condition + "'\n    then: [{resource.choose: {name: \"'y'\"}}]\n"})
			factsCatalog(te)
			eff, err := te.Before(context.Background(), &Request{Op: "get", Path: catalog.MustPath("/tempZone/projects/p1/raw/scan.tif"), User: alice, Zone: "tempZone"})
			if err != nil || eff == nil || eff.Resource != "y" {
				t.Fatalf("%s: effects %+v, %v", tc.condition, eff, err)
			}
			if got := te.cat.calls["metadata"]; got != tc.lookups {
				t.Errorf("%s: %d metadata lookups, want %d", tc.condition, got, tc.lookups)
			}
			if te.cat.calls["stat"] != 0 {
				t.Errorf("%s: %d stats, want none", tc.condition, te.cat.calls["stat"])
			}
		})
	}
}

// TestExtensionsBounded: the extensions are under the cost limit like the
// rest: an expression that would build a huge list or string is stopped,
// and fails closed.
func TestExtensionsBounded(t *testing.T) {
	for _, cond := range []string{
		`lists.range(100000000).size() > 0`,
		`lists.range(60000).map(i, lists.range(60000)).size() > 0`,
		`lists.range(60000).map(i, object.name.replace("", "xxxxxxxxxxxxxxxx")).join("").size() > 0`,
	} {
		te := newTestEngine(t, map[string]string{"f.yaml": "rules:\n  - name: r\n    on: [put]\n    condition: '" + cond + "'\n    deny: \"'no'\"\n"})
		start := time.Now()
		_, err := te.Before(context.Background(), put("/tempZone/home/alice/x", 1))
		if err == nil || !strings.Contains(err.Error(), "fails closed") {
			t.Errorf("%s: %v, want a fail-closed denial", cond, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v", cond, d)
		}
	}
}

// TestLoadErrorsNewFacts: the new facts and functions are typed like the
// rest.
func TestLoadErrorsNewFacts(t *testing.T) {
	e, err := New(Options{Registry: testRegistry(t, &recorder{})})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ condition, want string }{
		{`op.level == 3`, "no matching overload"},
		{`object.ancestors[0].metdata.size() > 0`, "undefined field 'metdata'"},
		{`path.base(3) == ""`, "no matching overload"},
		{`path.basename(object.path) == ""`, "undeclared reference"},
		{`op.recursive == "yes"`, "no matching overload"},
	} {
		_, err := e.Compile(map[string][]byte{"f.yaml": []byte("rules:\n  - name: r\n    on: [put]\n    condition: '" + tc.condition + "'\n    deny: \"'no'\"\n")})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.condition, err, tc.want)
		}
	}
}

func TestPathFunctions(t *testing.T) {
	for _, tc := range []struct {
		p, base, dir string
		components   []string
	}{
		{"/tempZone/home/alice/x.dat", "x.dat", "/tempZone/home/alice", []string{"tempZone", "home", "alice", "x.dat"}},
		{"/tempZone", "tempZone", "/", []string{"tempZone"}},
		{"/", "", "/", []string{}},
		{"", "", "", []string{}},
		{"/a//b/", "b", "/a", []string{"a", "b"}},
		{"a/b", "b", "/a", []string{"a", "b"}},
	} {
		if got := PathBase(tc.p); got != tc.base {
			t.Errorf("PathBase(%q) = %q, want %q", tc.p, got, tc.base)
		}
		if got := PathDir(tc.p); got != tc.dir {
			t.Errorf("PathDir(%q) = %q, want %q", tc.p, got, tc.dir)
		}
		if got := PathComponents(tc.p); !slices.Equal(got, tc.components) {
			t.Errorf("PathComponents(%q) = %q, want %q", tc.p, got, tc.components)
		}
		if tc.p != "" && tc.p[0] == '/' && !strings.Contains(tc.p, "//") && !strings.HasSuffix(tc.p[1:], "/") {
			if got := PathJoin(PathComponents(tc.p)); got != tc.p {
				t.Errorf("PathJoin(PathComponents(%q)) = %q", tc.p, got)
			}
		}
	}
}

// TestDocumentedFunctions: every function the package documentation
// shows compiles in a rule.
func TestDocumentedFunctions(t *testing.T) {
	e, err := New(Options{Registry: testRegistry(t, &recorder{})})
	if err != nil {
		t.Fatal(err)
	}
	s, l, n, x := `object.name`, `object.components`, `object.size`, `double(object.size)`
	for _, expr := range []string{
		`path.base(op.dest)`, `path.dir(op.dest)`, `path.components(op.dest)`, `path.join(["a"])`, `path.join(object.components.slice(0, 3))`,
		`object.path.glob("/tempZone/**/*.tmp")`, `object.path.under("/tempZone/home")`, `byteSize("10GiB") + KiB + MiB + GiB + TiB`,
		`days(7)`, `date("2030-01-01")`,
		`"a;b".split(";")`, s + `.substring(0, 3)`, s + `.replace("tmp", "")`, s + `.lowerAscii()`, s + `.upperAscii()`, s + `.trim()`,
		s + `.indexOf("x")`, s + `.lastIndexOf(".")`, s + `.charAt(0)`, s + `.reverse()`, `["a", "b"].join("/")`,
		`"%s is %d bytes".format([object.name, object.size])`, `strings.quote(` + s + `)`,
		l + `.slice(1, 3)`, l + `.sort()`, l + `.sortBy(x, x.size())`, l + `.distinct()`, `[` + l + `].flatten()`, l + `.reverse()`,
		l + `.first()`, l + `.last()`, `lists.range(5)`,
		`math.greatest(1, ` + n + `)`, `math.least([1, ` + n + `])`, `math.abs(` + n + `)`, `math.sign(` + n + `)`, `math.ceil(` + x + `)`,
		`math.floor(` + x + `)`, `math.round(` + x + `)`, `math.trunc(` + x + `)`, `math.sqrt(` + x + `)`, `math.isNaN(` + x + `)`, `math.bitAnd(` + n + `, 1)`,
		`object.ancestors.exists(a, "retention_until" in a.metadata)`,
		`object.ancestors.filter(a, "project" in a.metadata)[0].metadata.project`,
		`object.ancestors.map(a, a.metadata.?retention_until.orValue("")).filter(d, d != "")`,
	} {
		if _, err := e.Compile(map[string][]byte{"f.yaml": []byte("rules:\n  - name: r\n    on: [put]\n    condition: '[" + strings.ReplaceAll(expr, "'", "''") + "].size() == 1'\n    deny: \"'no'\"\n")}); err != nil {
			t.Errorf("%s: %v", expr, err)
		}
	}
}

// TestCaseFacts: test cases beside rule files can give every new fact.
func TestCaseFacts(t *testing.T) {
	te := newTestEngine(t, map[string]string{"f.yaml": `
rules:
  - name: no-public-write
    on: [acl.set]
    condition: op.grantee == "public" && op.level in ["write", "own"] && op.recursive
    deny: '"no " + op.level + " for " + op.grantee'
  - name: no-shorter-retention
    on: ["metadata.*"]
    condition: >-
      "retention_until" in op.metadata && "retention_until" in op.newMetadata
      && date(op.newMetadata.retention_until) < date(op.metadata.retention_until)
    deny: "'retention only grows'"
  - name: no-admins
    on: [user.create]
    condition: op.account == "root" || op.account.endsWith("#otherZone")
    deny: "'not ' + op.account"
  - name: project-retention
    on: [remove]
    condition: object.ancestors.exists(a, date(a.metadata.?retention_until.orValue("2000-01-01")) > now)
    deny: "'retained by ' + object.ancestors.filter(a, \"retention_until\" in a.metadata)[0].path"
  - name: lab-only
    on: [group.add]
    condition: op.group == "lab" && op.account != "bob"
    deny: "'not in lab'"
`})
	cases := `
tests:
  - {name: grant, op: acl.set, path: /tempZone/p/x, grantee: public, level: write, recursive: true, expect: deny, message: no write for public}
  - {name: grant read, op: acl.set, path: /tempZone/p/x, grantee: public, level: read, recursive: true, expect: allow}
  - {name: shorter, op: metadata.modify, path: /tempZone/p/x, metadata: {retention_until: "2030-01-01"}, new_metadata: {retention_until: "2029-01-01"}, expect: deny}
  - {name: longer, op: metadata.modify, path: /tempZone/p/x, metadata: {retention_until: "2030-01-01"}, new_metadata: {retention_until: "2031-01-01"}, expect: allow}
  - {name: account, op: user.create, account: root, expect: deny, message: not root}
  - {name: remote account, op: user.create, account: "eve#otherZone", expect: deny, message: "not eve#otherZone"}
  - {name: local account, op: user.create, account: eve, expect: allow}
  - name: an ancestor two levels up
    op: remove
    path: /tempZone/projects/p1/raw/a.tif
    now: "2026-01-01"
    ancestor_metadata: {/tempZone/projects/p1: {retention_until: "2030-01-01"}}
    expect: deny
    message: retained by /tempZone/projects/p1
  - {name: no ancestor retained, op: remove, path: /tempZone/projects/p1/raw/a.tif, now: "2026-01-01", expect: allow}
  - {name: group, op: group.add, group: lab, account: eve, expect: deny}
`
	res, err := te.RunTests(context.Background(), "t.test.yaml", []byte(cases), "tempZone")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Errorf("%s", r)
		}
	}
	if len(res) != 10 {
		t.Errorf("%d results", len(res))
	}
}
