package query

import (
	"fmt"
	"sort"
	"strings"
)

// Type is the type of a column's values, which decides the operators and
// literals a condition on the column may use.
type Type int

const (
	// TypeString columns compare byte-wise and accept LIKE.
	TypeString Type = iota + 1
	// TypeInt columns compare numerically with integer or float literals.
	TypeInt
	// TypeTime columns compare as instants; see the package doc for literals.
	TypeTime
	// TypeFloat is never the type of a column, only of AVG's result.
	TypeFloat
)

func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInt:
		return "integer"
	case TypeTime:
		return "time"
	case TypeFloat:
		return "float"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Entity is the kind of catalog row a column belongs to. A backend joins one
// row of each entity a query names; see the package doc.
type Entity int

const (
	EntityCollection Entity = iota + 1 // a collection
	EntityData                         // a data object replica (one row per replica, as in iRODS)
	EntityDataMeta                     // an AVU attached to a data object
	EntityCollMeta                     // an AVU attached to a collection
	EntityResource                     // a storage resource
	EntityRescMeta                     // an AVU attached to a resource
	EntityUser                         // a user or group account
	EntityUserMeta                     // an AVU attached to a user
	EntityUserGroup                    // a group the user belongs to
	EntityDataAccess                   // an ACL entry of a data object
	EntityCollAccess                   // an ACL entry of a collection
	EntityZone                         // a zone
	EntityTicket                       // a ticket
	EntityQuota                        // a quota
)

var entityNames = map[Entity]string{
	EntityCollection: "collection",
	EntityData:       "data object",
	EntityDataMeta:   "data object metadata",
	EntityCollMeta:   "collection metadata",
	EntityResource:   "resource",
	EntityRescMeta:   "resource metadata",
	EntityUser:       "user",
	EntityUserMeta:   "user metadata",
	EntityUserGroup:  "group membership",
	EntityDataAccess: "data object ACL",
	EntityCollAccess: "collection ACL",
	EntityZone:       "zone",
	EntityTicket:     "ticket",
	EntityQuota:      "quota",
}

func (e Entity) String() string {
	if s, ok := entityNames[e]; ok {
		return s
	}
	return fmt.Sprintf("Entity(%d)", int(e))
}

// Column is an entry of the column registry. Parsed queries point at the
// registry's entries, so a backend may compare *Column pointers or switch on
// Name.
type Column struct {
	Name   string // GenQuery name, upper case: DATA_SIZE
	Type   Type
	Entity Entity
	Doc    string
}

func (c *Column) String() string { return c.Name }

