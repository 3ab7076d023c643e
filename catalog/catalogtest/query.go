package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
)

// The query tests: the same fixture, queries and expected rows on every
// backend. Tests of a backend's internals (its SQL, its plans) stay with
// the backend, on the same fixture (QueryFixture).

var (
	qRods  = catalog.UserID{Name: "rods", Zone: "tempZone"}
	qAlice = catalog.UserID{Name: "alice", Zone: "tempZone"}
	qBob   = catalog.UserID{Name: "bob", Zone: "tempZone"}
	qCarol = catalog.UserID{Name: "carol", Zone: "tempZone"}

	asAdmin = catalog.Caller{User: qRods, Admin: true}
	asAlice = catalog.Caller{User: qAlice}
	asBob   = catalog.Caller{User: qBob}
	asCarol = catalog.Caller{User: qCarol}
)

// QueryFixture fills c, a new catalog, with a small zone:
//
//	/tempZone                       rods
//	/tempZone/home                  rods
//	/tempZone/home/alice            alice
//	  a1.txt      100 B  demoResc   project=Apollo, sample=s1 [id]; a ticket
//	  A2.TXT      200 B  demoResc   project=apollo
//	  star*q?[x]    5 B  demoResc   project=Gemini
//	  per%cent_x    7 B  demoResc   project=Ap_llo%
//	/tempZone/home/bob              bob; group staff has read
//	  b1.dat      300 B  demoResc + leaf1 (replica 2, the newer: replica 1 stale)
//	                                project=Mercury; alice has read on it
//	/tempZone/proj                  rods, public read; dept=physics [faculty];
//	                                a quota
//	  shared.dat   50 B  demoResc   public read; project=Apollo
//	  secret.dat   60 B  demoResc   project=Apollo; only rods and group staff
//
// Resources demoResc (posix, tier=fast) and repl (replication) with child
// leaf1. User alice has email=alice@example.org and is a member of group
// staff. The ticket and the quota point at their entries as AVUs do, in
// some backends: queries must not take them for AVUs.
func QueryFixture(t testing.TB, c catalog.Catalog) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []catalog.User{
		{Name: "rods", Zone: "tempZone", Type: catalog.UserTypeAdmin},
		{Name: "alice", Zone: "tempZone", Type: catalog.UserTypeUser, Info: "Alice A."},
		{Name: "bob", Zone: "tempZone", Type: catalog.UserTypeUser},
		{Name: "carol", Zone: "tempZone", Type: catalog.UserTypeUser},
	} {
		_, err := c.CreateUser(ctx, u)
		must(err)
	}
	staff := catalog.UserID{Name: "staff", Zone: "tempZone"}
	_, err := c.CreateGroup(ctx, staff)
	must(err)
	must(c.AddMember(ctx, staff, qAlice))
	for _, r := range []catalog.Resource{
		{Name: "demoResc", Type: "posix", Location: "/var/lib/arca/vault", Context: "a=1", Comment: "default"},
		{Name: "repl", Type: "replication"},
		{Name: "leaf1", Type: "posix", Location: "/vault1", Parent: "repl", Status: "down"},
	} {
		_, err := c.CreateResource(ctx, r)
		must(err)
	}
	for _, cl := range []struct {
		path  string
		owner catalog.UserID
	}{
		{"/tempZone", qRods}, {"/tempZone/home", qRods}, {"/tempZone/home/alice", qAlice},
		{"/tempZone/home/bob", qBob}, {"/tempZone/proj", qRods},
	} {
		_, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath(cl.path), Owner: cl.owner})
		must(err)
	}
	putObj := func(path string, owner catalog.UserID, resc string, size int64, avus ...catalog.AVU) {
		t.Helper()
		p := catalog.MustPath(path)
		_, r, err := c.BeginReplica(ctx, catalog.NewReplica{Path: p, Owner: owner, Resource: resc,
			PhysicalPath: resc + path, Holder: "test", LeaseExpiry: time.Now().Add(time.Hour), Overwrite: true})
		must(err)
		_, err = c.CommitReplica(ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "test",
			Size: size, Checksum: fmt.Sprintf("sha2:%s-%d", resc, size), Metadata: avus})
		must(err)
	}
	av := func(a, v string) catalog.AVU { return catalog.AVU{Attribute: a, Value: v} }
	putObj("/tempZone/home/alice/a1.txt", qAlice, "demoResc", 100, av("project", "Apollo"),
		catalog.AVU{Attribute: "sample", Value: "s1", Unit: "id"})
	putObj("/tempZone/home/alice/A2.TXT", qAlice, "demoResc", 200, av("project", "apollo"))
	putObj("/tempZone/home/alice/star*q?[x]", qAlice, "demoResc", 5, av("project", "Gemini"))
	putObj("/tempZone/home/alice/per%cent_x", qAlice, "demoResc", 7, av("project", "Ap_llo%"))
	putObj("/tempZone/home/bob/b1.dat", qBob, "demoResc", 300, av("project", "Mercury"))
	putObj("/tempZone/home/bob/b1.dat", qBob, "leaf1", 300)
	putObj("/tempZone/proj/shared.dat", qRods, "demoResc", 50, av("project", "Apollo"))
	putObj("/tempZone/proj/secret.dat", qRods, "demoResc", 60, av("project", "Apollo"))

	public := catalog.UserID{Name: "public", Zone: "tempZone"}
	must(c.SetAccess(ctx, catalog.MustPath("/tempZone/home/bob/b1.dat"), qAlice, catalog.AccessRead))
	must(c.SetAccess(ctx, catalog.MustPath("/tempZone/proj"), public, catalog.AccessRead))
	must(c.SetAccess(ctx, catalog.MustPath("/tempZone/proj/shared.dat"), public, catalog.AccessRead))
	must(c.SetAccess(ctx, catalog.MustPath("/tempZone/proj/secret.dat"), staff, catalog.AccessRead))
	must(c.SetAccess(ctx, catalog.MustPath("/tempZone/home/bob"), staff, catalog.AccessRead))

	must(c.AddMetadata(ctx, catalog.CollectionTarget(catalog.MustPath("/tempZone/proj")),
		catalog.AVU{Attribute: "dept", Value: "physics", Unit: "faculty"}))
	must(c.AddMetadata(ctx, catalog.ResourceTarget("demoResc"), av("tier", "fast")))
	must(c.AddMetadata(ctx, catalog.UserTarget(qAlice), av("email", "alice@example.org")))

	_, err = c.CreateTicket(ctx, catalog.Ticket{Hash: catalog.TicketHash("t1"), Type: catalog.TicketRead,
		Path: catalog.MustPath("/tempZone/home/alice/a1.txt"), Owner: qAlice})
	must(err)
	must(c.SetQuota(ctx, catalog.Quota{Kind: catalog.QuotaCollection, Path: catalog.MustPath("/tempZone/proj"), MaxObjects: 100}))
}

