// Package migrate copies a whole catalog into another, empty one, through
// the catalog.Catalog interface, so that any backend can be the source or
// the target (arca catalog migrate --from sqlite://... --to dgraph://...),
// and verifies the copy: counts and a digest per type of entry.
//
// What the interface sets itself differs after a copy and is left out of
// the digests: ids, create and modify times, and replica numbers (replicas
// are compared by resource and physical path). Sessions are not copied
// (users log in again), nor intermediate replicas (writes in flight).
package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// page is how many entries are listed, and registered, at a time.
const page = 500

// Count is the number and digest of the entries of one type.
type Count struct {
	Type   string
	N      int
	Digest string
}

// Report is the verification of a copy: the counts of source and target.
type Report struct {
	Source, Target []Count
}

// OK reports whether every type has the same count and digest on both sides.
func (r Report) OK() bool { return slices.Equal(r.Source, r.Target) }

// Write prints the report as a table.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "%-12s %10s %10s  %s\n", "type", "source", "target", "digest")
	for i, s := range r.Source {
		t := Count{}
		if i < len(r.Target) {
			t = r.Target[i]
		}
		verdict := "ok " + s.Digest[:16]
		if s != t {
			verdict = "DIFFERS: " + s.Digest[:16] + " vs " + t.Digest[:min(16, len(t.Digest))]
		}
		fmt.Fprintf(w, "%-12s %10d %10d  %s\n", s.Type, s.N, t.N, verdict)
	}
}

// ErrNotEmpty is returned when the target already holds something.
var ErrNotEmpty = errors.New("target catalog is not empty")

// Migrate copies everything of from into to, which must be empty (only
// the root collection), then verifies the copy. progress, if not nil,
// hears what is being copied.
func Migrate(ctx context.Context, from, to catalog.Catalog, progress io.Writer) (Report, error) {
	if progress == nil {
		progress = io.Discard
	}
	if err := checkEmpty(ctx, to); err != nil {
		return Report{}, err
	}
	steps := []struct {
		what string
		fn   func(context.Context, catalog.Catalog, catalog.Catalog) error
	}{
		{"users and groups", copyUsers},
		{"resources", copyResources},
		{"namespace", copyNamespace},
		{"tickets", copyTickets},
		{"quotas", copyQuotas},
		{"jobs", copyJobs},
	}
	for _, s := range steps {
		fmt.Fprintf(progress, "copying %s\n", s.what)
		if err := s.fn(ctx, from, to); err != nil {
			return Report{}, fmt.Errorf("copy %s: %w", s.what, err)
		}
	}
	fmt.Fprintf(progress, "verifying\n")
	return Verify(ctx, from, to)
}

func checkEmpty(ctx context.Context, c catalog.Catalog) error {
	colls, err := c.ListCollections(ctx, catalog.MustPath("/"), "", 1)
	if err != nil {
		return err
	}
	users, err := c.Users(ctx)
	if err != nil {
		return err
	}
	res, err := c.ListResources(ctx)
	if err != nil {
		return err
	}
	if len(colls) > 0 || len(users) > 0 || len(res) > 0 {
		return ErrNotEmpty
	}
	return nil
}

