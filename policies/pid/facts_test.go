package pid_test

import (
	"errors"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/policies/raid"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// TestRuleFacts: rules read object.pid, object.raid and object.derivedFrom.
func TestRuleFacts(t *testing.T) {
	e := newEnv(t)
	rk, err := raid.New(e.cat, raid.Config{Prefix: "10.82841", Owner: "038sjwq14"})
	if err != nil {
		t.Fatal(err)
	}
	e.zone.UseRAiDs(rk)
	engine := e.zone.Rules()
	set, err := engine.Compile(map[string][]byte{"facts.yaml": []byte(`
rules:
  - name: pids-are-promises
    on: [remove]
    condition: object.pid != ""
    deny: '"it has the PID " + object.pid'
  - name: project-data-is-tagged
    on: [metadata.set]
    condition: object.raid != "" && op.metadata.?project.orValue("") == ""
    deny: '"tag it with the project of " + object.raid'
  - name: derived-from-raw-is-read-only
    on: [metadata.add]
    condition: object.derivedFrom.exists(p, p.endsWith("/raw.dat"))
    deny: '"derived from " + object.derivedFrom[0]'
`)})
	if err != nil {
		t.Fatal(err)
	}
	engine.Load(set)
	denied := func(err error, rule string) {
		t.Helper()
		var d *rules.Denial
		if !errors.As(err, &d) || d.Rule != rule {
			t.Errorf("want a denial by %s, got %v", rule, err)
		}
	}

	e.put("raw.dat", "raw", false)
	e.mint("raw.dat")
	_, err = e.zone.Remove(e.ctx, e.alice, e.path("raw.dat"), false, true)
	denied(err, "pids-are-promises")

	if _, err := e.zone.MakeCollection(e.ctx, e.alice, e.path("project/sub"), true); err != nil {
		t.Fatal(err)
	}
	e.put("project/sub/x.dat", "x", false)
	r, err := e.zone.CreateRAiD(e.ctx, e.alice, zones.RAiDRequest{Title: "P", Start: "2026"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.LinkRAiD(e.ctx, e.alice, r.ID, e.path("project"), false); err != nil {
		t.Fatal(err)
	}
	// The RAiD of the collection two levels up.
	err = e.zone.SetMetadata(e.ctx, e.alice, catalog.ObjectTarget(e.path("project/sub/x.dat")), catalog.AVU{Attribute: "a", Value: "b"})
	denied(err, "project-data-is-tagged")
	if err := e.zone.SetMetadata(e.ctx, e.alice, catalog.ObjectTarget(e.path("project/sub/x.dat")), catalog.AVU{Attribute: "project", Value: "p"}); err != nil {
		t.Errorf("tagged: %v", err)
	}

	if _, err := e.zone.Copy(e.ctx, e.alice, e.path("raw.dat"), e.path("copy.dat"), "", false); err != nil {
		t.Fatal(err)
	}
	err = e.zone.AddMetadata(e.ctx, e.alice, catalog.ObjectTarget(e.path("copy.dat")), []catalog.AVU{{Attribute: "a", Value: "b"}})
	denied(err, "derived-from-raw-is-read-only")
	if err := e.zone.AddMetadata(e.ctx, e.alice, catalog.ObjectTarget(e.path("project/sub/x.dat")), []catalog.AVU{{Attribute: "a", Value: "b"}}); err != nil {
		t.Errorf("metadata of what is not derived: %v", err)
	}
}