// QueryRows parses and runs text, returning the rows joined by "|".
func QueryRows(t testing.TB, c catalog.Querier, caller catalog.Caller, text string) ([]string, error) {
	t.Helper()
	q, err := query.Parse(text)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	var out []string
	err = c.Query(context.Background(), q, caller, func(row []string) error {
		out = append(out, strings.Join(row, "|"))
		return nil
	})
	return out, err
}

// testQueries runs the query tests on one catalog made by open and filled
// by QueryFixture: queries do not change it.
func testQueries(t *testing.T, open func(t *testing.T) catalog.Catalog) {
	c := open(t)
	QueryFixture(t, c)
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, c catalog.Catalog)
	}{
		{"Rows", testQueryRows},
		{"ByID", testQueryByID},
		{"Times", testQueryTimes},
		{"TimeFractions", testQueryTimeFractions},
		{"AllColumns", testQueryAllColumns},
		{"StreamingStops", testQueryStreamingStops},
		{"Injection", testQueryInjection},
		{"Limits", testQueryLimits},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, c) })
	}
}

func testQueryRows(t *testing.T, c catalog.Catalog) {
	type tc struct {
		name   string
		caller catalog.Caller
		q      string
		want   []string // nil: no rows
		sorted bool     // compare as written (the query orders); else sort both
	}
	cases := []tc{
		// Plain selects and comparisons.
		{"data by collection", asAdmin, "select DATA_NAME where COLL_NAME = '/tempZone/home/alice'",
			[]string{"A2.TXT", "a1.txt", "per%cent_x", "star*q?[x]"}, false},
		{"coll and data", asAdmin, "select COLL_NAME, DATA_NAME, DATA_SIZE where DATA_SIZE >= 200",
			[]string{"/tempZone/home/alice|A2.TXT|200", "/tempZone/home/bob|b1.dat|300"}, false},
		{"one row per replica", asAdmin, "select DATA_NAME, DATA_REPL_NUM, DATA_RESC_NAME, DATA_REPL_STATUS where DATA_NAME = 'b1.dat'",
			[]string{"b1.dat|0|demoResc|0", "b1.dat|1|leaf1|1"}, false},
		{"repl status good", asAdmin, "select DATA_NAME where DATA_REPL_STATUS = '1' and DATA_NAME like 'b%'",
			[]string{"b1.dat"}, false},
		{"resc hier", asAdmin, "select DATA_RESC_HIER where DATA_NAME = 'b1.dat'",
			[]string{"demoResc", "repl;leaf1"}, false},
		{"float literal", asAdmin, "select DATA_NAME where DATA_SIZE > 1.5e2 and DATA_SIZE < 250.5",
			[]string{"A2.TXT"}, false},
		{"not equal", asAdmin, "select DATA_NAME where COLL_NAME = '/tempZone/proj' and DATA_NAME <> 'secret.dat'",
			[]string{"shared.dat"}, false},
		{"ne bang", asAdmin, "select DATA_NAME where COLL_NAME = '/tempZone/proj' and DATA_NAME != 'secret.dat'",
			[]string{"shared.dat"}, false},
		{"le", asAdmin, "select DATA_NAME where DATA_SIZE <= 7", []string{"per%cent_x", "star*q?[x]"}, false},
		{"in", asAdmin, "select DATA_NAME where DATA_SIZE in (5, 50, 999)", []string{"shared.dat", "star*q?[x]"}, false},
		{"not in", asAdmin, "select DATA_NAME where COLL_NAME = '/tempZone/home/alice' and DATA_NAME not in ('a1.txt', 'A2.TXT')",
			[]string{"per%cent_x", "star*q?[x]"}, false},
		{"between", asAdmin, "select DATA_NAME where DATA_SIZE between 50 and 100",
			[]string{"a1.txt", "secret.dat", "shared.dat"}, false},
		{"between irods", asAdmin, "select DATA_NAME where DATA_SIZE between '50' '60'",
			[]string{"secret.dat", "shared.dat"}, false},
		{"not between", asAdmin, "select DATA_NAME where DATA_SIZE not between 7 and 300",
			[]string{"star*q?[x]"}, false},
		{"nested and or not", asAdmin,
			"select DATA_NAME where (DATA_SIZE < 10 or DATA_SIZE > 250) and not (DATA_NAME like 's%' or DATA_RESC_NAME = 'leaf1')",
			[]string{"b1.dat", "per%cent_x"}, false},
		{"genquery or", asAdmin, "select DATA_NAME where DATA_NAME like 'a%' || = 'shared.dat'",
			[]string{"a1.txt", "shared.dat"}, false},
		{"nothing", asAdmin, "select DATA_NAME where DATA_NAME = 'nope'", nil, false},
		{"nothing in", asAdmin, "select DATA_NAME where DATA_CREATE_TIME in ('2024-01-01T00:00:00.5Z')", nil, false},

		// LIKE: case-sensitive, escapes, GLOB metacharacters taken literally.
		{"like case", asAdmin, "select DATA_NAME where DATA_NAME like 'a%'", []string{"a1.txt"}, false},
		{"like case upper", asAdmin, "select DATA_NAME where DATA_NAME like 'A%'", []string{"A2.TXT"}, false},
		{"like suffix case", asAdmin, "select DATA_NAME where DATA_NAME like '%.txt'", []string{"a1.txt"}, false},
		{"not like", asAdmin, "select DATA_NAME where COLL_NAME = '/tempZone/home/alice' and DATA_NAME not like '%.txt'",
			[]string{"A2.TXT", "per%cent_x", "star*q?[x]"}, false},
		{"like underscore", asAdmin, "select DATA_NAME where DATA_NAME like '_1.%'", []string{"a1.txt", "b1.dat"}, false},
		{"like escaped percent", asAdmin, `select DATA_NAME where DATA_NAME like 'per\%cent\_x'`, []string{"per%cent_x"}, false},
		{"like escaped percent no match", asAdmin, `select DATA_NAME where DATA_NAME like 'per\%cent\_'`, nil, false},
		{"like percent literal vs wildcard", asAdmin, `select DATA_NAME where DATA_NAME like '%\%%'`, []string{"per%cent_x"}, false},
		{"like glob chars literal", asAdmin, `select DATA_NAME where DATA_NAME like 'star*q?[x]'`, []string{"star*q?[x]"}, false},
		{"like glob star is literal", asAdmin, `select DATA_NAME where DATA_NAME like 's*%'`, nil, false},
		{"like glob chars with wildcard", asAdmin, `select DATA_NAME where DATA_NAME like 'star*_?[%'`, []string{"star*q?[x]"}, false},
		{"like bracket class not a class", asAdmin, `select DATA_NAME where DATA_NAME like '[ab]%'`, nil, false},
		{"like meta value", asAdmin, "select DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE like 'Ap%'",
			[]string{"a1.txt", "per%cent_x", "secret.dat", "shared.dat"}, false},
		{"like meta value lower", asAdmin, "select DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE like 'ap%'",
			[]string{"A2.TXT"}, false},
		{"like meta escaped underscore", asAdmin, `select META_DATA_ATTR_VALUE where META_DATA_ATTR_VALUE like 'Ap\_%'`,
			[]string{"Ap_llo%"}, false},
		{"like meta underscore wildcard", asAdmin, `select META_DATA_ATTR_VALUE where META_DATA_ATTR_VALUE like 'Ap_llo%'`,
			[]string{"Ap_llo%", "Apollo"}, false},

		// UPPER(column): ASCII letters compared in upper case (iquest
		// uppercase); never answered from an index of the raw values.
		{"upper eq", asAdmin, "select DATA_NAME where upper(DATA_NAME) = 'A1.TXT'", []string{"a1.txt"}, false},
		{"upper like", asAdmin, "select DATA_NAME where upper(DATA_NAME) like 'A%.TXT'", []string{"A2.TXT", "a1.txt"}, false},
		{"upper value as written", asAdmin, "select DATA_NAME where upper(DATA_NAME) = 'a1.txt'", nil, false},
		{"upper in", asAdmin, "select DATA_NAME where upper(DATA_NAME) in ('A1.TXT', 'B1.DAT')", []string{"a1.txt", "b1.dat"}, false},
		{"upper between", asAdmin, "select DATA_NAME where upper(DATA_NAME) between 'A' and 'B'", []string{"A2.TXT", "a1.txt"}, false},
		{"upper not like", asAdmin, "select DATA_NAME where COLL_NAME = '/tempZone/home/alice' and upper(DATA_NAME) not like '%.TXT'",
			[]string{"per%cent_x", "star*q?[x]"}, false},
		{"upper genquery or", asAdmin, "select DATA_NAME where upper(DATA_NAME) like 'A1%' || = 'SHARED.DAT'", []string{"a1.txt", "shared.dat"}, false},
		{"upper avu", asAdmin, "select DATA_NAME where META_DATA_ATTR_NAME = 'project' and upper(META_DATA_ATTR_VALUE) = 'APOLLO'",
			[]string{"A2.TXT", "a1.txt", "secret.dat", "shared.dat"}, false},
		{"upper coll", asAlice, "select COLL_NAME where upper(COLL_NAME) = '/TEMPZONE/PROJ'", []string{"/tempZone/proj"}, false},
		{"upper count by avu", asAdmin, "select META_DATA_ATTR_VALUE, count(DATA_ID) where upper(META_DATA_ATTR_NAME) = 'PROJECT' and upper(META_DATA_ATTR_VALUE) like 'AP%'",
			[]string{"Ap_llo%|1", "Apollo|3", "apollo|1"}, false},
		{"upper as carol", asCarol, "select DATA_NAME where upper(DATA_NAME) like '%.DAT'", []string{"shared.dat"}, false},

		// AVUs of every kind.
		{"avu attr value", asAdmin, "select COLL_NAME, DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE = 'Apollo'",
			[]string{"/tempZone/home/alice|a1.txt", "/tempZone/proj|secret.dat", "/tempZone/proj|shared.dat"}, false},
		{"avu same row", asAdmin, "select DATA_NAME where META_DATA_ATTR_NAME = 'sample' and META_DATA_ATTR_VALUE = 'Apollo'", nil, false},
		{"avu units", asAdmin, "select META_DATA_ATTR_NAME, META_DATA_ATTR_VALUE, META_DATA_ATTR_UNITS where DATA_NAME = 'a1.txt'",
			[]string{"project|Apollo|", "sample|s1|id"}, false},
		{"avu only", asAdmin, "select META_DATA_ATTR_VALUE where META_DATA_ATTR_NAME = 'sample'", []string{"s1"}, false},
		{"coll avu", asAdmin, "select COLL_NAME, META_COLL_ATTR_NAME, META_COLL_ATTR_VALUE, META_COLL_ATTR_UNITS",
			[]string{"/tempZone/proj|dept|physics|faculty"}, false},
		{"coll avu with data", asAdmin, "select DATA_NAME where META_COLL_ATTR_NAME = 'dept' and META_COLL_ATTR_VALUE = 'physics'",
			[]string{"secret.dat", "shared.dat"}, false},
		{"coll avu and data avu", asAdmin, "select META_COLL_ATTR_VALUE, META_DATA_ATTR_VALUE where META_DATA_ATTR_NAME = 'project'",
			[]string{"physics|Apollo"}, false},
		{"resc avu", asAdmin, "select RESC_NAME, META_RESC_ATTR_NAME, META_RESC_ATTR_VALUE, META_RESC_ATTR_UNITS",
			[]string{"demoResc|tier|fast|"}, false},
		{"resc avu alone", asAdmin, "select META_RESC_ATTR_VALUE", []string{"fast"}, false},
		{"resc avu with data", asAdmin, "select DATA_NAME where META_RESC_ATTR_VALUE = 'fast' and COLL_NAME = '/tempZone/proj'",
			[]string{"secret.dat", "shared.dat"}, false},
		{"user avu", asAdmin, "select USER_NAME, META_USER_ATTR_NAME, META_USER_ATTR_VALUE, META_USER_ATTR_UNITS",
			[]string{"alice|email|alice@example.org|"}, false},
		{"user avu alone", asAlice, "select META_USER_ATTR_VALUE", []string{"alice@example.org"}, false},

		// Users, resources, zones, ACLs.
		{"users", asAlice, "select USER_NAME, USER_TYPE, USER_ZONE, USER_INFO where USER_NAME in ('alice', 'rods')",
			[]string{"alice|rodsuser|tempZone|Alice A.", "rods|rodsadmin|tempZone|"}, false},
		{"user owner of data", asAdmin, "select USER_NAME, USER_TYPE where DATA_NAME = 'shared.dat'", []string{"rods|rodsadmin"}, false},
		{"user owner of coll", asAdmin, "select USER_NAME where COLL_NAME = '/tempZone/home/bob'", []string{"bob"}, false},
		{"resources", asCarol, "select RESC_NAME, RESC_ZONE_NAME, RESC_TYPE_NAME, RESC_LOC, RESC_STATUS, RESC_COMMENT, RESC_CONTEXT, RESC_PARENT",
			[]string{"demoResc|tempZone|posix|/var/lib/arca/vault|up|default|a=1|", "leaf1|tempZone|posix|/vault1|down|||repl",
				"repl|tempZone|replication||up|||"}, false},
		{"resc of data", asAdmin, "select DATA_NAME, RESC_NAME where RESC_STATUS = 'down'", []string{"b1.dat|leaf1"}, false},
		{"resc of coll", asAdmin, "select RESC_NAME where COLL_NAME = '/tempZone/home/bob'", []string{"demoResc", "leaf1"}, false},
		{"zone", asCarol, "select ZONE_NAME, ZONE_TYPE, ZONE_CONNECTION, ZONE_COMMENT", []string{"tempZone|local||"}, false},
		{"zone of data", asAdmin, "select ZONE_NAME, DATA_NAME where DATA_NAME = 'a1.txt'", []string{"tempZone|a1.txt"}, false},
		{"zone of coll", asAdmin, "select ZONE_NAME where COLL_NAME = '/tempZone'", []string{"tempZone"}, false},
		{"zone of user", asAdmin, "select ZONE_NAME, USER_NAME where USER_NAME = 'bob'", []string{"tempZone|bob"}, false},
		{"data acl", asAdmin, "select DATA_ACCESS_USER_NAME, DATA_ACCESS_USER_ZONE, DATA_ACCESS_NAME where DATA_NAME = 'b1.dat'",
			[]string{"alice|tempZone|read", "bob|tempZone|own"}, false},
		// USER_* beside an ACL column is the grantee of the ACL row, as
		// in iRODS, where users audit access with exactly this query;
		// without one it is the owner.
		{"acl audit names the grantee", asAdmin, "select DATA_NAME, DATA_ACCESS_NAME, USER_NAME where COLL_NAME = '/tempZone/home/bob'",
			[]string{"b1.dat|own|bob", "b1.dat|read|alice"}, false},
		{"acl audit names a group grantee", asAdmin, "select DATA_NAME, DATA_ACCESS_NAME, USER_NAME, USER_TYPE where COLL_NAME = '/tempZone/proj' and DATA_NAME = 'secret.dat'",
			[]string{"secret.dat|own|rods|rodsadmin", "secret.dat|read|staff|rodsgroup"}, false},
		{"acl audit as a reader", asAlice, "select DATA_NAME, DATA_ACCESS_NAME, USER_NAME where DATA_NAME = 'b1.dat'",
			[]string{"b1.dat|own|bob", "b1.dat|read|alice"}, false},
		{"acl grantee condition", asAdmin, "select DATA_NAME where USER_NAME = 'staff' and DATA_ACCESS_NAME = 'read'",
			[]string{"secret.dat"}, false},
		{"acl grantee avu", asAdmin, "select USER_NAME, META_USER_ATTR_VALUE where DATA_NAME = 'b1.dat' and DATA_ACCESS_NAME = 'read'",
			[]string{"alice|alice@example.org"}, false},
		{"coll acl audit names the grantee", asAdmin, "select COLL_NAME, COLL_ACCESS_NAME, USER_NAME where COLL_NAME = '/tempZone/home/bob'",
			[]string{"/tempZone/home/bob|own|bob", "/tempZone/home/bob|read|staff"}, false},
		{"data acl filter", asAdmin, "select DATA_NAME where DATA_ACCESS_USER_NAME = 'public' and DATA_ACCESS_NAME = 'read'",
			[]string{"shared.dat"}, false},
		{"coll acl", asAdmin, "select COLL_NAME, COLL_ACCESS_USER_NAME, COLL_ACCESS_USER_ZONE, COLL_ACCESS_NAME where COLL_NAME like '/tempZone/p%'",
			[]string{"/tempZone/proj|public|tempZone|read", "/tempZone/proj|rods|tempZone|own"}, false},
		{"coll fields", asAdmin, "select COLL_NAME, COLL_PARENT_NAME, COLL_OWNER_NAME, COLL_OWNER_ZONE where COLL_NAME like '/tempZone/home%'",
			[]string{"/tempZone/home|/tempZone|rods|tempZone", "/tempZone/home/alice|/tempZone/home|alice|tempZone",
				"/tempZone/home/bob|/tempZone/home|bob|tempZone"}, false},
		{"root parent", asAdmin, "select COLL_PARENT_NAME where COLL_NAME = '/'", []string{""}, false},
		{"data fields", asAdmin, "select DATA_NAME, DATA_OWNER_NAME, DATA_OWNER_ZONE, DATA_CHECKSUM, DATA_PATH where DATA_NAME = 'a1.txt'",
			[]string{"a1.txt|alice|tempZone|sha2:demoResc-100|demoResc/tempZone/home/alice/a1.txt"}, false},
		{"empty checksum compare", asAdmin, "select DATA_NAME where DATA_CHECKSUM = ''", nil, false},

		// Aggregates, grouping, ordering, limits.
		{"count all", asAdmin, "select count(DATA_ID)", []string{"8"}, false},
		{"count distinct rows", asAdmin, "select count(DATA_NAME) where DATA_NAME = 'b1.dat'", []string{"2"}, false},
		{"sum group", asAdmin, "select COLL_NAME, sum(DATA_SIZE), count(DATA_ID) order by COLL_NAME",
			[]string{"/tempZone/home/alice|312|4", "/tempZone/home/bob|600|2", "/tempZone/proj|110|2"}, true},
		{"min max avg", asAdmin, "select min(DATA_SIZE), max(DATA_SIZE), avg(DATA_SIZE) where COLL_NAME = '/tempZone/proj'",
			[]string{"50|60|55"}, false},
		{"avg fraction", asAdmin, "select avg(DATA_SIZE) where DATA_SIZE in (5, 100)", []string{"52.5"}, false},
		{"min string", asAdmin, "select min(DATA_NAME), max(DATA_NAME)", []string{"A2.TXT|star*q?[x]"}, false},
		{"sum of nothing", asAdmin, "select count(DATA_ID), sum(DATA_SIZE) where DATA_NAME = 'nope'", []string{"0|"}, false},
		{"group of nothing", asAdmin, "select DATA_NAME, count(DATA_ID) where DATA_NAME = 'nope'", nil, false},
		{"count by avu value", asAdmin, "select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project' order by count(DATA_ID) desc, META_DATA_ATTR_VALUE",
			[]string{"Apollo|3", "Mercury|2", "Ap_llo%|1", "Gemini|1", "apollo|1"}, true},
		{"explicit group by unselected", asAdmin, "select count(DATA_ID) group by COLL_NAME order by count(DATA_ID)",
			[]string{"2", "4"}, true},
		{"order desc", asAdmin, "select DATA_NAME where COLL_NAME = '/tempZone/home/alice' order by DATA_NAME desc",
			[]string{"star*q?[x]", "per%cent_x", "a1.txt", "A2.TXT"}, true},
		{"order two keys", asAdmin, "select DATA_SIZE, DATA_NAME where DATA_SIZE < 100 order by DATA_SIZE desc, DATA_NAME",
			[]string{"60|secret.dat", "50|shared.dat", "7|per%cent_x", "5|star*q?[x]"}, true},
		{"limit", asAdmin, "select DATA_NAME order by DATA_NAME limit 2", []string{"A2.TXT", "a1.txt"}, true},
		{"limit offset", asAdmin, "select DATA_NAME order by DATA_NAME limit 2 offset 2", []string{"b1.dat", "per%cent_x"}, true},
		{"offset only", asAdmin, "select DATA_NAME order by DATA_NAME offset 5", []string{"shared.dat", "star*q?[x]"}, true},
		{"limit 0", asAdmin, "select DATA_NAME limit 0", nil, true},
		{"offset past end", asAdmin, "select DATA_NAME order by DATA_NAME limit 10 offset 100", nil, true},

		// Permissions.
		{"alice data", asAlice, "select DATA_NAME", []string{"A2.TXT", "a1.txt", "b1.dat", "per%cent_x", "shared.dat", "star*q?[x]"}, false},
		{"alice coll needs coll read", asAlice, "select COLL_NAME, DATA_NAME where DATA_NAME like '%.dat'",
			[]string{"/tempZone/proj|shared.dat"}, false},
		{"alice colls", asAlice, "select COLL_NAME", []string{"/tempZone/home/alice", "/tempZone/proj"}, false},
		{"bob data", asBob, "select DATA_NAME", []string{"b1.dat", "shared.dat"}, false},
		{"carol public only", asCarol, "select COLL_NAME, DATA_NAME", []string{"/tempZone/proj|shared.dat"}, false},
		{"carol avu query", asCarol, "select DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE = 'Apollo'",
			[]string{"shared.dat"}, false},
		{"carol avu alone", asCarol, "select META_DATA_ATTR_VALUE", []string{"Apollo"}, false},
		{"carol count", asCarol, "select count(DATA_ID), sum(DATA_SIZE)", []string{"1|50"}, false},
		{"carol acl rows", asCarol, "select DATA_ACCESS_USER_NAME", []string{"public", "rods"}, false},
		{"carol secret by name", asCarol, "select DATA_NAME where DATA_NAME = 'secret.dat'", nil, false},
		{"carol or cannot widen", asCarol, "select DATA_NAME where DATA_NAME = 'secret.dat' or DATA_SIZE > 0", []string{"shared.dat"}, false},
		{"carol not cannot widen", asCarol, "select DATA_NAME where not DATA_NAME = 'shared.dat'", nil, false},
		{"group grant", catalog.Caller{User: qCarol, Groups: []catalog.UserID{qAlice}}, "select DATA_NAME where DATA_NAME like 'a%'",
			[]string{"a1.txt"}, false},
		{"other zone public", catalog.Caller{User: catalog.UserID{Name: "carol", Zone: "otherZone"}}, "select DATA_NAME", nil, false},
		// Thousands of groups (an OR per group was too deep for SQLite).
		{"many groups", catalog.Caller{User: qCarol, Groups: manyGroups(3000, qAlice)}, "select DATA_NAME where DATA_NAME like 'a%'",
			[]string{"a1.txt"}, false},

		// Conditions that choose what is read (names, paths, AVUs,
		// grants) and what must still be evaluated on it.
		{"name in", asAdmin, "select DATA_NAME where DATA_NAME in ('a1.txt', 'b1.dat', 'nope')", []string{"a1.txt", "b1.dat"}, false},
		{"coll in", asAdmin, "select DATA_NAME where COLL_NAME in ('/tempZone/proj', '/tempZone/home/bob')",
			[]string{"b1.dat", "secret.dat", "shared.dat"}, false},
		{"coll prefix and size", asAdmin, "select COLL_NAME, DATA_NAME where COLL_NAME like '/tempZone/home/%' and DATA_SIZE > 100",
			[]string{"/tempZone/home/alice|A2.TXT", "/tempZone/home/bob|b1.dat"}, false},
		{"coll prefix is not a parent", asAdmin, "select COLL_NAME where COLL_NAME like '/tempZone/home/al%'",
			[]string{"/tempZone/home/alice"}, false},
		{"name and avu", asAdmin, "select DATA_NAME, META_DATA_ATTR_VALUE where DATA_NAME like 'a%' and META_DATA_ATTR_NAME = 'project'",
			[]string{"a1.txt|Apollo"}, false},
		{"avu value in", asAdmin, "select DATA_NAME where META_DATA_ATTR_VALUE in ('Gemini', 'Mercury', 's1')",
			[]string{"a1.txt", "b1.dat", "star*q?[x]"}, false},
		{"or of avu conditions", asAdmin,
			"select META_DATA_ATTR_NAME, DATA_NAME where META_DATA_ATTR_VALUE = 's1' or META_DATA_ATTR_NAME = 'project' and DATA_NAME = 'a1.txt'",
			[]string{"project|a1.txt", "sample|a1.txt"}, false},
		{"avu attr no match", asAdmin, "select DATA_NAME where META_DATA_ATTR_NAME = 'nope'", nil, false},
		{"avu of a collection is not of an object", asAdmin, "select DATA_NAME where META_DATA_ATTR_NAME = 'dept'", nil, false},
		{"avu of an object is not of a collection", asAdmin, "select COLL_NAME where META_COLL_ATTR_NAME = 'project'", nil, false},
		{"coll avu prefix", asAdmin, "select COLL_NAME, META_COLL_ATTR_VALUE where META_COLL_ATTR_VALUE like 'phys%'",
			[]string{"/tempZone/proj|physics"}, false},
		{"count replicas by avu", asAdmin, "select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE = 'Mercury'",
			[]string{"Mercury|2"}, false},
		{"count by avu as alice", asAlice, "select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project'",
			[]string{"Ap_llo%|1", "Apollo|2", "Gemini|1", "Mercury|2", "apollo|1"}, false},
		{"alice coll avu", asAlice, "select DATA_NAME where META_COLL_ATTR_NAME = 'dept'", []string{"shared.dat"}, false},
		{"alice coll by name", asAlice, "select COLL_NAME where COLL_NAME in ('/tempZone/home/bob', '/tempZone/proj')",
			[]string{"/tempZone/proj"}, false},
		{"bob granted object by name", asBob, "select DATA_NAME, DATA_SIZE where DATA_NAME in ('b1.dat', 'a1.txt')",
			[]string{"b1.dat|300"}, false},
		{"group reads collections", catalog.Caller{User: qCarol, Groups: []catalog.UserID{qAlice}}, "select COLL_NAME",
			[]string{"/tempZone/home/alice", "/tempZone/proj"}, false},
		{"staff group member", asAdmin, "select USER_NAME, USER_TYPE where USER_NAME = 'staff'", []string{"staff|rodsgroup"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := QueryRows(t, c, tc.caller, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.q, err)
			}
			want := tc.want
			if !tc.sorted {
				slices.Sort(got)
				want = slices.Clone(want)
				slices.Sort(want)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s\n got %q\nwant %q", tc.q, got, want)
			}
		})
	}
}

