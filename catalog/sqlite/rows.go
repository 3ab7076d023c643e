package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/arca-data/arca/catalog"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Access kinds of the access table.
const (
	kindCollection = "collection"
	kindObject     = "object"
)

// nanos is the stored form of t: unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the time of a stored value, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// now is the current time as the catalog stores it.
func now() (time.Time, int64) {
	n := time.Now().UnixNano()
	return fromNanos(n), n
}

// mapErr turns SQLite constraint errors into the catalog's sentinels; what
// says what was being done.
func mapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			// What exists is said by the caller; the table and columns
			// would only show a user the catalog's insides.
			return fmt.Errorf("%s: %w", what, catalog.ErrExists)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%s: %w (%v)", what, catalog.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return fmt.Errorf("%s: %w (%v)", what, catalog.ErrInvalidArgument, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// invalid wraps ErrInvalidArgument, for the checks that need the stored
// state; what a request alone shows is checked in package catalog.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", catalog.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// Column lists and scanners, kept beside each other.
//
// A note on the queries of this package: SQLite re-prepares a statement
// whose plan used the value of a bound parameter (constant propagation in
// joins, for one) every time it runs with new values, which costs more than
// running it. So the queries on hot paths are single-table, with IN or
// scalar subqueries instead of joins, and constant strings are literals.

const collCols = `id, path, owner_name, owner_zone, create_ns, modify_ns, inherit, ret_default_mode, ret_default_period`

func scanColl(s interface{ Scan(...any) error }) (catalog.Collection, error) {
	var (
		c              catalog.Collection
		id             int64
		path           string
		cr, mo         int64
		oname, ozone   string
		rmode, rperiod string
	)
	if err := s.Scan(&id, &path, &oname, &ozone, &cr, &mo, &c.Inherit, &rmode, &rperiod); err != nil {
		return c, err
	}
	p, err := catalog.ParsePath(path)
	if err != nil {
		return c, fmt.Errorf("stored collection path: %w", err)
	}
	c.ID, c.Path = catalog.ID(id), p
	c.Owner = catalog.UserID{Name: oname, Zone: ozone}
	c.CreateTime, c.ModifyTime = fromNanos(cr), fromNanos(mo)
	if c.Retention, err = storedDefault(rmode, rperiod); err != nil {
		return c, err
	}
	return c, nil
}

// storedDefault reads a collection's default retention columns.
func storedDefault(mode, period string) (catalog.DefaultRetention, error) {
	if mode == "" {
		return catalog.DefaultRetention{}, nil
	}
	per, err := catalog.ParsePeriod(period)
	if err != nil {
		return catalog.DefaultRetention{}, fmt.Errorf("stored default retention: %w", err)
	}
	return catalog.DefaultRetention{Mode: catalog.LockMode(mode), Period: per}, nil
}

const objCols = `o.id, o.name, o.owner_name, o.owner_zone, o.create_ns, o.modify_ns, ` + lockCols

// lockCols are a data object's lock (catalog.Lock), read by scanLock.
const lockCols = `o.ret_mode, o.ret_until_ns, o.ret_hold, o.ret_by_name, o.ret_by_zone, o.ret_set_ns`

// lockDest receives lockCols.
type lockDest struct {
	mode           string
	until, set     int64
	hold           bool
	byName, byZone string
}

func (d *lockDest) dest() []any {
	return []any{&d.mode, &d.until, &d.hold, &d.byName, &d.byZone, &d.set}
}

func (d *lockDest) lock() catalog.Lock {
	if d.mode == "" && !d.hold {
		return catalog.Lock{}
	}
	return catalog.Lock{Mode: catalog.LockMode(d.mode), Until: fromNanos(d.until), Hold: d.hold,
		SetBy: catalog.UserID{Name: d.byName, Zone: d.byZone}, SetAt: fromNanos(d.set)}
}

// scanObj reads objCols of a data object in the collection coll.
func scanObj(s interface{ Scan(...any) error }, coll catalog.Path) (catalog.DataObject, error) {
	var (
		o            catalog.DataObject
		id           int64
		name         string
		cr, mo       int64
		oname, ozone string
		lk           lockDest
	)
	if err := s.Scan(append([]any{&id, &name, &oname, &ozone, &cr, &mo}, lk.dest()...)...); err != nil {
		return o, err
	}
	p, err := coll.Join(name)
	if err != nil {
		return o, fmt.Errorf("stored object name: %w", err)
	}
	o.ID, o.Path = catalog.ID(id), p
	o.Owner = catalog.UserID{Name: oname, Zone: ozone}
	o.CreateTime, o.ModifyTime = fromNanos(cr), fromNanos(mo)
	o.Lock = lk.lock()
	return o, nil
}

const replCols = `r.object_id, r.number, r.resource, r.physical_path, r.size, r.checksum, r.status,
	r.lock_holder, r.lease_expiry_ns, r.create_ns, r.modify_ns`

func scanRepl(s interface{ Scan(...any) error }) (catalog.Replica, error) {
	var (
		r             catalog.Replica
		oid           int64
		status        int
		lease, cr, mo int64
	)
	err := s.Scan(&oid, &r.Number, &r.Resource, &r.PhysicalPath, &r.Size, &r.Checksum, &status,
		&r.LockHolder, &lease, &cr, &mo)
	r.ObjectID, r.Status = catalog.ID(oid), catalog.ReplicaStatus(status)
	r.LeaseExpiry, r.CreateTime, r.ModifyTime = fromNanos(lease), fromNanos(cr), fromNanos(mo)
	return r, err
}

// collectReplicas reads rows of replCols.
func collectReplicas(rows *sql.Rows, err error) ([]catalog.Replica, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.Replica
	for rows.Next() {
		r, err := scanRepl(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
