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
	// 4: tickets. hash is catalog.TicketHash of the ticket string, which is
	// never stored. kind and target_id name the data object or collection
	// as in access (ids are never reused, so a ticket cannot reach a
	// newcomer at the same path); limits are 0 for none; expiry_ns 0 is
	// never. ticket_allowed restricts who may use a ticket: kind 'user' or
	// 'group' with name and zone, or 'host' with name and zone ''.
	`
CREATE TABLE tickets (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	hash             TEXT NOT NULL UNIQUE,
	type             TEXT NOT NULL CHECK (type IN ('read', 'write')),
	kind             TEXT NOT NULL CHECK (kind IN ('object', 'collection')),
	target_id        INTEGER NOT NULL,
	owner_name       TEXT NOT NULL,
	owner_zone       TEXT NOT NULL,
	create_ns        INTEGER NOT NULL,
	expiry_ns        INTEGER NOT NULL,
	uses_limit       INTEGER NOT NULL,
	uses_count       INTEGER NOT NULL,
	write_file_limit INTEGER NOT NULL,
	write_file_count INTEGER NOT NULL,
	write_byte_limit INTEGER NOT NULL,
	write_byte_count INTEGER NOT NULL
);
CREATE INDEX tickets_owner ON tickets(owner_name, owner_zone);
CREATE INDEX tickets_target ON tickets(kind, target_id);
CREATE TABLE ticket_allowed (
	ticket_id INTEGER NOT NULL REFERENCES tickets(id),
	kind      TEXT NOT NULL CHECK (kind IN ('user', 'group', 'host')),
	name      TEXT NOT NULL,
	zone      TEXT NOT NULL,
	PRIMARY KEY (ticket_id, kind, name, zone)
) WITHOUT ROWID;
`,
	// 5: quotas and the usage they count. quotas: kind 'user' or 'group'
	// with name and zone (coll_id 0), or 'collection' with coll_id (name and
	// zone ''); resource '' is the total; maxima 0 are none. usage_owner
	// holds per owner and resource the bytes and replicas, and with
	// resource '' the bytes of all replicas and the number of data objects.
	// usage_coll holds the bytes and data objects below each collection
	// that has a quota. Triggers keep both up to date in the transaction of
	// every write, whichever code path makes it; only a collection rename
	// is recounted by Rename. (INSERT ... SELECT ... ON CONFLICT needs the
	// WHERE of its SELECT, which it has.)
	`
CREATE TABLE quotas (
	kind        TEXT NOT NULL CHECK (kind IN ('user', 'group', 'collection')),
	name        TEXT NOT NULL,
	zone        TEXT NOT NULL,
	coll_id     INTEGER NOT NULL,
	resource    TEXT NOT NULL,
	max_bytes   INTEGER NOT NULL,
	max_objects INTEGER NOT NULL,
	PRIMARY KEY (kind, name, zone, coll_id, resource)
) WITHOUT ROWID;
CREATE TABLE usage_owner (
	owner_name TEXT NOT NULL,
	owner_zone TEXT NOT NULL,
	resource   TEXT NOT NULL,
	bytes      INTEGER NOT NULL,
	objects    INTEGER NOT NULL,
	PRIMARY KEY (owner_name, owner_zone, resource)
) WITHOUT ROWID;
CREATE TABLE usage_coll (
	coll_id INTEGER PRIMARY KEY,
	bytes   INTEGER NOT NULL,
	objects INTEGER NOT NULL
);
INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
	SELECT o.owner_name, o.owner_zone, r.resource, sum(r.size), count(*)
	FROM replicas r JOIN data_objects o ON o.id = r.object_id GROUP BY o.owner_name, o.owner_zone, r.resource;
INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
	SELECT o.owner_name, o.owner_zone, '', coalesce((SELECT sum(r.size) FROM replicas r JOIN data_objects o2 ON o2.id = r.object_id
		WHERE o2.owner_name = o.owner_name AND o2.owner_zone = o.owner_zone), 0), count(*)
	FROM data_objects o GROUP BY o.owner_name, o.owner_zone;

CREATE TRIGGER replicas_usage_insert AFTER INSERT ON replicas BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, NEW.resource, NEW.size, 1 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', NEW.size, 0 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + NEW.size WHERE NEW.size <> 0 AND coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (SELECT coll_id FROM data_objects WHERE id = NEW.object_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
CREATE TRIGGER replicas_usage_delete AFTER DELETE ON replicas BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, OLD.resource, -OLD.size, -1 FROM data_objects WHERE id = OLD.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', -OLD.size, 0 FROM data_objects WHERE id = OLD.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + -OLD.size WHERE OLD.size <> 0 AND coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (SELECT coll_id FROM data_objects WHERE id = OLD.object_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
CREATE TRIGGER replicas_usage_update AFTER UPDATE OF size, resource ON replicas
	WHEN OLD.size <> NEW.size OR OLD.resource <> NEW.resource BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, OLD.resource, -OLD.size, -1 FROM data_objects WHERE id = OLD.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', -OLD.size, 0 FROM data_objects WHERE id = OLD.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + -OLD.size WHERE OLD.size <> 0 AND coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (SELECT coll_id FROM data_objects WHERE id = OLD.object_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, NEW.resource, NEW.size, 1 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', NEW.size, 0 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + NEW.size WHERE NEW.size <> 0 AND coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (SELECT coll_id FROM data_objects WHERE id = NEW.object_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
CREATE TRIGGER data_objects_usage_insert AFTER INSERT ON data_objects BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		VALUES (NEW.owner_name, NEW.owner_zone, '', 0, 1)
		ON CONFLICT DO UPDATE SET objects = objects + 1;
	UPDATE usage_coll SET objects = objects + 1 WHERE coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (NEW.coll_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
CREATE TRIGGER data_objects_usage_delete AFTER DELETE ON data_objects BEGIN
	UPDATE usage_owner SET objects = objects - 1 WHERE owner_name = OLD.owner_name AND owner_zone = OLD.owner_zone AND resource = '';
	UPDATE usage_coll SET objects = objects - 1 WHERE coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (OLD.coll_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
CREATE TRIGGER data_objects_usage_move AFTER UPDATE OF coll_id ON data_objects
	WHEN OLD.coll_id <> NEW.coll_id BEGIN
	UPDATE usage_coll SET objects = objects - 1,
		bytes = bytes - (SELECT coalesce(sum(size), 0) FROM replicas WHERE object_id = OLD.id)
		WHERE coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (OLD.coll_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
	UPDATE usage_coll SET objects = objects + 1,
		bytes = bytes + (SELECT coalesce(sum(size), 0) FROM replicas WHERE object_id = NEW.id)
		WHERE coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (NEW.coll_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
`,
	// 6: jobs: the queue of scheduled rule work, claimed with a lease.
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
	// 7: what checks a user's password: '' native (password_hash), 'ldap'
	// the zone's LDAP directory.
	`
ALTER TABLE users ADD COLUMN auth TEXT NOT NULL DEFAULT '';
`,
	// 8: usage_hold holds the usage triggers of migration 5: Register holds
	// them while it inserts many rows and counts their usage itself, in
	// aggregate, in the same transaction. The triggers are made again with
	// that condition.
	`
CREATE TABLE usage_hold (one INTEGER PRIMARY KEY CHECK (one = 1));
DROP TRIGGER replicas_usage_insert;
DROP TRIGGER replicas_usage_delete;
DROP TRIGGER replicas_usage_update;
DROP TRIGGER data_objects_usage_insert;
DROP TRIGGER data_objects_usage_delete;
DROP TRIGGER data_objects_usage_move;
CREATE TRIGGER replicas_usage_insert AFTER INSERT ON replicas WHEN NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, NEW.resource, NEW.size, 1 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', NEW.size, 0 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + NEW.size WHERE NEW.size <> 0 AND coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (SELECT coll_id FROM data_objects WHERE id = NEW.object_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
CREATE TRIGGER replicas_usage_delete AFTER DELETE ON replicas WHEN NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, OLD.resource, -OLD.size, -1 FROM data_objects WHERE id = OLD.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', -OLD.size, 0 FROM data_objects WHERE id = OLD.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + -OLD.size WHERE OLD.size <> 0 AND coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (SELECT coll_id FROM data_objects WHERE id = OLD.object_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
CREATE TRIGGER replicas_usage_update AFTER UPDATE OF size, resource ON replicas
	WHEN (OLD.size <> NEW.size OR OLD.resource <> NEW.resource) AND NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, OLD.resource, -OLD.size, -1 FROM data_objects WHERE id = OLD.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', -OLD.size, 0 FROM data_objects WHERE id = OLD.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + -OLD.size WHERE OLD.size <> 0 AND coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (SELECT coll_id FROM data_objects WHERE id = OLD.object_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, NEW.resource, NEW.size, 1 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', NEW.size, 0 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + NEW.size WHERE NEW.size <> 0 AND coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (SELECT coll_id FROM data_objects WHERE id = NEW.object_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
CREATE TRIGGER data_objects_usage_insert AFTER INSERT ON data_objects WHEN NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		VALUES (NEW.owner_name, NEW.owner_zone, '', 0, 1)
		ON CONFLICT DO UPDATE SET objects = objects + 1;
	UPDATE usage_coll SET objects = objects + 1 WHERE coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (NEW.coll_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
CREATE TRIGGER data_objects_usage_delete AFTER DELETE ON data_objects WHEN NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN
	UPDATE usage_owner SET objects = objects - 1 WHERE owner_name = OLD.owner_name AND owner_zone = OLD.owner_zone AND resource = '';
	UPDATE usage_coll SET objects = objects - 1 WHERE coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (OLD.coll_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
CREATE TRIGGER data_objects_usage_move AFTER UPDATE OF coll_id ON data_objects
	WHEN OLD.coll_id <> NEW.coll_id AND NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN
	UPDATE usage_coll SET objects = objects - 1,
		bytes = bytes - (SELECT coalesce(sum(size), 0) FROM replicas WHERE object_id = OLD.id)
		WHERE coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (OLD.coll_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
	UPDATE usage_coll SET objects = objects + 1,
		bytes = bytes + (SELECT coalesce(sum(size), 0) FROM replicas WHERE object_id = NEW.id)
		WHERE coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (NEW.coll_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
`,
	// 9: links between collections and data objects (catalog.Links), by
	// kind ('collection' or 'object') and id, so that they follow renames.
	// A link whose end is gone is ignored by every read (ids are never
	// reused), so removals need not know of links. entries gives the path
	// of every collection and data object, for the graph queries.
	`
CREATE TABLE links (
	from_kind TEXT NOT NULL CHECK (from_kind IN ('collection', 'object')),
	from_id   INTEGER NOT NULL,
	relation  TEXT NOT NULL CHECK (relation <> ''),
	to_kind   TEXT NOT NULL CHECK (to_kind IN ('collection', 'object')),
	to_id     INTEGER NOT NULL,
	PRIMARY KEY (from_kind, from_id, relation, to_kind, to_id)
) WITHOUT ROWID;
CREATE INDEX links_to ON links(to_kind, to_id);
CREATE VIEW entries (kind, id, path) AS
	SELECT 'collection', id, path FROM collections
	UNION ALL
	SELECT 'object', o.id, CASE WHEN c.path = '/' THEN '/' || o.name ELSE c.path || '/' || o.name END
	FROM data_objects o JOIN collections c ON c.id = o.coll_id;
`,
	// 10: the commit of every put changes its replica's size on the same
	// resource: one delta instead of taking the old size away and adding
	// the new one, which halves the statements the usage triggers run in
	// the single writer for each put. A move to another resource keeps
	// migration 8's two steps.
	`
DROP TRIGGER replicas_usage_update;
CREATE TRIGGER replicas_usage_resize AFTER UPDATE OF size, resource ON replicas
	WHEN OLD.resource = NEW.resource AND OLD.size <> NEW.size AND NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, NEW.resource, NEW.size - OLD.size, 0 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', NEW.size - OLD.size, 0 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + (NEW.size - OLD.size) WHERE coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (SELECT coll_id FROM data_objects WHERE id = NEW.object_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
CREATE TRIGGER replicas_usage_move AFTER UPDATE OF resource ON replicas
	WHEN OLD.resource <> NEW.resource AND NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, OLD.resource, -OLD.size, -1 FROM data_objects WHERE id = OLD.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', -OLD.size, 0 FROM data_objects WHERE id = OLD.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + -OLD.size WHERE OLD.size <> 0 AND coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (SELECT coll_id FROM data_objects WHERE id = OLD.object_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, NEW.resource, NEW.size, 1 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', NEW.size, 0 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + NEW.size WHERE NEW.size <> 0 AND coll_id IN (SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (SELECT coll_id FROM data_objects WHERE id = NEW.object_id)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/');
END;
`,
	// 11: the versions of the zone's rule set (catalog.RuleSets), append
	// only, and the files of each.
	`
CREATE TABLE rule_sets (
	version     INTEGER PRIMARY KEY CHECK (version > 0),
	digest      TEXT NOT NULL,
	author_name TEXT NOT NULL,
	author_zone TEXT NOT NULL,
	create_ns   INTEGER NOT NULL,
	comment     TEXT NOT NULL
);
CREATE TABLE rule_files (
	version INTEGER NOT NULL REFERENCES rule_sets(version),
	name    TEXT NOT NULL,
	content BLOB NOT NULL,
	PRIMARY KEY (version, name)
) WITHOUT ROWID;
`,
	// 12: usage counts what is stored, not what is being written (issue
	// 23): a replica counts once it is no longer intermediate, a data
	// object once it has such a replica. Puts in progress no longer count
	// against each other, so that concurrent puts a quota fits all pass;
	// the commit checks the quota exactly, in the single writer. The
	// triggers follow the replica's status; the object triggers of
	// migration 8 go, but for moves; usage is counted again.
	migrationCountStored,
	// 13: the files of removed replicas, recorded by the transaction that
	// removes the replica, until the zone has deleted them (issue 23): a
	// crash in between leaves a record that the next start deletes, not an
	// orphan that only fsck finds. A new replica at a recorded file takes
	// it over.
	`
CREATE TABLE pending_deletions (
	resource      TEXT NOT NULL,
	physical_path TEXT NOT NULL,
	PRIMARY KEY (resource, physical_path)
) WITHOUT ROWID;
CREATE TRIGGER replicas_pending_deletion AFTER DELETE ON replicas BEGIN
	INSERT OR IGNORE INTO pending_deletions (resource, physical_path) VALUES (OLD.resource, OLD.physical_path);
END;
CREATE TRIGGER replicas_take_over_deletion AFTER INSERT ON replicas BEGIN
	DELETE FROM pending_deletions WHERE resource = NEW.resource AND physical_path = NEW.physical_path;
END;
`,
	// 14: jobs act on a path, and of the jobs of one rule on one path at
	// most one is pending (not held, not failed); a run saves its progress
	// in state. jobs_rule counts a rule's live jobs for its cap.
	`
ALTER TABLE jobs ADD COLUMN path TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN state BLOB;
CREATE UNIQUE INDEX jobs_pending ON jobs(rule, path) WHERE path <> '' AND failed = 0 AND holder = '';
CREATE INDEX jobs_rule ON jobs(rule, failed);
CREATE INDEX jobs_path ON jobs(path) WHERE path <> '';
`,
	// 15: retention locks and legal holds (catalog.Retention), on the data
	// object's row, so that every read of an object has its lock without a
	// join or a second lookup: ret_mode is '' (none), 'governance' or
	// 'compliance', ret_until_ns the end of retention (0 with no mode),
	// ret_hold the legal hold, ret_by_* and ret_set_ns the last change.
	// expire_ns is reserved for the expiry of issue 16 (0: none). A
	// collection's default retention (ret_default_mode, and the ISO 8601
	// period ret_default_period) is on its row, read with the parent of
	// every put: a put into a collection without one pays nothing.
	// data_objects_retained holds only the objects that have a lock, by
	// collection, for the checks of removals and renames of trees; its
	// condition is repeated verbatim in the queries that use it.
	`
ALTER TABLE data_objects ADD COLUMN ret_mode TEXT NOT NULL DEFAULT '' CHECK (ret_mode IN ('', 'governance', 'compliance'));
ALTER TABLE data_objects ADD COLUMN ret_until_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE data_objects ADD COLUMN ret_hold INTEGER NOT NULL DEFAULT 0 CHECK (ret_hold IN (0, 1));
ALTER TABLE data_objects ADD COLUMN ret_by_name TEXT NOT NULL DEFAULT '';
ALTER TABLE data_objects ADD COLUMN ret_by_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE data_objects ADD COLUMN ret_set_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE data_objects ADD COLUMN expire_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collections ADD COLUMN ret_default_mode TEXT NOT NULL DEFAULT '' CHECK (ret_default_mode IN ('', 'governance', 'compliance'));
ALTER TABLE collections ADD COLUMN ret_default_period TEXT NOT NULL DEFAULT '';
CREATE INDEX data_objects_retained ON data_objects(coll_id) WHERE ret_mode <> '' OR ret_hold = 1;
`,
	// 16: provenance chains (catalog.Provenance) and versioned records
	// (catalog.Records: PIDs, RAiDs). Both only grow: triggers refuse to
	// change or remove a provenance record, and to remove a record, so
	// that a chain cannot be rewritten and a key is never given out twice
	// through this program. prov_heads holds the last record of each
	// chain, which reveals a record removed from the end.
	`
CREATE TABLE prov_records (
	subject_kind TEXT NOT NULL CHECK (subject_kind IN ('collection', 'object')),
	subject_id   INTEGER NOT NULL,
	seq          INTEGER NOT NULL CHECK (seq > 0),
	digest       TEXT NOT NULL,
	end_ns       INTEGER NOT NULL,
	doc          BLOB NOT NULL,
	PRIMARY KEY (subject_kind, subject_id, seq)
) WITHOUT ROWID;
CREATE TABLE prov_heads (
	subject_kind TEXT NOT NULL,
	subject_id   INTEGER NOT NULL,
	seq          INTEGER NOT NULL,
	digest       TEXT NOT NULL,
	PRIMARY KEY (subject_kind, subject_id)
) WITHOUT ROWID;
CREATE TRIGGER prov_records_append_only_update BEFORE UPDATE ON prov_records BEGIN
	SELECT RAISE(ABORT, 'provenance records are append-only');
END;
CREATE TRIGGER prov_records_append_only_delete BEFORE DELETE ON prov_records BEGIN
	SELECT RAISE(ABORT, 'provenance records are append-only');
END;
CREATE TABLE records (
	kind       TEXT NOT NULL,
	rkey       TEXT NOT NULL,
	ref        TEXT NOT NULL,
	owner_name TEXT NOT NULL,
	owner_zone TEXT NOT NULL,
	version    INTEGER NOT NULL,
	doc        BLOB NOT NULL,
	create_ns  INTEGER NOT NULL,
	modify_ns  INTEGER NOT NULL,
	PRIMARY KEY (kind, rkey)
) WITHOUT ROWID;
CREATE INDEX records_ref ON records(kind, ref);
CREATE TRIGGER records_never_removed BEFORE DELETE ON records BEGIN
	SELECT RAISE(ABORT, 'records are never removed');
END;
`,
	// 17: job_live counts each rule's live (not failed) jobs, kept by
	// triggers in the transaction of every change, so that AddJob checks
	// a rule's cap (Job.MaxPending) with one row read instead of counting
	// the rule's jobs, which made ingest with a job per put quadratic.
	`
CREATE TABLE job_live (
	rule TEXT PRIMARY KEY,
	n    INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO job_live (rule, n) SELECT rule, count(*) FROM jobs WHERE failed = 0 GROUP BY rule;
CREATE TRIGGER job_live_insert AFTER INSERT ON jobs WHEN NEW.failed = 0 BEGIN
	INSERT INTO job_live (rule, n) VALUES (NEW.rule, 1) ON CONFLICT (rule) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER job_live_delete AFTER DELETE ON jobs WHEN OLD.failed = 0 BEGIN
	UPDATE job_live SET n = n - 1 WHERE rule = OLD.rule;
END;
CREATE TRIGGER job_live_update AFTER UPDATE OF failed, rule ON jobs
WHEN OLD.failed <> NEW.failed OR OLD.rule <> NEW.rule BEGIN
	UPDATE job_live SET n = n - 1 WHERE rule = OLD.rule AND OLD.failed = 0;
	INSERT INTO job_live (rule, n) SELECT NEW.rule, 1 WHERE NEW.failed = 0 ON CONFLICT (rule) DO UPDATE SET n = n + 1;
END;
`,
	// 18: the QoS attributes of a resource (catalog.Resource.QoS), in
	// canonical form.
	`
ALTER TABLE resources ADD COLUMN qos TEXT NOT NULL DEFAULT '';
`,
	// 19: QoS requirements (catalog.QoS) on a collection or a data object,
	// named by kind and id so that they follow it through renames.
	`
CREATE TABLE qos_requirements (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	kind         TEXT NOT NULL CHECK (kind IN ('collection', 'object')),
	target_id    INTEGER NOT NULL,
	expr         TEXT NOT NULL,
	replicas     INTEGER NOT NULL CHECK (replicas > 0),
	creator_name TEXT NOT NULL,
	creator_zone TEXT NOT NULL,
	create_ns    INTEGER NOT NULL,
	UNIQUE (kind, target_id, expr)
);
`,
}

