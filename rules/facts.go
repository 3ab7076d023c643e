package rules

import (
	"context"
	"errors"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"

	"github.com/arca-data/arca/catalog"
)

// Request is an operation as rules see it. The zone fills it from its Op;
// everything else a rule may read is looked up in the catalog when, and
// only if, a rule reads it.
type Request struct {
	Op       string // dotted operation name: put, get, remove, metadata.add, ...
	Path     catalog.Path
	Dest     catalog.Path // the destination of rename and copy
	Resource string
	Size     int64 // the size a put announces; -1: unknown
	// AVUs are the AVUs an operation gives: those a put, metadata.add or
	// metadata.set attaches, those metadata.remove removes (or its
	// pattern), the attribute metadata.list asks for; for metadata.modify
	// the old AVU.
	AVUs []catalog.AVU
	// NewAVUs is the new AVU of metadata.modify.
	NewAVUs []catalog.AVU
	Group   string // the group of group.* operations; the name of the grantee of acl.set
	// Grantee is the user or group acl.set grants Level to.
	Grantee catalog.UserID
	// Level is the access level acl.set grants (null, read, write, own),
	// or the type of the ticket ticket.create makes (read, write).
	Level string
	// Account is the account a user.* operation acts on (the member of
	// group.add and group.remove_member, the user whose AVUs a metadata.*
	// operation acts on).
	Account   catalog.UserID
	Recursive bool // the operation takes everything below a collection (-r)
	AdminMode bool
	User      catalog.User
	Zone      string
	Now       time.Time
}

// Catalog is what rules read lazily. catalog.Catalog has it.
type Catalog interface {
	Stat(ctx context.Context, p catalog.Path) (catalog.Entry, error)
	ListMetadata(ctx context.Context, t catalog.AVUTarget) ([]catalog.AVU, error)
	GroupsOf(ctx context.Context, user catalog.UserID) ([]catalog.UserID, error)
	Resource(ctx context.Context, name string) (catalog.Resource, error)
}

// facts is one operation's facts, shared by every rule evaluated for it,
// so each lookup happens at most once per operation (and phase).
type facts struct {
	ctx context.Context
	cat Catalog
	req *Request
	err string // how the operation ended, for post phases

	object, dest       *entryFacts
	groups             ref.Val
	userMeta, rescMeta ref.Val
	resc               *catalog.Resource
	opMeta, opNewMeta  ref.Val
}

func newFacts(ctx context.Context, cat Catalog, req *Request) *facts {
	f := &facts{ctx: ctx, cat: cat, req: req}
	f.object = &entryFacts{f: f, path: req.Path, announced: req.Size}
	f.dest = &entryFacts{f: f, path: req.Dest, announced: -1}
	return f
}

// entryFacts is object or dest: a path that may or may not exist.
type entryFacts struct {
	f         *facts
	path      catalog.Path
	announced int64 // the size a put announces, before the object exists

	looked     bool
	entry      catalog.Entry
	exists     bool
	meta       ref.Val
	metaValues ref.Val
	avus       []catalog.AVU
	avusErr    ref.Val // the error of reading avus, if any
	avusRead   bool
	ancestors  []*collFacts // nearest first, made when first read
	ancestorsV ref.Val
}

func (e *entryFacts) lookup() {
	if e.looked {
		return
	}
	e.looked = true
	if e.path.IsZero() || e.f.cat == nil {
		return
	}
	ent, err := e.f.cat.Stat(e.f.ctx, e.path)
	if err == nil {
		e.entry, e.exists = ent, true
	}
}

// metadataOf reads the AVUs of t as a map from attribute to value; when an
// attribute has several values the first in attribute-value order wins.
func (f *facts) metadataOf(t catalog.AVUTarget) ref.Val {
	avus, errVal := f.avusOf(t)
	if errVal != nil {
		return errVal
	}
	return avuMap(avus)
}

// avusOf reads the AVUs of t; a target that is not there has none.
func (f *facts) avusOf(t catalog.AVUTarget) ([]catalog.AVU, ref.Val) {
	if f.cat == nil {
		return nil, nil
	}
	avus, err := f.cat.ListMetadata(f.ctx, t)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) && !errors.Is(err, catalog.ErrNotDataObject) && !errors.Is(err, catalog.ErrNotCollection) {
		return nil, types.NewErr("metadata of %s: %v", t, err)
	}
	return avus, nil
}

