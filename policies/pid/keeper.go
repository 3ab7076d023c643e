package pid

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// IndexKind is the kind of the catalog records that say which PID each
// collection or data object has, whatever provider keeps the handle
// records: key the handle (Handle.Key), ref "object:ID" or
// "collection:ID".
const IndexKind = "pid"

// The AVUs that mirror a PID record on its object (as B2SAFE's).
const (
	AttrPID = "PID"
)

// derivedFrom is the relation of derivation links (policies/provenance).
const derivedFrom = "prov:wasDerivedFrom"

// Catalog is what the keeper needs of the zone's catalog.
type Catalog interface {
	catalog.Records
	Stat(ctx context.Context, p catalog.Path) (catalog.Entry, error)
	EntryPath(ctx context.Context, s catalog.ProvSubject) (catalog.Path, error)
	ListObjects(ctx context.Context, coll catalog.Path, after string, limit int) ([]catalog.DataObject, error)
	ListCollections(ctx context.Context, coll catalog.Path, after string, limit int) ([]catalog.Collection, error)
	SetMetadata(ctx context.Context, t catalog.AVUTarget, avu catalog.AVU) error
	ListMetadata(ctx context.Context, t catalog.AVUTarget) ([]catalog.AVU, error)
	LinksOf(ctx context.Context, p catalog.Path) ([]catalog.Link, error)
}

// Keeper mints PIDs with a Provider and keeps their records following the
// data: as a zones.Hook it updates a record when its object gets a new
// checksum or replica, moves (its URL follows) or is removed (the record
// says so; the PID is never given out again).
type Keeper struct {
	cat      Catalog
	provider Provider
	// base is where landing pages are: a record's URL is base +
	// "/landing" + the object's path.
	base string
	log  *slog.Logger
	// any is set once the zone has a PID: until then no operation needs
	// looking at.
	any atomic.Bool

	mu      sync.Mutex
	pending map[*zones.Op][]indexed
}

var (
	_ zones.PIDKeeper = (*Keeper)(nil)
	_ zones.Hook      = (*Keeper)(nil)
)

// NewKeeper returns a keeper minting with provider, whose records point
// at landing pages under base (https://HOST[:PORT]).
func NewKeeper(ctx context.Context, cat Catalog, provider Provider, base string, log *slog.Logger) (*Keeper, error) {
	if log == nil {
		log = slog.Default()
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%w: PID landing page base %q: want https://HOST[:PORT]", catalog.ErrInvalidArgument, base)
	}
	k := &Keeper{cat: cat, provider: provider, base: strings.TrimSuffix(base, "/"), log: log, pending: map[*zones.Op][]indexed{}}
	some, err := cat.ListRecords(ctx, IndexKind, "", 1)
	if err != nil {
		return nil, err
	}
	k.any.Store(len(some) > 0)
	return k, nil
}

// Prefix is the prefix PIDs are minted under.
func (k *Keeper) Prefix() string { return k.provider.Prefix() }

// Provider is where the keeper's records are.
func (k *Keeper) Provider() Provider { return k.provider }

// LandingURL is the landing page of the entry at p.
func (k *Keeper) LandingURL(p catalog.Path) string {
	var b strings.Builder
	b.WriteString(k.base + "/landing")
	for _, seg := range strings.Split(strings.TrimPrefix(p.String(), "/"), "/") {
		b.WriteString("/" + url.PathEscape(seg))
	}
	return b.String()
}

func refOf(e catalog.Entry) string {
	if e.Collection != nil {
		return catalog.SubjectCollection + ":" + fmt.Sprint(e.Collection.ID)
	}
	return catalog.SubjectObject + ":" + fmt.Sprint(e.Object.ID)
}

func subjectOfRef(ref string) (catalog.ProvSubject, bool) {
	kind, id, ok := strings.Cut(ref, ":")
	var n int64
	if _, err := fmt.Sscan(id, &n); !ok || err != nil {
		return catalog.ProvSubject{}, false
	}
	s := catalog.ProvSubject{Kind: kind, ID: catalog.ID(n)}
	return s, s.Validate() == nil
}