// testQueryByID looks objects and collections up by their IDs, which
// differ between backends and runs.
func testQueryByID(t *testing.T, c catalog.Catalog) {
	rows, err := QueryRows(t, c, asAdmin, "select DATA_ID, COLL_ID where DATA_NAME = 'b1.dat'")
	if err != nil || len(rows) != 1 {
		t.Fatalf("IDs of b1.dat: %q, %v", rows, err)
	}
	ids := strings.Split(rows[0], "|")
	for _, tc := range []struct {
		caller catalog.Caller
		q      string
		want   []string
	}{
		{asAdmin, "select DATA_NAME, DATA_REPL_NUM where DATA_ID = " + ids[0], []string{"b1.dat|0", "b1.dat|1"}},
		{asAdmin, "select DATA_NAME where DATA_ID in (" + ids[0] + ", 1234567890123)", []string{"b1.dat"}},
		{asAdmin, "select COLL_NAME where COLL_ID = " + ids[1], []string{"/tempZone/home/bob"}},
		{asAdmin, "select DATA_NAME where COLL_ID = " + ids[1], []string{"b1.dat"}},
		{asAdmin, "select DATA_NAME where DATA_ID = 0", nil},
		{asAdmin, "select DATA_NAME where DATA_ID = -5", nil},
		{asAlice, "select DATA_NAME where DATA_ID = " + ids[0], []string{"b1.dat"}},
		{asAlice, "select COLL_NAME where COLL_ID = " + ids[1], nil},
		{asCarol, "select DATA_NAME where DATA_ID = " + ids[0], nil},
	} {
		got, err := QueryRows(t, c, tc.caller, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s as %s: got %q, want %q", tc.q, tc.caller.User.Name, got, tc.want)
		}
	}
}