// The triggers of migration 12. A replica counts when its status is not
// 0 (intermediate); a data object counts while one of its replicas does.
// usage_coll's quota collections above a data object's collection, and the
// bytes of the counted replicas of an object, as SQL for the triggers.
const (
	quotaCollsAbove = `(SELECT u.coll_id FROM usage_coll u JOIN collections qc ON qc.id = u.coll_id JOIN collections c ON c.id = (%s)
		WHERE qc.id = c.id OR qc.path = '/' OR substr(c.path, 1, length(qc.path) + 1) = qc.path || '/')`
	objectColl = `SELECT coll_id FROM data_objects WHERE id = %s.object_id`
)

var migrationCountStored = `
DROP TRIGGER replicas_usage_insert;
DROP TRIGGER replicas_usage_delete;
DROP TRIGGER replicas_usage_resize;
DROP TRIGGER replicas_usage_move;
DROP TRIGGER data_objects_usage_insert;
DROP TRIGGER data_objects_usage_delete;
DROP TRIGGER data_objects_usage_move;
CREATE TRIGGER replicas_usage_insert AFTER INSERT ON replicas
	WHEN NEW.status <> 0 AND NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN` + countReplica("NEW", 1, firstCounted) + `
END;
CREATE TRIGGER replicas_usage_count AFTER UPDATE OF status ON replicas
	WHEN OLD.status = 0 AND NEW.status <> 0 AND NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN` + countReplica("NEW", 1, firstCounted) + `
END;
CREATE TRIGGER replicas_usage_delete AFTER DELETE ON replicas
	WHEN OLD.status <> 0 AND NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN` + countReplica("OLD", -1, lastCounted) + `
END;
CREATE TRIGGER replicas_usage_uncount AFTER UPDATE OF status ON replicas
	WHEN OLD.status <> 0 AND NEW.status = 0 AND NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN` + countReplica("OLD", -1, lastCounted) + `
END;
CREATE TRIGGER replicas_usage_resize AFTER UPDATE OF size, resource ON replicas
	WHEN OLD.status <> 0 AND NEW.status <> 0 AND OLD.resource = NEW.resource AND OLD.size <> NEW.size
	AND NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, NEW.resource, NEW.size - OLD.size, 0 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', NEW.size - OLD.size, 0 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + (NEW.size - OLD.size) WHERE coll_id IN ` + fmt.Sprintf(quotaCollsAbove, fmt.Sprintf(objectColl, "NEW")) + `;
END;
CREATE TRIGGER replicas_usage_move AFTER UPDATE OF resource ON replicas
	WHEN OLD.status <> 0 AND NEW.status <> 0 AND OLD.resource <> NEW.resource
	AND NOT EXISTS (SELECT 1 FROM usage_hold) BEGIN
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, OLD.resource, -OLD.size, -1 FROM data_objects WHERE id = OLD.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, NEW.resource, NEW.size, 1 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', NEW.size - OLD.size, 0 FROM data_objects WHERE id = NEW.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes;
	UPDATE usage_coll SET bytes = bytes + (NEW.size - OLD.size) WHERE NEW.size <> OLD.size AND coll_id IN ` + fmt.Sprintf(quotaCollsAbove, fmt.Sprintf(objectColl, "NEW")) + `;
END;
CREATE TRIGGER data_objects_usage_move AFTER UPDATE OF coll_id ON data_objects
	WHEN OLD.coll_id <> NEW.coll_id AND NOT EXISTS (SELECT 1 FROM usage_hold)
	AND EXISTS (SELECT 1 FROM replicas WHERE object_id = NEW.id AND status <> 0) BEGIN
	UPDATE usage_coll SET objects = objects - 1,
		bytes = bytes - (SELECT coalesce(sum(size), 0) FROM replicas WHERE object_id = OLD.id AND status <> 0)
		WHERE coll_id IN ` + fmt.Sprintf(quotaCollsAbove, "OLD.coll_id") + `;
	UPDATE usage_coll SET objects = objects + 1,
		bytes = bytes + (SELECT coalesce(sum(size), 0) FROM replicas WHERE object_id = NEW.id AND status <> 0)
		WHERE coll_id IN ` + fmt.Sprintf(quotaCollsAbove, "NEW.coll_id") + `;
END;
DELETE FROM usage_owner;
INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
	SELECT o.owner_name, o.owner_zone, r.resource, sum(r.size), count(*)
	FROM replicas r JOIN data_objects o ON o.id = r.object_id WHERE r.status <> 0
	GROUP BY o.owner_name, o.owner_zone, r.resource;
INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
	SELECT o.owner_name, o.owner_zone, '', sum(r.size), count(DISTINCT o.id)
	FROM replicas r JOIN data_objects o ON o.id = r.object_id WHERE r.status <> 0
	GROUP BY o.owner_name, o.owner_zone;
` + recountCollectionsSQL + `1;
`

