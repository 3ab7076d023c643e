package zones

import (
	"context"
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

// rescNode is one resource in the tree.
type rescNode struct {
	rec      catalog.Resource
	parent   *rescNode
	children []*rescNode // by name
	ctx      map[string]string
}

type rescTree struct {
	nodes map[string]*rescNode
}

// loadTree reads every resource. Trees are small; reading them per
// operation keeps every server of a zone current.
func (z *Zone) loadTree(ctx context.Context) (*rescTree, error) {
	recs, err := z.cat.ListResources(ctx)
	if err != nil {
		return nil, err
	}
	return buildTree(recs), nil
}

func buildTree(recs []catalog.Resource) *rescTree {
	t := &rescTree{nodes: map[string]*rescNode{}}
	for _, r := range recs {
		kv, err := parseContext(r.Context)
		if err != nil {
			kv = map[string]string{}
		}
		t.nodes[r.Name] = &rescNode{rec: r, ctx: kv}
	}
	for _, r := range recs { // recs are ordered by name, so children are too
		if p, ok := t.nodes[r.Parent]; ok && r.Parent != "" {
			n := t.nodes[r.Name]
			n.parent = p
			p.children = append(p.children, n)
		}
	}
	return t
}

func (t *rescTree) node(name string) (*rescNode, error) {
	n, ok := t.nodes[name]
	if !ok {
		return nil, fmt.Errorf("resource %s: %w", name, catalog.ErrNotFound)
	}
	return n, nil
}

func (n *rescNode) name() string { return n.rec.Name }

func (n *rescNode) storage() bool { return isStorageType(n.rec.Type) }

func (n *rescNode) root() *rescNode {
	for n.parent != nil {
		n = n.parent
	}
	return n
}

// hierarchy is root;...;n, as iRODS writes a resource hierarchy.
func (n *rescNode) hierarchy() string {
	var names []string
	for m := n; m != nil; m = m.parent {
		names = append(names, m.name())
	}
	slices.Reverse(names)
	return strings.Join(names, ";")
}

// up reports whether n and every resource above it are up.
func (n *rescNode) up() bool {
	for m := n; m != nil; m = m.parent {
		if m.rec.Status == "down" {
			return false
		}
	}
	return true
}

// role is n's role below a compound parent: "cache", "archive" or "".
func (n *rescNode) role() string {
	if n.parent == nil || n.parent.rec.Type != "compound" {
		return ""
	}
	switch n.name() {
	case n.parent.ctx["cache"]:
		return "cache"
	case n.parent.ctx["archive"]:
		return "archive"
	}
	return ""
}

// child returns the child of a compound with role.
func (n *rescNode) child(role string) *rescNode {
	for _, c := range n.children {
		if c.role() == role {
			return c
		}
	}
	return nil
}

// leaves returns the storage resources at and below n.
func (n *rescNode) leaves() []*rescNode {
	if n.storage() {
		return []*rescNode{n}
	}
	var out []*rescNode
	for _, c := range n.children {
		out = append(out, c.leaves()...)
	}
	return out
}

// weight reads a passthru weight ("read" or "write"); 1 when unset.
func (n *rescNode) weight(dir string) float64 {
	v, ok := n.ctx[dir]
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
func downError(n *rescNode, why string) error {
	var states []string
	for _, l := range n.leaves() {
		state := "up"
		if !l.up() {
			state = "down"
		}
		states = append(states, l.hierarchy()+" ("+state+")")
	}
	if len(states) == 0 {
		states = append(states, "no storage resource below it")
	}
	return fmt.Errorf("%w: resource %s %s: %s", resources.ErrUnavailable, n.name(), why, strings.Join(states, ", "))
}

// writeTargets resolves a write to n: the leaf that takes the client's
// bytes, and the leaves that get copies of them once it has them.
func (n *rescNode) writeTargets() (primary *rescNode, copies []*rescNode, err error) {
	if !n.up() {
		return nil, nil, downError(n, "is down")
	}
	switch n.rec.Type {
	case "passthru":
		if len(n.children) != 1 {
			return nil, nil, fmt.Errorf("%w: passthru resource %s has %d children, needs exactly one", resources.ErrUnavailable, n.name(), len(n.children))
		}
		if n.weight("write") == 0 {
			return nil, nil, fmt.Errorf("%w: passthru resource %s takes no writes (write=0)", resources.ErrUnavailable, n.name())
		}
		return n.children[0].writeTargets()
	case "random":
		order := rand.Perm(len(n.children))
		for _, i := range order {
			if p, c, err := n.children[i].writeTargets(); err == nil {
				return p, c, nil
			}
		}
		return nil, nil, downError(n, "has no child that takes writes")
	case "replication":
		for _, c := range n.children {
			p, more, err := c.writeTargets()
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
			return nil, nil, downError(n, "has no child that takes writes")
		}
		return primary, copies, nil
	case "compound":
		cache, archive := n.child("cache"), n.child("archive")
		if cache == nil || archive == nil {
			return nil, nil, fmt.Errorf("%w: compound resource %s needs a cache and an archive child", resources.ErrUnavailable, n.name())
		}
		p, more, err := cache.writeTargets()
		if err != nil {
			return nil, nil, err
		}
		ap, amore, err := archive.writeTargets()
		if err != nil {
			// The archive catches up when it is back (irepl -a).
			return p, more, nil
		}
		return p, append(append(more, ap), amore...), nil
	}
	if !n.storage() {
		return nil, nil, fmt.Errorf("%w: resource %s has type %q", catalog.ErrInvalidArgument, n.name(), n.rec.Type)
	}
	return n, nil, nil
}

// mediumRank orders storage types from fastest to slowest to read.
func mediumRank(t string) int {
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

// readableReplicas returns the good replicas of obj that can be read now, best
// first: on a resource that is up, on the fastest medium, a compound's cache
// before its archive, tape files online before those to recall. why lists
// the replicas left out and their state, for the error when none is left.
func (z *Zone) readableReplicas(ctx context.Context, t *rescTree, obj catalog.DataObject) (good []catalog.Replica, why []string) {
	type ranked struct {
		rep  catalog.Replica
		rank int
	}
	var rs []ranked
	for _, rep := range obj.Replicas {
		n, ok := t.nodes[rep.Resource]
		switch {
		case rep.Status != catalog.ReplicaGood:
			why = append(why, fmt.Sprintf("replica %d on %s is %s", rep.Number, rep.Resource, rep.Status))
			continue
		case !ok:
			why = append(why, fmt.Sprintf("replica %d on %s: no such resource", rep.Number, rep.Resource))
			continue
		case !n.up():
			why = append(why, fmt.Sprintf("replica %d on %s is on a resource that is down", rep.Number, n.hierarchy()))
			continue
		}
		rank := mediumRank(n.rec.Type) * 10
		if n.role() == "archive" {
			rank += 5
		}
		if n.rec.Type == "tape" {
			if d, _, err := z.resource(ctx, rep.Resource); err == nil {
				if st, ok := d.(resources.Stager); ok {
					if online, _ := st.Staged(ctx, rep.PhysicalPath); online {
						rank -= 15
					}
				}
			}
		}
		rs = append(rs, ranked{rep, rank})
	}
	slices.SortStableFunc(rs, func(a, b ranked) int { return a.rank - b.rank })
	for _, r := range rs {
		good = append(good, r.rep)
	}
	return good, why
}
