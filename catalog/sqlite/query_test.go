package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/catalogtest"
	"github.com/arca-data/arca/catalog/query"
)

var (
	qAlice = catalog.UserID{Name: "alice", Zone: "tempZone"}
	qBob   = catalog.UserID{Name: "bob", Zone: "tempZone"}

	asAdmin = Caller{User: catalog.UserID{Name: "rods", Zone: "tempZone"}, Admin: true}
	asAlice = Caller{User: qAlice}
)

// The backend-neutral query tests are in the conformance suite
// (catalogtest, run by TestConformance); these test the SQL and the plans
// of this backend, on the suite's fixture.

// queryFixture is a catalog holding catalogtest.QueryFixture.
func queryFixture(t testing.TB) *Catalog {
	t.Helper()
	c := openTemp(t)
	catalogtest.QueryFixture(t, c)
	return c
}

func runQuery(t testing.TB, c *Catalog, caller Caller, text string) ([]string, error) {
	t.Helper()
	return catalogtest.QueryRows(t, c, caller, text)
}

// TestQueryServedColumns checks that the columns served are exactly those
// of the columns table: the others are refused.
func TestQueryServedColumns(t *testing.T) {
	c := queryFixture(t)
	for _, col := range query.Columns() {
		_, err := runQuery(t, c, asAdmin, "select "+col.Name)
		if _, ok := columns[col.Name]; ok != (err == nil) {
			t.Errorf("%s: in the columns table %v, error %v", col.Name, ok, err)
		}
	}
}