// registry lists the columns in a stable order (grouped by entity).
var registry = []*Column{
	// Collections.
	{"COLL_ID", TypeInt, EntityCollection, "catalog id of the collection"},
	{"COLL_NAME", TypeString, EntityCollection, "full logical path of the collection"},
	{"COLL_PARENT_NAME", TypeString, EntityCollection, "full logical path of the parent collection"},
	{"COLL_OWNER_NAME", TypeString, EntityCollection, "user name of the collection's owner"},
	{"COLL_OWNER_ZONE", TypeString, EntityCollection, "zone of the collection's owner"},
	{"COLL_INHERITANCE", TypeInt, EntityCollection, "1 if new children inherit the ACL, else 0"},
	{"COLL_CREATE_TIME", TypeTime, EntityCollection, "creation time"},
	{"COLL_MODIFY_TIME", TypeTime, EntityCollection, "last modification time"},

	// Data objects, one row per replica.
	{"DATA_ID", TypeInt, EntityData, "catalog id of the data object (shared by its replicas)"},
	{"DATA_COLL_ID", TypeInt, EntityData, "catalog id of the collection holding the object"},
	{"DATA_NAME", TypeString, EntityData, "last path element of the object"},
	{"DATA_REPL_NUM", TypeInt, EntityData, "replica number"},
	{"DATA_SIZE", TypeInt, EntityData, "replica size in bytes"},
	{"DATA_TYPE_NAME", TypeString, EntityData, "data type"},
	{"DATA_CHECKSUM", TypeString, EntityData, "replica checksum (sha2:BASE64), '' if none"},
	{"DATA_OWNER_NAME", TypeString, EntityData, "user name of the object's owner"},
	{"DATA_OWNER_ZONE", TypeString, EntityData, "zone of the object's owner"},
	{"DATA_RESC_NAME", TypeString, EntityData, "resource holding the replica"},
	{"DATA_RESC_HIER", TypeString, EntityData, "resource hierarchy of the replica (root;...;leaf)"},
	{"DATA_REPL_STATUS", TypeInt, EntityData, "replica status, iRODS numbering: 0 stale, 1 good, 2 intermediate"},
	{"DATA_PATH", TypeString, EntityData, "full physical path of the replica, as ils -L shows it"},
	{"DATA_CREATE_TIME", TypeTime, EntityData, "replica creation time"},
	{"DATA_MODIFY_TIME", TypeTime, EntityData, "replica modification time"},

	// AVUs.
	{"META_DATA_ATTR_NAME", TypeString, EntityDataMeta, "attribute of a data object AVU"},
	{"META_DATA_ATTR_VALUE", TypeString, EntityDataMeta, "value of a data object AVU"},
	{"META_DATA_ATTR_UNITS", TypeString, EntityDataMeta, "unit of a data object AVU, '' if none"},
	{"META_DATA_CREATE_TIME", TypeTime, EntityDataMeta, "when the AVU was attached"},
	{"META_DATA_MODIFY_TIME", TypeTime, EntityDataMeta, "when the AVU was last changed"},
	{"META_COLL_ATTR_NAME", TypeString, EntityCollMeta, "attribute of a collection AVU"},
	{"META_COLL_ATTR_VALUE", TypeString, EntityCollMeta, "value of a collection AVU"},
	{"META_COLL_ATTR_UNITS", TypeString, EntityCollMeta, "unit of a collection AVU, '' if none"},
	{"META_COLL_CREATE_TIME", TypeTime, EntityCollMeta, "when the AVU was attached"},
	{"META_COLL_MODIFY_TIME", TypeTime, EntityCollMeta, "when the AVU was last changed"},
	{"META_RESC_ATTR_NAME", TypeString, EntityRescMeta, "attribute of a resource AVU"},
	{"META_RESC_ATTR_VALUE", TypeString, EntityRescMeta, "value of a resource AVU"},
	{"META_RESC_ATTR_UNITS", TypeString, EntityRescMeta, "unit of a resource AVU, '' if none"},
	{"META_RESC_CREATE_TIME", TypeTime, EntityRescMeta, "when the AVU was attached"},
	{"META_RESC_MODIFY_TIME", TypeTime, EntityRescMeta, "when the AVU was last changed"},
	{"META_USER_ATTR_NAME", TypeString, EntityUserMeta, "attribute of a user AVU"},
	{"META_USER_ATTR_VALUE", TypeString, EntityUserMeta, "value of a user AVU"},
	{"META_USER_ATTR_UNITS", TypeString, EntityUserMeta, "unit of a user AVU, '' if none"},
	{"META_USER_CREATE_TIME", TypeTime, EntityUserMeta, "when the AVU was attached"},
	{"META_USER_MODIFY_TIME", TypeTime, EntityUserMeta, "when the AVU was last changed"},

	// Users and groups.
	{"USER_ID", TypeInt, EntityUser, "catalog id of the user"},
	{"USER_NAME", TypeString, EntityUser, "user or group name"},
	{"USER_TYPE", TypeString, EntityUser, "rodsadmin, rodsuser, groupadmin or rodsgroup"},
	{"USER_ZONE", TypeString, EntityUser, "home zone of the user"},
	{"USER_INFO", TypeString, EntityUser, "free-form info"},
	{"USER_COMMENT", TypeString, EntityUser, "free-form comment"},
	{"USER_CREATE_TIME", TypeTime, EntityUser, "creation time"},
	{"USER_MODIFY_TIME", TypeTime, EntityUser, "last modification time"},
	{"USER_GROUP_ID", TypeInt, EntityUserGroup, "catalog id of a group the user belongs to"},
	{"USER_GROUP_NAME", TypeString, EntityUserGroup, "name of a group the user belongs to"},

	// Access control.
	{"DATA_ACCESS_NAME", TypeString, EntityDataAccess, "access level on the object: null, read, write or own"},
	{"DATA_ACCESS_USER_NAME", TypeString, EntityDataAccess, "user or group the object's ACL entry grants to (Arca)"},
	{"DATA_ACCESS_USER_ZONE", TypeString, EntityDataAccess, "zone of that user or group (Arca)"},
	{"COLL_ACCESS_NAME", TypeString, EntityCollAccess, "access level on the collection: null, read, write or own"},
	{"COLL_ACCESS_USER_NAME", TypeString, EntityCollAccess, "user or group the collection's ACL entry grants to (Arca)"},
	{"COLL_ACCESS_USER_ZONE", TypeString, EntityCollAccess, "zone of that user or group (Arca)"},

	// Resources.
	{"RESC_ID", TypeInt, EntityResource, "catalog id of the resource"},
	{"RESC_NAME", TypeString, EntityResource, "resource name"},
	{"RESC_ZONE_NAME", TypeString, EntityResource, "zone of the resource"},
	{"RESC_TYPE_NAME", TypeString, EntityResource, "resource type (posix, s3, replication, ...)"},
	{"RESC_CLASS_NAME", TypeString, EntityResource, "resource class (cache, archive, bundle)"},
	{"RESC_LOC", TypeString, EntityResource, "host of the resource"},
	{"RESC_VAULT_PATH", TypeString, EntityResource, "vault path of the resource"},
	{"RESC_STATUS", TypeString, EntityResource, "up or down"},
	{"RESC_COMMENT", TypeString, EntityResource, "free-form comment"},
	{"RESC_INFO", TypeString, EntityResource, "free-form info"},
	{"RESC_CONTEXT", TypeString, EntityResource, "key=value;... settings of the resource type"},
	{"RESC_PARENT", TypeString, EntityResource, "parent resource in the hierarchy, '' for a root"},
	{"RESC_FREE_SPACE", TypeInt, EntityResource, "free space in bytes as last recorded"},
	{"RESC_CREATE_TIME", TypeTime, EntityResource, "creation time"},
	{"RESC_MODIFY_TIME", TypeTime, EntityResource, "last modification time"},

	// Zones.
	{"ZONE_ID", TypeInt, EntityZone, "catalog id of the zone"},
	{"ZONE_NAME", TypeString, EntityZone, "zone name"},
	{"ZONE_TYPE", TypeString, EntityZone, "local or remote"},
	{"ZONE_CONNECTION", TypeString, EntityZone, "host:port of a remote zone"},
	{"ZONE_COMMENT", TypeString, EntityZone, "free-form comment"},

	// Tickets.
	{"TICKET_ID", TypeInt, EntityTicket, "catalog id of the ticket"},
	{"TICKET_STRING", TypeString, EntityTicket, "the ticket string"},
	{"TICKET_TYPE", TypeString, EntityTicket, "read or write"},
	{"TICKET_OWNER_NAME", TypeString, EntityTicket, "user who created the ticket"},
	{"TICKET_OWNER_ZONE", TypeString, EntityTicket, "zone of that user"},
	{"TICKET_OBJECT_TYPE", TypeString, EntityTicket, "data or collection"},
	{"TICKET_DATA_NAME", TypeString, EntityTicket, "name of the data object the ticket is for"},
	{"TICKET_COLL_NAME", TypeString, EntityTicket, "collection the ticket is for, or holding its object"},
	{"TICKET_EXPIRY", TypeTime, EntityTicket, "expiry time"},
	{"TICKET_USES_LIMIT", TypeInt, EntityTicket, "maximum number of uses, 0 for no limit"},
	{"TICKET_USES_COUNT", TypeInt, EntityTicket, "uses so far"},
	{"TICKET_WRITE_FILE_LIMIT", TypeInt, EntityTicket, "maximum number of files written, 0 for no limit"},
	{"TICKET_WRITE_FILE_COUNT", TypeInt, EntityTicket, "files written so far"},
	{"TICKET_WRITE_BYTE_LIMIT", TypeInt, EntityTicket, "maximum bytes written, 0 for no limit"},
	{"TICKET_WRITE_BYTE_COUNT", TypeInt, EntityTicket, "bytes written so far"},

	// Quotas.
	{"QUOTA_USER_NAME", TypeString, EntityQuota, "user or group the quota applies to"},
	{"QUOTA_USER_TYPE", TypeString, EntityQuota, "type of that user or group"},
	{"QUOTA_COLL_NAME", TypeString, EntityQuota, "collection the quota applies to (Arca)"},
	{"QUOTA_RESC_NAME", TypeString, EntityQuota, "resource the quota applies to, 'total' for all"},
	{"QUOTA_LIMIT", TypeInt, EntityQuota, "limit in bytes"},
	{"QUOTA_OBJECT_LIMIT", TypeInt, EntityQuota, "limit in data objects (Arca)"},
	{"QUOTA_OVER", TypeInt, EntityQuota, "bytes over the limit (negative when under)"},
	{"QUOTA_MODIFY_TIME", TypeTime, EntityQuota, "when the quota was last computed"},
}

var byName = func() map[string]*Column {
	m := make(map[string]*Column, len(registry))
	for _, c := range registry {
		if _, dup := m[c.Name]; dup {
			panic("query: duplicate column " + c.Name)
		}
		m[c.Name] = c
	}
	return m
}()

// Columns returns the registry, grouped by entity, for `iquest attrs` and
// for backends checking they serve every column.
func Columns() []*Column {
	out := make([]*Column, len(registry))
	copy(out, registry)
	return out
}

// LookupColumn finds a column by name, ignoring case.
func LookupColumn(name string) (*Column, bool) {
	c, ok := byName[strings.ToUpper(name)]
	return c, ok
}

// suggest returns the registered name nearest to name, or "" if none is
// close enough to be a plausible typo.
func suggest(name string) string {
	name = strings.ToUpper(name)
	if len(name) > 64 {
		return ""
	}
	best, bestDist := "", 1<<30
	names := make([]string, 0, len(registry))
	for _, c := range registry {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	for _, n := range names {
		if d := editDistance(name, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	limit := len(name) / 3
	if limit < 2 {
		limit = 2
	}
	if bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
