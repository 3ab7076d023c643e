package catalog

import (
	"context"
	"fmt"
)

// Link is a named relation from one collection or data object to another,
// such as W3C PROV's prov:wasDerivedFrom. Links follow their ends through
// renames, and a link whose end is removed is gone.
type Link struct {
	From     Path
	Relation string
	To       Path
}

func (l Link) String() string { return fmt.Sprintf("%s -[%s]-> %s", l.From, l.Relation, l.To) }

// MaxRelationLen bounds a relation name, in bytes.
const MaxRelationLen = 256

// Validate checks l without a catalog.
func (l Link) Validate() error {
	switch {
	case l.From.IsZero() || l.To.IsZero():
		return fmt.Errorf("%w: link %s: both ends need a path", ErrInvalidArgument, l)
	case l.Relation == "" || len(l.Relation) > MaxRelationLen:
		return fmt.Errorf("%w: link %s: a relation of 1 to %d bytes", ErrInvalidArgument, l, MaxRelationLen)
	case l.From == l.To:
		return fmt.Errorf("%w: link %s: an entry cannot be linked to itself", ErrInvalidArgument, l)
	}
	return nil
}

// CheckDepth refuses a depth below one for Chain and Linked.
func CheckDepth(depth int) error {
	if depth < 1 {
		return invalid("depth %d", depth)
	}
	return nil
}

// CheckChain checks the relation and depth of Chain.
func CheckChain(relation string, depth int) error {
	if err := CheckDepth(depth); err != nil {
		return err
	}
	if relation == "" {
		return invalid("no relation")
	}
	return nil
}

// Links stores relations between collections and data objects and answers
// the graph queries of provenance: derivation chains and everything linked
// to an entry.
type Links interface {
	// AddLink records l. Both ends must exist (ErrNotFound); a link that
	// is already there is ErrExists.
	AddLink(ctx context.Context, l Link) error
	// RemoveLink removes l; ErrNotFound when there is no such link.
	RemoveLink(ctx context.Context, l Link) error
	// LinksOf returns the links from or to p, ordered by From, Relation
	// and To; ErrNotFound when nothing is at p.
	LinksOf(ctx context.Context, p Path) ([]Link, error)
	// Chain follows links of relation out of p, transitively, at most
	// depth steps (depth >= 1), and returns the links it followed, nearest
	// first, each step ordered by From and To: p was derived from X, X
	// from Y, and so on. A cycle is followed once.
	Chain(ctx context.Context, p Path, relation string, depth int) ([]Link, error)
	// Linked returns every collection and data object reachable from p
	// through links of any relation in either direction, within depth
	// steps, without p, ordered by path.
	Linked(ctx context.Context, p Path, depth int) ([]Path, error)
}