// avuValues maps every attribute to all its values, in the catalog's
// attribute-value order.
func avuValues(avus []catalog.AVU) ref.Val {
	m := make(map[string][]string, len(avus))
	for _, a := range avus {
		m[a.Attribute] = append(m[a.Attribute], a.Value)
	}
	return types.DefaultTypeAdapter.NativeToValue(m)
}

func avuMap(avus []catalog.AVU) ref.Val {
	m := make(map[string]string, len(avus))
	for _, a := range avus {
		if _, ok := m[a.Attribute]; !ok {
			m[a.Attribute] = a.Value
		}
	}
	return types.NewStringStringMap(types.DefaultTypeAdapter, m)
}

// entryAVUs reads the AVUs of the entry once, for both of its maps.
func (e *entryFacts) entryAVUs() ([]catalog.AVU, ref.Val) {
	if !e.avusRead {
		e.avusRead = true
		e.lookup()
		switch {
		case !e.exists:
		case e.entry.Collection != nil:
			e.avus, e.avusErr = e.f.avusOf(catalog.CollectionTarget(e.path))
		default:
			e.avus, e.avusErr = e.f.avusOf(catalog.ObjectTarget(e.path))
		}
	}
	return e.avus, e.avusErr
}

func (e *entryFacts) metadata() ref.Val {
	if e.meta == nil {
		avus, errVal := e.entryAVUs()
		if errVal != nil {
			return errVal
		}
		e.meta = avuMap(avus)
	}
	return e.meta
}

func (e *entryFacts) metadataValues() ref.Val {
	if e.metaValues == nil {
		avus, errVal := e.entryAVUs()
		if errVal != nil {
			return errVal
		}
		e.metaValues = avuValues(avus)
	}
	return e.metaValues
}

// ancestorList is the collections above the entry's path, nearest first,
// up to "/". Making it reads nothing: each one's metadata is read when a
// rule reads it, at most once per operation.
func (e *entryFacts) ancestorList() []*collFacts {
	if e.ancestors == nil {
		e.ancestors = []*collFacts{}
		if !e.path.IsZero() {
			for p := e.path; !p.IsRoot(); {
				p = p.Parent()
				e.ancestors = append(e.ancestors, &collFacts{f: e.f, path: p})
			}
		}
	}
	return e.ancestors
}

func (e *entryFacts) parentMetadata() ref.Val {
	if as := e.ancestorList(); len(as) > 0 {
		return as[0].metadata()
	}
	return avuMap(nil)
}

func (e *entryFacts) ancestorValues() ref.Val {
	if e.ancestorsV == nil {
		as := e.ancestorList()
		vals := make([]ref.Val, len(as))
		for i, a := range as {
			vals[i] = structVal{typ: ancestorType, v: a}
		}
		e.ancestorsV = types.NewRefValList(types.DefaultTypeAdapter, vals)
	}
	return e.ancestorsV
}

// collFacts is one ancestor collection of an object: its path, and its
// metadata read when a rule first reads it.
type collFacts struct {
	f          *facts
	path       catalog.Path
	read       bool
	avus       []catalog.AVU
	avusErr    ref.Val
	meta       ref.Val
	metaValues ref.Val
}

func (c *collFacts) collAVUs() ([]catalog.AVU, ref.Val) {
	if !c.read {
		c.read = true
		c.avus, c.avusErr = c.f.avusOf(catalog.CollectionTarget(c.path))
	}
	return c.avus, c.avusErr
}

func (c *collFacts) metadata() ref.Val {
	if c.meta == nil {
		avus, errVal := c.collAVUs()
		if errVal != nil {
			return errVal
		}
		c.meta = avuMap(avus)
	}
	return c.meta
}

func (c *collFacts) metadataValues() ref.Val {
	if c.metaValues == nil {
		avus, errVal := c.collAVUs()
		if errVal != nil {
			return errVal
		}
		c.metaValues = avuValues(avus)
	}
	return c.metaValues
}

func collOf(t any) *collFacts { return t.(*collFacts) }

