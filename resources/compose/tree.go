// Package compose is the composable resource tree, as pure code over the
// catalog's resource records: which leaf takes a write and which get copies,
// in which order replicas are read, passthru weights, compound roles. It does
// no I/O; the zone reads the records and opens the drivers.
package compose

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
)

// The composable resource tree, as in iRODS: storage resources (posix, s3,
// tape) are leaves that hold replicas; coordinating resources route.
//
//	replication  writes every child; a child that is down or failed is
//	             left missing until irepl -a or fsck --repair
//	compound     a cache and an archive child (roles in its context:
//	             "cache=NAME;archive=NAME"); a put lands on the cache and
//	             is synced to the archive; a read of an object missing
//	             from the cache stages it there; high_water/low_water (bytes)
//	             trim the cache of objects safe on the archive
//	random       one child at random among those up
//	passthru     its one child; context "read=W;write=W" weighs it, and a
//	             weight of 0 disables that direction
//
// A replica is registered on its leaf; its hierarchy is root;...;leaf.

// Node is one resource in the tree.
type Node struct {
	Rec      catalog.Resource
	Parent   *Node
	Children []*Node // by name
	// Params is the resource's context string, parsed.
	Params map[string]string
}

type Tree struct {
	nodes map[string]*Node
}

func Build(recs []catalog.Resource) *Tree {
	t := &Tree{nodes: map[string]*Node{}}
	for _, r := range recs {
		kv, err := resources.ParseContext(r.Context)
		if err != nil {
			kv = map[string]string{}
		}
		t.nodes[r.Name] = &Node{Rec: r, Params: kv}
	}
	for _, r := range recs { // recs are ordered by name, so children are too
		if p, ok := t.nodes[r.Parent]; ok && r.Parent != "" {
			n := t.nodes[r.Name]
			n.Parent = p
			p.Children = append(p.Children, n)
		}
	}
	return t
}

func (t *Tree) Node(name string) (*Node, error) {
	n, ok := t.nodes[name]
	if !ok {
		return nil, fmt.Errorf("resource %s: %w", name, catalog.ErrNotFound)
	}
	return n, nil
}

func (n *Node) Name() string { return n.Rec.Name }

func (n *Node) Storage() bool { return IsStorageType(n.Rec.Type) }

func (n *Node) Root() *Node {
	for n.Parent != nil {
		n = n.Parent
	}
	return n
}

// hierarchy is root;...;n, as iRODS writes a resource hierarchy.
func (n *Node) Hierarchy() string {
	var names []string
	for m := n; m != nil; m = m.Parent {
		names = append(names, m.Name())
	}
	slices.Reverse(names)
	return strings.Join(names, ";")
}

// up reports whether n and every resource above it are up.
func (n *Node) Up() bool {
	for m := n; m != nil; m = m.Parent {
		if m.Rec.Status == "down" {
			return false
		}
	}
	return true
}

// role is n's role below a compound parent: "cache", "archive" or "".
func (n *Node) Role() string {
	if n.Parent == nil || n.Parent.Rec.Type != "compound" {
		return ""
	}
	switch n.Name() {
	case n.Parent.Params["cache"]:
		return "cache"
	case n.Parent.Params["archive"]:
		return "archive"
	}
	return ""
}

// child returns the child of a compound with role.
func (n *Node) Child(role string) *Node {
	for _, c := range n.Children {
		if c.Role() == role {
			return c
		}
	}
	return nil
}

// leaves returns the storage resources at and below n.
func (n *Node) Leaves() []*Node {
	if n.Storage() {
		return []*Node{n}
	}
	var out []*Node
	for _, c := range n.Children {
		out = append(out, c.Leaves()...)
	}
	return out
}

// weight reads a passthru weight ("read" or "write"); 1 when unset.
func (n *Node) Weight(dir string) float64 {
	v, ok := n.Params[dir]
	if !ok {
		return 1
	}
	w, err := strconv.ParseFloat(v, 64)
	if err != nil || w < 0 {
		return 0
	}
	return w
}