// firstCounted is 1 when the replica row is the only counted replica of its
// object, seen from a trigger after it was inserted or counted; lastCounted
// is 1 when no counted replica of the object is left, after the row was
// deleted or uncounted. Both are 0 otherwise.
const (
	firstCounted = `(NOT EXISTS (SELECT 1 FROM replicas WHERE object_id = NEW.object_id AND number <> NEW.number AND status <> 0))`
	lastCounted  = `(NOT EXISTS (SELECT 1 FROM replicas WHERE object_id = OLD.object_id AND status <> 0))`
)

// countReplica is the body of a trigger that adds (sign 1) or takes away
// (sign -1) the replica row (NEW or OLD) from the usage: its bytes and one
// replica on its resource, its bytes and, if object says so, its data
// object in the owner's total and in the quota collections above it.
func countReplica(row string, sign int, object string) string {
	sz := fmt.Sprintf("%d * %s.size", sign, row)
	obj := fmt.Sprintf("%d * %s", sign, object)
	return `
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, ` + row + `.resource, ` + sz + `, ` + fmt.Sprint(sign) + ` FROM data_objects WHERE id = ` + row + `.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	INSERT INTO usage_owner (owner_name, owner_zone, resource, bytes, objects)
		SELECT owner_name, owner_zone, '', ` + sz + `, ` + obj + ` FROM data_objects WHERE id = ` + row + `.object_id
		ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects;
	UPDATE usage_coll SET bytes = bytes + ` + sz + `, objects = objects + ` + obj + `
		WHERE (` + row + `.size <> 0 OR ` + object + `) AND coll_id IN ` + fmt.Sprintf(quotaCollsAbove, fmt.Sprintf(objectColl, row)) + `;`
}

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
