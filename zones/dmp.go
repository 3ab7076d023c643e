package zones

import (
	"context"
	"fmt"

	"github.com/arca-data/arca/resources"
)

// Data management plans (issue 17, policies/dmp): the zone's operations
// for idmp. The keeper that reads, maps and stores DMPs is a policy the
// server gives the zone (UseDMPs); importing acts through the caller's own
// operations (mkdir, qos.add), which authorize each step, so that importing
// itself needs nothing more.

// DMPKeeper imports and keeps DMPs. Its answers are JSON documents, which
// the transport passes on as they are.
type DMPKeeper interface {
	Import(ctx context.Context, caller Principal, doc []byte, datasets map[string]string, dryRun bool) ([]byte, error)
	List(ctx context.Context) ([]byte, error)
	Show(ctx context.Context, id string) ([]byte, error)
}

// UseDMPs makes k import and keep the zone's DMPs.
func (z *Zone) UseDMPs(k DMPKeeper) { z.keep.dmps = k }

func (z *Zone) dmpKeeper() (DMPKeeper, error) {
	if z.keep.dmps == nil {
		return nil, fmt.Errorf("%w: this zone imports no DMPs", resources.ErrUnavailable)
	}
	return z.keep.dmps, nil
}

// ImportDMP is idmp import.
func (z *Zone) ImportDMP(ctx context.Context, caller Principal, doc []byte, datasets map[string]string, dryRun bool) ([]byte, error) {
	var out []byte
	err := z.do(ctx, &Op{Name: OpDMPImport, Caller: caller}, func(ctx context.Context) error {
		k, err := z.dmpKeeper()
		if err != nil {
			return err
		}
		out, err = k.Import(ctx, caller, doc, datasets, dryRun)
		return err
	})
	return out, err
}

// ListDMPs is idmp ls.
func (z *Zone) ListDMPs(ctx context.Context, caller Principal) ([]byte, error) {
	var out []byte
	err := z.do(ctx, &Op{Name: OpDMPList, Caller: caller}, func(ctx context.Context) error {
		k, err := z.dmpKeeper()
		if err != nil {
			return err
		}
		out, err = k.List(ctx)
		return err
	})
	return out, err
}

// ShowDMP is idmp show.
func (z *Zone) ShowDMP(ctx context.Context, caller Principal, id string) ([]byte, error) {
	var out []byte
	err := z.do(ctx, &Op{Name: OpDMPShow, Caller: caller}, func(ctx context.Context) error {
		k, err := z.dmpKeeper()
		if err != nil {
			return err
		}
		out, err = k.Show(ctx, id)
		return err
	})
	return out, err
}