var ancestorFields = []field{
	{"path", types.StringType, "full logical path of the collection", func(t any) ref.Val { return pathStr(collOf(t).path) }},
	{"name", types.StringType, `its last component ("" for "/")`, func(t any) ref.Val { return str(collOf(t).path.Name()) }},
	{"metadata", stringMap, "its AVUs, attribute to value (the first of several)", func(t any) ref.Val { return collOf(t).metadata() }},
	{"metadataValues", stringListMap, "its AVUs, attribute to all its values", func(t any) ref.Val { return collOf(t).metadataValues() }},
}

func str(s string) ref.Val { return types.String(s) }

var opFields = []field{
	{"name", types.StringType, "the operation: put, get, remove, rename, copy, mkdir, metadata.set, acl.set, ...", func(t any) ref.Val { return str(t.(*facts).req.Op) }},
	{"path", types.StringType, "the path it acts on", func(t any) ref.Val { return pathStr(t.(*facts).req.Path) }},
	{"dest", types.StringType, "the destination of rename and copy", func(t any) ref.Val { return pathStr(t.(*facts).req.Dest) }},
	{"resource", types.StringType, "the target resource of put and copy; the resource of replicate, trim and physmove; the resource whose AVUs a metadata.* operation acts on (imeta -R)", func(t any) ref.Val { return str(t.(*facts).req.Resource) }},
	{"size", types.IntType, "the size a put announces (-1: unknown)", func(t any) ref.Val { return types.Int(t.(*facts).req.Size) }},
	{"metadata", stringMap, "AVUs the operation gives (attribute to value): those a put, metadata.add or metadata.set attaches, those metadata.remove removes, the attribute metadata.list asks for; the old AVU of metadata.modify", func(t any) ref.Val {
		f := t.(*facts)
		if f.opMeta == nil {
			f.opMeta = avuMap(f.req.AVUs)
		}
		return f.opMeta
	}},
	{"newMetadata", stringMap, "AVUs as the operation leaves them (attribute to value): the new AVU of metadata.modify; what put, metadata.add and metadata.set attach; empty for other operations", func(t any) ref.Val {
		f := t.(*facts)
		if f.opNewMeta == nil {
			f.opNewMeta = avuMap(f.req.newAVUs())
		}
		return f.opNewMeta
	}},
	{"group", types.StringType, "the group of group.* operations; the name of the user or group acl.set grants to (see grantee)", func(t any) ref.Val { return str(t.(*facts).req.Group) }},
	{"grantee", types.StringType, `the user or group acl.set grants access to: "name", or "name#zone" for another zone`, func(t any) ref.Val {
		f := t.(*facts)
		return str(f.userName(f.req.Grantee))
	}},
	{"level", types.StringType, "the access acl.set grants (null, read, write, own; null removes a grant); the type of the ticket ticket.create makes (read, write)", func(t any) ref.Val { return str(t.(*facts).req.Level) }},
	{"account", types.StringType, `the account a user.* operation acts on, the member group.add and group.remove_member add or remove, the user whose AVUs a metadata.* operation acts on (imeta -u): "name", or "name#zone" for another zone`, func(t any) ref.Val {
		f := t.(*facts)
		return str(f.userName(f.req.Account))
	}},
	{"recursive", types.BoolType, "the operation takes everything below a collection (ichmod -r, irm -r, irepl -r, itrim -r, iphymv -r)", func(t any) ref.Val { return types.Bool(t.(*facts).req.Recursive) }},
	{"admin", types.BoolType, "an administrator acting as such (ichmod -M)", func(t any) ref.Val { return types.Bool(t.(*facts).req.AdminMode) }},
}

// newAVUs is what op.newMetadata shows: the AVUs the operation leaves on
// its target.
func (r *Request) newAVUs() []catalog.AVU {
	switch r.Op {
	case "metadata.modify":
		return r.NewAVUs
	case "put", "metadata.add", "metadata.set":
		return r.AVUs
	}
	return nil
}

// userName writes id as iRODS does: the name alone in this zone, name#zone
// for another.
func (f *facts) userName(id catalog.UserID) string {
	if id.Name == "" || id.Zone == "" || id.Zone == f.req.Zone {
		return id.Name
	}
	return id.Name + "#" + id.Zone
}

func pathStr(p catalog.Path) ref.Val {
	if p.IsZero() {
		return str("")
	}
	return str(p.String())
}

