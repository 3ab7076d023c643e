package dgraph

import (
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/catalogtest"
	"github.com/arca-data/arca/catalog/query"
)

// The backend-neutral query tests are in the conformance suite
// (catalogtest, run by TestConformance); these test the DQL of this
// backend.

var (
	qAlice  = catalog.UserID{Name: "alice", Zone: "tempZone"}
	asAdmin = catalog.Caller{User: catalog.UserID{Name: "rods", Zone: "tempZone"}, Admin: true}
	asAlice = catalog.Caller{User: qAlice}
)

// TestQueryServedColumns checks that the columns served are exactly those
// of columnTable: the others are refused.
func TestQueryServedColumns(t *testing.T) {
	c := openTemp(t)
	catalogtest.QueryFixture(t, c)
	for _, col := range query.Columns() {
		_, err := catalogtest.QueryRows(t, c, asAdmin, "select "+col.Name)
		if _, ok := columnTable[col.Name]; ok != (err == nil) {
			t.Errorf("%s: in columnTable %v, error %v", col.Name, ok, err)
		}
	}
}

// queryDQL is the DQL text a query reads its data with.
func queryDQL(t *testing.T, text string, caller catalog.Caller) (string, map[string]string) {
	t.Helper()
	q, err := query.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := planQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := buildQueryDQL(q, pl, caller)
	return d.text(), d.vars
}

// TestQueryDQLText checks that values, and the caller's names, never
// reach the DQL text: they are variables.
func TestQueryDQLText(t *testing.T) {
	for _, text := range []string{
		catalogtest.InjectionQuery,
		`select DATA_NAME where META_DATA_ATTR_NAME = 'x"y' and META_DATA_ATTR_VALUE like 'x"}%' and COLL_NAME in ('/a"', '/b')`,
		`select COLL_NAME where META_COLL_ATTR_VALUE = 'x"y'`,
	} {
		caller := catalog.Caller{User: catalog.UserID{Name: `o"brien`, Zone: "z"}, Groups: []catalog.UserID{{Name: `g"`, Zone: "z"}}}
		dql, vars := queryDQL(t, text, caller)
		for _, bad := range []string{"DROP", `x"`, "brien", `g"`, `/a"`} {
			if strings.Contains(dql, bad) {
				t.Errorf("%s: %q in the DQL text:\n%s", text, bad, dql)
			}
		}
		if len(vars) == 0 {
			t.Errorf("%s: no variables", text)
		}
	}
}

// TestQueryDQLReadsFew checks the start of the DQL of selective queries:
// an index on what the condition names, never a scan of every object or
// collection; and a scan of every object for a condition that no index
// answers.
func TestQueryDQLReadsFew(t *testing.T) {
	scan := `var(func: eq(P.kind, "o"))`
	for _, tc := range []struct {
		q      string
		caller catalog.Caller
		want   []string // in the DQL text
		scans  bool
	}{
		{"select COLL_NAME, DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE = 'p0042'", asAdmin,
			[]string{"var(func: eq(P.val, $v2)) @filter(eq(P.attr, $v1))"}, false},
		{"select COLL_NAME, DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE = 'p0042'", asAlice,
			[]string{"var(func: eq(P.val, $v4)) @filter(eq(P.attr, $v3))", `eq(P.kind, "o") AND eq(P.who, [$v1, $v2])`}, false},
		{"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project'", asAdmin,
			[]string{"var(func: eq(P.attr, $v1))", "nrepls: count(~P.obj)"}, false},
		{"select DATA_NAME where META_DATA_ATTR_VALUE like 'ab%'", asAdmin,
			[]string{"var(func: between(P.val, $v1, $v2)) @filter(lt(P.val, $v2))"}, false},
		{"select DATA_SIZE where DATA_NAME in ('a', 'b')", asAdmin, []string{"eq(P.name, [$v1, $v2])"}, false},
		{"select DATA_NAME where COLL_NAME = '/z/c'", asAdmin, []string{"eq(P.path, $v1)", "~P.parent"}, false},
		{"select DATA_NAME where DATA_ID = 31", asAdmin, []string{"uid(0x1f)"}, false},
		{"select DATA_NAME", asAlice, []string{`var(func: eq(P.who, [$v1, $v2])) @filter(eq(P.kind, "o"))`}, false},
		{"select COLL_NAME", asAlice, []string{`var(func: eq(P.kind, "c")) @filter(eq(P.who, [$v1, $v2]))`}, false},
		{"select DATA_NAME", asAdmin, nil, true},
		{"select DATA_NAME where DATA_SIZE > 5", asAdmin, nil, true},
		{"select DATA_NAME where DATA_NAME = 'a' or DATA_SIZE > 5", asAdmin, nil, true},
		{"select DATA_NAME where not DATA_NAME = 'a'", asAdmin, nil, true},
	} {
		dql, _ := queryDQL(t, tc.q, tc.caller)
		for _, w := range tc.want {
			if !strings.Contains(dql, w) {
				t.Errorf("%s: no %s in\n%s", tc.q, w, dql)
			}
		}
		if strings.Contains(dql, scan) != tc.scans {
			t.Errorf("%s: scans every object %v, want %v:\n%s", tc.q, !tc.scans, tc.scans, dql)
		}
	}
}

// TestQueryCountByAVUShape checks which queries Dgraph counts itself (the
// conformance suite checks their rows: "count by avu value", "count
// replicas by avu", "count by avu as alice").
func TestQueryCountByAVUShape(t *testing.T) {
	for text, want := range map[string]bool{
		"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project'":                                  true,
		"select META_DATA_ATTR_NAME, META_DATA_ATTR_VALUE, count(DATA_NAME) where META_DATA_ATTR_NAME = 'project'":           true,
		"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_VALUE like 'p004%'":                                true,
		"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_VALUE like 'p\\%%'":                                true,
		"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME in ('a', 'b') and META_DATA_ATTR_VALUE = 'x'": true,
		"select META_DATA_ATTR_NAME, count(DATA_ID) where META_DATA_ATTR_NAME in ('a', 'b')":                                 false,
		"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_VALUE like 'p_4%'":                                 false,
		"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_VALUE like '%4'":                                   false,
		"select META_DATA_ATTR_VALUE, count(DATA_ID)":                                                                        false,
		"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project' and DATA_SIZE > 5":                false,
		"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project' or META_DATA_ATTR_VALUE = 'x'":    false,
		"select META_DATA_ATTR_VALUE, sum(DATA_SIZE) where META_DATA_ATTR_NAME = 'project'":                                  false,
		"select META_DATA_ATTR_UNITS, count(DATA_ID) where META_DATA_ATTR_NAME = 'project'":                                  false,
		"select COLL_NAME, META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project'":                       false,
		"select count(DATA_ID) where META_DATA_ATTR_NAME = 'project'":                                                        false,
		"select META_DATA_ATTR_VALUE, DATA_NAME where META_DATA_ATTR_NAME = 'project'":                                       false,
	} {
		q, err := query.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := planQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := countByAVU(q, pl) != nil; got != want {
			t.Errorf("%s: counted by Dgraph %v, want %v", text, got, want)
		}
	}
}
