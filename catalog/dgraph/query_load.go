package dgraph

import (
	"slices"
	"strconv"
	"strings"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
)

// A query reads from Dgraph only the data objects and collections that
// its result rows can hold. The conjuncts of the condition that every row
// must meet and that an index answers (a path, a name, an ID, an AVU's
// attribute or value) choose them, and so does the permission filter: a
// caller who is not an administrator reads only the objects and
// collections that grant it, its groups or public access, which the who
// index finds. What they narrow to is a superset of what the rows need;
// the evaluation in Go applies every condition again. From the objects and
// collections chosen, their replicas, AVUs and parents are read through
// their edges; resources, users and zones, which are few, are read whole.

// restriction is what a conjunct allows of a string column: one of vals,
// or a value in [lo, hi) (hi "" for no bound), or one of ids for an ID.
type restriction struct {
	vals   []string
	lo, hi string
	ids    []string // uids
}

// restrictions are the restrictions of the conjuncts of a condition, by
// column name; the first conjunct on a column wins (any one will do: each
// allows a superset of the rows).
func restrictions(where query.Expr) map[string]*restriction {
	var terms []query.Expr
	switch w := where.(type) {
	case nil:
		return nil
	case *query.And:
		terms = w.Terms
	default:
		terms = []query.Expr{w}
	}
	out := map[string]*restriction{}
	add := func(col string, r *restriction) {
		if _, ok := out[col]; !ok {
			out[col] = r
		}
	}
	for _, t := range terms {
		if query.Upper(t) {
			continue // UPPER(column): the index holds the values as they are
		}
		switch t := t.(type) {
		case *query.Compare:
			if t.Op != query.OpEq {
				continue
			}
			if r := restrictionOf(t.Column.Name, []query.Value{t.Value}); r != nil {
				add(t.Column.Name, r)
			}
		case *query.In:
			if r := restrictionOf(t.Column.Name, t.Values); r != nil {
				add(t.Column.Name, r)
			}
		case *query.Like:
			prefix, exact := query.LikePrefix(t.Pattern)
			switch {
			case exact:
				add(t.Column.Name, &restriction{vals: []string{prefix}})
			case prefix != "":
				add(t.Column.Name, &restriction{lo: prefix, hi: prefixSuccessor(prefix)})
			}
		}
	}
	return out
}

// restrictionOf is the restriction of "col IN (vals)", or nil when the
// values are not all strings (of a string column) or all integers (of an
// ID column): comparing across kinds is left to the evaluation.
func restrictionOf(col string, vals []query.Value) *restriction {
	r := &restriction{}
	for _, v := range vals {
		switch {
		case v.Kind == query.KindString:
			if !slices.Contains(r.vals, v.Str) {
				r.vals = append(r.vals, v.Str)
			}
		case v.Kind == query.KindInt && (col == "DATA_ID" || col == "COLL_ID"):
			u := uidOf(catalog.ID(v.Int))
			if u == "" {
				return nil
			}
			r.ids = append(r.ids, u)
		default:
			return nil
		}
	}
	if len(r.vals) > 0 && len(r.ids) > 0 {
		return nil
	}
	return r
}

// prefixSuccessor is the least string above every string starting with
// prefix, or "" when there is none.
func prefixSuccessor(prefix string) string {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return ""
	}
	b[len(b)-1]++
	return string(b)
}

// dqlBuilder writes a DQL query whose values are all variables, so that no
// value of the query's text reaches the DQL text.
type dqlBuilder struct {
	b    strings.Builder
	decl []string
	vars map[string]string
	seq  int
}

// v declares a variable holding s and returns its name.
func (d *dqlBuilder) v(s string) string {
	d.seq++
	name := "$v" + strconv.Itoa(d.seq)
	d.decl = append(d.decl, name+": string")
	d.vars[name] = s
	return name
}

// name returns a new DQL variable name with the given stem.
func (d *dqlBuilder) name(stem string) string {
	d.seq++
	return stem + strconv.Itoa(d.seq)
}

func (d *dqlBuilder) line(parts ...string) {
	for _, p := range parts {
		d.b.WriteString(p)
	}
	d.b.WriteByte('\n')
}

func (d *dqlBuilder) text() string {
	return "query q(" + strings.Join(d.decl, ", ") + ") {\n" + d.b.String() + "}"
}

