package dgraph

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// Field lists of queries, aliased so that answers decode into the structs
// below whatever the prefix. Only replicas have an obj edge, so ~P.obj
// needs no filter on kind (which would read the index entry of every
// replica; see at).
const (
	nodeFields = `uid kind: P.kind path: P.path name: P.name owner: P.owner ctime: P.ctime mtime: P.mtime
		inherit: P.inherit acl: P.acl rmode: P.rmode runtil: P.runtil rhold: P.rhold rby: P.rby rset: P.rset
		rdmode: P.rdmode rdper: P.rdper`
	replFields = `uid obj: P.obj { uid } num: P.num resc: P.resc ppath: P.ppath size: P.size sum: P.sum
		status: P.status holder: P.holder lease: P.lease ctime: P.ctime mtime: P.mtime`
	objFields = nodeFields + ` repls: ~P.obj { ` + replFields + ` }`
)

// node is a collection or data object as queries return it.
type node struct {
	UID     string   `json:"uid"`
	Kind    string   `json:"kind"`
	Path    string   `json:"path"`
	Name    string   `json:"name"`
	Owner   string   `json:"owner"`
	CTime   int64    `json:"ctime"`
	MTime   int64    `json:"mtime"`
	Inherit bool     `json:"inherit"`
	ACL     []string `json:"acl"`
	Repls   []repl   `json:"repls"`
	// The lock of a data object, the default retention of a collection.
	RMode  string `json:"rmode"`
	RUntil int64  `json:"runtil"`
	RHold  bool   `json:"rhold"`
	RBy    string `json:"rby"`
	RSet   int64  `json:"rset"`
	RDMode string `json:"rdmode"`
	RDPer  string `json:"rdper"`
}

// lock is the stored lock of a data object node.
func (n *node) lock() catalog.Lock {
	if n.RMode == "" && !n.RHold {
		return catalog.Lock{}
	}
	return catalog.Lock{Mode: catalog.LockMode(n.RMode), Until: fromNanos(n.RUntil), Hold: n.RHold,
		SetBy: parseUserKey(n.RBy), SetAt: fromNanos(n.RSet)}
}

// retention is the stored default retention of a collection node.
func (n *node) retention() (catalog.DefaultRetention, error) {
	if n.RDMode == "" {
		return catalog.DefaultRetention{}, nil
	}
	per, err := catalog.ParsePeriod(n.RDPer)
	if err != nil {
		return catalog.DefaultRetention{}, fmt.Errorf("stored default retention: %w", err)
	}
	return catalog.DefaultRetention{Mode: catalog.LockMode(n.RDMode), Period: per}, nil
}

// lockSets are the predicates that store l on a data object node.
func (c *Catalog) lockSets(m map[string]any, l catalog.Lock) map[string]any {
	m[c.p("rmode")] = string(l.Mode)
	m[c.p("runtil")] = nanos(l.Until)
	m[c.p("rhold")] = l.Hold
	m[c.p("rby")] = userKey(l.SetBy)
	m[c.p("rset")] = nanos(l.SetAt)
	return m
}

// defaultSets adds the predicates of a collection's default retention d,
// if it has one, to m.
func (c *Catalog) defaultSets(m map[string]any, d catalog.DefaultRetention) map[string]any {
	if !d.IsZero() {
		m[c.p("rdmode")] = string(d.Mode)
		m[c.p("rdper")] = d.Period.String()
	}
	return m
}

type uidOnly struct {
	UID string `json:"uid"`
}

type repl struct {
	UID    string  `json:"uid"`
	Obj    uidOnly `json:"obj"`
	Num    int     `json:"num"`
	Resc   string  `json:"resc"`
	PPath  string  `json:"ppath"`
	Size   int64   `json:"size"`
	Sum    string  `json:"sum"`
	Status int     `json:"status"`
	Holder string  `json:"holder"`
	Lease  int64   `json:"lease"`
	CTime  int64   `json:"ctime"`
	MTime  int64   `json:"mtime"`
}

func (r repl) replica() catalog.Replica {
	return catalog.Replica{
		ObjectID: idOf(r.Obj.UID), Number: r.Num, Resource: r.Resc, PhysicalPath: r.PPath,
		Size: r.Size, Checksum: r.Sum, Status: catalog.ReplicaStatus(r.Status), LockHolder: r.Holder,
		LeaseExpiry: fromNanos(r.Lease), CreateTime: fromNanos(r.CTime), ModifyTime: fromNanos(r.MTime),
	}
}

func (n *node) path() (catalog.Path, error) {
	p, err := catalog.ParsePath(n.Path)
	if err != nil {
		return p, fmt.Errorf("stored path: %w", err)
	}
	return p, nil
}

func (n *node) collection() (catalog.Collection, error) {
	p, err := n.path()
	if err != nil {
		return catalog.Collection{}, err
	}
	d, err := n.retention()
	if err != nil {
		return catalog.Collection{}, err
	}
	return catalog.Collection{
		ID: idOf(n.UID), Path: p, Owner: parseUserKey(n.Owner),
		CreateTime: fromNanos(n.CTime), ModifyTime: fromNanos(n.MTime),
		ACL: parseACL(n.ACL), Inherit: n.Inherit, Retention: d,
	}, nil
}

func (n *node) object() (catalog.DataObject, error) {
	p, err := n.path()
	if err != nil {
		return catalog.DataObject{}, err
	}
	o := catalog.DataObject{
		ID: idOf(n.UID), Path: p, Owner: parseUserKey(n.Owner),
		CreateTime: fromNanos(n.CTime), ModifyTime: fromNanos(n.MTime), ACL: parseACL(n.ACL),
		Lock: n.lock(),
	}
	for _, r := range n.Repls {
		rr := r.replica()
		rr.ObjectID = o.ID
		o.Replicas = append(o.Replicas, rr)
	}
	slices.SortFunc(o.Replicas, func(a, b catalog.Replica) int { return cmp.Compare(a.Number, b.Number) })
	return o, nil
}

// aceValue is the stored form of a grant.
func aceValue(u catalog.UserID, level catalog.AccessLevel) string {
	return userKey(u) + "#" + strconv.Itoa(int(level))
}

func parseACE(s string) catalog.ACE {
	i := strings.LastIndexByte(s, '#')
	lvl, _ := strconv.Atoi(s[i+1:])
	return catalog.ACE{Principal: parseUserKey(s[:i]), Level: catalog.AccessLevel(lvl)}
}

func parseACL(vals []string) []catalog.ACE {
	if len(vals) == 0 {
		return nil
	}
	acl := make([]catalog.ACE, 0, len(vals))
	for _, v := range vals {
		acl = append(acl, parseACE(v))
	}
	slices.SortFunc(acl, func(a, b catalog.ACE) int {
		return cmp.Or(strings.Compare(a.Principal.Name, b.Principal.Name), strings.Compare(a.Principal.Zone, b.Principal.Zone))
	})
	return acl
}
