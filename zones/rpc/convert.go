package rpc

import (
	"cmp"
	"slices"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

func userPB(u catalog.User) *arcapb.User {
	pb := &arcapb.User{Name: u.Name, Zone: u.Zone, Type: string(u.Type), Info: u.Info,
		CreateUnix: u.CreateTime.Unix(), ModifyUnix: u.ModifyTime.Unix()}
	if u.Type != catalog.UserTypeGroup || u.Auth == catalog.AuthLDAP {
		pb.Auth = u.Auth.String()
	}
	return pb
}

func replicaPB(r catalog.Replica) *arcapb.Replica {
	return &arcapb.Replica{Number: int32(r.Number), Resource: r.Resource, PhysicalPath: r.PhysicalPath,
		Size: r.Size, Checksum: r.Checksum, Status: r.Status.String(), ModifyUnixNano: r.ModifyTime.UnixNano()}
}

func aclPB(acl []catalog.ACE) []*arcapb.AccessEntry {
	out := make([]*arcapb.AccessEntry, len(acl))
	for i, a := range acl {
		out[i] = &arcapb.AccessEntry{Principal: a.Principal.String(), Level: a.Level.String()}
	}
	return out
}

// entryPB converts an entry. A data object carries every replica, by
// number, as ils -l shows them (iRODS lists each replica); physical says
// whether to include where each replica's bytes are (ils -L, Stat), and acl
// whether to include the ACL.
func entryPB(e catalog.Entry, physical, acl bool) *arcapb.Entry {
	if c := e.Collection; c != nil {
		out := &arcapb.Entry{Kind: arcapb.EntryKind_ENTRY_KIND_COLLECTION, Path: c.Path.String(), Owner: c.Owner.String(),
			CreateUnixNano: c.CreateTime.UnixNano(), ModifyUnixNano: c.ModifyTime.UnixNano()}
		if acl {
			out.Acl, out.Inherit = aclPB(c.ACL), c.Inherit
		}
		return out
	}
	o := e.Object
	out := &arcapb.Entry{Kind: arcapb.EntryKind_ENTRY_KIND_DATA_OBJECT, Path: o.Path.String(), Owner: o.Owner.String(),
		CreateUnixNano: o.CreateTime.UnixNano(), ModifyUnixNano: o.ModifyTime.UnixNano()}
	if r, ok := o.Newest(); ok {
		out.Size, out.Checksum = r.Size, r.Checksum
	}
	reps := slices.Clone(o.Replicas)
	slices.SortFunc(reps, func(a, b catalog.Replica) int { return cmp.Compare(a.Number, b.Number) })
	for _, r := range reps {
		pb := replicaPB(r)
		if !physical {
			pb.PhysicalPath = "" // shown with ils -L, as a full path there
		}
		out.Replicas = append(out.Replicas, pb)
	}
	if acl {
		out.Acl = aclPB(o.ACL)
	}
	return out
}

func removePB(r zones.RemoveResult) *arcapb.RemoveResponse {
	out := &arcapb.RemoveResponse{DataObjects: r.DataObjects, Collections: r.Collections}
	if !r.TrashPath.IsZero() {
		out.TrashPath = r.TrashPath.String()
	}
	return out
}

func avuPB(a catalog.AVU) *arcapb.AVU {
	return &arcapb.AVU{Attribute: a.Attribute, Value: a.Value, Unit: a.Unit}
}

func avusPB(avus []catalog.AVU) []*arcapb.AVU {
	out := make([]*arcapb.AVU, len(avus))
	for i, a := range avus {
		out[i] = avuPB(a)
	}
	return out
}

func avuFromPB(a *arcapb.AVU) catalog.AVU {
	return catalog.AVU{Attribute: a.GetAttribute(), Value: a.GetValue(), Unit: a.GetUnit()}
}

func avusFromPB(avus []*arcapb.AVU) []catalog.AVU {
	if len(avus) == 0 {
		return nil
	}
	out := make([]catalog.AVU, len(avus))
	for i, a := range avus {
		out[i] = avuFromPB(a)
	}
	return out
}
