package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
)

// Caller is catalog.Caller; the short name keeps the tests readable.
type Caller = catalog.Caller

// publicGroup is iRODS's group of everyone (zones.PublicGroup).
const publicGroup = "public"

// Query runs q for caller and calls fn with each result row, in select
// order, as it is read: nothing is buffered. fn's slice is reused by the
// next call; fn must copy it to keep it. An error of fn stops the query and
// is returned. The read transaction (one snapshot, one reader connection)
// stays open while fn runs, so fn should not block for long.
//
// q is compiled to one parameterised SQL statement that joins only the
// tables of the entities q names; see compileQuery. Values are rendered as
// text: integers in decimal, AVG as a decimal float, times as unix seconds
// padded to 11 digits as iRODS writes them ("01700000000"; a query accepts
// them back), and a SUM, MIN, MAX or AVG over no rows as "". Columns that
// this catalog does not store (see unsupportedColumns) are refused with an
// error wrapping catalog.ErrInvalidArgument that names them.
func (c *Catalog) Query(ctx context.Context, q *query.Query, caller Caller, fn func(row []string) error) error {
	useMap := !caller.Admin && scansMany(q)
	stmt, args, mapArg, err := compileQueryWith(q, caller, useMap)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	types := make([]query.Type, len(q.Select))
	for i, s := range q.Select {
		types[i] = s.Type()
	}
	err = c.read(ctx, func(r *rtx) error {
		if mapArg > 0 {
			m, ok, err := readableObjects(r, caller)
			if err != nil {
				return err
			}
			if ok {
				args[mapArg-1] = m
			} else if stmt, args, _, err = compileQueryWith(q, caller, false); err != nil {
				return err
			}
		}
		// Not through the statement cache: query texts are as many as
		// users write, and the cache is never emptied.
		rows, err := r.tx.QueryContext(ctx, stmt, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		out := make([]string, len(types))
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			for i, v := range vals {
				out[i] = formatValue(v, types[i])
			}
			if err := fn(out); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	return nil
}

// formatValue renders one result value of type t.
func formatValue(v any, t query.Type) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int64:
		if t == query.TypeTime {
			return formatSeconds(v)
		}
		if t == query.TypeFloat {
			return strconv.FormatFloat(float64(v), 'f', -1, 64)
		}
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return v
	case []byte:
		return string(v)
	}
	return fmt.Sprint(v)
}

// formatSeconds writes unix seconds as iRODS does: zero-padded to 11 digits.
func formatSeconds(s int64) string {
	if s < 0 {
		return strconv.FormatInt(s, 10)
	}
	return fmt.Sprintf("%011d", s)
}

// Tables of a query. Each is joined at most once, under its alias.
type table int

const (
	tObj       table = iota // data_objects o
	tRepl                   // replicas r
	tObjMeta                // avus dm (kind 'object')
	tObjACL                 // access da (kind 'object')
	tColl                   // collections c
	tCollMeta               // avus cm (kind 'collection')
	tCollACL                // access ca (kind 'collection')
	tResc                   // resources rs
	tRescMeta               // avus rm (kind 'resource')
	tUser                   // users u
	tUserMeta               // avus um (kind 'user')
	tUserGroup              // group_members ugm with the group's users row ug
	tZone                   // collections z (the children of "/")
	tTicket                 // tickets t (queried on their own)
	nTables
)

// from is each table's FROM item and the condition that makes its rows
// those of its kind.
var from = [nTables]struct{ item, cond string }{
	tObj:       {"data_objects o", ""},
	tRepl:      {"replicas r", ""},
	tObjMeta:   {"avus dm", "dm.kind = 'object'"},
	tObjACL:    {"access da", "da.kind = 'object'"},
	tColl:      {"collections c", ""},
	tCollMeta:  {"avus cm", "cm.kind = 'collection'"},
	tCollACL:   {"access ca", "ca.kind = 'collection'"},
	tResc:      {"resources rs", ""},
	tRescMeta:  {"avus rm", "rm.kind = 'resource'"},
	tUser:      {"users u", ""},
	tUserMeta:  {"avus um", "um.kind = 'user'"},
	tUserGroup: {"group_members ugm JOIN users ug ON ug.id = ugm.group_id", ""},
	// Only tickets whose data object or collection still exists.
	tTicket: {"tickets t", "CASE t.kind WHEN 'collection' THEN EXISTS (SELECT 1 FROM collections tc WHERE tc.id = t.target_id) " +
		"ELSE EXISTS (SELECT 1 FROM data_objects tdo WHERE tdo.id = t.target_id) END"},
	tZone: {"collections z", "z.parent_id = 1 AND z.id <> 1"},
}

// Pseudo-expressions resolved once the tables are known.
const (
	exprObjID  = "<objid>"  // id of the data object of the row
	exprCollID = "<collid>" // id of the collection of the row
)

// colSpec says how a column is computed: from which table, by which SQL
// expression (fixed text, never user input).
type colSpec struct {
	table table
	expr  string
}

// levelName renders an access level as the registry names it.
func levelName(alias string) string {
	return "CASE " + alias + ".level WHEN 1 THEN 'read' WHEN 2 THEN 'write' WHEN 3 THEN 'own' ELSE 'null' END"
}

// seconds renders a stored time (unix nanoseconds) as unix seconds, the
// precision of the query language as of iRODS.
func seconds(col string) string { return "(" + col + " / 1000000000)" }

// localZone is the zone of this catalog: the first collection made under
// "/" (a catalog serves one zone, whose root collection is /zone).
const localZone = "COALESCE((SELECT name FROM collections WHERE parent_id = 1 AND id <> 1 ORDER BY id LIMIT 1), '')"

// columns maps every served column of the registry.
var columns = map[string]colSpec{
	"COLL_ID":          {tColl, exprCollID},
	"COLL_NAME":        {tColl, "c.path"},
	"COLL_PARENT_NAME": {tColl, "COALESCE((SELECT cp.path FROM collections cp WHERE cp.id = c.parent_id), '')"},
	"COLL_OWNER_NAME":  {tColl, "c.owner_name"},
	"COLL_OWNER_ZONE":  {tColl, "c.owner_zone"},
	"COLL_CREATE_TIME": {tColl, seconds("c.create_ns")},
	"COLL_MODIFY_TIME": {tColl, seconds("c.modify_ns")},
	"COLL_INHERITANCE": {tColl, "c.inherit"},

	"DATA_ID":          {tRepl, exprObjID},
	"DATA_COLL_ID":     {tObj, "o.coll_id"},
	"DATA_NAME":        {tObj, "o.name"},
	"DATA_REPL_NUM":    {tRepl, "r.number"},
	"DATA_SIZE":        {tRepl, "r.size"},
	"DATA_CHECKSUM":    {tRepl, "r.checksum"},
	"DATA_OWNER_NAME":  {tObj, "o.owner_name"},
	"DATA_OWNER_ZONE":  {tObj, "o.owner_zone"},
	"DATA_RESC_NAME":   {tRepl, "r.resource"},
	"DATA_RESC_HIER":   {tRepl, "COALESCE(rh.hier, r.resource)"},
	"DATA_REPL_STATUS": {tRepl, "(2 - r.status)"}, // catalog 0 intermediate, 1 good, 2 stale -> iRODS 2, 1, 0
	"DATA_PATH":        {tRepl, "r.physical_path"},
	"DATA_CREATE_TIME": {tRepl, seconds("r.create_ns")},
	"DATA_MODIFY_TIME": {tRepl, seconds("r.modify_ns")},

	"META_DATA_ATTR_NAME":  {tObjMeta, "dm.attribute"},
	"META_DATA_ATTR_VALUE": {tObjMeta, "dm.value"},
	"META_DATA_ATTR_UNITS": {tObjMeta, "dm.unit"},
	"META_COLL_ATTR_NAME":  {tCollMeta, "cm.attribute"},
	"META_COLL_ATTR_VALUE": {tCollMeta, "cm.value"},
	"META_COLL_ATTR_UNITS": {tCollMeta, "cm.unit"},
	"META_RESC_ATTR_NAME":  {tRescMeta, "rm.attribute"},
	"META_RESC_ATTR_VALUE": {tRescMeta, "rm.value"},
	"META_RESC_ATTR_UNITS": {tRescMeta, "rm.unit"},
	"META_USER_ATTR_NAME":  {tUserMeta, "um.attribute"},
	"META_USER_ATTR_VALUE": {tUserMeta, "um.value"},
	"META_USER_ATTR_UNITS": {tUserMeta, "um.unit"},

	"USER_ID":          {tUser, "u.id"},
	"USER_NAME":        {tUser, "u.name"},
	"USER_TYPE":        {tUser, "u.type"},
	"USER_ZONE":        {tUser, "u.zone"},
	"USER_INFO":        {tUser, "u.info"},
	"USER_CREATE_TIME": {tUser, seconds("u.create_ns")},
	"USER_MODIFY_TIME": {tUser, seconds("u.modify_ns")},
	"USER_GROUP_ID":    {tUserGroup, "ug.id"},
	"USER_GROUP_NAME":  {tUserGroup, "ug.name"},

	"DATA_ACCESS_NAME":      {tObjACL, levelName("da")},
	"DATA_ACCESS_USER_NAME": {tObjACL, "da.user_name"},
	"DATA_ACCESS_USER_ZONE": {tObjACL, "da.user_zone"},
	"COLL_ACCESS_NAME":      {tCollACL, levelName("ca")},
	"COLL_ACCESS_USER_NAME": {tCollACL, "ca.user_name"},
	"COLL_ACCESS_USER_ZONE": {tCollACL, "ca.user_zone"},

	"RESC_ID":          {tResc, "rs.id"},
	"RESC_NAME":        {tResc, "rs.name"},
	"RESC_ZONE_NAME":   {tResc, localZone},
	"RESC_TYPE_NAME":   {tResc, "rs.type"},
	"RESC_LOC":         {tResc, "rs.location"},
	"RESC_STATUS":      {tResc, "rs.status"},
	"RESC_COMMENT":     {tResc, "rs.comment"},
	"RESC_CONTEXT":     {tResc, "rs.context"},
	"RESC_PARENT":      {tResc, "COALESCE(rs.parent, '')"},
	"RESC_CREATE_TIME": {tResc, seconds("rs.create_ns")},
	"RESC_MODIFY_TIME": {tResc, seconds("rs.modify_ns")},

	"ZONE_ID":         {tZone, "z.id"},
	"ZONE_NAME":       {tZone, "z.name"},
	"ZONE_TYPE":       {tZone, "'local'"},
	"ZONE_CONNECTION": {tZone, "''"},
	"ZONE_COMMENT":    {tZone, "''"},

	"TICKET_ID":          {tTicket, "t.id"},
	"TICKET_TYPE":        {tTicket, "t.type"},
	"TICKET_OWNER_NAME":  {tTicket, "t.owner_name"},
	"TICKET_OWNER_ZONE":  {tTicket, "t.owner_zone"},
	"TICKET_OBJECT_TYPE": {tTicket, "CASE t.kind WHEN 'object' THEN 'data' ELSE 'collection' END"},
	"TICKET_DATA_NAME": {tTicket, "CASE t.kind WHEN 'object' THEN " +
		"COALESCE((SELECT tdo.name FROM data_objects tdo WHERE tdo.id = t.target_id), '') ELSE '' END"},
	"TICKET_COLL_NAME": {tTicket, "CASE t.kind WHEN 'collection' THEN (SELECT tc.path FROM collections tc WHERE tc.id = t.target_id) " +
		"ELSE (SELECT tc.path FROM data_objects tdo JOIN collections tc ON tc.id = tdo.coll_id WHERE tdo.id = t.target_id) END"},
	"TICKET_EXPIRY":           {tTicket, seconds("t.expiry_ns")},
	"TICKET_USES_LIMIT":       {tTicket, "t.uses_limit"},
	"TICKET_USES_COUNT":       {tTicket, "t.uses_count"},
	"TICKET_WRITE_FILE_LIMIT": {tTicket, "t.write_file_limit"},
	"TICKET_WRITE_FILE_COUNT": {tTicket, "t.write_file_count"},
	"TICKET_WRITE_BYTE_LIMIT": {tTicket, "t.write_byte_limit"},
	"TICKET_WRITE_BYTE_COUNT": {tTicket, "t.write_byte_count"},
}

// unsupportedColumns are registry columns the schema does not store, with
// the reason.
var unsupportedColumns = map[string]string{
	"DATA_TYPE_NAME":        "data objects have no data type",
	"TICKET_STRING":         "the catalog keeps only a hash of a ticket string (iticket create shows it once)",
	"USER_COMMENT":          "users have no comment",
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

func columnSpec(col *query.Column) (colSpec, error) {
	if s, ok := columns[col.Name]; ok {
		return s, nil
	}
	why := unsupportedColumns[col.Name]
	switch col.Entity {
	case query.EntityQuota:
		why = "the catalog has no quotas yet"
	}
	if why == "" {
		why = "unknown column"
	}
	return colSpec{}, fmt.Errorf("%w: column %s is not supported by the SQLite catalog: %s",
		catalog.ErrInvalidArgument, col.Name, why)
}

// compiler builds one statement.
type compiler struct {
	use     [nTables]bool
	objID   string // SQL of the row's data object id, "" if none
	collID  string // SQL of the row's collection id, "" if none
	args    []any
	hierCTE bool // resc_hier rh is joined to the replica r
}

func (cp *compiler) arg(v any) string {
	cp.args = append(cp.args, v)
	return "?" + strconv.Itoa(len(cp.args))
}

// expr is the SQL of a column, its pseudo-expressions resolved.
func (cp *compiler) expr(col *query.Column) string {
	s := columns[col.Name]
	switch s.expr {
	case exprObjID:
		return cp.objID
	case exprCollID:
		return cp.collID
	}
	return s.expr
}

// compileQuery turns q into SQL and its arguments.
//
// The FROM clause holds one table per entity of q (Query.Columns), and the
// tables that link them, chosen by plan; WHERE holds the links, q's
// condition and the permission checks; values are always bound parameters.
// The object side (o, r, dm, da) is linked by object id, the collection
// side (c, cm, ca) by collection id, which is o.coll_id when both are
// present; a resource is the one of the replica r, a user (with USER_*
// beside DATA_* or COLL_*) the grantee of the object's ACL row, else of
// the collection's, when the query names an ACL column, and otherwise the
// owner of the object, else of the collection; a zone is the first element of the collection path, or the
// zone of the user.
func compileQuery(q *query.Query, caller Caller) (string, []any, error) {
	stmt, args, _, err := compileQueryWith(q, caller, false)
	return stmt, args, err
}

// scansMany reports whether q aggregates, and so is likely to visit many
// rows: then the permission check per data object is cheaper against a map
// of the caller's readable objects, read once, than as a probe of the
// access table per row (see readableObjects).
func scansMany(q *query.Query) bool {
	if len(q.GroupBy) > 0 {
		return true
	}
	for _, s := range q.Select {
		if s.Agg != query.AggNone {
			return true
		}
	}
	return false
}

// readMapLimit bounds the map of readable objects: one byte per object id.
const readMapLimit = 1 << 25

// readableObjects reads the ids of the data objects the caller has a grant
// on (its own, public's or its groups') into a map of one byte per id,
// 1 for readable, to bind as the BLOB that compileQueryWith's condition
// "substr(map, id + 1, 1) = x'01'" tests: an O(1) test per row, where a
// probe of the access table is a B-tree search. The ids come as one
// group_concat: a row per id through database/sql costs more than the
// whole query. It reports false when the highest id is past readMapLimit.
func readableObjects(r *rtx, caller Caller) ([]byte, bool, error) {
	groups := make([]string, 0, len(caller.Groups)+2)
	groups = append(groups, caller.User.String(), catalog.UserID{Name: publicGroup, Zone: caller.User.Zone}.String())
	for _, g := range caller.Groups {
		groups = append(groups, g.String())
	}
	list, err := json.Marshal(groups)
	if err != nil {
		return nil, false, err
	}
	var (
		ids   sql.NullString
		maxID sql.NullInt64
	)
	// Per principal, the access_principal index yields its object grants
	// in id order without touching the table.
	err = r.tx.QueryRowContext(r.ctx, `SELECT group_concat(p.target_id), max(p.target_id)
		FROM json_each(?1) j, access p INDEXED BY access_principal
		WHERE p.user_name = substr(j.value, 1, instr(j.value, '#') - 1) AND p.user_zone = substr(j.value, instr(j.value, '#') + 1)
			AND p.kind = 'object'`, string(list)).Scan(&ids, &maxID)
	if err != nil {
		return nil, false, err
	}
	if maxID.Int64 >= readMapLimit {
		return nil, false, nil
	}
	m := make([]byte, maxID.Int64+1)
	var cur int64
	s := ids.String
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > 0 {
				m[cur] = 1
			}
			cur = 0
			continue
		}
		cur = cur*10 + int64(s[i]-'0')
	}
	return m, true, nil
}