var userFields = []field{
	{"name", types.StringType, "user name", func(t any) ref.Val { return str(t.(*facts).req.User.Name) }},
	{"zone", types.StringType, "the user's zone", func(t any) ref.Val { return str(t.(*facts).req.User.Zone) }},
	{"type", types.StringType, "rodsadmin, rodsuser or groupadmin", func(t any) ref.Val { return str(string(t.(*facts).req.User.Type)) }},
	{"groups", stringList, "names of the groups the user belongs to", func(t any) ref.Val {
		f := t.(*facts)
		if f.groups == nil {
			var names []string
			if f.cat != nil && f.req.User.Name != "" {
				gs, err := f.cat.GroupsOf(f.ctx, f.req.User.UserID())
				if err != nil {
					f.groups = types.NewErr("groups of %s: %v", f.req.User.UserID(), err)
					return f.groups
				}
				for _, g := range gs {
					names = append(names, g.Name)
				}
			}
			f.groups = types.NewStringList(types.DefaultTypeAdapter, names)
		}
		return f.groups
	}},
	{"metadata", stringMap, "AVUs of the user", func(t any) ref.Val {
		f := t.(*facts)
		if f.userMeta == nil {
			f.userMeta = f.metadataOf(catalog.UserTarget(f.req.User.UserID()))
		}
		return f.userMeta
	}},
}

func entryOf(t any) *entryFacts { return t.(*entryFacts) }

var objectFields = []field{
	{"path", types.StringType, "full logical path", func(t any) ref.Val { return pathStr(entryOf(t).path) }},
	{"name", types.StringType, "last component of the path", func(t any) ref.Val {
		e := entryOf(t)
		if e.path.IsZero() {
			return str("")
		}
		return str(e.path.Name())
	}},
	{"parent", types.StringType, "path of the parent collection", func(t any) ref.Val {
		e := entryOf(t)
		if e.path.IsZero() || e.path.IsRoot() {
			return str("")
		}
		return str(e.path.Parent().String())
	}},
	{"components", stringList, `the names along the path, the zone first: ["tempZone", "home", "alice", "x.dat"]`, func(t any) ref.Val {
		return types.NewStringList(types.DefaultTypeAdapter, entryOf(t).path.Components())
	}},
	{"exists", types.BoolType, "whether something is at the path already", func(t any) ref.Val {
		e := entryOf(t)
		e.lookup()
		return types.Bool(e.exists)
	}},
	{"kind", types.StringType, `"data object", "collection", or "" when nothing is there`, func(t any) ref.Val {
		e := entryOf(t)
		e.lookup()
		switch {
		case !e.exists:
			return str("")
		case e.entry.Collection != nil:
			return str("collection")
		}
		return str("data object")
	}},
	{"size", types.IntType, "size in bytes of the newest replica; for a put, the announced size until it is stored", func(t any) ref.Val {
		e := entryOf(t)
		e.lookup()
		if e.exists && e.entry.Object != nil {
			if r, ok := e.entry.Object.Newest(); ok {
				return types.Int(r.Size)
			}
		}
		return types.Int(e.announced)
	}},
	{"checksum", types.StringType, "checksum of the newest replica", func(t any) ref.Val {
		e := entryOf(t)
		e.lookup()
		if e.exists && e.entry.Object != nil {
			if r, ok := e.entry.Object.Newest(); ok {
				return str(r.Checksum)
			}
		}
		return str("")
	}},
	{"owner", types.StringType, "name of the owner", func(t any) ref.Val {
		e := entryOf(t)
		e.lookup()
		switch {
		case !e.exists:
			return str(e.f.req.User.Name)
		case e.entry.Collection != nil:
			return str(e.entry.Collection.Owner.Name)
		}
		return str(e.entry.Object.Owner.Name)
	}},
	{"created", types.TimestampType, "creation time (now, when nothing is there yet)", func(t any) ref.Val {
		e := entryOf(t)
		e.lookup()
		switch {
		case !e.exists:
			return types.Timestamp{Time: e.f.req.Now}
		case e.entry.Collection != nil:
			return types.Timestamp{Time: e.entry.Collection.CreateTime}
		}
		return types.Timestamp{Time: e.entry.Object.CreateTime}
	}},
	{"modified", types.TimestampType, "last modification time", func(t any) ref.Val {
		e := entryOf(t)
		e.lookup()
		switch {
		case !e.exists:
			return types.Timestamp{Time: e.f.req.Now}
		case e.entry.Collection != nil:
			return types.Timestamp{Time: e.entry.Collection.ModifyTime}
		}
		return types.Timestamp{Time: e.entry.Object.ModifyTime}
	}},
	{"replicas", cel.ListType(replicaType), "the replicas of a data object", func(t any) ref.Val {
		e := entryOf(t)
		e.lookup()
		var vals []ref.Val
		if e.exists && e.entry.Object != nil {
			for i := range e.entry.Object.Replicas {
				vals = append(vals, structVal{typ: replicaType, v: &e.entry.Object.Replicas[i]})
			}
		}
		return types.NewRefValList(types.DefaultTypeAdapter, vals)
	}},
	{"metadata", stringMap, "its AVUs, attribute to value (the first of several)", func(t any) ref.Val { return entryOf(t).metadata() }},
	{"metadataValues", stringListMap, "its AVUs, attribute to all its values", func(t any) ref.Val { return entryOf(t).metadataValues() }},
	{"parentMetadata", stringMap, "AVUs of the parent collection (object.ancestors[0].metadata)", func(t any) ref.Val { return entryOf(t).parentMetadata() }},
	{"ancestors", cel.ListType(ancestorType), "the collections above it, nearest first, up to /: each with path, name, metadata and metadataValues (read only when a rule reads them)", func(t any) ref.Val { return entryOf(t).ancestorValues() }},
}

