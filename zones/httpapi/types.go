package httpapi

import (
	"time"

	"github.com/arca-data/arca/catalog"
)

// Entry is a collection or a data object, as the API shows it.
type Entry struct {
	Path     string    `json:"path"`
	Name     string    `json:"name"`
	Type     string    `json:"type"` // collection | data_object
	Owner    string    `json:"owner"`
	Created  time.Time `json:"created"`
	Modified time.Time `json:"modified"`
	// Size and Checksum are a data object's, from its newest good replica.
	Size     *int64    `json:"size,omitempty"`
	Checksum string    `json:"checksum,omitempty"`
	Replicas []Replica `json:"replicas,omitempty"`
	ACL      []ACE     `json:"acl,omitempty"`
	Inherit  *bool     `json:"inherit,omitempty"`
	// Retention is a data object's lock, when it has or had one.
	Retention *Retention `json:"retention,omitempty"`
}

// Retention is a data object's retention lock and legal hold.
type Retention struct {
	Mode   string     `json:"mode"` // governance | compliance | "" (none)
	Until  *time.Time `json:"until,omitempty"`
	Hold   bool       `json:"hold"`
	Locked bool       `json:"locked"` // whether it may not be removed now
	SetBy  string     `json:"set_by,omitempty"`
}

// RetentionOf is the API's view of l, nil when it records nothing.
func RetentionOf(l catalog.Lock, now time.Time) *Retention {
	if l.IsZero() && l.SetBy.Name == "" {
		return nil
	}
	r := &Retention{Mode: string(l.Mode), Hold: l.Hold, Locked: l.Locked(now)}
	if l.Mode != catalog.LockNone {
		until := l.Until.UTC()
		r.Until = &until
	}
	if l.SetBy.Name != "" {
		r.SetBy = l.SetBy.String()
	}
	return r
}

// Replica is one replica of a data object.
type Replica struct {
	Number   int       `json:"number"`
	Resource string    `json:"resource"`
	Size     int64     `json:"size"`
	Checksum string    `json:"checksum"`
	Status   string    `json:"status"` // good | stale | intermediate
	Modified time.Time `json:"modified"`
}

// ACE is one grant of an access control list.
type ACE struct {
	User  string `json:"user"`
	Level string `json:"level"` // null | read | write | own
}

// AVU is one item of metadata.
type AVU struct {
	Attribute string `json:"attribute"`
	Value     string `json:"value"`
	Unit      string `json:"unit,omitempty"`
}

// EntryOf is e as the API shows it; full adds replicas, the ACL and the
// inheritance flag.
func EntryOf(e catalog.Entry, full bool) Entry {
	if c := e.Collection; c != nil {
		out := Entry{Path: c.Path.String(), Name: c.Path.Name(), Type: "collection", Owner: c.Owner.String(),
			Created: c.CreateTime, Modified: c.ModifyTime}
		if full {
			out.ACL = aclOf(c.ACL)
			inherit := c.Inherit
			out.Inherit = &inherit
		}
		return out
	}
	o := e.Object
	out := Entry{Path: o.Path.String(), Name: o.Path.Name(), Type: "data_object", Owner: o.Owner.String(),
		Created: o.CreateTime, Modified: o.ModifyTime}
	if r, ok := o.Newest(); ok {
		size := r.Size
		out.Size, out.Checksum = &size, r.Checksum
	}
	if full {
		out.Replicas = replicasOf(*o)
		out.ACL = aclOf(o.ACL)
		out.Retention = RetentionOf(o.Lock, time.Now())
	}
	return out
}

func replicasOf(o catalog.DataObject) []Replica {
	out := make([]Replica, 0, len(o.Replicas))
	for _, r := range o.Replicas {
		out = append(out, Replica{Number: r.Number, Resource: r.Resource, Size: r.Size, Checksum: r.Checksum,
			Status: r.Status.String(), Modified: r.ModifyTime})
	}
	return out
}

func aclOf(acl []catalog.ACE) []ACE {
	out := make([]ACE, 0, len(acl))
	for _, a := range acl {
		out = append(out, ACE{User: a.Principal.String(), Level: a.Level.String()})
	}
	return out
}

// AVUsOf is avus as the API shows them.
func AVUsOf(avus []catalog.AVU) []AVU {
	out := make([]AVU, 0, len(avus))
	for _, a := range avus {
		out = append(out, AVU{Attribute: a.Attribute, Value: a.Value, Unit: a.Unit})
	}
	return out
}

func (a AVU) catalog() catalog.AVU {
	return catalog.AVU{Attribute: a.Attribute, Value: a.Value, Unit: a.Unit}
}
