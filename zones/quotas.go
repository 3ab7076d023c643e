package zones

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/arca-data/arca/catalog"
)

// SetQuota sets or, with both maxima 0, removes a quota (iadmin suq, sgq,
// scq): rodsadmin only.
func (z *Zone) SetQuota(ctx context.Context, caller Principal, q catalog.Quota) error {
	op := &Op{Name: "quota.set", Caller: caller, Path: q.Path, Group: q.Principal, Resource: q.Resource}
	return z.do(ctx, op, func(ctx context.Context) error {
		return z.cat.SetQuota(ctx, q)
	})
}

// ListQuotas returns the quotas that concern the caller with their usage:
// its own, its groups', and those of collections it may read; with all
// (rodsadmin) every quota.
func (z *Zone) ListQuotas(ctx context.Context, caller Principal, all bool) ([]catalog.Quota, error) {
	name := OpQuotaList
	if all {
		name = OpQuotaListAll
	}
	var out []catalog.Quota
	err := z.do(ctx, &Op{Name: name, Caller: caller}, func(ctx context.Context) error {
		qs, err := z.cat.ListQuotas(ctx)
		if err != nil || all {
			out = qs
			return err
		}
		groups, err := z.groupsOf(ctx, caller.User)
		if err != nil {
			return err
		}
		for _, q := range qs {
			switch q.Kind {
			case catalog.QuotaUser:
				if q.Principal != caller.UserID() {
					continue
				}
			case catalog.QuotaGroup:
				if !slices.Contains(groups, q.Principal) {
					continue
				}
			case catalog.QuotaCollection:
				c, err := z.cat.Collection(ctx, q.Path)
				if errors.Is(err, catalog.ErrNotFound) {
					continue
				} else if err != nil {
					return err
				}
				if !canRead(caller.User, groups, z.name, c.ACL) {
					continue
				}
			}
			out = append(out, q)
		}
		return nil
	})
	return out, err
}

// checkQuota refuses, before a byte is sent, a new data object of size
// bytes that would pass a quota. The catalog checks again, exactly, when
// the replica is committed; this check spares the transfer.
func (z *Zone) checkQuota(ctx context.Context, owner catalog.User, req PutRequest) error {
	if req.Overwrite {
		return nil // the commit decides: the new size replaces the old
	}
	qs, err := z.cat.QuotasFor(ctx, owner.UserID(), req.Path, req.Resource)
	if err != nil {
		return err
	}
	for _, q := range qs {
		if msg := q.Exceeded(max(req.Size, 0), 1); msg != "" {
			return fmt.Errorf("%w: %s: %s", catalog.ErrQuotaExceeded, req.Path, msg)
		}
	}
	return nil
}