// indexed is an entry with a PID.
type indexed struct {
	handle Handle
	ref    string
}

type indexDoc struct {
	Handle string `json:"handle"`
}

func (k *Keeper) pidsOf(ctx context.Context, refs []string) ([]indexed, error) {
	var out []indexed
	for len(refs) > 0 {
		n := min(len(refs), catalog.MaxProvBatch)
		recs, err := k.cat.RecordsByRef(ctx, IndexKind, refs[:n])
		if err != nil {
			return nil, err
		}
		refs = refs[n:]
		for _, r := range recs {
			var d indexDoc
			if err := json.Unmarshal(r.Doc, &d); err != nil {
				return nil, fmt.Errorf("PID index %s: %w", r.Key, err)
			}
			h, err := ParseHandle(d.Handle)
			if err != nil {
				return nil, err
			}
			out = append(out, indexed{handle: h, ref: r.Ref})
		}
	}
	return out, nil
}

// newSuffix is a random UUID (version 4), as ePIC mints.
func newSuffix() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Mint gives the entry at p a PID, or returns the one it has.
func (k *Keeper) Mint(ctx context.Context, p catalog.Path, owner catalog.UserID) (zones.PID, error) {
	e, err := k.cat.Stat(ctx, p)
	if err != nil {
		return zones.PID{}, err
	}
	ref := refOf(e)
	if have, err := k.pidsOf(ctx, []string{ref}); err != nil {
		return zones.PID{}, err
	} else if len(have) > 0 {
		return k.show(ctx, have[0].handle, p)
	}
	now := time.Now()
	parent, ror, fio := k.parentOf(ctx, e)
	var h Handle
	var values []Value
	for attempt := 0; ; attempt++ {
		h = Handle{Prefix: k.provider.Prefix(), Suffix: newSuffix()}
		self := h.String()
		values = k.values(e, p, now, nil)
		values = setValue(values, StringValue(4, TypeROR, orSelf(ror, self), now))
		values = setValue(values, StringValue(5, TypeFIO, orSelf(fio, self), now))
		values = setValue(values, StringValue(6, TypeParent, parent, now))
		err = k.create(ctx, e, h, values, owner, ref)
		if !errors.Is(err, catalog.ErrExists) || attempt >= 3 {
			break
		}
	}
	if err != nil {
		return zones.PID{}, fmt.Errorf("mint a PID for %s: %w", p, err)
	}
	k.any.Store(true)
	if parent != "" {
		k.addReplica(ctx, parent, h.String())
	}
	return zones.PID{Handle: h.String(), Path: p, Values: ZoneValues(values), Object: e.Object}, nil
}

// create stores the record of h, its index (ref, owner) and the AVUs that
// mirror it on e. With the zone's own registry in the same catalog that
// is one catalog transaction; with another provider the record goes to
// it first, then the index and the AVUs in one transaction.
func (k *Keeper) create(ctx context.Context, e catalog.Entry, h Handle, values []Value, owner catalog.UserID, ref string) error {
	doc, err := json.Marshal(indexDoc{Handle: h.String()})
	if err != nil {
		return err
	}
	index := catalog.Record{Kind: IndexKind, Key: h.Key(), Ref: ref, Owner: owner, Doc: doc}
	mirror := []catalog.AVUBatch{mirrorAVUs(e, h.String(), values)}
	if reg, ok := k.provider.(*Registry); ok && sameCatalog(reg.cat, k.cat) {
		rec, stamped, err := reg.record(h, values, reg.owner, "")
		if err != nil {
			return err
		}
		reg.forget(h.Key())
		if _, err := k.cat.CreateRecords(ctx, []catalog.Record{rec, index}, mirror); err != nil {
			if errors.Is(err, catalog.ErrExists) {
				return fmt.Errorf("handle %s: %w", h, catalog.ErrExists)
			}
			return err
		}
		reg.remember(h.Key(), h.String(), stamped)
		return nil
	}
	if err := k.provider.Create(ctx, h, values); err != nil {
		return err
	}
	if _, err := k.cat.CreateRecords(ctx, []catalog.Record{index}, mirror); err != nil {
		return fmt.Errorf("index the PID %s: %w", h, err)
	}
	return nil
}