// downError says why nothing below n can take a write or serve a read.
func DownError(n *Node, why string) error {
	var states []string
	for _, l := range n.Leaves() {
		state := "up"
		if !l.Up() {
			state = "down"
		}
		states = append(states, l.Hierarchy()+" ("+state+")")
	}
	if len(states) == 0 {
		states = append(states, "no storage resource below it")
	}
	return fmt.Errorf("%w: resource %s %s: %s", resources.ErrUnavailable, n.Name(), why, strings.Join(states, ", "))
}

// writeTargets resolves a write to n: the leaf that takes the client's
// bytes, and the leaves that get copies of them once it has them.
func (n *Node) WriteTargets() (primary *Node, copies []*Node, err error) {
	if !n.Up() {
		return nil, nil, DownError(n, "is down")
	}
	switch n.Rec.Type {
	case "passthru":
		if len(n.Children) != 1 {
			return nil, nil, fmt.Errorf("%w: passthru resource %s has %d children, needs exactly one", resources.ErrUnavailable, n.Name(), len(n.Children))
		}
		if n.Weight("write") == 0 {
			return nil, nil, fmt.Errorf("%w: passthru resource %s takes no writes (write=0)", resources.ErrUnavailable, n.Name())
		}
		return n.Children[0].WriteTargets()
	case "random":
		order := rand.Perm(len(n.Children))
		for _, i := range order {
			if p, c, err := n.Children[i].WriteTargets(); err == nil {
				return p, c, nil
			}
		}
		return nil, nil, DownError(n, "has no child that takes writes")
	case "replication":
		for _, c := range n.Children {
			p, more, err := c.WriteTargets()
			if err != nil {
				continue // left missing; repaired later
			}
			if primary == nil {
				primary = p
			} else {
				copies = append(copies, p)
			}
			copies = append(copies, more...)
		}
		if primary == nil {
			return nil, nil, DownError(n, "has no child that takes writes")
		}
		return primary, copies, nil
	case "compound":
		cache, archive := n.Child("cache"), n.Child("archive")
		if cache == nil || archive == nil {
			return nil, nil, fmt.Errorf("%w: compound resource %s needs a cache and an archive child", resources.ErrUnavailable, n.Name())
		}
		p, more, err := cache.WriteTargets()
		if err != nil {
			return nil, nil, err
		}
		ap, amore, err := archive.WriteTargets()
		if err != nil {
			// The archive catches up when it is back (irepl -a).
			return p, more, nil
		}
		return p, append(append(more, ap), amore...), nil
	}
	if !n.Storage() {
		return nil, nil, fmt.Errorf("%w: resource %s has type %q", catalog.ErrInvalidArgument, n.Name(), n.Rec.Type)
	}
	return n, nil, nil
}

// mediumRank orders storage types from fastest to slowest to read.
func MediumRank(t string) int {
	switch t {
	case "posix", "unixfilesystem":
		return 0
	case "s3":
		return 1
	case "tape":
		return 3
	}
	return 2
}

// Resource types. Storage types hold bytes and have a driver; coordinating
// types route to their children.
var (
	StorageTypes      = []string{"posix", "unixfilesystem", "s3", "tape"}
	CoordinatingTypes = []string{"replication", "compound", "random", "passthru"}
)

// IsStorageType reports whether t holds bytes itself.
func IsStorageType(t string) bool { return slices.Contains(StorageTypes, t) }

// IsCoordinatingType reports whether t routes to children.
func IsCoordinatingType(t string) bool { return slices.Contains(CoordinatingTypes, t) }

// Find returns the node named name at or below n.
func (n *Node) Find(name string) *Node {
	if n.Name() == name {
		return n
	}
	for _, c := range n.Children {
		if f := c.Find(name); f != nil {
			return f
		}
	}
	return nil
}

// Lookup returns the node named name, if the tree has it.
func (t *Tree) Lookup(name string) (*Node, bool) {
	n, ok := t.nodes[name]
	return n, ok
}

// Nodes returns every node, in no particular order.
func (t *Tree) Nodes() []*Node {
	out := make([]*Node, 0, len(t.nodes))
	for _, n := range t.nodes {
		out = append(out, n)
	}
	return out
}
