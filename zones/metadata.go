package zones

import (
	"context"
	"fmt"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// checkReserved refuses a change of reserved attributes by anyone but a
// rodsadmin in admin mode.
func (z *Zone) checkReserved(caller Principal, avus ...catalog.AVU) error {
	if isAdmin(caller.User, z.name) && caller.AdminMode {
		return nil
	}
	for _, a := range avus {
		if strings.HasPrefix(a.Attribute, catalog.ReservedAttributePrefix) {
			return fmt.Errorf("%w: %s is an attribute the zone keeps (iretention, tiering, the lifecycle rules); only a rodsadmin in admin mode (-M) changes it with imeta",
				catalog.ErrPermission, a.Attribute)
		}
	}
	return nil
}

// metadataOp is the operation name with its target and AVUs; Path,
// Resource and Account are filled from the target, for the permission
// check and hooks.
func metadataOp(name OpName, caller Principal, t catalog.AVUTarget, avus ...catalog.AVU) *Op {
	op := &Op{Name: name, Caller: caller, Target: t, AVUs: avus}
	switch t.Kind {
	case catalog.TargetDataObject, catalog.TargetCollection:
		op.Path = t.Path
	case catalog.TargetResource:
		op.Resource = t.Name
	case catalog.TargetUser:
		op.Account = t.User
	}
	return op
}

// AddMetadata attaches avus to t, all or none.
func (z *Zone) AddMetadata(ctx context.Context, caller Principal, t catalog.AVUTarget, avus []catalog.AVU) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := catalog.ValidateAVUs(avus); err != nil {
		return fmt.Errorf("add metadata to %s: %w", t, err)
	}
	return z.do(ctx, metadataOp("metadata.add", caller, t, avus...), func(ctx context.Context) error {
		if err := z.checkReserved(caller, avus...); err != nil {
			return err
		}
		return z.cat.AddMetadata(ctx, t, avus...)
	})
}

// SetMetadata replaces every AVU of t with avu's attribute by avu.
func (z *Zone) SetMetadata(ctx context.Context, caller Principal, t catalog.AVUTarget, avu catalog.AVU) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := avu.Validate(); err != nil {
		return fmt.Errorf("set metadata on %s: %w", t, err)
	}
	return z.do(ctx, metadataOp("metadata.set", caller, t, avu), func(ctx context.Context) error {
		if err := z.checkReserved(caller, avu); err != nil {
			return err
		}
		return z.cat.SetMetadata(ctx, t, avu)
	})
}

// RemoveMetadata removes the AVU avu of t, or with wildcard every AVU that
// matches the LIKE patterns of avu, and returns what it removed.
func (z *Zone) RemoveMetadata(ctx context.Context, caller Principal, t catalog.AVUTarget, avu catalog.AVU, wildcard bool) ([]catalog.AVU, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	check := avu.Validate
	if wildcard {
		check = func() error { return catalog.ValidatePattern(avu) }
	}
	if err := check(); err != nil {
		return nil, fmt.Errorf("remove metadata from %s: %w", t, err)
	}
	var removed []catalog.AVU
	err := z.do(ctx, metadataOp("metadata.remove", caller, t, avu), func(ctx context.Context) error {
		if wildcard {
			// A pattern may match reserved attributes too: refused if it
			// does, and the caller may not change them.
			have, err := z.cat.ListMetadata(ctx, t)
			if err != nil {
				return err
			}
			for _, a := range have {
				if catalog.MatchLike(avu.Attribute, a.Attribute) && catalog.MatchLike(avu.Value, a.Value) && catalog.MatchLike(avu.Unit, a.Unit) {
					if err := z.checkReserved(caller, a); err != nil {
						return fmt.Errorf("%w (the pattern matches it: name the attributes to remove)", err)
					}
				}
			}
			removed, err = z.cat.RemoveMetadataMatching(ctx, t, avu)
			return err
		}
		if err := z.checkReserved(caller, avu); err != nil {
			return err
		}
		removed = []catalog.AVU{avu}
		return z.cat.RemoveMetadata(ctx, t, avu)
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// ModifyMetadata replaces the AVU old of t by new.
func (z *Zone) ModifyMetadata(ctx context.Context, caller Principal, t catalog.AVUTarget, old, new catalog.AVU) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := old.Validate(); err != nil {
		return fmt.Errorf("modify metadata of %s: old: %w", t, err)
	}
	if err := new.Validate(); err != nil {
		return fmt.Errorf("modify metadata of %s: new: %w", t, err)
	}
	return z.do(ctx, metadataOp("metadata.modify", caller, t, old, new), func(ctx context.Context) error {
		if err := z.checkReserved(caller, old, new); err != nil {
			return err
		}
		return z.cat.ModifyMetadata(ctx, t, old, new)
	})
}

// ListMetadata returns the AVUs of t, only those with attribute if it is
// not empty.
func (z *Zone) ListMetadata(ctx context.Context, caller Principal, t catalog.AVUTarget, attribute string) ([]catalog.AVU, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	op := metadataOp("metadata.list", caller, t)
	if attribute != "" {
		op.AVUs = []catalog.AVU{{Attribute: attribute}}
	}
	var out []catalog.AVU
	err := z.do(ctx, op, func(ctx context.Context) error {
		all, err := z.cat.ListMetadata(ctx, t)
		if err != nil {
			return err
		}
		for _, a := range all {
			if attribute == "" || a.Attribute == attribute {
				out = append(out, a)
			}
		}
		return nil
	})
	return out, err
}