// testQueryTimes checks that times come out as iRODS's padded unix seconds
// and that a value printed can be compared back.
func testQueryTimes(t *testing.T, c catalog.Catalog) {
	before := time.Now().Add(-time.Hour).Unix()
	timeCols := []string{"COLL_CREATE_TIME", "COLL_MODIFY_TIME", "DATA_CREATE_TIME", "DATA_MODIFY_TIME",
		"USER_CREATE_TIME", "USER_MODIFY_TIME", "RESC_CREATE_TIME", "RESC_MODIFY_TIME"}
	secs := regexp.MustCompile(`^0\d{10}$`)
	for _, col := range timeCols {
		t.Run(col, func(t *testing.T) {
			rows, err := QueryRows(t, c, asAdmin, "select "+col+", min("+col+"), max("+col+") limit 1")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 {
				t.Fatalf("got %q", rows)
			}
			v := strings.Split(rows[0], "|")
			for _, s := range v {
				if !secs.MatchString(s) {
					t.Fatalf("time %q is not 11-digit unix seconds", s)
				}
			}
			for _, q := range []string{
				fmt.Sprintf("select count(%s) where %s = '%s'", col, col, v[0]),
				fmt.Sprintf("select count(%s) where %s = %s", col, col, strings.TrimLeft(v[0], "0")),
				fmt.Sprintf("select count(%s) where %s >= %d", col, col, before),
				fmt.Sprintf("select count(%s) where %s between '2020-01-01' and '9999-12-31'", col, col),
				fmt.Sprintf("select count(%s) where %s in ('%s')", col, col, v[0]),
			} {
				got, err := QueryRows(t, c, asAdmin, q)
				if err != nil {
					t.Fatal(err)
				}
				if got[0] == "0" {
					t.Errorf("%s: no row", q)
				}
			}
			for _, q := range []string{
				fmt.Sprintf("select count(%s) where %s < %d", col, col, before),
				fmt.Sprintf("select count(%s) where %s < '2020-01-01T00:00:00Z'", col, col),
				fmt.Sprintf("select count(%s) where %s > '9999-01-01'", col, col),
			} {
				got, err := QueryRows(t, c, asAdmin, q)
				if err != nil {
					t.Fatal(err)
				}
				if got[0] != "0" {
					t.Errorf("%s: %s rows", q, got[0])
				}
			}
		})
	}
}

