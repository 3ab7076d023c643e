package zones

import (
	"context"

	"github.com/arca-data/arca/catalog"
)

// DefaultResource is where a put goes when neither the client nor a rule
// chooses.
func (z *Zone) DefaultResource() string { return z.defResc }

// ReplicaLocation is what ils -L shows of a replica beyond its catalog
// record: its resource hierarchy, where its bytes are for a person, and
// whether they can be read without a recall.
type ReplicaLocation struct {
	Hierarchy    string
	PhysicalPath string
	Online       bool
}

// LocateReplica describes where the bytes of a replica on resource, at the
// vault key, are. The caller has already been allowed to see the replica
// (it came from Stat or List).
func (z *Zone) LocateReplica(ctx context.Context, resource, key string) ReplicaLocation {
	loc := ReplicaLocation{Hierarchy: resource}
	if t, err := z.tree(ctx); err == nil {
		if n, ok := t.Lookup(resource); ok {
			loc.Hierarchy = n.Hierarchy()
		}
	}
	loc.Online = z.online(ctx, resource, key)
	loc.PhysicalPath = z.displayPath(ctx, resource, key)
	return loc
}

// ReplicaHierarchy is the hierarchy of the resource a replica is on,
// "root;...;leaf" as iRODS's ils -l shows it (the name alone when it is
// not in the tree).
func (z *Zone) ReplicaHierarchy(ctx context.Context, resource string) string {
	if t, err := z.tree(ctx); err == nil {
		if n, ok := t.Lookup(resource); ok {
			return n.Hierarchy()
		}
	}
	return resource
}

// DescribeResource places the resource r in the tree.
func (z *Zone) DescribeResource(ctx context.Context, r catalog.Resource) ResourceInfo {
	info := ResourceInfo{Resource: r, Hierarchy: r.Name}
	if t, err := z.loadTree(ctx); err == nil {
		if n, ok := t.Lookup(r.Name); ok {
			info.Role, info.Hierarchy = n.Role(), n.Hierarchy()
			for _, c := range n.Children {
				info.Children = append(info.Children, c.Name())
			}
		}
	}
	return info
}

// WhoAmI returns the caller's account as the zone sees it (iuserinfo of
// oneself, ienv). A ticket-only caller is the anonymous user.
func (z *Zone) WhoAmI(ctx context.Context, caller Principal) (catalog.User, error) {
	var u catalog.User
	err := z.do(ctx, &Op{Name: OpWhoAmI, Caller: caller}, func(context.Context) error {
		u = caller.User
		return nil
	})
	return u, err
}
