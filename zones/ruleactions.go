package zones

import (
	"context"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// What rule actions do to the catalog directly, as the zone: a rule is the
// administrators' policy, and the operation that fired it has passed
// authorization already. These do not go through the dispatcher, so an
// action does not fire rules again.

// RuleActor is who rule actions that are zone operations act as: the
// zone's administrator.
func (z *Zone) RuleActor(ctx context.Context) (Principal, error) {
	u, err := z.cat.User(ctx, catalog.UserID{Name: DefaultAdmin, Zone: z.name})
	if err != nil {
		return Principal{}, fmt.Errorf("the rules' actor %s: %w", DefaultAdmin, err)
	}
	return As(u), nil
}

// pathTarget is the AVU target of the object or collection at p.
func (z *Zone) pathTarget(ctx context.Context, p catalog.Path) (catalog.AVUTarget, error) {
	e, err := z.cat.Stat(ctx, p)
	if err != nil {
		return catalog.AVUTarget{}, err
	}
	if e.Collection != nil {
		return catalog.CollectionTarget(p), nil
	}
	return catalog.ObjectTarget(p), nil
}

// SetMetadataByRule sets avu on the object or collection at p.
func (z *Zone) SetMetadataByRule(ctx context.Context, p catalog.Path, avu catalog.AVU) error {
	t, err := z.pathTarget(ctx, p)
	if err != nil {
		return err
	}
	if err := z.cat.SetMetadata(ctx, t, avu); err != nil {
		return err
	}
	z.observe(ctx, metadataOp(OpMetadataSet, z.ruleActorPrincipal(), t, avu))
	return nil
}

// RemoveMetadataByRule removes the AVUs matching pattern (LIKE) from the
// object or collection at p.
func (z *Zone) RemoveMetadataByRule(ctx context.Context, p catalog.Path, pattern catalog.AVU) error {
	t, err := z.pathTarget(ctx, p)
	if err != nil {
		return err
	}
	removed, err := z.cat.RemoveMetadataMatching(ctx, t, pattern)
	if err == nil && len(removed) > 0 {
		z.observe(ctx, metadataOp(OpMetadataRemove, z.ruleActorPrincipal(), t, removed...))
	}
	return err
}

// SetAccessByRule grants who level on the object or collection at p.
func (z *Zone) SetAccessByRule(ctx context.Context, p catalog.Path, who catalog.UserID, level catalog.AccessLevel) error {
	if err := z.cat.SetAccess(ctx, p, who, level); err != nil {
		return err
	}
	z.observe(ctx, &Op{Name: OpACLSet, Caller: z.ruleActorPrincipal(), Path: p, Group: who})
	return nil
}

// ResourceExists reports whether the resource name is registered.
func (z *Zone) ResourceExists(ctx context.Context, name string) error {
	_, err := z.cat.Resource(ctx, name)
	return err
}
