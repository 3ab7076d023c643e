package dgraph

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
)

// Query runs an iquest query for caller with the semantics of the SQLite
// backend (catalog/sqlite/query.go), which is the reference: the same rows,
// values rendered alike, the same permission filter.
//
// The query is evaluated here, in Go, over the rows its result can hold,
// read from Dgraph in one snapshot: the conditions that an index answers
// and the caller's grants choose them (see query_load.go). The joins, the
// permission filter, grouping, ordering and limits are evaluated on what
// comes back. Counts by AVU value, which read much of the zone, Dgraph
// counts itself (see query_count.go).
func (c *Catalog) Query(ctx context.Context, q *query.Query, caller catalog.Caller, fn func(row []string) error) error {
	pl, err := planQuery(q)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	var rows [][]string
	err = c.read(ctx, func(t *tx) error {
		if ac := countByAVU(q, pl); ac != nil {
			out, err := t.countByAVU(ac, caller)
			if err != nil {
				return err
			}
			rows = finishRows(q, out)
			return nil
		}
		d, err := t.loadQueryData(q, pl, caller)
		if err != nil {
			return err
		}
		rows, err = evalQuery(q, pl, d, caller)
		return err
	})
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	for _, r := range rows {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Tables of a query, as in the SQLite backend: each joined at most once.
type table int

const (
	tObj      table = iota // data objects o
	tRepl                  // replicas r
	tObjMeta               // object AVUs dm
	tObjACL                // object grants da
	tColl                  // collections c
	tCollMeta              // collection AVUs cm
	tCollACL               // collection grants ca
	tResc                  // resources rs
	tRescMeta              // resource AVUs rm
	tUser                  // users u
	tUserMeta              // user AVUs um
	tZone                  // zones z (the children of "/")
	nTables
)

// columnTable is the table of every served column; the list and the
// tables are the SQLite backend's.
var columnTable = map[string]table{
	"COLL_ID": tColl, "COLL_NAME": tColl, "COLL_PARENT_NAME": tColl, "COLL_OWNER_NAME": tColl,
	"COLL_OWNER_ZONE": tColl, "COLL_CREATE_TIME": tColl, "COLL_MODIFY_TIME": tColl,

	"DATA_ID": tRepl, "DATA_COLL_ID": tObj, "DATA_NAME": tObj, "DATA_REPL_NUM": tRepl, "DATA_SIZE": tRepl,
	"DATA_CHECKSUM": tRepl, "DATA_OWNER_NAME": tObj, "DATA_OWNER_ZONE": tObj, "DATA_RESC_NAME": tRepl,
	"DATA_RESC_HIER": tRepl, "DATA_REPL_STATUS": tRepl, "DATA_PATH": tRepl, "DATA_CREATE_TIME": tRepl,
	"DATA_MODIFY_TIME": tRepl,

	"META_DATA_ATTR_NAME": tObjMeta, "META_DATA_ATTR_VALUE": tObjMeta, "META_DATA_ATTR_UNITS": tObjMeta,
	"META_COLL_ATTR_NAME": tCollMeta, "META_COLL_ATTR_VALUE": tCollMeta, "META_COLL_ATTR_UNITS": tCollMeta,
	"META_RESC_ATTR_NAME": tRescMeta, "META_RESC_ATTR_VALUE": tRescMeta, "META_RESC_ATTR_UNITS": tRescMeta,
	"META_USER_ATTR_NAME": tUserMeta, "META_USER_ATTR_VALUE": tUserMeta, "META_USER_ATTR_UNITS": tUserMeta,

	"USER_ID": tUser, "USER_NAME": tUser, "USER_TYPE": tUser, "USER_ZONE": tUser, "USER_INFO": tUser,
	"USER_CREATE_TIME": tUser, "USER_MODIFY_TIME": tUser,

	"DATA_ACCESS_NAME": tObjACL, "DATA_ACCESS_USER_NAME": tObjACL, "DATA_ACCESS_USER_ZONE": tObjACL,
	"COLL_ACCESS_NAME": tCollACL, "COLL_ACCESS_USER_NAME": tCollACL, "COLL_ACCESS_USER_ZONE": tCollACL,

	"RESC_ID": tResc, "RESC_NAME": tResc, "RESC_ZONE_NAME": tResc, "RESC_TYPE_NAME": tResc, "RESC_LOC": tResc,
	"RESC_STATUS": tResc, "RESC_COMMENT": tResc, "RESC_CONTEXT": tResc, "RESC_PARENT": tResc,
	"RESC_CREATE_TIME": tResc, "RESC_MODIFY_TIME": tResc,

	"ZONE_ID": tZone, "ZONE_NAME": tZone, "ZONE_TYPE": tZone, "ZONE_CONNECTION": tZone, "ZONE_COMMENT": tZone,
}

var unsupportedColumns = map[string]string{
	"COLL_INHERITANCE":      "collections have no inheritance flag yet",
	"DATA_TYPE_NAME":        "data objects have no data type",
	"USER_COMMENT":          "users have no comment",
	"USER_GROUP_ID":         "the catalog has no group membership yet",
	"USER_GROUP_NAME":       "the catalog has no group membership yet",
	"RESC_CLASS_NAME":       "resources have no class",
	"RESC_VAULT_PATH":       "resources have one location (RESC_LOC)",
	"RESC_INFO":             "resources have no info",
	"RESC_FREE_SPACE":       "resources have no free space record",
	"META_DATA_CREATE_TIME": "AVUs have no times",
	"META_DATA_MODIFY_TIME": "AVUs have no times",
	"META_COLL_CREATE_TIME": "AVUs have no times",
	"META_COLL_MODIFY_TIME": "AVUs have no times",
	"META_RESC_CREATE_TIME": "AVUs have no times",
	"META_RESC_MODIFY_TIME": "AVUs have no times",
	"META_USER_CREATE_TIME": "AVUs have no times",
	"META_USER_MODIFY_TIME": "AVUs have no times",
}

func columnTableOf(col *query.Column) (table, error) {
	if t, ok := columnTable[col.Name]; ok {
		return t, nil
	}
	why := unsupportedColumns[col.Name]
	switch col.Entity {
	case query.EntityTicket:
		why = "the catalog has no tickets yet"
	case query.EntityQuota:
		why = "the catalog has no quotas yet"
	}
	if why == "" {
		why = "unknown column"
	}
	return 0, fmt.Errorf("%w: column %s is not supported by the Dgraph catalog: %s",
		catalog.ErrInvalidArgument, col.Name, why)
}

// plan is which tables a query joins and which permissions it checks.
type plan struct {
	use       [nTables]bool
	checkObj  bool
	checkColl bool
}

func (p *plan) has(ts ...table) bool {
	for _, t := range ts {
		if p.use[t] {
			return true
		}
	}
	return false
}

func (p *plan) objSide() bool  { return p.has(tObj, tRepl, tObjMeta, tObjACL) }
func (p *plan) collSide() bool { return p.has(tColl, tCollMeta, tCollACL) }

// planQuery chooses the tables as compileQuery of the SQLite backend does.
func planQuery(q *query.Query) (*plan, error) {
	p := &plan{}
	u := &p.use
	for _, col := range q.Columns() {
		t, err := columnTableOf(col)
		if err != nil {
			return nil, err
		}
		u[t] = true
		if col.Entity == query.EntityData {
			u[tRepl] = true
		}
	}
	if len(q.OrderBy) > 0 {
		for _, o := range q.OrderBy {
			if !slices.ContainsFunc(q.Select, func(s query.SelectItem) bool { return s.Agg == o.Item.Agg && s.Column == o.Item.Column }) {
				return nil, fmt.Errorf("%w: ORDER BY %s is not selected", catalog.ErrInvalidArgument, o.Item)
			}
		}
	}
	rescSide := p.has(tResc, tRescMeta)
	userSide := p.has(tUser, tUserMeta)
	p.checkColl = p.collSide()
	if rescSide && p.collSide() && !p.objSide() {
		u[tRepl] = true
	}
	if rescSide && p.objSide() {
		u[tRepl], u[tResc] = true, true
	}
	if p.collSide() && p.objSide() {
		u[tObj] = true
	}
	if userSide && (p.objSide() || p.collSide()) {
		u[tUser] = true
		if p.objSide() {
			u[tObj] = true
		} else {
			u[tColl] = true
		}
	}
	if u[tZone] {
		switch {
		case userSide:
			u[tUser] = true
		case p.objSide():
			u[tObj], u[tColl] = true, true
		case p.collSide():
			u[tColl] = true
		}
	}
	p.checkObj = p.objSide()
	return p, nil
}

// binding is one joined row: an element of each table the query uses.
type binding struct {
	o          *qObj
	r          *qRepl
	dm, cm     *qAVU
	rm, um     *qAVU
	da, ca     *catalog.ACE
	c          *qColl
	rs         *qRes
	u          *qUser
	z          *qColl
	objID      int64
	collID     int64
	haveObjID  bool
	haveCollID bool
}

// join calls fn with every row of the join of the tables pl uses.
func (d *queryData) join(pl *plan, fn func(b *binding) error) error {
	var b binding
	var step func(t table) error
	step = func(t table) error {
		for t < nTables && !pl.use[t] {
			t++
		}
		if t == nTables {
			return fn(&b)
		}
		next := t + 1
		switch t {
		case tObj:
			for _, o := range d.objs {
				b.o, b.objID, b.haveObjID = o, o.id, true
				b.collID, b.haveCollID = o.collID, true
				if err := step(next); err != nil {
					return err
				}
			}
			b.o, b.haveObjID, b.haveCollID = nil, false, false
		case tRepl:
			if b.haveObjID {
				if o := d.objByID[b.objID]; o != nil {
					for _, r := range o.Repls {
						b.r = r
						if err := step(next); err != nil {
							return err
						}
					}
				}
				b.r = nil
				break
			}
			for _, o := range d.objs {
				b.objID, b.haveObjID = o.id, true
				for _, r := range o.Repls {
					b.r = r
					if err := step(next); err != nil {
						return err
					}
				}
			}
			b.r, b.haveObjID = nil, false
		case tObjMeta, tCollMeta, tRescMeta, tUserMeta:
			as := d.avus[t]
			var set *bool
			var id *int64
			switch t {
			case tObjMeta:
				set, id = &b.haveObjID, &b.objID
				if *set {
					as = nil
					if o := d.objByID[*id]; o != nil {
						as = o.AVUs
					}
				}
			case tCollMeta:
				set, id = &b.haveCollID, &b.collID
				if *set {
					as = nil
					if c := d.collByID[*id]; c != nil {
						as = c.AVUs
					}
				}
			case tRescMeta:
				if b.rs != nil {
					as = b.rs.AVUs
				}
			case tUserMeta:
				if b.u != nil {
					as = b.u.AVUs
				}
			}
			bound := set != nil && *set
			for _, a := range as {
				if set != nil && !bound {
					*id, *set = a.of, true
				}
				switch t {
				case tObjMeta:
					b.dm = a
				case tCollMeta:
					b.cm = a
				case tRescMeta:
					b.rm = a
				case tUserMeta:
					b.um = a
				}
				if err := step(next); err != nil {
					return err
				}
			}
			if set != nil && !bound {
				*set = false
			}
		case tObjACL, tCollACL:
			set, id := &b.haveObjID, &b.objID
			if t == tCollACL {
				set, id = &b.haveCollID, &b.collID
			}
			type ace struct {
				id int64
				a  *catalog.ACE
			}
			var aces []ace
			add := func(id int64, acl []catalog.ACE) {
				for i := range acl {
					aces = append(aces, ace{id, &acl[i]})
				}
			}
			bound := *set
			switch {
			case t == tObjACL && bound:
				if o := d.objByID[*id]; o != nil {
					add(o.id, o.acl)
				}
			case t == tObjACL:
				for _, o := range d.objs {
					add(o.id, o.acl)
				}
			case bound:
				if c := d.collByID[*id]; c != nil {
					add(c.id, c.acl)
				}
			default:
				for _, c := range d.colls {
					add(c.id, c.acl)
				}
			}
			for _, a := range aces {
				if !bound {
					*id, *set = a.id, true
				}
				if t == tObjACL {
					b.da = a.a
				} else {
					b.ca = a.a
				}
				if err := step(next); err != nil {
					return err
				}
			}
			if !bound {
				*set = false
			}
		case tColl:
			cs := d.colls
			bound := b.haveCollID
			if bound {
				cs = nil
				if c := d.collByID[b.collID]; c != nil {
					cs = []*qColl{c}
				}
			}
			for _, c := range cs {
				b.c = c
				if !bound {
					b.collID, b.haveCollID = c.id, true
				}
				if err := step(next); err != nil {
					return err
				}
			}
			b.c = nil
			if !bound {
				b.haveCollID = false
			}
		case tResc:
			rs := d.rescs
			if b.r != nil {
				rs = nil
				if r := d.rescByNm[b.r.Resc]; r != nil {
					rs = []*qRes{r}
				}
			}
			for _, r := range rs {
				b.rs = r
				if err := step(next); err != nil {
					return err
				}
			}
			b.rs = nil
		case tUser:
			// Beside an ACL, the user is the grantee of the ACL row, as
			// in iRODS; otherwise the owner of the object or collection.
			us := d.users
			var who catalog.UserID
			linked := true
			switch {
			case b.da != nil:
				who = b.da.Principal
			case b.ca != nil:
				who = b.ca.Principal
			case b.o != nil:
				who = parseUserKey(b.o.Owner)
			case b.c != nil:
				who = parseUserKey(b.c.Owner)
			default:
				linked = false
			}
			if linked {
				us = nil
				if u := d.userByID[who]; u != nil {
					us = []*qUser{u}
				}
			}
			for _, u := range us {
				b.u = u
				if err := step(next); err != nil {
					return err
				}
			}
			b.u = nil
		case tZone:
			for _, z := range d.zones {
				name := strings.TrimPrefix(z.Path, "/")
				switch {
				case b.u != nil:
					if b.u.Zone != name {
						continue
					}
				case b.c != nil:
					if b.c.Path != "/"+name && !strings.HasPrefix(b.c.Path, "/"+name+"/") {
						continue
					}
				}
				b.z = z
				if err := step(next); err != nil {
					return err
				}
			}
			b.z = nil
		}
		return nil
	}
	return step(0)
}

// value is a column value: an int64, a string, or nil.
func (d *queryData) value(b *binding, col *query.Column) any {
	secs := func(ns int64) any { return ns / 1_000_000_000 }
	switch col.Name {
	case "COLL_ID":
		return b.collID
	case "COLL_NAME":
		return b.c.Path
	case "COLL_PARENT_NAME":
		return b.c.Parent.Path
	case "COLL_OWNER_NAME":
		return parseUserKey(b.c.Owner).Name
	case "COLL_OWNER_ZONE":
		return parseUserKey(b.c.Owner).Zone
	case "COLL_CREATE_TIME":
		return secs(b.c.CTime)
	case "COLL_MODIFY_TIME":
		return secs(b.c.MTime)
	case "DATA_ID":
		return b.objID
	case "DATA_COLL_ID":
		return b.o.collID
	case "DATA_NAME":
		return b.o.Name
	case "DATA_REPL_NUM":
		return int64(b.r.Num)
	case "DATA_SIZE":
		return b.r.Size
	case "DATA_CHECKSUM":
		return b.r.Sum
	case "DATA_OWNER_NAME":
		return parseUserKey(b.o.Owner).Name
	case "DATA_OWNER_ZONE":
		return parseUserKey(b.o.Owner).Zone
	case "DATA_RESC_NAME":
		return b.r.Resc
	case "DATA_RESC_HIER":
		return d.hier(b.r.Resc)
	case "DATA_REPL_STATUS":
		return int64(2 - b.r.Status)
	case "DATA_PATH":
		return b.r.PPath
	case "DATA_CREATE_TIME":
		return secs(b.r.CTime)
	case "DATA_MODIFY_TIME":
		return secs(b.r.MTime)
	case "META_DATA_ATTR_NAME":
		return *b.dm.Attr
	case "META_DATA_ATTR_VALUE":
		return b.dm.Val
	case "META_DATA_ATTR_UNITS":
		return b.dm.Unit
	case "META_COLL_ATTR_NAME":
		return *b.cm.Attr
	case "META_COLL_ATTR_VALUE":
		return b.cm.Val
	case "META_COLL_ATTR_UNITS":
		return b.cm.Unit
	case "META_RESC_ATTR_NAME":
		return *b.rm.Attr
	case "META_RESC_ATTR_VALUE":
		return b.rm.Val
	case "META_RESC_ATTR_UNITS":
		return b.rm.Unit
	case "META_USER_ATTR_NAME":
		return *b.um.Attr
	case "META_USER_ATTR_VALUE":
		return b.um.Val
	case "META_USER_ATTR_UNITS":
		return b.um.Unit
	case "USER_ID":
		return int64(idOf(b.u.UID))
	case "USER_NAME":
		return b.u.Name
	case "USER_TYPE":
		return b.u.Type
	case "USER_ZONE":
		return b.u.Zone
	case "USER_INFO":
		return b.u.Info
	case "USER_CREATE_TIME":
		return secs(b.u.CTime)
	case "USER_MODIFY_TIME":
		return secs(b.u.MTime)
	case "DATA_ACCESS_NAME":
		return levelName(b.da.Level)
	case "DATA_ACCESS_USER_NAME":
		return b.da.Principal.Name
	case "DATA_ACCESS_USER_ZONE":
		return b.da.Principal.Zone
	case "COLL_ACCESS_NAME":
		return levelName(b.ca.Level)
	case "COLL_ACCESS_USER_NAME":
		return b.ca.Principal.Name
	case "COLL_ACCESS_USER_ZONE":
		return b.ca.Principal.Zone
	case "RESC_ID":
		return int64(idOf(b.rs.UID))
	case "RESC_NAME":
		return b.rs.Name
	case "RESC_ZONE_NAME":
		return d.local
	case "RESC_TYPE_NAME":
		return b.rs.Type
	case "RESC_LOC":
		return b.rs.Loc
	case "RESC_STATUS":
		return b.rs.Status
	case "RESC_COMMENT":
		return b.rs.Comment
	case "RESC_CONTEXT":
		return b.rs.Ctx
	case "RESC_PARENT":
		return b.rs.Parent
	case "RESC_CREATE_TIME":
		return secs(b.rs.CTime)
	case "RESC_MODIFY_TIME":
		return secs(b.rs.MTime)
	case "ZONE_ID":
		return b.z.id
	case "ZONE_NAME":
		return strings.TrimPrefix(b.z.Path, "/")
	case "ZONE_TYPE":
		return "local"
	case "ZONE_CONNECTION", "ZONE_COMMENT":
		return ""
	}
	return nil
}

func levelName(l catalog.AccessLevel) string {
	switch l {
	case catalog.AccessRead:
		return "read"
	case catalog.AccessWrite:
		return "write"
	case catalog.AccessOwn:
		return "own"
	}
	return "null"
}

// hier is root;...;name of the resource name, or name when it has no row.
func (d *queryData) hier(name string) string {
	r := d.rescByNm[name]
	if r == nil {
		return name
	}
	parts := []string{name}
	seen := map[string]bool{name: true}
	for p := r.Parent; p != "" && !seen[p]; {
		seen[p] = true
		parts = append(parts, p)
		pr := d.rescByNm[p]
		if pr == nil {
			break
		}
		p = pr.Parent
	}
	slices.Reverse(parts)
	return strings.Join(parts, ";")
}

// compareValues orders two values as SQLite does: NULL first, numbers
// numerically, strings byte-wise.
func compareValues(a, b any) int {
	switch a := a.(type) {
	case nil:
		if b == nil {
			return 0
		}
		return -1
	case int64:
		switch b := b.(type) {
		case nil:
			return 1
		case int64:
			return cmp.Compare(a, b)
		case float64:
			return cmp.Compare(float64(a), b)
		}
		return -1
	case float64:
		switch b := b.(type) {
		case nil:
			return 1
		case int64:
			return cmp.Compare(a, float64(b))
		case float64:
			return cmp.Compare(a, b)
		}
		return -1
	case string:
		if s, ok := b.(string); ok {
			return strings.Compare(a, s)
		}
		return 1
	}
	return 0
}

// literal is the value a condition compares with; times are whole unix
// seconds as the SQLite backend compares them.
func literal(v query.Value) any {
	switch v.Kind {
	case query.KindInt:
		return v.Int
	case query.KindFloat:
		return v.Float
	case query.KindTime:
		return v.Time.Unix()
	}
	return v.Str
}

func ceilSeconds(v query.Value) int64 {
	s := v.Time.Unix()
	if v.Time.Nanosecond() != 0 {
		s++
	}
	return s
}

// holds evaluates a condition on a row.
func (d *queryData) holds(b *binding, e query.Expr) bool {
	switch e := e.(type) {
	case *query.And:
		for _, x := range e.Terms {
			if !d.holds(b, x) {
				return false
			}
		}
		return true
	case *query.Or:
		for _, x := range e.Terms {
			if d.holds(b, x) {
				return true
			}
		}
		return false
	case *query.Not:
		return !d.holds(b, e.X)
	case *query.Compare:
		v := d.predValue(b, e)
		lit := literal(e.Value)
		if e.Value.Kind == query.KindTime {
			whole := e.Value.Time.Nanosecond() == 0
			switch e.Op {
			case query.OpEq:
				if !whole {
					return false
				}
			case query.OpNe:
				if !whole {
					return true
				}
			case query.OpLt, query.OpGe:
				lit = ceilSeconds(e.Value)
			}
		}
		c := compareValues(v, lit)
		switch e.Op {
		case query.OpEq:
			return c == 0
		case query.OpNe:
			return c != 0
		case query.OpLt:
			return c < 0
		case query.OpLe:
			return c <= 0
		case query.OpGt:
			return c > 0
		case query.OpGe:
			return c >= 0
		}
		return false
	case *query.Like:
		s, ok := d.predValue(b, e).(string)
		return ok && catalog.MatchLike(e.Pattern, s)
	case *query.In:
		v := d.predValue(b, e)
		for _, x := range e.Values {
			if x.Kind == query.KindTime && x.Time.Nanosecond() != 0 {
				continue
			}
			if compareValues(v, literal(x)) == 0 {
				return true
			}
		}
		return false
	case *query.Between:
		v := d.predValue(b, e)
		lo, hi := literal(e.Low), literal(e.High)
		if e.Low.Kind == query.KindTime {
			lo, hi = ceilSeconds(e.Low), e.High.Time.Unix()
		}
		return compareValues(v, lo) >= 0 && compareValues(v, hi) <= 0
	}
	return false
}

// predValue is the value the predicate e compares: its column's, or for
// UPPER(column) that with ASCII letters in upper case, as SQLite's upper().
func (d *queryData) predValue(b *binding, e query.Expr) any {
	v := d.value(b, query.PredicateColumn(e))
	if s, ok := v.(string); ok && query.Upper(e) {
		return query.UpperASCII(s)
	}
	return v
}

// permitted reports whether the caller may read the row's object and
// collection, as far as the plan checks them.
func (d *queryData) permitted(b *binding, pl *plan, caller catalog.Caller) bool {
	if caller.Admin {
		return true
	}
	grants := func(acl []catalog.ACE) bool {
		for _, a := range acl {
			if a.Level < catalog.AccessRead {
				continue
			}
			if a.Principal == caller.User || a.Principal == (catalog.UserID{Name: "public", Zone: caller.User.Zone}) ||
				slices.Contains(caller.Groups, a.Principal) {
				return true
			}
		}
		return false
	}
	if pl.checkObj && !d.objsPermitted {
		o := d.objByID[b.objID]
		if o == nil || !grants(o.acl) {
			return false
		}
	}
	if pl.checkColl && !d.collsPermitted {
		c := d.collByID[b.collID]
		if c == nil || !grants(c.acl) {
			return false
		}
	}
	return true
}

// evalQuery evaluates q over d and renders its rows.
func evalQuery(q *query.Query, pl *plan, d *queryData, caller catalog.Caller) ([][]string, error) {
	var out [][]any
	aggregated := q.Aggregated()
	type group struct {
		first *binding
		vals  [][]any // per select item, the values of the rows
		n     int
	}
	var groups []*group
	byKey := map[string]*group{}
	err := d.join(pl, func(b *binding) error {
		if q.Where != nil && !d.holds(b, q.Where) {
			return nil
		}
		if !d.permitted(b, pl, caller) {
			return nil
		}
		if !aggregated {
			row := make([]any, len(q.Select))
			for i, s := range q.Select {
				row[i] = d.value(b, s.Column)
			}
			out = append(out, row)
			return nil
		}
		var key strings.Builder
		for _, col := range q.GroupBy {
			fmt.Fprintf(&key, "%T:%v\x00", d.value(b, col), d.value(b, col))
		}
		g := byKey[key.String()]
		if g == nil {
			bc := *b
			g = &group{first: &bc, vals: make([][]any, len(q.Select))}
			byKey[key.String()] = g
			groups = append(groups, g)
		}
		g.n++
		for i, s := range q.Select {
			if s.Agg != query.AggNone {
				g.vals[i] = append(g.vals[i], d.value(b, s.Column))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if aggregated {
		if len(groups) == 0 && len(q.GroupBy) == 0 {
			groups = append(groups, &group{vals: make([][]any, len(q.Select))})
		}
		for _, g := range groups {
			row := make([]any, len(q.Select))
			for i, s := range q.Select {
				if s.Agg == query.AggNone {
					row[i] = d.value(g.first, s.Column)
					continue
				}
				row[i] = aggregate(s.Agg, g.vals[i])
			}
			out = append(out, row)
		}
	}
	return finishRows(q, out), nil
}

// finishRows applies DISTINCT, ORDER BY, OFFSET and LIMIT to the rows of
// q and renders them.
func finishRows(q *query.Query, out [][]any) [][]string {
	// DISTINCT, keeping the first of equal rows.
	seen := map[string]bool{}
	distinct := out[:0]
	for _, row := range out {
		k := fmt.Sprintf("%#v", row)
		if !seen[k] {
			seen[k] = true
			distinct = append(distinct, row)
		}
	}
	out = distinct
	if len(q.OrderBy) > 0 {
		idx := make([]int, len(q.OrderBy))
		for i, o := range q.OrderBy {
			for j, s := range q.Select {
				if s.Agg == o.Item.Agg && s.Column == o.Item.Column {
					idx[i] = j
					break
				}
			}
		}
		slices.SortStableFunc(out, func(a, b []any) int {
			for i, o := range q.OrderBy {
				c := compareValues(a[idx[i]], b[idx[i]])
				if o.Desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	if q.Offset > 0 {
		out = out[min(int64(len(out)), q.Offset):]
	}
	if q.Limit >= 0 && int64(len(out)) > q.Limit {
		out = out[:q.Limit]
	}
	rows := make([][]string, len(out))
	for i, row := range out {
		rows[i] = make([]string, len(row))
		for j, v := range row {
			rows[i][j] = formatValue(v, q.Select[j].Type())
		}
	}
	return rows
}

// aggregate computes an aggregate over the values of a group.
func aggregate(agg query.AggFunc, vals []any) any {
	switch agg {
	case query.AggCount:
		n := int64(0)
		for _, v := range vals {
			if v != nil {
				n++
			}
		}
		return n
	case query.AggSum, query.AggAvg:
		if len(vals) == 0 {
			return nil
		}
		var si int64
		var sf float64
		isFloat := false
		for _, v := range vals {
			switch v := v.(type) {
			case int64:
				si += v
				sf += float64(v)
			case float64:
				sf += v
				isFloat = true
			}
		}
		if agg == query.AggAvg {
			return sf / float64(len(vals))
		}
		if isFloat {
			return sf
		}
		return si
	case query.AggMin, query.AggMax:
		var best any
		for _, v := range vals {
			if v == nil {
				continue
			}
			c := compareValues(v, best)
			if best == nil || (agg == query.AggMin && c < 0) || (agg == query.AggMax && c > 0) {
				best = v
			}
		}
		return best
	}
	return nil
}

// formatValue renders one result value of type t as the SQLite backend does.
func formatValue(v any, t query.Type) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int64:
		if t == query.TypeTime {
			if v < 0 {
				return strconv.FormatInt(v, 10)
			}
			return fmt.Sprintf("%011d", v)
		}
		if t == query.TypeFloat {
			return strconv.FormatFloat(float64(v), 'f', -1, 64)
		}
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return v
	}
	return fmt.Sprint(v)
}