// testQueryTimeFractions checks the rounding of literals with fractions of
// a second against whole-second columns.
func testQueryTimeFractions(t *testing.T, c catalog.Catalog) {
	rows, err := QueryRows(t, c, asAdmin, "select DATA_CREATE_TIME where DATA_NAME = 'a1.txt'")
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	var s int64
	fmt.Sscan(strings.TrimLeft(rows[0], "0"), &s)
	at := func(d time.Duration) string { return time.Unix(s, 0).Add(d).UTC().Format(time.RFC3339Nano) }
	cases := map[string]bool{
		"= '" + at(0) + "'":                                                    true,
		"= '" + at(500*time.Millisecond) + "'":                                 false,
		"<> '" + at(500*time.Millisecond) + "'":                                true,
		"< '" + at(500*time.Millisecond) + "'":                                 true,
		"<= '" + at(500*time.Millisecond) + "'":                                true,
		"> '" + at(500*time.Millisecond) + "'":                                 false,
		">= '" + at(500*time.Millisecond) + "'":                                false,
		"> '" + at(-500*time.Millisecond) + "'":                                true,
		"< '" + at(-500*time.Millisecond) + "'":                                false,
		"between '" + at(-time.Second/2) + "' and '" + at(time.Second/2) + "'": true,
		"between '" + at(time.Second/4) + "' and '" + at(time.Second/2) + "'":  false,
	}
	for cond, want := range cases {
		got, err := QueryRows(t, c, asAdmin, "select DATA_NAME where DATA_NAME = 'a1.txt' and DATA_CREATE_TIME "+cond)
		if err != nil {
			t.Fatal(err)
		}
		if (len(got) == 1) != want {
			t.Errorf("DATA_CREATE_TIME %s: got %q, want match %v", cond, got, want)
		}
	}
}

