package zones

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/compose"
)

// ResourceInfo is a resource with its place in the tree.
type ResourceInfo struct {
	catalog.Resource
	Role      string // cache | archive below a compound
	Children  []string
	Hierarchy string
}

// MakeResource is iadmin mkresc: it registers a resource. A storage
// resource is opened first (an S3 bucket is created if missing), so that a
// wrong location or wrong credentials are refused before anything is
// registered.
func (z *Zone) MakeResource(ctx context.Context, caller Principal, rec catalog.Resource) (catalog.Resource, error) {
	var out catalog.Resource
	err := z.do(ctx, &Op{Name: "resource.create", Caller: caller, Resource: rec.Name}, func(ctx context.Context) error {
		rec.Status, rec.Parent = "up", ""
		if err := catalog.ValidateUserName(rec.Name); err != nil {
			return fmt.Errorf("%w: resource name %q: %v", catalog.ErrInvalidArgument, rec.Name, err)
		}
		if _, err := z.cat.Resource(ctx, rec.Name); err == nil {
			return fmt.Errorf("resource %s: %w", rec.Name, catalog.ErrExists)
		}
		if err := z.checkResourceRecord(&rec); err != nil {
			return err
		}
		if rec.Type != "s3" && rec.Location != "" {
			if err := z.checkLocationApart(ctx, rec); err != nil {
				return err
			}
			if rec.Type != "tape" {
				// Made here, once: later a missing vault is an error (see
				// OpenDriver), not a new empty one.
				if err := os.MkdirAll(rec.Location, 0o700); err != nil {
					return fmt.Errorf("resource %s: %w", rec.Name, err)
				}
			}
		}
		if err := z.tryOpen(rec); err != nil {
			return err
		}
		var err error
		out, err = z.cat.CreateResource(ctx, rec)
		z.forgetResources(rec.Name)
		return err
	})
	return out, err
}

// checkLocationApart refuses a local location that is, holds or lies
// inside another resource's, or that holds the server's data directory:
// fsck would take the other's files (or the catalog and keys) for orphans
// of this resource, and fsck --repair delete them.
func (z *Zone) checkLocationApart(ctx context.Context, rec catalog.Resource) error {
	loc := realLocation(rec.Location)
	if z.dataDir != "" && within(realLocation(z.dataDir), loc) {
		return fmt.Errorf("%w: %s holds the server's data directory %s", catalog.ErrInvalidArgument, rec.Location, z.dataDir)
	}
	all, err := z.cat.ListResources(ctx)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.Type == "s3" || o.Location == "" {
			continue
		}
		other := realLocation(o.Location)
		switch {
		case other == loc:
			return fmt.Errorf("%w: resource %s uses %s already", catalog.ErrExists, o.Name, o.Location)
		case within(loc, other):
			return fmt.Errorf("%w: %s lies inside %s, the vault of resource %s", catalog.ErrInvalidArgument, rec.Location, o.Location, o.Name)
		case within(other, loc):
			return fmt.Errorf("%w: %s holds %s, the vault of resource %s", catalog.ErrInvalidArgument, rec.Location, o.Location, o.Name)
		}
	}
	return nil
}