// compileQueryWith is compileQuery; with readMap, data objects are checked
// against a map of readable objects bound later at the returned argument
// index (1-based; 0 if none), see readableObjects.
func compileQueryWith(q *query.Query, caller Caller, readMap bool) (string, []any, int, error) {
	cp := &compiler{}
	for _, col := range q.Columns() {
		s, err := columnSpec(col)
		if err != nil {
			return "", nil, 0, err
		}
		cp.use[s.table] = true
		if col.Entity == query.EntityData {
			cp.use[tRepl] = true // one row per replica, as in iRODS
		}
	}
	u := &cp.use
	if u[tTicket] {
		// Tickets are queried on their own: they are no part of the
		// tree the other entities join through.
		for t := range nTables {
			if u[t] && t != tTicket {
				return "", nil, 0, fmt.Errorf("%w: TICKET_ columns cannot be combined with other columns", catalog.ErrInvalidArgument)
			}
		}
	}
	has := func(ts ...table) bool {
		for _, t := range ts {
			if u[t] {
				return true
			}
		}
		return false
	}
	objSide := func() bool { return has(tObj, tRepl, tObjMeta, tObjACL) }
	collSide := func() bool { return has(tColl, tCollMeta, tCollACL) }
	rescSide := has(tResc, tRescMeta)
	if u[tUserGroup] {
		u[tUser] = true // the members, by their users row
	}
	userSide := has(tUser, tUserMeta)
	checkColl := collSide() // collections the query names must be readable

	// Tables that link the entities q names.
	if rescSide && collSide() && !objSide() {
		u[tRepl] = true
	}
	if rescSide && objSide() {
		u[tRepl], u[tResc] = true, true
	}
	if collSide() && objSide() {
		u[tObj] = true
	}
	if userSide && (objSide() || collSide()) {
		u[tUser] = true
		if objSide() {
			u[tObj] = true
		} else {
			u[tColl] = true
		}
	}
	if u[tZone] {
		switch {
		case userSide:
			u[tUser] = true
		case objSide():
			u[tObj], u[tColl] = true, true
		case collSide():
			u[tColl] = true
		}
	}

	var where []string
	// Anchors: the object id and collection id of the row.
	for _, a := range []struct {
		t    table
		expr string
	}{{tObj, "o.id"}, {tRepl, "r.object_id"}, {tObjMeta, "dm.target_id"}, {tObjACL, "da.target_id"}} {
		if !u[a.t] {
			continue
		}
		if cp.objID == "" {
			cp.objID = a.expr
		} else {
			where = append(where, a.expr+" = "+cp.objID)
		}
	}
	if u[tObj] {
		cp.collID = "o.coll_id"
	}
	for _, a := range []struct {
		t    table
		expr string
	}{{tColl, "c.id"}, {tCollMeta, "cm.target_id"}, {tCollACL, "ca.target_id"}} {
		if !u[a.t] {
			continue
		}
		if cp.collID == "" {
			cp.collID = a.expr
		} else {
			where = append(where, a.expr+" = "+cp.collID)
		}
	}
	if u[tResc] && u[tRepl] {
		where = append(where, "rs.name = r.resource")
	}
	if u[tRescMeta] && u[tResc] {
		where = append(where, "rm.target_id = rs.id")
	}
	if u[tUser] {
		// Beside an ACL, a user is the grantee of the ACL row, as in
		// iRODS ("select DATA_NAME, DATA_ACCESS_NAME, USER_NAME" audits
		// who may do what); otherwise the owner.
		switch {
		case u[tObjACL]:
			where = append(where, "u.name = da.user_name AND u.zone = da.user_zone")
		case u[tCollACL]:
			where = append(where, "u.name = ca.user_name AND u.zone = ca.user_zone")
		case u[tObj]:
			where = append(where, "u.name = o.owner_name AND u.zone = o.owner_zone")
		case u[tColl]:
			where = append(where, "u.name = c.owner_name AND u.zone = c.owner_zone")
		}
		if u[tUserMeta] {
			where = append(where, "um.target_id = u.id")
		}
		if u[tUserGroup] {
			where = append(where, "ugm.user_id = u.id")
		}
	}
	if u[tZone] {
		switch {
		case u[tUser]:
			where = append(where, "z.name = u.zone")
		case u[tColl]:
			where = append(where, "(c.path = '/' || z.name OR substr(c.path, 1, length(z.name) + 2) = '/' || z.name || '/')")
		}
	}

	// DATA_RESC_HIER is read from the hierarchy of every resource,
	// joined once to the replica: as a subquery per mention, a query
	// naming it a hundred times was "nested too deep" for SQLite.
	for _, col := range q.Columns() {
		if col.Name == "DATA_RESC_HIER" {
			cp.hierCTE = true
		}
	}
	var fromItems []string
	for t := range nTables {
		if !u[t] {
			continue
		}
		if t == tRepl && cp.hierCTE {
			fromItems = append(fromItems, from[t].item+" LEFT JOIN resc_hier rh ON rh.name = r.resource")
			continue
		}
		fromItems = append(fromItems, from[t].item)
		if from[t].cond != "" {
			where = append(where, from[t].cond)
		}
	}

	// Select list, group by and order by are built before the condition
	// so that the arguments come in the order of the text.
	var b strings.Builder
	sel := make([]string, len(q.Select))
	for i, s := range q.Select {
		e := cp.expr(s.Column)
		switch s.Agg {
		case query.AggCount:
			e = "count(" + e + ")"
		case query.AggSum:
			e = "sum(" + e + ")"
		case query.AggMin:
			e = "min(" + e + ")"
		case query.AggMax:
			e = "max(" + e + ")"
		case query.AggAvg:
			e = "avg(" + e + ")"
		}
		sel[i] = e
	}

	// The condition and permissions hold only bound values.
	if q.Where != nil {
		cond, err := cp.cond(q.Where)
		if err != nil {
			return "", nil, 0, err
		}
		where = append(where, cond)
	}
	mapArg := 0
	if !caller.Admin && u[tTicket] {
		// A user sees its own tickets, as iticket ls.
		where = append(where, "t.owner_name = "+cp.arg(caller.User.Name)+" AND t.owner_zone = "+cp.arg(caller.User.Zone))
	}
	if !caller.Admin {
		principals := cp.principals(caller)
		switch {
		case objSide() && readMap:
			ph := cp.arg(nil)
			mapArg = len(cp.args)
			where = append(where, "substr("+ph+", "+cp.objID+" + 1, 1) = x'01'")
		case objSide():
			// Every access row grants at least read (level 1 to 3).
			where = append(where, "EXISTS (SELECT 1 FROM access p WHERE p.kind = 'object' AND p.target_id = "+
				cp.objID+" AND ("+principals+"))")
		}
		if checkColl {
			where = append(where, "EXISTS (SELECT 1 FROM access p WHERE p.kind = 'collection' AND p.target_id = "+
				cp.collID+" AND p.level >= 1 AND ("+principals+"))")
		}
	}

	if cp.hierCTE {
		// root;...;leaf of every resource, from the roots down.
		b.WriteString(`WITH RECURSIVE resc_hier(name, hier) AS (
	SELECT name, name FROM resources WHERE parent IS NULL
	UNION ALL
	SELECT x.name, h.hier || ';' || x.name FROM resources x JOIN resc_hier h ON x.parent = h.name
) `)
	}
	b.WriteString("SELECT DISTINCT ")
	b.WriteString(strings.Join(sel, ", "))
	b.WriteString("\nFROM ")
	b.WriteString(strings.Join(fromItems, ", "))
	if len(where) > 0 {
		b.WriteString("\nWHERE ")
		b.WriteString(strings.Join(where, "\n  AND "))
	}
	if len(q.GroupBy) > 0 {
		gb := make([]string, len(q.GroupBy))
		for i, col := range q.GroupBy {
			gb[i] = cp.expr(col)
		}
		b.WriteString("\nGROUP BY ")
		b.WriteString(strings.Join(gb, ", "))
	}
	if len(q.OrderBy) > 0 {
		ob := make([]string, len(q.OrderBy))
		for i, o := range q.OrderBy {
			n := -1
			for j, s := range q.Select {
				if s.Agg == o.Item.Agg && s.Column == o.Item.Column {
					n = j + 1
					break
				}
			}
			if n < 0 {
				return "", nil, 0, fmt.Errorf("%w: ORDER BY %s is not selected", catalog.ErrInvalidArgument, o.Item)
			}
			ob[i] = strconv.Itoa(n)
			if o.Desc {
				ob[i] += " DESC"
			}
		}
		b.WriteString("\nORDER BY ")
		b.WriteString(strings.Join(ob, ", "))
	}
	if q.Limit >= 0 || q.Offset > 0 {
		b.WriteString("\nLIMIT ")
		b.WriteString(cp.arg(q.Limit))
		if q.Offset > 0 {
			b.WriteString(" OFFSET ")
			b.WriteString(cp.arg(q.Offset))
		}
	}
	return b.String(), cp.args, mapArg, nil
}