// eqAny is a function true of the nodes whose pred is one of vals.
func (d *dqlBuilder) eqAny(pred string, vals []string) string {
	if len(vals) == 1 {
		return "eq(" + pred + ", " + d.v(vals[0]) + ")"
	}
	names := make([]string, len(vals))
	for i, s := range vals {
		names[i] = d.v(s)
	}
	return "eq(" + pred + ", [" + strings.Join(names, ", ") + "])"
}

// funcs returns the functions that select the nodes whose pred meets r:
// a root function and the filters that complete it.
func (d *dqlBuilder) funcs(pred string, r *restriction) (root string, filters []string) {
	switch {
	case len(r.ids) > 0:
		return "uid(" + strings.Join(r.ids, ", ") + ")", nil
	case len(r.vals) > 0:
		return d.eqAny(pred, r.vals), nil
	}
	if r.hi == "" {
		return "ge(" + pred + ", " + d.v(r.lo) + ")", nil
	}
	// between reads the index only from lo to hi; a ge root would read
	// every key above lo before a filter drops most. It takes hi too,
	// which the evaluation drops.
	lo, hi := d.v(r.lo), d.v(r.hi)
	return "between(" + pred + ", " + lo + ", " + hi + ")", []string{"lt(" + pred + ", " + hi + ")"}
}

// avuSeed writes a block whose variable holds the targets of the AVUs
// that meet the restrictions on attr and val, and returns the variable
// and a filter that the AVUs read must meet ("" for none), or "" when
// neither is restricted.
func (d *dqlBuilder) avuSeed(attr, val *restriction) (seed, avuFilter string) {
	if attr == nil && val == nil {
		return "", ""
	}
	var fs []string
	if attr != nil {
		root, f := d.funcs("P.attr", attr)
		fs = append(append(fs, root), f...)
	}
	if val != nil {
		root, f := d.funcs("P.val", val)
		// The value is the more selective index, when it is given.
		fs = append(append([]string{root}, f...), fs...)
	}
	seed = d.name("t")
	d.line("var(func: ", fs[0], ")", filterOf(fs[1:]), " { ", seed, " as P.of }")
	return seed, strings.Join(fs, " AND ")
}

func filterOf(fs []string) string {
	if len(fs) == 0 {
		return ""
	}
	return " @filter(" + strings.Join(fs, " AND ") + ")"
}