// sameCatalog reports whether the registry keeps its records in the
// keeper's catalog.
func sameCatalog(a catalog.Records, b Catalog) (same bool) {
	defer func() {
		if recover() != nil {
			same = false // not comparable
		}
	}()
	return any(a) == any(b)
}

func orSelf(s, self string) string {
	if s == "" {
		return self
	}
	return s
}

// parentOf is, for a data object that is a copy of one with a PID (a
// derivation link to an object with the same checksum), that PID and its
// ROR and FIO: B2SAFE's EUDAT/PARENT.
func (k *Keeper) parentOf(ctx context.Context, e catalog.Entry) (parent, ror, fio string) {
	if e.Object == nil {
		return "", "", ""
	}
	mine, ok := e.Object.Newest()
	if !ok {
		return "", "", ""
	}
	links, err := k.cat.LinksOf(ctx, e.Object.Path)
	if err != nil {
		return "", "", ""
	}
	for _, l := range links {
		if l.From != e.Object.Path || l.Relation != derivedFrom {
			continue
		}
		src, err := k.cat.Stat(ctx, l.To)
		if err != nil || src.Object == nil {
			continue
		}
		theirs, ok := src.Object.Newest()
		if !ok || theirs.Checksum != mine.Checksum || mine.Checksum == "" {
			continue
		}
		have, err := k.pidsOf(ctx, []string{refOf(src)})
		if err != nil || len(have) == 0 {
			continue
		}
		vs, err := k.provider.Resolve(ctx, have[0].handle)
		if err != nil {
			continue
		}
		parent = have[0].handle.String()
		if v, ok := find(vs, TypeROR); ok {
			ror = v.String()
		}
		if v, ok := find(vs, TypeFIO); ok {
			fio = v.String()
		}
		return parent, orSelf(ror, parent), orSelf(fio, parent)
	}
	return "", "", ""
}

// addReplica adds child to the EUDAT/REPLICA of the record parent, and of
// its object's AVUs.
func (k *Keeper) addReplica(ctx context.Context, parent, child string) {
	h, err := ParseHandle(parent)
	if err != nil {
		return
	}
	vs, err := k.provider.Resolve(ctx, h)
	if err != nil {
		k.log.Warn("EUDAT/REPLICA of the parent PID not updated", "parent", parent, "child", child, "err", err)
		return
	}
	var kids []string
	if v, ok := find(vs, TypeReplica); ok && v.String() != "" {
		kids = strings.Split(v.String(), ",")
	}
	if slices.Contains(kids, child) {
		return
	}
	kids = append(kids, child)
	vs = setValue(vs, StringValue(7, TypeReplica, strings.Join(kids, ","), time.Now()))
	if err := k.provider.Update(ctx, h, vs); err != nil {
		k.log.Warn("EUDAT/REPLICA of the parent PID not updated", "parent", parent, "child", child, "err", err)
		return
	}
	if rec, err := k.cat.Record(ctx, IndexKind, h.Key()); err == nil {
		if s, ok := subjectOfRef(rec.Ref); ok {
			if p, err := k.cat.EntryPath(ctx, s); err == nil {
				k.setAVU(ctx, s, p, TypeReplica, strings.Join(kids, ","))
			}
		}
	}
}

// setValue puts v in place of the value of its type, or adds it.
func setValue(vs []Value, v Value) []Value {
	out := slices.Clone(vs)
	for i := range out {
		if out[i].Type == v.Type {
			v.Index = out[i].Index
			out[i] = v
			return out
		}
	}
	out = append(out, v)
	sortValues(out)
	return out
}