// principals is the condition, on the access row p, that it grants to the
// caller: an OR of (name, zone) pairs for the user and public, which SQLite
// checks on the few grants of one target, and for the caller's groups, of
// which there may be many, one probe of a set built once from a JSON array
// of "name#zone" (names cannot hold '#'); an OR per group would make the
// expression too deep for SQLite past a few hundred groups.
func (cp *compiler) principals(caller Caller) string {
	ps := []catalog.UserID{caller.User, {Name: publicGroup, Zone: caller.User.Zone}}
	parts := make([]string, len(ps), len(ps)+1)
	for i, p := range ps {
		parts[i] = "(p.user_name = " + cp.arg(p.Name) + " AND p.user_zone = " + cp.arg(p.Zone) + ")"
	}
	if len(caller.Groups) > 0 {
		ids := make([]string, len(caller.Groups))
		for i, g := range caller.Groups {
			ids[i] = g.String()
		}
		list, _ := json.Marshal(ids)
		parts = append(parts, "(p.user_name || '#' || p.user_zone) IN (SELECT value FROM json_each("+cp.arg(string(list))+"))")
	}
	return strings.Join(parts, " OR ")
}

// cond compiles a condition.
func (cp *compiler) cond(e query.Expr) (string, error) {
	switch e := e.(type) {
	case *query.And:
		return cp.terms(e.Terms, " AND ")
	case *query.Or:
		return cp.terms(e.Terms, " OR ")
	case *query.Not:
		x, err := cp.cond(e.X)
		if err != nil {
			return "", err
		}
		return "NOT (" + x + ")", nil
	case *query.Compare:
		return cp.compare(cp.predExpr(e), e.Op, e.Value)
	case *query.Like:
		return cp.like(cp.predExpr(e), e.Pattern)
	case *query.In:
		col := cp.predExpr(e)
		var vals []string
		for _, v := range e.Values {
			if v.Kind == query.KindTime {
				s, whole := timeSeconds(v)
				if !whole {
					continue // no whole second equals it
				}
				vals = append(vals, cp.arg(s))
				continue
			}
			vals = append(vals, cp.arg(bindValue(v)))
		}
		if len(vals) == 0 {
			return "0", nil
		}
		return col + " IN (" + strings.Join(vals, ", ") + ")", nil
	case *query.Between:
		col := cp.predExpr(e)
		if e.Low.Kind == query.KindTime {
			lo, hi := ceilSeconds(e.Low), floorSeconds(e.High)
			return col + " BETWEEN " + cp.arg(lo) + " AND " + cp.arg(hi), nil
		}
		return col + " BETWEEN " + cp.arg(bindValue(e.Low)) + " AND " + cp.arg(bindValue(e.High)), nil
	}
	return "", fmt.Errorf("%w: unknown condition %T", catalog.ErrInvalidArgument, e)
}