// readers are the stored principal keys whose grants let caller read.
func readers(caller catalog.Caller) []string {
	keys := []string{userKey(caller.User), userKey(catalog.UserID{Name: "public", Zone: caller.User.Zone})}
	for _, g := range caller.Groups {
		if k := userKey(g); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// Fields of the rows read for a query.
const (
	qUserFields  = `uid name: P.uname zone: P.uzone type: P.utype info: P.info ctime: P.ctime mtime: P.mtime`
	qAVUFields   = `attr: P.attr val: P.val unit: P.unit`
	qAVUsOfBlock = `avus: ~P.of`
)

// fieldList is the DQL field list of the fields whose columns a query
// uses: each reading costs Dgraph a lookup per node, so a query reads only
// those it needs.
type fieldList struct {
	used map[string]bool
	b    strings.Builder
}

// add adds field when need or the query uses one of cols.
func (f *fieldList) add(field string, need bool, cols ...string) {
	for _, c := range cols {
		need = need || f.used[c]
	}
	if need {
		if f.b.Len() > 0 {
			f.b.WriteByte(' ')
		}
		f.b.WriteString(field)
	}
}

func (f *fieldList) String() string { return f.b.String() }

// Rows of the entities, as read for a query.
type (
	qColl struct {
		UID    string   `json:"uid"`
		Path   string   `json:"path"`
		Owner  string   `json:"owner"`
		CTime  int64    `json:"ctime"`
		MTime  int64    `json:"mtime"`
		ACL    []string `json:"acl"`
		Parent struct {
			UID  string `json:"uid"`
			Path string `json:"path"`
		} `json:"parent"`
		AVUs []*qAVU `json:"avus"`
		id   int64
		acl  []catalog.ACE
	}
	qObj struct {
		UID    string   `json:"uid"`
		Name   string   `json:"name"`
		Owner  string   `json:"owner"`
		ACL    []string `json:"acl"`
		Parent uidOnly  `json:"parent"`
		Repls  []*qRepl `json:"repls"`
		NRepls int      `json:"nrepls"`
		AVUs   []*qAVU  `json:"avus"`
		id     int64
		collID int64
		acl    []catalog.ACE
	}
	qRepl struct {
		Num    int    `json:"num"`
		Resc   string `json:"resc"`
		PPath  string `json:"ppath"`
		Size   int64  `json:"size"`
		Sum    string `json:"sum"`
		Status int    `json:"status"`
		CTime  int64  `json:"ctime"`
		MTime  int64  `json:"mtime"`
	}
	// qAVU is an AVU; Attr is nil for the other nodes that point at a
	// target with P.of (tickets, quotas), which are not AVUs.
	qAVU struct {
		Attr *string `json:"attr"`
		Val  string  `json:"val"`
		Unit string  `json:"unit"`
		of   int64
	}
	qRes struct {
		resNode
		AVUs []*qAVU `json:"avus"`
	}
	qUser struct {
		userNode
		AVUs []*qAVU `json:"avus"`
	}
)

// queryData is what a query reads, indexed for the joins.
type queryData struct {
	colls    []*qColl
	collByID map[int64]*qColl
	objs     []*qObj
	objByID  map[int64]*qObj
	avus     [nTables][]*qAVU // the AVUs read, by table (tObjMeta...)
	rescs    []*qRes
	rescByNm map[string]*qRes
	users    []*qUser
	userByID map[catalog.UserID]*qUser
	zones    []*qColl
	local    string // the zone of the catalog: first child of "/"
	// objsPermitted and collsPermitted are set when Dgraph read only the
	// objects and collections the caller may read.
	objsPermitted, collsPermitted bool
}

// buildQueryDQL writes the DQL query that reads the rows of the tables pl
// joins that the query's rows can hold, and returns it with the empty
// queryData to read them into.
func buildQueryDQL(q *query.Query, pl *plan, caller catalog.Caller) (*dqlBuilder, *queryData) {
	d := &dqlBuilder{vars: map[string]string{}}
	rs := restrictions(q.Where)
	used := map[string]bool{}
	for _, col := range q.Columns() {
		used[col.Name] = true
	}
	qd := &queryData{
		collByID: map[int64]*qColl{}, objByID: map[int64]*qObj{}, rescByNm: map[string]*qRes{},
		userByID: map[catalog.UserID]*qUser{},
	}
	filterPerm := !caller.Admin
	var who string // the filter on grants that let the caller read
	if filterPerm && (pl.checkObj || pl.checkColl) {
		who = d.eqAny("P.who", readers(caller))
	}

	// The root and the zones are always read: RESC_ZONE_NAME and zones
	// need them, and they are few.
	d.line(`z(func: eq(P.path, "/")) { uid zs: ~P.parent @filter(eq(P.kind, "c")) { uid path: P.path } }`)

	// The collections the rows can hold, when the query joins them: those
	// the conditions on collections allow.
	var collSeeds []string
	if pl.collSide() {
		if r := rs["COLL_NAME"]; r != nil {
			root, f := d.funcs("P.path", r)
			s := d.name("cs")
			d.line(s, " as var(func: ", root, ")", filterOf(f))
			collSeeds = append(collSeeds, s)
		}
		if r := rs["COLL_ID"]; r != nil {
			s := d.name("cs")
			d.line(s, " as var(func: uid(", strings.Join(r.ids, ", "), "))")
			collSeeds = append(collSeeds, s)
		}
		if pl.use[tCollMeta] {
			if s, _ := d.avuSeed(rs["META_COLL_ATTR_NAME"], rs["META_COLL_ATTR_VALUE"]); s != "" {
				collSeeds = append(collSeeds, s)
			}
		}
	}
	var cc string // the variable of the collections to read
	if pl.collSide() && !pl.objSide() {
		fs := []string{`eq(P.kind, "c")`}
		if who != "" && pl.checkColl {
			fs = append(fs, who)
		}
		cc = d.name("cc")
		d.line(cc, " as var(func: ", seedRoot(collSeeds, fs), ")", filterOf(seedFilters(collSeeds, fs)))
	}

	// The data objects, when the query joins them: those the conditions
	// on objects, on their AVUs and on their collections allow.
	avuFilter := ""
	if pl.objSide() {
		var seeds []string
		if r := rs["DATA_NAME"]; r != nil {
			root, f := d.funcs("P.name", r)
			s := d.name("os")
			d.line(s, " as var(func: ", root, ")", filterOf(f))
			seeds = append(seeds, s)
		}
		if r := rs["DATA_ID"]; r != nil {
			s := d.name("os")
			d.line(s, " as var(func: uid(", strings.Join(r.ids, ", "), "))")
			seeds = append(seeds, s)
		}
		if pl.use[tObjMeta] {
			var s string
			s, avuFilter = d.avuSeed(rs["META_DATA_ATTR_NAME"], rs["META_DATA_ATTR_VALUE"])
			if s != "" {
				seeds = append(seeds, s)
			}
		}
		if len(collSeeds) > 0 {
			cs := d.name("cs")
			d.line(cs, " as var(func: ", seedRoot(collSeeds, nil), ")", filterOf(seedFilters(collSeeds, nil)))
			s := d.name("os")
			d.line("var(func: uid(", cs, ")) { ", s, " as ~P.parent }")
			seeds = append(seeds, s)
		}
		fs := []string{`eq(P.kind, "o")`}
		if who != "" && pl.checkObj {
			if len(seeds) == 0 {
				// The caller's grants are the narrowest start there is.
				fs = []string{who, `eq(P.kind, "o")`}
			} else {
				fs = append(fs, who)
			}
		}
		oo := d.name("oo")
		d.line(oo, " as var(func: ", seedRoot(seeds, fs), ")", filterOf(seedFilters(seeds, fs)))
		fields := &fieldList{used: used}
		fields.add("uid", true)
		fields.add("name: P.name", false, "DATA_NAME")
		fields.add("owner: P.owner", pl.use[tUser], "DATA_OWNER_NAME", "DATA_OWNER_ZONE")
		fields.add("parent: P.parent { uid }", pl.collSide(), "DATA_COLL_ID")
		// Objects are checked here unless Dgraph did.
		qd.objsPermitted = who != "" && pl.checkObj
		fields.add("acl: P.acl", pl.use[tObjACL] || pl.checkObj && !caller.Admin && !qd.objsPermitted)
		if pl.use[tRepl] {
			repl := &fieldList{used: used}
			repl.add("num: P.num", false, "DATA_REPL_NUM")
			repl.add("resc: P.resc", pl.use[tResc], "DATA_RESC_NAME", "DATA_RESC_HIER")
			repl.add("ppath: P.ppath", false, "DATA_PATH")
			repl.add("size: P.size", false, "DATA_SIZE")
			repl.add("sum: P.sum", false, "DATA_CHECKSUM")
			repl.add("status: P.status", false, "DATA_REPL_STATUS")
			repl.add("ctime: P.ctime", false, "DATA_CREATE_TIME")
			repl.add("mtime: P.mtime", false, "DATA_MODIFY_TIME")
			if repl.String() == "" {
				// Rows are per replica but no field of a replica is
				// used: their number is enough.
				fields.add("nrepls: count(~P.obj)", true)
			} else {
				fields.add("repls: ~P.obj { "+repl.String()+" }", true)
			}
		}
		if pl.use[tObjMeta] {
			fields.add(qAVUsOfBlock+filterOf(nonEmpty(avuFilter))+" { "+qAVUFields+" }", true)
		}
		d.line("o(func: uid(", oo, ")) { ", fields.String(), " }")
		if pl.collSide() {
			cc = d.name("cc")
			d.line("var(func: uid(", oo, ")) { ", cc, " as P.parent }")
		}
	}
	if cc != "" {
		fields := &fieldList{used: used}
		fields.add("uid path: P.path", true)
		fields.add("owner: P.owner", pl.use[tUser], "COLL_OWNER_NAME", "COLL_OWNER_ZONE")
		fields.add("ctime: P.ctime", false, "COLL_CREATE_TIME")
		fields.add("mtime: P.mtime", false, "COLL_MODIFY_TIME")
		// Collections are checked here unless Dgraph did.
		qd.collsPermitted = who != "" && pl.checkColl && !pl.objSide()
		fields.add("acl: P.acl", pl.use[tCollACL] || pl.checkColl && !caller.Admin && !qd.collsPermitted)
		fields.add("parent: P.parent { uid path: P.path }", false, "COLL_PARENT_NAME")
		if pl.use[tCollMeta] {
			f := d.avuFilter(rs["META_COLL_ATTR_NAME"], rs["META_COLL_ATTR_VALUE"])
			fields.add(qAVUsOfBlock+filterOf(nonEmpty(f))+" { "+qAVUFields+" }", true)
		}
		d.line("c(func: uid(", cc, ")) { ", fields.String(), " }")
	}
	if pl.has(tResc, tRescMeta, tRepl) {
		fields := resFields
		if pl.use[tRescMeta] {
			fields += " " + qAVUsOfBlock + " { " + qAVUFields + " }"
		}
		d.line(`res(func: eq(P.kind, "res")) { `, fields, " }")
	}
	if pl.has(tUser, tUserMeta) {
		fields := qUserFields
		if pl.use[tUserMeta] {
			fields += " " + qAVUsOfBlock + " { " + qAVUFields + " }"
		}
		d.line(`u(func: eq(P.kind, "u")) { `, fields, " }")
	}
	return d, qd
}

// loadQueryData reads the rows of the tables pl joins that the query's
// rows can hold.
func (t *tx) loadQueryData(q *query.Query, pl *plan, caller catalog.Caller) (*queryData, error) {
	d, qd := buildQueryDQL(q, pl, caller)
	var res struct {
		Z []struct {
			UID string   `json:"uid"`
			Zs  []*qColl `json:"zs"`
		} `json:"z"`
		C   []*qColl `json:"c"`
		O   []*qObj  `json:"o"`
		Res []*qRes  `json:"res"`
		U   []*qUser `json:"u"`
	}
	if err := t.query(d.text(), d.vars, &res); err != nil {
		return nil, err
	}
	// avus keeps the AVUs of as, of the target of, in the table tab.
	avus := func(tab table, of int64, as []*qAVU) []*qAVU {
		kept := as[:0]
		for _, a := range as {
			if a.Attr != nil {
				a.of = of
				kept = append(kept, a)
			}
		}
		qd.avus[tab] = append(qd.avus[tab], kept...)
		return kept
	}
	if len(res.Z) > 0 {
		var firstID int64
		for _, z := range res.Z[0].Zs {
			z.id = int64(idOf(z.UID))
			qd.zones = append(qd.zones, z)
			if firstID == 0 || z.id < firstID {
				firstID, qd.local = z.id, strings.TrimPrefix(z.Path, "/")
			}
		}
	}
	for _, c := range res.C {
		c.id = int64(idOf(c.UID))
		c.acl = parseACL(c.ACL)
		qd.colls = append(qd.colls, c)
		qd.collByID[c.id] = c
		c.AVUs = avus(tCollMeta, c.id, c.AVUs)
	}
	for _, o := range res.O {
		o.id = int64(idOf(o.UID))
		o.collID = int64(idOf(o.Parent.UID))
		o.acl = parseACL(o.ACL)
		qd.objs = append(qd.objs, o)
		qd.objByID[o.id] = o
		o.AVUs = avus(tObjMeta, o.id, o.AVUs)
		// Replicas in the order of their numbers, as SQLite reads them.
		slices.SortFunc(o.Repls, func(a, b *qRepl) int { return a.Num - b.Num })
		for range o.NRepls {
			o.Repls = append(o.Repls, &qRepl{})
		}
	}
	for _, r := range res.Res {
		qd.rescs = append(qd.rescs, r)
		qd.rescByNm[r.Name] = r
		r.AVUs = avus(tRescMeta, int64(idOf(r.UID)), r.AVUs)
	}
	for _, u := range res.U {
		qd.users = append(qd.users, u)
		qd.userByID[catalog.UserID{Name: u.Name, Zone: u.Zone}] = u
		u.AVUs = avus(tUserMeta, int64(idOf(u.UID)), u.AVUs)
	}
	return qd, nil
}

// avuFilter is the filter on the AVUs of a target that meet the
// restrictions on attr and val, "" for none.
func (d *dqlBuilder) avuFilter(attr, val *restriction) string {
	var fs []string
	for _, x := range []struct {
		pred string
		r    *restriction
	}{{"P.attr", attr}, {"P.val", val}} {
		if x.r == nil {
			continue
		}
		root, f := d.funcs(x.pred, x.r)
		fs = append(append(fs, root), f...)
	}
	return strings.Join(fs, " AND ")
}

func nonEmpty(f string) []string {
	if f == "" {
		return nil
	}
	return []string{f}
}

// seedRoot is the root function of a block that selects the nodes in
// every seed variable and meeting the functions fs: the first seed, or,
// without seeds, the first function.
func seedRoot(seeds, fs []string) string {
	if len(seeds) > 0 {
		return "uid(" + seeds[0] + ")"
	}
	return fs[0]
}

// seedFilters are the filters that complete seedRoot.
func seedFilters(seeds, fs []string) []string {
	if len(seeds) == 0 {
		return fs[1:]
	}
	var out []string
	for _, s := range seeds[1:] {
		out = append(out, "uid("+s+")")
	}
	return append(out, fs...)
}