// testQueryAllColumns runs a query on every registry column: each either
// returns rows or is refused with an ErrInvalidArgument naming the column
// (the backends serve different sets; each must serve most).
func testQueryAllColumns(t *testing.T, c catalog.Catalog) {
	served := 0
	for _, col := range query.Columns() {
		rows, err := QueryRows(t, c, asAdmin, "select "+col.Name)
		if err != nil {
			if !errors.Is(err, catalog.ErrInvalidArgument) || !strings.Contains(err.Error(), col.Name) {
				t.Errorf("%s: got %v, want rows or ErrInvalidArgument naming it", col.Name, err)
			}
			continue
		}
		served++
		if len(rows) == 0 {
			t.Errorf("%s: no rows", col.Name)
		}
		// And as a condition, for a non-admin.
		if _, err := QueryRows(t, c, asAlice, "select "+col.Name+", count("+col.Name+") order by "+col.Name+" limit 3"); err != nil {
			t.Errorf("%s as alice: %v", col.Name, err)
		}
	}
	if served < 60 {
		t.Errorf("only %d columns served", served)
	}
	// Unsupported in a condition only is refused too.
	if _, err := QueryRows(t, c, asAdmin, "select DATA_NAME where TICKET_STRING = 'x'"); !errors.Is(err, catalog.ErrInvalidArgument) {
		t.Errorf("ticket condition: %v", err)
	}
}