func (cp *compiler) terms(ts []query.Expr, sep string) (string, error) {
	parts := make([]string, len(ts))
	for i, t := range ts {
		s, err := cp.cond(t)
		if err != nil {
			return "", err
		}
		parts[i] = s
	}
	return "(" + strings.Join(parts, sep) + ")", nil
}

var opSQL = map[query.Op]string{
	query.OpEq: "=", query.OpNe: "<>", query.OpLt: "<", query.OpLe: "<=", query.OpGt: ">", query.OpGe: ">=",
}

// predExpr is the SQL of the column a predicate compares: upper(col) for
// UPPER(col), which SQLite's upper() computes as query.UpperASCII does.
func (cp *compiler) predExpr(e query.Expr) string {
	col := cp.expr(query.PredicateColumn(e))
	if query.Upper(e) {
		return "upper(" + col + ")"
	}
	return col
}

// compare compiles "col op v", col the SQL of the column (predExpr). Time
// columns hold whole unix seconds, so a literal with a fraction of a
// second is rounded the way that keeps the comparison exact.
func (cp *compiler) compare(col string, op query.Op, v query.Value) (string, error) {
	sqlOp, ok := opSQL[op]
	if !ok {
		return "", fmt.Errorf("%w: unknown operator %v", catalog.ErrInvalidArgument, op)
	}
	if v.Kind != query.KindTime {
		return col + " " + sqlOp + " " + cp.arg(bindValue(v)), nil
	}
	s, whole := timeSeconds(v)
	switch op {
	case query.OpEq:
		if !whole {
			return "0", nil
		}
	case query.OpNe:
		if !whole {
			return "1", nil
		}
	case query.OpLt, query.OpGe:
		s = ceilSeconds(v)
	case query.OpLe, query.OpGt:
		s = floorSeconds(v)
	}
	return col + " " + sqlOp + " " + cp.arg(s), nil
}