func copyUsers(ctx context.Context, from, to catalog.Catalog) error {
	users, err := from.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if _, err := to.CreateUser(ctx, u); err != nil {
			return err
		}
		avus, err := from.ListMetadata(ctx, catalog.UserTarget(u.UserID()))
		if err != nil {
			return err
		}
		if len(avus) > 0 {
			if err := to.AddMetadata(ctx, catalog.UserTarget(u.UserID()), avus...); err != nil {
				return err
			}
		}
	}
	for _, u := range users {
		if u.Type != catalog.UserTypeGroup {
			continue
		}
		members, err := from.Members(ctx, u.UserID())
		if err != nil {
			return err
		}
		for _, m := range members {
			if err := to.AddMember(ctx, u.UserID(), m); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyResources(ctx context.Context, from, to catalog.Catalog) error {
	rs, err := from.ListResources(ctx)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for len(done) < len(rs) {
		progress := false
		for _, r := range rs {
			if done[r.Name] || (r.Parent != "" && !done[r.Parent]) {
				continue
			}
			if _, err := to.CreateResource(ctx, r); err != nil {
				return err
			}
			avus, err := from.ListMetadata(ctx, catalog.ResourceTarget(r.Name))
			if err != nil {
				return err
			}
			if len(avus) > 0 {
				if err := to.AddMetadata(ctx, catalog.ResourceTarget(r.Name), avus...); err != nil {
					return err
				}
			}
			done[r.Name], progress = true, true
		}
		if !progress {
			return fmt.Errorf("resources whose parents are missing or form a cycle")
		}
	}
	return nil
}

// setACL makes the ACL of p in to equal want.
func setACL(ctx context.Context, to catalog.Catalog, p catalog.Path, have, want []catalog.ACE) error {
	keep := map[catalog.UserID]catalog.AccessLevel{}
	for _, a := range want {
		keep[a.Principal] = a.Level
	}
	for _, a := range have {
		if _, ok := keep[a.Principal]; !ok {
			if err := to.SetAccess(ctx, p, a.Principal, catalog.AccessNull); err != nil {
				return err
			}
		}
	}
	for _, a := range want {
		if !slices.Contains(have, a) {
			if err := to.SetAccess(ctx, p, a.Principal, a.Level); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyNamespace copies the tree, breadth first, then the links.
func copyNamespace(ctx context.Context, from, to catalog.Catalog) error {
	var links []catalog.Link
	seenLink := map[catalog.Link]bool{}
	noteLinks := func(p catalog.Path) error {
		ls, err := from.LinksOf(ctx, p)
		if err != nil {
			return err
		}
		for _, l := range ls {
			if !seenLink[l] {
				seenLink[l] = true
				links = append(links, l)
			}
		}
		return nil
	}
	queue := []catalog.Path{catalog.MustPath("/")}
	var inherits []catalog.Path
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		for after := ""; ; {
			subs, err := from.ListCollections(ctx, dir, after, page)
			if err != nil {
				return err
			}
			for _, s := range subs {
				made, err := to.CreateCollection(ctx, catalog.Collection{Path: s.Path, Owner: s.Owner})
				if err != nil {
					return err
				}
				if err := setACL(ctx, to, s.Path, made.ACL, s.ACL); err != nil {
					return err
				}
				if made.Inherit != s.Inherit {
					inherits = append(inherits, s.Path)
				}
				avus, err := from.ListMetadata(ctx, catalog.CollectionTarget(s.Path))
				if err != nil {
					return err
				}
				if len(avus) > 0 {
					if err := to.AddMetadata(ctx, catalog.CollectionTarget(s.Path), avus...); err != nil {
						return err
					}
				}
				if err := noteLinks(s.Path); err != nil {
					return err
				}
				queue = append(queue, s.Path)
			}
			if len(subs) < page {
				break
			}
			after = subs[len(subs)-1].Path.Name()
		}
		for after := ""; ; {
			objs, err := from.ListObjects(ctx, dir, after, page)
			if err != nil {
				return err
			}
			if err := copyObjects(ctx, from, to, objs); err != nil {
				return err
			}
			for _, o := range objs {
				if err := noteLinks(o.Path); err != nil {
					return err
				}
			}
			if len(objs) < page {
				break
			}
			after = objs[len(objs)-1].Path.Name()
		}
	}
	// Inheritance last, so that it copies nothing while the tree is made
	// (the ACLs were set one by one).
	for _, p := range inherits {
		c, err := from.Collection(ctx, p)
		if err != nil {
			return err
		}
		if err := to.SetInheritance(ctx, p, c.Inherit); err != nil {
			return err
		}
	}
	for _, l := range links {
		if err := to.AddLink(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

// copyObjects registers a page of data objects with their committed
// replicas and AVUs, then sets their ACLs and stale replicas.
func copyObjects(ctx context.Context, from, to catalog.Catalog, objs []catalog.DataObject) error {
	var reg []catalog.RegisteredObject
	for _, o := range objs {
		ro := catalog.RegisteredObject{Path: o.Path, Owner: o.Owner}
		for _, r := range o.Replicas {
			if r.Status == catalog.ReplicaIntermediate {
				continue
			}
			ro.Replicas = append(ro.Replicas, catalog.RegisteredReplica{Resource: r.Resource, PhysicalPath: r.PhysicalPath,
				Size: r.Size, Checksum: r.Checksum})
		}
		if len(ro.Replicas) == 0 {
			continue // only a write in flight: nothing committed to copy
		}
		avus, err := from.ListMetadata(ctx, catalog.ObjectTarget(o.Path))
		if err != nil {
			return err
		}
		ro.Metadata = avus
		reg = append(reg, ro)
	}
	if len(reg) == 0 {
		return nil
	}
	if err := to.Register(ctx, reg, false); err != nil {
		return err
	}
	for _, o := range objs {
		made, err := to.DataObject(ctx, o.Path)
		if errors.Is(err, catalog.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := setACL(ctx, to, o.Path, made.ACL, o.ACL); err != nil {
			return err
		}
		for _, r := range o.Replicas {
			if r.Status != catalog.ReplicaStale {
				continue
			}
			for _, m := range made.Replicas {
				if m.Resource == r.Resource && m.PhysicalPath == r.PhysicalPath {
					if err := to.MarkStale(ctx, made.ID, m.Number); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func copyTickets(ctx context.Context, from, to catalog.Catalog) error {
	ts, err := from.ListTickets(ctx, catalog.UserID{})
	if err != nil {
		return err
	}
	for _, t := range ts {
		made, err := to.CreateTicket(ctx, t)
		if err != nil {
			return err
		}
		if t.UsesCount > 0 || t.WriteFileCount > 0 || t.WriteByteCount > 0 {
			if _, err := to.UseTicket(ctx, made.ID, catalog.TicketUse{Uses: t.UsesCount, Files: t.WriteFileCount,
				Bytes: t.WriteByteCount}); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyQuotas(ctx context.Context, from, to catalog.Catalog) error {
	qs, err := from.ListQuotas(ctx)
	if err != nil {
		return err
	}
	for _, q := range qs {
		if err := to.SetQuota(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func copyJobs(ctx context.Context, from, to catalog.Catalog) error {
	for after := catalog.ID(0); ; {
		js, err := from.ListJobs(ctx, after, page)
		if err != nil {
			return err
		}
		// Attempts, failure and claims are history of the source: the
		// target starts each job afresh, which the digest ignores.
		for _, j := range js {
			if _, err := to.AddJob(ctx, j); err != nil {
				return err
			}
		}
		if len(js) < page {
			return nil
		}
		after = js[len(js)-1].ID
	}
}

// digester collects the canonical lines of one type.
type digester struct {
	typ   string
	lines []string
}

func (d *digester) add(format string, args ...any) {
	d.lines = append(d.lines, fmt.Sprintf(format, args...))
}

func (d *digester) count() Count {
	slices.Sort(d.lines)
	h := sha256.New()
	for _, l := range d.lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return Count{Type: d.typ, N: len(d.lines), Digest: hex.EncodeToString(h.Sum(nil))}
}

// Verify counts and digests every type of entry of both catalogs.
func Verify(ctx context.Context, from, to catalog.Catalog) (Report, error) {
	var r Report
	var err error
	if r.Source, err = Digest(ctx, from); err != nil {
		return r, fmt.Errorf("digest of the source: %w", err)
	}
	if r.Target, err = Digest(ctx, to); err != nil {
		return r, fmt.Errorf("digest of the target: %w", err)
	}
	return r, nil
}

func acl(as []catalog.ACE) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.Principal.String() + "=" + a.Level.String()
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

func avuText(as []catalog.AVU) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = fmt.Sprintf("%q\t%q\t%q", a.Attribute, a.Value, a.Unit)
	}
	return out
}

// Digest counts and digests the entries of c, type by type.
func Digest(ctx context.Context, c catalog.Catalog) ([]Count, error) {
	users := &digester{typ: "users"}
	members := &digester{typ: "memberships"}
	resources := &digester{typ: "resources"}
	colls := &digester{typ: "collections"}
	objs := &digester{typ: "objects"}
	repls := &digester{typ: "replicas"}
	avus := &digester{typ: "avus"}
	links := &digester{typ: "links"}
	tickets := &digester{typ: "tickets"}
	quotas := &digester{typ: "quotas"}
	jobs := &digester{typ: "jobs"}

	us, err := c.Users(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		users.add("%s\t%s\t%q\t%s\t%q", u.UserID(), u.Type, u.PasswordHash, u.Auth, u.Info)
		as, err := c.ListMetadata(ctx, catalog.UserTarget(u.UserID()))
		if err != nil {
			return nil, err
		}
		for _, a := range avuText(as) {
			avus.add("user %s\t%s", u.UserID(), a)
		}
		if u.Type == catalog.UserTypeGroup {
			ms, err := c.Members(ctx, u.UserID())
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				members.add("%s\t%s", u.UserID(), m)
			}
		}
	}
	rs, err := c.ListResources(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		resources.add("%s\t%s\t%q\t%q\t%s\t%q\t%s", r.Name, r.Type, r.Location, r.Context, r.Status, r.Comment, r.Parent)
		as, err := c.ListMetadata(ctx, catalog.ResourceTarget(r.Name))
		if err != nil {
			return nil, err
		}
		for _, a := range avuText(as) {
			avus.add("resource %s\t%s", r.Name, a)
		}
	}
	noteLinks := func(p catalog.Path) error {
		ls, err := c.LinksOf(ctx, p)
		if err != nil {
			return err
		}
		for _, l := range ls {
			if l.From == p { // each link once, from its start
				links.add("%s\t%s\t%s", l.From, l.Relation, l.To)
			}
		}
		return nil
	}
	queue := []catalog.Path{catalog.MustPath("/")}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		for after := ""; ; {
			subs, err := c.ListCollections(ctx, dir, after, page)
			if err != nil {
				return nil, err
			}
			for _, s := range subs {
				colls.add("%s\t%s\t%v\t%s", s.Path, s.Owner, s.Inherit, acl(s.ACL))
				as, err := c.ListMetadata(ctx, catalog.CollectionTarget(s.Path))
				if err != nil {
					return nil, err
				}
				for _, a := range avuText(as) {
					avus.add("collection %s\t%s", s.Path, a)
				}
				if err := noteLinks(s.Path); err != nil {
					return nil, err
				}
				queue = append(queue, s.Path)
			}
			if len(subs) < page {
				break
			}
			after = subs[len(subs)-1].Path.Name()
		}
		for after := ""; ; {
			os, err := c.ListObjects(ctx, dir, after, page)
			if err != nil {
				return nil, err
			}
			for _, o := range os {
				committed := false
				for _, r := range o.Replicas {
					if r.Status == catalog.ReplicaIntermediate {
						continue
					}
					committed = true
					repls.add("%s\t%s\t%q\t%d\t%q\t%s", o.Path, r.Resource, r.PhysicalPath, r.Size, r.Checksum, r.Status)
				}
				if !committed {
					continue
				}
				objs.add("%s\t%s\t%s", o.Path, o.Owner, acl(o.ACL))
				as, err := c.ListMetadata(ctx, catalog.ObjectTarget(o.Path))
				if err != nil {
					return nil, err
				}
				for _, a := range avuText(as) {
					avus.add("object %s\t%s", o.Path, a)
				}
				if err := noteLinks(o.Path); err != nil {
					return nil, err
				}
			}
			if len(os) < page {
				break
			}
			after = os[len(os)-1].Path.Name()
		}
	}
	ts, err := c.ListTickets(ctx, catalog.UserID{})
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		tickets.add("%s\t%s\t%s\t%v\t%s\t%s\t%d/%d\t%d/%d\t%d/%d\t%v\t%v\t%v", t.Hash, t.Type, t.Path, t.Collection, t.Owner,
			t.Expires.UTC().Format("2006-01-02T15:04:05.999999999Z"), t.UsesCount, t.UsesLimit, t.WriteFileCount, t.WriteFileLimit,
			t.WriteByteCount, t.WriteByteLimit, t.Users, t.Groups, t.Hosts)
	}
	qs, err := c.ListQuotas(ctx)
	if err != nil {
		return nil, err
	}
	for _, q := range qs {
		quotas.add("%s\t%d\t%d\t%d\t%d", q.Name(), q.MaxBytes, q.MaxObjects, q.UsedBytes, q.UsedObjects)
	}
	for after := catalog.ID(0); ; {
		js, err := c.ListJobs(ctx, after, page)
		if err != nil {
			return nil, err
		}
		for _, j := range js {
			jobs.add("%q\t%q\t%q\t%s\t%q\t%s\t%x", j.Key, j.Rule, j.Path, j.Owner, j.Every, j.Due.UTC().Format("2006-01-02T15:04:05.999999999Z"), j.Work)
		}
		if len(js) < page {
			break
		}
		after = js[len(js)-1].ID
	}
	out := []Count{}
	for _, d := range []*digester{users, members, resources, colls, objs, repls, avus, links, tickets, quotas, jobs} {
		out = append(out, d.count())
	}
	return out, nil
}