// values are the values of the record of e at p: the EUDAT profile's,
// with those of old that the data does not decide (ROR, FIO, PARENT,
// REPLICA, FIXED_CONTENT, HS_ADMIN) kept.
func (k *Keeper) values(e catalog.Entry, p catalog.Path, now time.Time, old []Value) []Value {
	vs := []Value{
		StringValue(1, TypeURL, k.LandingURL(p), now),
		StringValue(2, TypeChecksum, "", now),
		StringValue(3, TypeChecksumTime, "", now),
		StringValue(4, TypeROR, "", now),
		StringValue(5, TypeFIO, "", now),
		StringValue(6, TypeParent, "", now),
		StringValue(7, TypeReplica, "", now),
		StringValue(8, TypeFixedContent, fixedContentFalse, now),
		StringValue(9, TypeProfile, ProfileVersion, now),
		AdminValue(k.provider.Prefix(), now),
	}
	if e.Object != nil {
		if rep, ok := e.Object.Newest(); ok {
			vs = setValue(vs, StringValue(2, TypeChecksum, rep.Checksum, now))
			vs = setValue(vs, StringValue(3, TypeChecksumTime, rep.ModifyTime.UTC().Format(time.RFC3339), now))
		}
		vs = setValue(vs, StringValue(10, TypeLocations, k.locations(e.Object, p), now))
	}
	for _, keep := range []string{TypeROR, TypeFIO, TypeParent, TypeReplica, TypeFixedContent, TypeAdmin} {
		if v, ok := find(old, keep); ok {
			vs = setValue(vs, v)
		}
	}
	return vs
}