// like compiles "col LIKE pattern" (col the SQL of the column, predExpr)
// to GLOB, which SQLite matches case-sensitively (its LIKE ignores ASCII
// case), with a range on the literal prefix so that an index on col
// serves it. A pattern without wildcards is an equality.
func (cp *compiler) like(col, pattern string) (string, error) {
	prefix, exact := query.LikePrefix(pattern)
	if exact {
		return col + " = " + cp.arg(prefix), nil
	}
	glob := cp.arg(likeToGlob(pattern))
	if prefix == "" {
		return col + " GLOB " + glob, nil
	}
	cond := "(" + col + " GLOB " + glob + " AND " + col + " >= " + cp.arg(prefix)
	if upper, ok := prefixSuccessor(prefix); ok {
		cond += " AND " + col + " < " + cp.arg(upper)
	}
	return cond + ")", nil
}

// likeToGlob translates a LIKE pattern (% any run, _ one character, \
// escapes) to a GLOB pattern (* any run, ? one character, [c] a literal
// special character).
func likeToGlob(pattern string) string {
	var b strings.Builder
	lit := func(r rune) {
		switch r {
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\\':
			if i+1 < len(rs) {
				i++
				lit(rs[i])
			} else {
				lit('\\')
			}
		case '%':
			b.WriteByte('*')
		case '_':
			b.WriteByte('?')
		default:
			lit(r)
		}
	}
	return b.String()
}