func replicaOf(t any) *catalog.Replica { return t.(*catalog.Replica) }

var replicaFields = []field{
	{"number", types.IntType, "replica number", func(t any) ref.Val { return types.Int(replicaOf(t).Number) }},
	{"resource", types.StringType, "resource it is on", func(t any) ref.Val { return str(replicaOf(t).Resource) }},
	{"status", types.StringType, "good, stale or intermediate", func(t any) ref.Val { return str(replicaOf(t).Status.String()) }},
	{"size", types.IntType, "size in bytes", func(t any) ref.Val { return types.Int(replicaOf(t).Size) }},
	{"checksum", types.StringType, "checksum", func(t any) ref.Val { return str(replicaOf(t).Checksum) }},
}

func (f *facts) resource() *catalog.Resource {
	if f.resc == nil {
		f.resc = &catalog.Resource{Name: f.req.Resource}
		if f.cat != nil && f.req.Resource != "" {
			if r, err := f.cat.Resource(f.ctx, f.req.Resource); err == nil {
				f.resc = &r
			}
		}
	}
	return f.resc
}

var resourceFields = []field{
	{"name", types.StringType, "resource name", func(t any) ref.Val { return str(t.(*facts).req.Resource) }},
	{"type", types.StringType, "resource type (posix, s3, ...)", func(t any) ref.Val { return str(t.(*facts).resource().Type) }},
	{"status", types.StringType, "up or down", func(t any) ref.Val { return str(t.(*facts).resource().Status) }},
	{"metadata", stringMap, "AVUs of the resource", func(t any) ref.Val {
		f := t.(*facts)
		if f.rescMeta == nil {
			if f.req.Resource == "" {
				f.rescMeta = avuMap(nil)
			} else {
				f.rescMeta = f.metadataOf(catalog.ResourceTarget(f.req.Resource))
			}
		}
		return f.rescMeta
	}},
}

// activation resolves the top-level variables of one operation.
type activation struct{ f *facts }

func (a activation) ResolveName(name string) (any, bool) {
	switch name {
	case "op":
		return structVal{typ: opType, v: a.f}, true
	case "user":
		return structVal{typ: userType, v: a.f}, true
	case "object":
		return structVal{typ: objectType, v: a.f.object}, true
	case "dest":
		return structVal{typ: objectType, v: a.f.dest}, true
	case "resource":
		return structVal{typ: resourceTyp, v: a.f}, true
	case "zone":
		return str(a.f.req.Zone), true
	case "now":
		return types.Timestamp{Time: a.f.req.Now}, true
	case "error":
		return str(a.f.err), true
	}
	return nil, false
}

func (a activation) Parent() interpreter.Activation { return nil }
