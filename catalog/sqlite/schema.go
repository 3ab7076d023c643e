package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations bring the schema from version i to i+1. Append new ones; never
// edit one that has shipped. Each runs in one transaction with the update of
// schema_version.
//
// Conventions: times are unix nanoseconds UTC (0 for none); access.kind is
// 'collection' or 'object'; replicas.status is catalog.ReplicaStatus. Ids
// are AUTOINCREMENT so that an id is never reused: a caller may still hold
// the id of something removed (a replica's object in a late CommitReplica).
var migrations = []string{
	// 1: namespace, replicas, accounts, resources, sessions.
	`
CREATE TABLE collections (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	path       TEXT NOT NULL UNIQUE,
	parent_id  INTEGER REFERENCES collections(id),
	name       TEXT NOT NULL,
	owner_name TEXT NOT NULL,
	owner_zone TEXT NOT NULL,
	create_ns  INTEGER NOT NULL,
	modify_ns  INTEGER NOT NULL
);
CREATE UNIQUE INDEX collections_parent_name ON collections(parent_id, name);

CREATE TABLE data_objects (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	coll_id    INTEGER NOT NULL REFERENCES collections(id),
	name       TEXT NOT NULL,
	owner_name TEXT NOT NULL,
	owner_zone TEXT NOT NULL,
	create_ns  INTEGER NOT NULL,
	modify_ns  INTEGER NOT NULL,
	UNIQUE (coll_id, name)
);

CREATE TABLE resources (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	name      TEXT NOT NULL UNIQUE,
	type      TEXT NOT NULL,
	location  TEXT NOT NULL,
	context   TEXT NOT NULL,
	status    TEXT NOT NULL,
	comment   TEXT NOT NULL,
	parent    TEXT REFERENCES resources(name),
	create_ns INTEGER NOT NULL,
	modify_ns INTEGER NOT NULL
);
CREATE INDEX resources_parent ON resources(parent);

CREATE TABLE replicas (
	object_id       INTEGER NOT NULL REFERENCES data_objects(id),
	number          INTEGER NOT NULL,
	resource        TEXT NOT NULL REFERENCES resources(name),
	physical_path   TEXT NOT NULL,
	size            INTEGER NOT NULL,
	checksum        TEXT NOT NULL,
	status          INTEGER NOT NULL,
	lock_holder     TEXT NOT NULL,
	lease_expiry_ns INTEGER NOT NULL,
	create_ns       INTEGER NOT NULL,
	modify_ns       INTEGER NOT NULL,
	PRIMARY KEY (object_id, number)
) WITHOUT ROWID;
CREATE UNIQUE INDEX replicas_resource_path ON replicas(resource, physical_path);
CREATE INDEX replicas_intermediate ON replicas(status, lease_expiry_ns);

CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	name          TEXT NOT NULL,
	zone          TEXT NOT NULL,
	type          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	info          TEXT NOT NULL,
	create_ns     INTEGER NOT NULL,
	modify_ns     INTEGER NOT NULL,
	UNIQUE (name, zone)
);

CREATE TABLE access (
	kind      TEXT NOT NULL CHECK (kind IN ('collection', 'object')),
	target_id INTEGER NOT NULL,
	user_name TEXT NOT NULL,
	user_zone TEXT NOT NULL,
	level     INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
	PRIMARY KEY (kind, target_id, user_name, user_zone)
) WITHOUT ROWID;
CREATE INDEX access_principal ON access(user_name, user_zone);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_name  TEXT NOT NULL,
	user_zone  TEXT NOT NULL,
	create_ns  INTEGER NOT NULL,
	expires_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_name, user_zone);
CREATE INDEX sessions_expires ON sessions(expires_ns);

INSERT INTO collections (id, path, parent_id, name, owner_name, owner_zone, create_ns, modify_ns)
VALUES (1, '/', NULL, '', '', '', CAST(unixepoch('subsec') * 1000000000 AS INTEGER),
        CAST(unixepoch('subsec') * 1000000000 AS INTEGER));
`,
	// 2: AVU metadata. One row per AVU and target, keyed by the target so
	// that listing, removing and the existence check of an add are one
	// range of the primary key, and the rows of a target lie together.
	// avus_attr_value serves "attribute = value" (and LIKE 'prefix%')
	// queries; as the table has no rowid it carries the key, so such a
	// query finds its targets in the index alone. kind is one of
	// 'object', 'collection', 'resource', 'user' and target_id the id of
	// that row; ids are never reused, so AVUs cannot reach a newcomer.
	`
CREATE TABLE avus (
	kind      TEXT NOT NULL CHECK (kind IN ('object', 'collection', 'resource', 'user')),
	target_id INTEGER NOT NULL,
	attribute TEXT NOT NULL CHECK (attribute <> ''),
	value     TEXT NOT NULL,
	unit      TEXT NOT NULL,
	PRIMARY KEY (kind, target_id, attribute, value, unit)
) WITHOUT ROWID;
CREATE INDEX avus_attr_value ON avus(attribute, value);
`,
	// 3: groups and inheritance. A group is a users row of type rodsgroup;
	// group_members links it to its members by id (ids are never reused).
	// group_members_user serves "the groups of a user", asked on every
	// permission check. collections.inherit is iRODS's per-collection
	// inheritance flag (0 or 1).
	`
CREATE TABLE group_members (
	group_id INTEGER NOT NULL REFERENCES users(id),
	user_id  INTEGER NOT NULL REFERENCES users(id),
	PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members(user_id, group_id);
ALTER TABLE collections ADD COLUMN inherit INTEGER NOT NULL DEFAULT 0 CHECK (inherit IN (0, 1));
`,
	// jobs: the queue of scheduled rule work, claimed with a lease.
	`
CREATE TABLE jobs (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	job_key     TEXT UNIQUE,
	rule        TEXT NOT NULL,
	owner_name  TEXT NOT NULL,
	owner_zone  TEXT NOT NULL,
	every       TEXT NOT NULL DEFAULT '',
	due_ns      INTEGER NOT NULL,
	work        BLOB NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	failed      INTEGER NOT NULL DEFAULT 0 CHECK (failed IN (0, 1)),
	holder      TEXT NOT NULL DEFAULT '',
	lease_ns    INTEGER NOT NULL DEFAULT 0,
	create_ns   INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs(failed, due_ns);
`,
}

// rootID is the id of the collection "/", made by the first migration.
const rootID = 1

// migrate applies the migrations the database has not seen.
func migrate(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	for {
		done, err := migrateOne(ctx, conn)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration, if any, in its own transaction.
func migrateOne(ctx context.Context, conn *sql.Conn) (done bool, err error) {
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsn): one migrator at a time
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var version int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
	switch {
	case err == sql.ErrNoRows:
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return false, fmt.Errorf("migrate: %w", err)
		}
	case err != nil:
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return false, fmt.Errorf("schema version %d is newer than this program knows (%d): upgrade arca", version, len(migrations))
	}
	if version == len(migrations) {
		return true, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, migrations[version]); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", version+1, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, version+1); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", version+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", version+1, err)
	}
	return false, nil
}