// prefixSuccessor is the least string greater than every string starting
// with prefix, in byte order, if there is one.
func prefixSuccessor(prefix string) (string, bool) {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", false
	}
	b[len(b)-1]++
	return string(b), true
}

// bindValue is the SQL argument of a non-time literal.
func bindValue(v query.Value) any {
	switch v.Kind {
	case query.KindInt:
		return v.Int
	case query.KindFloat:
		return v.Float
	}
	return v.Str
}

// timeSeconds is a time literal in unix seconds (rounded down), and whether
// it is a whole second.
func timeSeconds(v query.Value) (int64, bool) {
	return v.Time.Unix(), v.Time.Nanosecond() == 0
}

func floorSeconds(v query.Value) int64 { return v.Time.Unix() }

func ceilSeconds(v query.Value) int64 {
	s, whole := timeSeconds(v)
	if !whole {
		s++
	}
	return s
}

// queryPlan returns SQLite's plan of q, one line per step, for tests.
func (c *Catalog) queryPlan(ctx context.Context, q *query.Query, caller Caller) ([]string, error) {
	stmt, args, err := compileQuery(q, caller)
	if err != nil {
		return nil, err
	}
	var out []string
	err = c.read(ctx, func(r *rtx) error {
		rows, err := r.tx.QueryContext(ctx, "EXPLAIN QUERY PLAN "+stmt, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				return err
			}
			out = append(out, detail)
		}
		return rows.Err()
	})
	return out, err
}