// TestQuerySQLText checks that values never reach the SQL text.
func TestQuerySQLText(t *testing.T) {
	parsed, err := query.Parse(catalogtest.InjectionQuery)
	if err != nil {
		t.Fatal(err)
	}
	stmt, _, err := compileQuery(parsed, Caller{User: catalog.UserID{Name: "o'brien", Zone: "z"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stmt, "DROP") || strings.Contains(stmt, "brien") {
		t.Fatalf("value in SQL text:\n%s", stmt)
	}
}

func TestLikeToGlob(t *testing.T) {
	for in, want := range map[string]string{
		`a%`:     `a*`,
		`a_b`:    `a?b`,
		`\%\_`:   `%_`,
		`*?[]`:   `[*][?][[]]`,
		`\\x`:    `\x`,
		`tail\`:  `tail\`,
		`é_%ü`:   `é?*ü`,
		`\*\[a`:  `[*][[]a`,
		`%%`:     `**`,
		`plain`:  `plain`,
		`a\b`:    `ab`,
		`[a-z]%`: `[[]a-z]*`,
	} {
		if got := likeToGlob(in); got != want {
			t.Errorf("likeToGlob(%q) = %q, want %q", in, got, want)
		}
	}
	// Against query.MatchLike on a sample of strings, through SQLite.
	c := openTemp(t)
	subjects := []string{"", "a", "A", "ab", "aB", "a%", "a_b", "axb", "*", "?", "[", "]", "[a]", `\`, "é", "éü", "abc%def", "ABC"}
	patterns := []string{"a%", "A%", "%b", "_", "__", `a\%`, `a\_b`, "a_b", "*", "?", "[%", "%]", "[a]", `\\`, `\`, "é%", "_ü", "%c\\%d%", "%%", "", "abc"}
	err := c.read(context.Background(), func(r *rtx) error {
		for _, p := range patterns {
			for _, s := range subjects {
				var got bool
				if err := r.tx.QueryRow(`SELECT ?1 GLOB ?2`, s, likeToGlob(p)).Scan(&got); err != nil {
					return err
				}
				if want := query.MatchLike(p, s); got != want {
					t.Errorf("%q LIKE %q: GLOB says %v, MatchLike %v", s, p, got, want)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPrefixSuccessor(t *testing.T) {
	for in, want := range map[string]string{"a": "b", "ab": "ac", "a\xff": "b", "\xff\xff": ""} {
		got, ok := prefixSuccessor(in)
		if got != want || ok != (want != "") {
			t.Errorf("prefixSuccessor(%q) = %q, %v", in, got, ok)
		}
	}
}

// TestQueryPlanUsesAVUIndex checks that attribute = value queries, and
// LIKE 'prefix%' on the value, start from the avus_attr_value index, for
// administrators and for users.
func TestQueryPlanUsesAVUIndex(t *testing.T) {
	c := queryFixture(t)
	for _, tc := range []struct {
		q    string
		want string
	}{
		{"select COLL_NAME, DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE = 'Apollo'",
			"avus_attr_value (attribute=? AND value=?"},
		{"select COLL_NAME, DATA_NAME, DATA_SIZE where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE like 'abc%'",
			"avus_attr_value (attribute=? AND value>? AND value<?"},
		{"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project'",
			"avus_attr_value (attribute=?"},
	} {
		for _, caller := range []Caller{asAdmin, asAlice} {
			q, err := query.Parse(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := c.queryPlan(context.Background(), q, caller)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan) == 0 || !strings.Contains(plan[0], tc.want) {
				t.Errorf("%s (admin %v): plan\n  %s\nwant first step on %s", tc.q, caller.Admin, strings.Join(plan, "\n  "), tc.want)
			}
		}
	}
}

// TestQueryReadMap checks that aggregate queries, which check permissions
// against a map of the caller's readable objects, see exactly what the
// per-row probe of the access table sees: grants to the user, to public and
// to the user's groups.
func TestQueryReadMap(t *testing.T) {
	c := queryFixture(t)
	ctx := context.Background()
	lab := catalog.UserID{Name: "lab", Zone: "tempZone"}
	if _, err := c.CreateGroup(ctx, lab); err != nil {
		t.Fatal(err)
	}
	if err := c.SetAccess(ctx, catalog.MustPath("/tempZone/proj/secret.dat"), lab, catalog.AccessRead); err != nil {
		t.Fatal(err)
	}
	callers := []Caller{
		{User: qAlice}, {User: qBob}, {User: catalog.UserID{Name: "carol", Zone: "tempZone"}},
		{User: catalog.UserID{Name: "carol", Zone: "tempZone"}, Groups: []catalog.UserID{lab}},
	}
	for _, text := range []string{
		"select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project'",
		"select COLL_NAME, sum(DATA_SIZE)",
		"select DATA_RESC_NAME, count(DATA_NAME), max(DATA_SIZE)",
	} {
		q, err := query.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if !scansMany(q) {
			t.Fatalf("%q is not taken for a scan", text)
		}
		for _, caller := range callers {
			run := func(stmt string, args []any) []string {
				var out []string
				err := c.read(ctx, func(r *rtx) error {
					rows, err := r.tx.QueryContext(ctx, stmt, args...)
					if err != nil {
						return err
					}
					defer rows.Close()
					for rows.Next() {
						var a, b any
						var extra []any
						cols, _ := rows.Columns()
						ptrs := []any{&a, &b}
						for range cols[2:] {
							var x any
							extra = append(extra, &x)
						}
						if err := rows.Scan(append(ptrs, extra...)...); err != nil {
							return err
						}
						out = append(out, fmt.Sprint(a, "|", b))
					}
					return rows.Err()
				})
				if err != nil {
					t.Fatalf("%q as %v: %v", text, caller.User, err)
				}
				return out
			}
			stmt, args, err := compileQuery(q, caller)
			if err != nil {
				t.Fatal(err)
			}
			want := run(stmt, args)
			mstmt, margs, mapArg, err := compileQueryWith(q, caller, true)
			if err != nil || mapArg == 0 {
				t.Fatalf("compile with map: arg %d, %v", mapArg, err)
			}
			var m []byte
			c.read(ctx, func(r *rtx) error {
				var ok bool
				m, ok, err = readableObjects(r, caller)
				if !ok {
					t.Fatal("map refused")
				}
				return err
			})
			margs[mapArg-1] = m
			got := run(mstmt, margs)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%q as %v %v: with the map %v, with probes %v", text, caller.User, caller.Groups, got, want)
			}
			if len(want) == 0 && caller.User == qAlice {
				t.Errorf("%q as alice: nothing", text)
			}
		}
	}
}

// TestQueryGroupsAndInheritance covers the columns of group membership,
// the inheritance flag and ACLs, as admin and as a user (who sees only
// what it may read).
func TestQueryGroupsAndInheritance(t *testing.T) {
	c := queryFixture(t)
	ctx := context.Background()
	lab := catalog.UserID{Name: "lab", Zone: "tempZone"}
	if _, err := c.CreateGroup(ctx, lab); err != nil {
		t.Fatal(err)
	}
	for _, u := range []catalog.UserID{qAlice, qBob} {
		if err := c.AddMember(ctx, lab, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetInheritance(ctx, catalog.MustPath("/tempZone/home/alice"), true); err != nil {
		t.Fatal(err)
	}
	if err := c.SetAccess(ctx, catalog.MustPath("/tempZone/home/alice/a1.txt"), lab, catalog.AccessWrite); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		caller Caller
		q      string
		want   []string
	}{
		{"members of a group", asAdmin, "select USER_NAME where USER_GROUP_NAME = 'lab'", []string{"alice", "bob"}},
		{"groups of a user", asAdmin, "select USER_GROUP_NAME where USER_NAME = 'bob'", []string{"lab"}},
		{"count members", asAdmin, "select USER_GROUP_NAME, count(USER_NAME) where USER_GROUP_NAME = 'lab'", []string{"lab|2"}},
		{"inheriting collections", asAdmin, "select COLL_NAME where COLL_INHERITANCE = '1'", []string{"/tempZone/home/alice"}},
		{"inheritance flag", asAdmin, "select COLL_NAME, COLL_INHERITANCE where COLL_NAME like '/tempZone/home/%'",
			[]string{"/tempZone/home/alice|1", "/tempZone/home/bob|0"}},
		{"group grant", asAdmin, "select DATA_NAME, DATA_ACCESS_NAME where DATA_ACCESS_USER_NAME = 'lab'", []string{"a1.txt|write"}},
		{"own ACL as user", asAlice, "select DATA_ACCESS_USER_NAME, DATA_ACCESS_NAME where DATA_NAME = 'a1.txt'",
			[]string{"alice|own", "lab|write"}},
		{"ACL of the unreadable is hidden", asAlice, "select DATA_ACCESS_USER_NAME where DATA_NAME = 'secret.dat'", nil},
	} {
		got, err := runQuery(t, c, tc.caller, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q = %q, want %q", tc.name, tc.q, got, tc.want)
		}
	}
}

// TestQueryTickets covers the TICKET_ columns: a user sees its own
// tickets, an administrator all; tickets of removed entries are gone.
func TestQueryTickets(t *testing.T) {
	c := queryFixture(t)
	ctx := context.Background()
	for _, tk := range []catalog.Ticket{
		{Hash: catalog.TicketHash("a"), Type: catalog.TicketRead, Path: catalog.MustPath("/tempZone/home/alice/a1.txt"), Owner: qAlice, UsesLimit: 5},
		{Hash: catalog.TicketHash("b"), Type: catalog.TicketWrite, Path: catalog.MustPath("/tempZone/home/alice"), Owner: qAlice},
		{Hash: catalog.TicketHash("c"), Type: catalog.TicketRead, Path: catalog.MustPath("/tempZone/home/bob/b1.dat"), Owner: qBob},
	} {
		if _, err := c.CreateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	q := "select TICKET_TYPE, TICKET_OBJECT_TYPE, TICKET_COLL_NAME, TICKET_DATA_NAME, TICKET_OWNER_NAME, TICKET_USES_LIMIT"
	for _, tc := range []struct {
		name   string
		caller Caller
		q      string
		want   []string
	}{
		{"admin sees all", asAdmin, q, []string{
			"read|data|/tempZone/home/alice|a1.txt|alice|0", // the fixture's
			"read|data|/tempZone/home/alice|a1.txt|alice|5", "read|data|/tempZone/home/bob|b1.dat|bob|0",
			"write|collection|/tempZone/home/alice||alice|0"}},
		{"alice sees hers", asAlice, q, []string{
			"read|data|/tempZone/home/alice|a1.txt|alice|0", "read|data|/tempZone/home/alice|a1.txt|alice|5", "write|collection|/tempZone/home/alice||alice|0"}},
		{"condition and count", asAdmin, "select TICKET_OWNER_NAME, count(TICKET_ID) where TICKET_TYPE = 'read'", []string{"alice|2", "bob|1"}},
	} {
		got, err := runQuery(t, c, tc.caller, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q = %q, want %q", tc.name, tc.q, got, tc.want)
		}
	}
	for _, bad := range []string{"select TICKET_STRING", "select TICKET_ID, DATA_NAME", "select TICKET_ID where COLL_NAME = 'x'"} {
		if _, err := runQuery(t, c, asAdmin, bad); !errors.Is(err, catalog.ErrInvalidArgument) {
			t.Errorf("%q: %v, want ErrInvalidArgument", bad, err)
		}
	}
	if _, err := c.RemoveDataObject(ctx, catalog.MustPath("/tempZone/home/bob/b1.dat")); err != nil {
		t.Fatal(err)
	}
	if got, err := runQuery(t, c, asAdmin, "select TICKET_OWNER_NAME"); err != nil || !slices.Equal(got, []string{"alice"}) {
		t.Errorf("after removing bob's object: %q, %v", got, err)
	}
}