// locations is the 10320/LOC value: one location per good replica.
func (k *Keeper) locations(o *catalog.DataObject, p catalog.Path) string {
	var b strings.Builder
	b.WriteString(`<locations>`)
	for _, r := range o.Good() {
		fmt.Fprintf(&b, `<location id="%d" href="%s?replica=%d" resource="%s" weight="1"/>`,
			r.Number, xmlEscape(k.LandingURL(p)), r.Number, xmlEscape(r.Resource))
	}
	b.WriteString(`</locations>`)
	return b.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

// mirrorAVUs are the AVUs that mirror the record of handle on its entry
// e: PID, EUDAT/ROR, EUDAT/FIO, EUDAT/PARENT, EUDAT/FIXED_CONTENT and
// EUDAT/REPLICA, as B2SAFE sets them (the empty ones left out). Each
// replaces what the entry had of its attribute (set by hand, say).
func mirrorAVUs(e catalog.Entry, handle string, vs []Value) catalog.AVUBatch {
	t := catalog.ObjectTarget(e.Path())
	if e.Collection != nil {
		t = catalog.CollectionTarget(e.Path())
	}
	avus := []catalog.AVU{{Attribute: AttrPID, Value: handle}}
	for _, typ := range []string{TypeROR, TypeFIO, TypeParent, TypeFixedContent, TypeReplica} {
		if v, ok := find(vs, typ); ok && v.String() != "" {
			avus = append(avus, catalog.AVU{Attribute: typ, Value: v.String()})
		}
	}
	return catalog.AVUBatch{Target: t, AVUs: avus}
}

func (k *Keeper) setAVU(ctx context.Context, s catalog.ProvSubject, p catalog.Path, attr, val string) {
	t := catalog.ObjectTarget(p)
	if s.Kind == catalog.SubjectCollection {
		t = catalog.CollectionTarget(p)
	}
	if err := k.cat.SetMetadata(ctx, t, catalog.AVU{Attribute: attr, Value: val}); err != nil {
		k.log.Warn("PID AVU not set", "path", p.String(), "attribute", attr, "err", err)
	}
}

// show is the PID h of what is at p (p zero: wherever it is now).
func (k *Keeper) show(ctx context.Context, h Handle, p catalog.Path) (zones.PID, error) {
	vs, err := k.provider.Resolve(ctx, h)
	if err != nil {
		return zones.PID{}, err
	}
	out := zones.PID{Handle: h.String(), Path: p, Values: ZoneValues(vs)}
	if p.IsZero() {
		if rec, err := k.cat.Record(ctx, IndexKind, h.Key()); err == nil {
			if s, ok := subjectOfRef(rec.Ref); ok {
				if now, err := k.cat.EntryPath(ctx, s); err == nil {
					out.Path = now
				}
			}
		}
	}
	return out, nil
}

// Lookup returns the record of a PID of this zone's prefix.
func (k *Keeper) Lookup(ctx context.Context, handle string) (zones.PID, error) {
	h, err := ParseHandle(handle)
	if err != nil {
		return zones.PID{}, err
	}
	if err := Responsible(h, k.provider.Prefix()); err != nil {
		return zones.PID{}, err
	}
	return k.show(ctx, h, catalog.Path{})
}

// OfPath returns the PID of what is at p.
func (k *Keeper) OfPath(ctx context.Context, p catalog.Path) (zones.PID, error) {
	e, err := k.cat.Stat(ctx, p)
	if err != nil {
		return zones.PID{}, err
	}
	have, err := k.pidsOf(ctx, []string{refOf(e)})
	if err != nil {
		return zones.PID{}, err
	}
	if len(have) == 0 {
		return zones.PID{}, fmt.Errorf("%s has no PID (ipid mint gives it one): %w", p, catalog.ErrNotFound)
	}
	return k.show(ctx, have[0].handle, p)
}

// Register creates or replaces a record in the own registry for a Handle
// REST client.
func (k *Keeper) Register(ctx context.Context, owner catalog.UserID, handle string, values []zones.PIDValue, overwrite bool) (bool, error) {
	reg, ok := k.provider.(*Registry)
	if !ok {
		return false, fmt.Errorf("%w: this zone keeps its PIDs with another Handle service", catalog.ErrInvalidArgument)
	}
	h, err := ParseHandle(handle)
	if err != nil {
		return false, err
	}
	vs, err := FromZoneValues(values)
	if err != nil {
		return false, err
	}
	err = reg.create(ctx, h, vs, owner, "")
	if err == nil || !errors.Is(err, catalog.ErrExists) || !overwrite {
		return err == nil, err
	}
	return false, reg.Update(ctx, h, vs)
}

// Following the data.

// follows are the operations after which records are brought up to date.
var follows = map[zones.OpName]bool{
	zones.OpPut: true, zones.OpCopy: true, zones.OpChecksum: true, zones.OpReplicate: true, zones.OpTrim: true,
	zones.OpPhysMove: true, zones.OpStage: true, zones.OpRename: true, zones.OpRemove: true,
	zones.OpTrashRemove: true, zones.OpTrashRemoveOther: true, zones.OpRegister: true,
}

// Before notes the entries with PIDs that a move or removal takes along.
func (k *Keeper) Before(ctx context.Context, op *zones.Op) error {
	if !k.any.Load() || !follows[op.Name] {
		return nil
	}
	var root catalog.Path
	switch op.Name {
	case zones.OpRename, zones.OpRemove:
		root = op.Path
	case zones.OpTrashRemove, zones.OpTrashRemoveOther:
		root = catalog.MustPath("/" + op.Caller.Zone + "/trash")
	default:
		return nil
	}
	refs, err := k.refsAt(ctx, root)
	if err != nil || len(refs) == 0 {
		return nil // nothing there, or the operation says what is wrong
	}
	have, err := k.pidsOf(ctx, refs)
	if err != nil {
		k.log.Warn("PIDs of moved or removed data not looked up; their records may lag", "path", root.String(), "err", err)
		return nil
	}
	if len(have) > 0 {
		k.mu.Lock()
		k.pending[op] = have
		k.mu.Unlock()
	}
	return nil
}

// refsAt are the refs of the entry at p and, for a collection, of
// everything below it.
func (k *Keeper) refsAt(ctx context.Context, p catalog.Path) ([]string, error) {
	e, err := k.cat.Stat(ctx, p)
	if err != nil {
		return nil, err
	}
	refs := []string{refOf(e)}
	if e.Collection == nil {
		return refs, nil
	}
	var walk func(c catalog.Path) error
	walk = func(c catalog.Path) error {
		for after := ""; ; {
			objs, err := k.cat.ListObjects(ctx, c, after, 1000)
			if err != nil {
				return err
			}
			for _, o := range objs {
				refs = append(refs, catalog.SubjectObject+":"+fmt.Sprint(o.ID))
			}
			if len(objs) < 1000 {
				break
			}
			after = objs[len(objs)-1].Path.Name()
		}
		for after := ""; ; {
			colls, err := k.cat.ListCollections(ctx, c, after, 1000)
			if err != nil {
				return err
			}
			for _, sub := range colls {
				refs = append(refs, catalog.SubjectCollection+":"+fmt.Sprint(sub.ID))
				if err := walk(sub.Path); err != nil {
					return err
				}
			}
			if len(colls) < 1000 {
				break
			}
			after = colls[len(colls)-1].Path.Name()
		}
		return nil
	}
	return refs, walk(p)
}

// After brings the records of what the operation changed up to date.
func (k *Keeper) After(ctx context.Context, op *zones.Op, err error) {
	k.mu.Lock()
	moved := k.pending[op]
	delete(k.pending, op)
	k.mu.Unlock()
	if err != nil || !k.any.Load() || !follows[op.Name] {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if len(moved) > 0 {
		for _, m := range moved {
			k.refresh(ctx, m)
		}
		return
	}
	target := op.Path
	if op.Name == zones.OpCopy {
		target = op.Dest
	}
	if target.IsZero() {
		return
	}
	var e catalog.Entry
	if op.Object != nil && op.Object.Path == target {
		e.Object = op.Object
	} else if e, err = k.cat.Stat(ctx, target); err != nil {
		return
	}
	have, err := k.pidsOf(ctx, []string{refOf(e)})
	if err != nil || len(have) == 0 {
		return
	}
	if e.Collection != nil && op.Name != zones.OpRename {
		// Replicas of everything below (irepl -r): each object's record.
		refs, err := k.refsAt(ctx, target)
		if err == nil {
			if below, err := k.pidsOf(ctx, refs); err == nil {
				have = below
			}
		}
	}
	for _, m := range have {
		k.refresh(ctx, m)
	}
}

// refresh brings the record of m up to date with its entry: where it is
// now, its checksum and replicas, or that it is gone.
func (k *Keeper) refresh(ctx context.Context, m indexed) {
	s, ok := subjectOfRef(m.ref)
	if !ok {
		return
	}
	old, err := k.provider.Resolve(ctx, m.handle)
	if err != nil {
		k.log.Warn("PID record not updated", "pid", m.handle.String(), "err", err)
		return
	}
	now := time.Now()
	var vs []Value
	p, err := k.cat.EntryPath(ctx, s)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		if v, ok := find(old, TypeStatus); ok && strings.HasPrefix(v.String(), statusRemoved) {
			return
		}
		// Gone: the record says so, and keeps the rest.
		vs = setValue(old, StringValue(11, TypeStatus, statusRemoved+" "+now.UTC().Format(time.RFC3339), now))
		vs = slices.DeleteFunc(vs, func(v Value) bool { return v.Type == TypeLocations })
	case err != nil:
		k.log.Warn("PID record not updated", "pid", m.handle.String(), "err", err)
		return
	default:
		e, err := k.cat.Stat(ctx, p)
		if err != nil {
			return
		}
		vs = k.values(e, p, now, old)
		if sameData(old, vs) {
			return
		}
	}
	if err := k.provider.Update(ctx, m.handle, vs); err != nil {
		k.log.Warn("PID record not updated", "pid", m.handle.String(), "err", err)
	}
}

// sameData reports whether two records say the same, timestamps aside.
func sameData(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for _, v := range a {
		w, ok := find(b, v.Type)
		if !ok || w.Index != v.Index || w.String() != v.String() {
			return false
		}
	}
	return true
}