func testQueryStreamingStops(t *testing.T, c catalog.Catalog) {
	q, err := query.Parse("select DATA_NAME")
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	err = c.Query(context.Background(), q, asAdmin, func(row []string) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("got %v after %d rows, want stop after 2", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Query(ctx, q, asAdmin, func([]string) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	// The catalog still serves queries (no connection was leaked).
	for range 20 {
		if _, err := QueryRows(t, c, asAdmin, "select count(DATA_ID)"); err != nil {
			t.Fatal(err)
		}
	}
}

// InjectionQuery is a query whose values would change a query language's
// text if they reached it; backends check their own text with it.
const InjectionQuery = `select DATA_NAME where DATA_NAME = 'x''); DROP TABLE data_objects; --" } delete { * * * . } #' or DATA_NAME like 'x''")%'`

// testQueryInjection checks that such values are only values.
func testQueryInjection(t *testing.T, c catalog.Catalog) {
	if rows, err := QueryRows(t, c, asAdmin, InjectionQuery); err != nil || len(rows) != 0 {
		t.Fatal(rows, err)
	}
	if rows, err := QueryRows(t, c, asAdmin, "select count(DATA_ID)"); err != nil || !slices.Equal(rows, []string{"8"}) {
		t.Fatalf("after the injection: %q, %v", rows, err)
	}
}

// manyGroups is n made-up groups with last among them.
func manyGroups(n int, last catalog.UserID) []catalog.UserID {
	gs := make([]catalog.UserID, 0, n)
	for i := range n - 1 {
		gs = append(gs, catalog.UserID{Name: fmt.Sprintf("g%d", i), Zone: "tempZone"})
	}
	return append(gs, last)
}

// testQueryLimits runs queries at the parser's limits (query.MaxConditions,
// query.MaxItems, query.MaxDepth) on every column the backend serves: what
// parses must run. 2,500 ORs failed in SQLite with "Expression tree is too
// large", and 84 conditions on DATA_RESC_HIER with "subqueries nested too
// deep", as errors that were not the caller's (exit 1).
func testQueryLimits(t *testing.T, c catalog.Catalog) {
	cond := func(col *query.Column) string {
		switch col.Type {
		case query.TypeString:
			return col.Name + " like 'a%b'" // a range and a match
		case query.TypeTime:
			return col.Name + " between '2020-01-01' and 1"
		}
		return col.Name + " = 1"
	}
	or := func(col *query.Column, n int) string {
		terms := make([]string, n)
		for i := range terms {
			terms[i] = cond(col)
		}
		return strings.Join(terms, " or ")
	}
	run := func(t *testing.T, caller catalog.Caller, text string) error {
		t.Helper()
		q, err := query.Parse(text)
		if err != nil {
			t.Fatalf("parse %.80q...: %v", text, err)
		}
		return c.Query(context.Background(), q, caller, func([]string) error { return nil })
	}
	for _, col := range query.Columns() {
		if _, err := QueryRows(t, c, asAdmin, "select "+col.Name+" limit 1"); err != nil {
			continue // not served by this backend (testQueryAllColumns checks the refusal)
		}
		t.Run(col.Name, func(t *testing.T) {
			// A user's queries carry the permission checks too.
			cases := []struct {
				caller catalog.Caller
				text   string
			}{
				{asAlice, "select " + col.Name + " where " + or(col, query.MaxConditions)},
				{asAlice, "select " + col.Name + " where " + strings.Repeat("not ", query.MaxDepth-1) + "(" + or(col, query.MaxConditions) + ")"},
				{asAdmin, "select " + strings.Repeat(col.Name+", ", query.MaxItems-1) + col.Name +
					" order by " + strings.Repeat(col.Name+", ", query.MaxItems-1) + col.Name},
			}
			if col.Type == query.TypeString {
				cases = append(cases, struct {
					caller catalog.Caller
					text   string
				}{asAlice, "select " + col.Name + " where " + strings.ReplaceAll(or(col, query.MaxConditions), col.Name+" like", "upper("+col.Name+") like")})
			}
			for _, tc := range cases {
				if err := run(t, tc.caller, tc.text); err != nil {
					t.Errorf("%.100s... as %s: %v", tc.text, tc.caller.User.Name, err)
				}
			}
		})
	}
}
