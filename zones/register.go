package zones

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
)

// Register adds objs, files already on resources, to the catalog in one
// transaction (ireg), as good replicas: rodsadmin only, as in iRODS. With
// verify each file is looked up on its resource first: it must be there,
// with the size given (a size of -1 is taken from the file).
func (z *Zone) Register(ctx context.Context, caller Principal, objs []catalog.RegisteredObject, parents, verify bool) error {
	if len(objs) == 0 {
		return nil
	}
	op := &Op{Name: "register", Caller: caller, Path: objs[0].Path}
	return z.do(ctx, op, func(ctx context.Context) error {
		for i := range objs {
			o := &objs[i]
			if o.Path.Zone() != z.name {
				return fmt.Errorf("%s: %w: zone %q is not this zone", o.Path, catalog.ErrNotFound, o.Path.Zone())
			}
			for j := range o.Replicas {
				if err := z.registeredFile(ctx, &o.Replicas[j], verify); err != nil {
					return fmt.Errorf("register %s: %w", o.Path, err)
				}
			}
		}
		err := z.cat.Register(ctx, objs, parents)
		if errors.Is(err, catalog.ErrExists) {
			// Registering over a locked object is the lock's refusal.
			for _, o := range objs {
				if e, serr := z.cat.Stat(ctx, o.Path); serr == nil && e.Object != nil {
					if lerr := e.Object.Lock.Refuse(o.Path, time.Now(), "replaced by a registered file"); lerr != nil {
						return lerr
					}
				}
			}
		}
		return err
	})
}

// registeredFile makes r's physical path relative to its resource and, with
// verify, checks the file.
func (z *Zone) registeredFile(ctx context.Context, r *catalog.RegisteredReplica, verify bool) error {
	if strings.HasPrefix(r.PhysicalPath, "/") || verify {
		resc, rec, err := z.resource(ctx, r.Resource)
		if err != nil {
			return err
		}
		if strings.HasPrefix(r.PhysicalPath, "/") {
			root := strings.TrimSuffix(rec.Location, "/") + "/"
			rel, ok := strings.CutPrefix(path.Clean(r.PhysicalPath), root)
			if !ok || rec.Location == "" {
				return fmt.Errorf("%w: %s is outside resource %s (%s)", catalog.ErrInvalidArgument, r.PhysicalPath, r.Resource, rec.Location)
			}
			r.PhysicalPath = rel
		}
		if verify {
			info, err := resc.Stat(ctx, r.PhysicalPath)
			if err != nil {
				return fmt.Errorf("file %s on %s: %w", r.PhysicalPath, r.Resource, err)
			}
			if r.Size < 0 {
				r.Size = info.Size
			} else if r.Size != info.Size {
				return fmt.Errorf("%w: file %s on %s has %d bytes, not %d", catalog.ErrInvalidArgument, r.PhysicalPath, r.Resource, info.Size, r.Size)
			}
		}
	}
	if clean := path.Clean(r.PhysicalPath); clean == ".." || strings.HasPrefix(clean, "../") || strings.HasPrefix(clean, "/") {
		return fmt.Errorf("%w: %s leaves resource %s", catalog.ErrInvalidArgument, r.PhysicalPath, r.Resource)
	}
	if r.Size < 0 {
		return fmt.Errorf("%w: the size of %s is needed (or verify, to take it from the file)", catalog.ErrInvalidArgument, r.PhysicalPath)
	}
	return nil
}