// realLocation is the directory path with symbolic links resolved as far
// as it exists, so that two names of one directory compare equal.
func realLocation(p string) string {
	p = filepath.Clean(p)
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	if parent := filepath.Dir(p); parent != p {
		return filepath.Join(realLocation(parent), filepath.Base(p))
	}
	return p
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// tryOpen opens the driver of a storage resource and closes it again, so
// that a wrong location or credentials are refused with the driver's
// error; the zone opens its own on first use.
func (z *Zone) tryOpen(rec catalog.Resource) error {
	if !compose.IsStorageType(rec.Type) {
		return nil
	}
	d, err := z.drivers.Open(rec)
	if err != nil {
		return fmt.Errorf("resource %s: %w", rec.Name, err)
	}
	closeDriver(d)
	return nil
}

// checkResourceRecord validates type, location and context.
func (z *Zone) checkResourceRecord(rec *catalog.Resource) error {
	if !compose.IsStorageType(rec.Type) && !compose.IsCoordinatingType(rec.Type) {
		return fmt.Errorf("%w: unknown resource type %q (want %s or %s)", catalog.ErrInvalidArgument, rec.Type,
			strings.Join(compose.StorageTypes, ", "), strings.Join(compose.CoordinatingTypes, ", "))
	}
	if _, err := resources.ParseContext(rec.Context); err != nil {
		return fmt.Errorf("%w: %v", catalog.ErrInvalidArgument, err)
	}
	return z.drivers.Check(rec)
}

// ModifyResource is iadmin modresc NAME status|comment|context|qos VALUE,
// and the tier settings (SetTier).
func (z *Zone) ModifyResource(ctx context.Context, caller Principal, name, field, value string) (catalog.Resource, error) {
	if strings.HasPrefix(field, "tier") || field == "untier" {
		if err := z.SetTier(ctx, caller, name, field, value); err != nil {
			return catalog.Resource{}, err
		}
		return z.cat.Resource(ctx, name)
	}
	var out catalog.Resource
	err := z.do(ctx, &Op{Name: "resource.modify", Caller: caller, Resource: name}, func(ctx context.Context) error {
		rec, err := z.cat.Resource(ctx, name)
		if err != nil {
			return err
		}
		switch field {
		case "status":
			if value != "up" && value != "down" {
				return fmt.Errorf("%w: status %q: want up or down", catalog.ErrInvalidArgument, value)
			}
			rec.Status = value
		case "comment":
			rec.Comment = value
		case "qos":
			// Storage attributes for QoS expressions: "type=tape,geo=DE".
			canon, err := catalog.CanonicalQoSAttributes(value)
			if err != nil {
				return err
			}
			rec.QoS = canon
		case "context":
			if rec.Type == "compound" {
				// The roles of the children stay unless named.
				old, _ := resources.ParseContext(rec.Context)
				kv, err := resources.ParseContext(value)
				if err != nil {
					return fmt.Errorf("%w: %v", catalog.ErrInvalidArgument, err)
				}
				for _, role := range []string{"cache", "archive"} {
					if _, ok := kv[role]; !ok && old[role] != "" {
						kv[role] = old[role]
					}
				}
				value = resources.FormatContext(kv)
			}
			rec.Context = value
			if err := z.checkResourceRecord(&rec); err != nil {
				return err
			}
			if rec.Type != "tape" { // a tape library runs already; its context was parsed above
				if err := z.tryOpen(rec); err != nil {
					return err
				}
			}
		case "rebalance":
			// iRODS's rebalance: every object with a replica below the
			// resource gets its stale replicas refreshed and its missing
			// ones (a child that was down) filled.
			out = rec
			return z.rebalance(ctx, name)
		default:
			return fmt.Errorf("%w: cannot modify %q of a resource (want status, comment, context, qos, rebalance, or tier, untier, tier_time, tier_verify, tier_preserve, tier_restage)", catalog.ErrInvalidArgument, field)
		}
		if err := z.cat.UpdateResource(ctx, rec); err != nil {
			return err
		}
		z.forgetResources(name)
		if (field == "qos" || field == "status") && z.qos != nil {
			// What the requirements match changed: converge them now
			// rather than at the next periodic scan.
			z.scheduleQoS(ctx, catalog.MustPath("/"), caller.UserID())
		}
		out, err = z.cat.Resource(ctx, name)
		return err
	})
	return out, err
}

// RemoveResource is iadmin rmresc: the catalog refuses while replicas or
// children remain.
func (z *Zone) RemoveResource(ctx context.Context, caller Principal, name string) error {
	return z.do(ctx, &Op{Name: "resource.remove", Caller: caller, Resource: name}, func(ctx context.Context) error {
		if name == z.defResc {
			return fmt.Errorf("%w: %s is the zone's default resource", catalog.ErrInvalidArgument, name)
		}
		rec, err := z.cat.Resource(ctx, name)
		if err != nil {
			return err
		}
		if rec.Parent != "" {
			return fmt.Errorf("%w: resource %s is a child of %s; rmchildfromresc first", catalog.ErrNotEmpty, name, rec.Parent)
		}
		if err := z.cat.RemoveResource(ctx, name); err != nil {
			if errors.Is(err, catalog.ErrNotEmpty) {
				return fmt.Errorf("%w (trim or move its replicas first: itrim -S %s, iphymv -S %s)", err, name, name)
			}
			return err
		}
		z.mu.Lock()
		if c, ok := z.rescs[name]; ok {
			closeDriver(c.driver)
			delete(z.rescs, name)
		}
		z.mu.Unlock()
		z.forgetResources(name)
		return nil
	})
}

// AddChild is iadmin addchildtoresc PARENT CHILD [ROLE].
func (z *Zone) AddChild(ctx context.Context, caller Principal, parent, child, role string) (catalog.Resource, error) {
	var out catalog.Resource
	err := z.do(ctx, &Op{Name: "resource.child", Caller: caller, Resource: parent}, func(ctx context.Context) error {
		t, err := z.loadTree(ctx)
		if err != nil {
			return err
		}
		p, err := t.Node(parent)
		if err != nil {
			return err
		}
		c, err := t.Node(child)
		if err != nil {
			return err
		}
		switch {
		case !compose.IsCoordinatingType(p.Rec.Type):
			return fmt.Errorf("%w: %s is a %s resource; only replication, compound, random and passthru resources take children", catalog.ErrInvalidArgument, parent, p.Rec.Type)
		case c.Parent != nil:
			return fmt.Errorf("%w: %s is already a child of %s", catalog.ErrExists, child, c.Parent.Name())
		case child == z.defResc:
			return fmt.Errorf("%w: %s is the zone's default resource and stays a root", catalog.ErrInvalidArgument, child)
		case p.Rec.Type == "passthru" && len(p.Children) > 0:
			return fmt.Errorf("%w: passthru resource %s has its one child already (%s)", catalog.ErrInvalidArgument, parent, p.Children[0].Name())
		case p.Rec.Type == "compound" && role != "cache" && role != "archive":
			return fmt.Errorf("%w: a child of compound resource %s needs the role cache or archive", catalog.ErrInvalidArgument, parent)
		case p.Rec.Type != "compound" && role != "":
			return fmt.Errorf("%w: role %q means something only below a compound resource", catalog.ErrInvalidArgument, role)
		}
		if p.Rec.Type == "compound" {
			if taken := p.Params[role]; taken != "" && p.Find(taken) != nil {
				return fmt.Errorf("%w: compound resource %s has its %s already (%s)", catalog.ErrExists, parent, role, taken)
			}
			p.Params[role] = child
			p.Rec.Context = resources.FormatContext(p.Params)
			if err := z.cat.UpdateResource(ctx, p.Rec); err != nil {
				return err
			}
		}
		c.Rec.Parent = parent
		if err := z.cat.UpdateResource(ctx, c.Rec); err != nil {
			return err
		}
		z.forgetResources(parent, child)
		out, err = z.cat.Resource(ctx, child)
		return err
	})
	return out, err
}

// RemoveChild is iadmin rmchildfromresc PARENT CHILD. The child keeps its
// replicas and becomes a root.
func (z *Zone) RemoveChild(ctx context.Context, caller Principal, parent, child string) (catalog.Resource, error) {
	var out catalog.Resource
	err := z.do(ctx, &Op{Name: "resource.child", Caller: caller, Resource: parent}, func(ctx context.Context) error {
		c, err := z.cat.Resource(ctx, child)
		if err != nil {
			return err
		}
		if c.Parent != parent {
			return fmt.Errorf("%w: %s is not a child of %s", catalog.ErrNotFound, child, parent)
		}
		p, err := z.cat.Resource(ctx, parent)
		if err != nil {
			return err
		}
		if p.Type == "compound" {
			kv, _ := resources.ParseContext(p.Context)
			for _, role := range []string{"cache", "archive"} {
				if kv[role] == child {
					delete(kv, role)
				}
			}
			p.Context = resources.FormatContext(kv)
			if err := z.cat.UpdateResource(ctx, p); err != nil {
				return err
			}
		}
		c.Parent = ""
		if err := z.cat.UpdateResource(ctx, c); err != nil {
			return err
		}
		z.forgetResources(parent, child)
		out, err = z.cat.Resource(ctx, child)
		return err
	})
	return out, err
}

// ListResources is ilsresc: every resource with its place in the tree,
// ordered by name.
func (z *Zone) ListResources(ctx context.Context, caller Principal) ([]ResourceInfo, error) {
	var out []ResourceInfo
	err := z.do(ctx, &Op{Name: "resource.list", Caller: caller}, func(ctx context.Context) error {
		recs, err := z.cat.ListResources(ctx)
		if err != nil {
			return err
		}
		t := compose.Build(recs)
		for _, r := range recs {
			n, _ := t.Lookup(r.Name)
			info := ResourceInfo{Resource: r, Role: n.Role(), Hierarchy: n.Hierarchy()}
			for _, c := range n.Children {
				info.Children = append(info.Children, c.Name())
			}
			out = append(out, info)
		}
		return nil
	})
	return out, err
}

// rebalance refreshes and fills the replicas of every object that has a
// replica below the resource name.
func (z *Zone) rebalance(ctx context.Context, name string) error {
	t, err := z.loadTree(ctx)
	if err != nil {
		return err
	}
	top, err := t.Node(name)
	if err != nil {
		return err
	}
	seen := map[catalog.ID]bool{}
	var ids []catalog.ID
	for _, leaf := range top.Leaves() {
		if err := z.cat.ReplicasOn(ctx, leaf.Name(), func(r catalog.Replica) error {
			if !seen[r.ObjectID] {
				seen[r.ObjectID] = true
				ids = append(ids, r.ObjectID)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	var failed []string
	for _, id := range ids {
		obj, err := z.cat.DataObjectByID(ctx, id)
		if err != nil {
			continue // removed meanwhile
		}
		ch := z.replicateOne(ctx, t, obj, top, ReplicateRequest{Path: obj.Path, UpdateStale: true})
		if ch.Err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", obj.Path, ch.Err))
		}
	}
	z.log.Info("rebalance done", "resource", name, "objects", len(ids), "failed", len(failed))
	if len(failed) > 0 {
		return fmt.Errorf("%w: rebalance of %s: %d of %d objects failed: %s", resources.ErrUnavailable, name, len(failed), len(ids), strings.Join(failed, "; "))
	}
	return nil
}
