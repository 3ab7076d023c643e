package zones

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
)

// Provenance, persistent identifiers and RAiDs are kept by policies
// (policies/provenance, policies/pid, policies/raid) that the composition
// root installs here; the zone dispatches their operations like every
// other (authorization, rules, hooks) and asks them only through these
// interfaces.

// ProvenanceKeeper keeps the provenance of the zone's data: it records
// (as a Hook) and answers iprov.
type ProvenanceKeeper interface {
	// Export renders the provenance of req.Path in req.Format.
	Export(ctx context.Context, req ProvExport) ([]byte, error)
	// Verify checks the chains of p (and, for a collection, of everything
	// below that may reads).
	Verify(ctx context.Context, p catalog.Path, may AccessFilter) (ProvVerification, error)
	// Derive records that derived was derived from source.
	Derive(ctx context.Context, derived, source catalog.Path) error
}

// AccessFilter says whether the caller may read an entry with this ACL;
// nil lets everything through (an administrator).
type AccessFilter func(p catalog.Path, acl []catalog.ACE) bool

// ProvExport asks for the provenance graph of a path.
type ProvExport struct {
	Path catalog.Path
	// Depth is how many derivation steps to follow from what is at Path
	// (0: none).
	Depth int
	// Format is "text", "prov-json", "prov-n" or "dot".
	Format string
	// May is what the caller may read (set by the zone): what it may not
	// is left out.
	May AccessFilter
}

// ProvVerification is what iprov verify found.
type ProvVerification struct {
	Chains   int // subjects whose chains were checked
	Records  int
	Problems []ProvChainProblem
}

// ProvChainProblem is one thing wrong with one chain.
type ProvChainProblem struct {
	Path    catalog.Path
	Subject catalog.ProvSubject
	catalog.ProvProblem
}

// PID is a persistent identifier and its handle record.
type PID struct {
	Handle string // PREFIX/SUFFIX
	// Path is the data object or collection it identifies in this zone,
	// if it is still there.
	Path   catalog.Path
	Values []PIDValue
	// Object is the data object a mint gave the PID, as the mint read it
	// (nil for a collection, and when the PID is looked up): what the
	// hooks after the mint would otherwise read back.
	Object *catalog.DataObject
}

// PIDValue is one value of a handle record.
type PIDValue struct {
	Index     int
	Type      string
	Data      string
	TTL       int64
	Timestamp time.Time
}

// PIDKeeper mints PIDs, keeps their records following the data, and
// serves the registry.
type PIDKeeper interface {
	// Prefix is the prefix of the zone's PIDs.
	Prefix() string
	// Mint gives the data object or collection at p a PID, or returns the
	// one it has.
	Mint(ctx context.Context, p catalog.Path, owner catalog.UserID) (PID, error)
	// Lookup returns the record of a PID.
	Lookup(ctx context.Context, handle string) (PID, error)
	// OfPath returns the PID of what is at p (ErrNotFound when it has
	// none).
	OfPath(ctx context.Context, p catalog.Path) (PID, error)
	// Register creates or (with overwrite) replaces a handle record in
	// the zone's registry, as a Handle service does for its clients.
	Register(ctx context.Context, owner catalog.UserID, handle string, values []PIDValue, overwrite bool) (created bool, err error)
}

// RAiD is a Research Activity Identifier and its metadata record.
type RAiD struct {
	ID     string // https://raid.org/PREFIX/SUFFIX
	Owner  catalog.UserID
	Closed bool // embargoed or closed: only its owner sees more than Public
	// Doc is the record (the RAiD v2 API's RaidDto, JSON); Public is what
	// others see of a closed one (identifier and access).
	Doc     []byte
	Public  []byte
	Version int64
}

// RAiDRequest creates a RAiD: from its parts, or a whole RaidDto (Doc).
type RAiDRequest struct {
	Title, Description string
	Start, End         string // YYYY, YYYY-MM or YYYY-MM-DD
	Contributors       []string
	Organisations      []string
	Embargo            string // an embargo's end, YYYY-MM-DD: the RAiD is closed until then
	Doc                []byte
}

// RAiDKeeper keeps the zone's RAiDs.
type RAiDKeeper interface {
	Create(ctx context.Context, owner catalog.UserID, req RAiDRequest) (RAiD, error)
	Show(ctx context.Context, id string) (RAiD, error)
	// Link adds the collection or data object at p to the RAiD's related
	// objects and the RAiD to its metadata, or with unlink takes both away.
	Link(ctx context.Context, id string, p catalog.Path, unlink bool) (RAiD, error)
}

type keepers struct {
	prov  ProvenanceKeeper
	pids  PIDKeeper
	raids RAiDKeeper
	certs CertificateKeeper
	dmps  DMPKeeper
}

// UseProvenance makes k answer the zone's provenance operations; k usually
// records provenance as a hook too (AddHook).
func (z *Zone) UseProvenance(k ProvenanceKeeper) { z.keep.prov = k }

// UsePIDs makes k mint and keep the zone's PIDs.
func (z *Zone) UsePIDs(k PIDKeeper) { z.keep.pids = k }

// UseRAiDs makes k keep the zone's RAiDs.
func (z *Zone) UseRAiDs(k RAiDKeeper) { z.keep.raids = k }

// PIDs is the zone's PID keeper, nil when it has none.
func (z *Zone) PIDs() PIDKeeper { return z.keep.pids }

var (
	errNoProvenance = fmt.Errorf("%w: this zone keeps no provenance", resources.ErrUnavailable)
	errNoPIDs       = fmt.Errorf("%w: this zone mints no PIDs (no PID prefix is configured)", resources.ErrUnavailable)
	errNoRAiDs      = fmt.Errorf("%w: this zone keeps no RAiDs (no RAiD prefix is configured)", resources.ErrUnavailable)
)

// ExportProvenance renders the provenance of what is at req.Path: of a
// collection, of everything below it that caller may read.
func (z *Zone) ExportProvenance(ctx context.Context, caller Principal, req ProvExport) ([]byte, error) {
	var out []byte
	err := z.do(ctx, &Op{Name: OpProvShow, Caller: caller, Path: req.Path}, func(ctx context.Context) error {
		if z.keep.prov == nil {
			return errNoProvenance
		}
		may, err := z.readFilter(ctx, caller)
		if err != nil {
			return err
		}
		req.May = may
		out, err = z.keep.prov.Export(ctx, req)
		return err
	})
	return out, err
}

// VerifyProvenance checks the provenance chains of what is at p.
func (z *Zone) VerifyProvenance(ctx context.Context, caller Principal, p catalog.Path) (ProvVerification, error) {
	var out ProvVerification
	err := z.do(ctx, &Op{Name: OpProvVerify, Caller: caller, Path: p}, func(ctx context.Context) error {
		if z.keep.prov == nil {
			return errNoProvenance
		}
		may, err := z.readFilter(ctx, caller)
		if err != nil {
			return err
		}
		out, err = z.keep.prov.Verify(ctx, p, may)
		return err
	})
	return out, err
}

func (z *Zone) readFilter(ctx context.Context, caller Principal) (AccessFilter, error) {
	f, err := z.accessFilter(ctx, caller, catalog.AccessRead)
	if f == nil || err != nil {
		return nil, err
	}
	return AccessFilter(f), nil
}

// Derive records that derived was derived from each of sources
// (prov:wasDerivedFrom), one operation per source. A derivation that
// would close a cycle is refused.
func (z *Zone) Derive(ctx context.Context, caller Principal, derived catalog.Path, sources []catalog.Path) error {
	if len(sources) == 0 {
		return fmt.Errorf("%w: derived from nothing", catalog.ErrInvalidArgument)
	}
	for _, s := range sources {
		err := z.do(ctx, &Op{Name: OpProvDerive, Caller: caller, Path: derived, Dest: s}, func(ctx context.Context) error {
			if z.keep.prov == nil {
				return errNoProvenance
			}
			return z.keep.prov.Derive(ctx, derived, s)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// MintPIDs gives what is at p a PID, and with recursive every data object
// below the collection p that caller may write, reporting each.
func (z *Zone) MintPIDs(ctx context.Context, caller Principal, p catalog.Path, recursive bool, report func(PID) error) error {
	// The PID goes into the operation's AVUs, for the hooks after it
	// (provenance records it).
	mint := func(ctx context.Context, op *Op) error {
		if z.keep.pids == nil {
			return errNoPIDs
		}
		pid, err := z.keep.pids.Mint(ctx, op.Path, caller.UserID())
		if err != nil {
			return err
		}
		op.AVUs = []catalog.AVU{{Attribute: "PID", Value: pid.Handle}}
		if pid.Object != nil && pid.Object.Path == op.Path {
			op.Object = pid.Object // provenance records it without a lookup
		}
		return report(pid)
	}
	op := &Op{Name: OpPIDMint, Caller: caller, Path: p}
	return z.do(ctx, op, func(ctx context.Context) error {
		if err := mint(ctx, op); err != nil || !recursive {
			return err
		}
		e, err := z.cat.Stat(ctx, p)
		if err != nil || e.Collection == nil {
			return err
		}
		// Each object is an operation of its own: its rules, its
		// provenance.
		return z.eachObjectAt(ctx, caller, p, true, catalog.AccessWrite, func(o catalog.DataObject) error {
			sub := &Op{Name: OpPIDMint, Caller: caller, Path: o.Path}
			return z.do(ctx, sub, func(ctx context.Context) error { return mint(ctx, sub) })
		})
	})
}

// ShowPID returns the PID of the path ref (which starts with "/"), or the
// record of the PID ref.
func (z *Zone) ShowPID(ctx context.Context, caller Principal, ref string) (PID, error) {
	op := &Op{Name: OpPIDShow, Caller: caller}
	if strings.HasPrefix(ref, "/") {
		p, err := catalog.ParsePath(ref)
		if err != nil {
			return PID{}, err
		}
		op.Path = p
	}
	var out PID
	err := z.do(ctx, op, func(ctx context.Context) error {
		if z.keep.pids == nil {
			return errNoPIDs
		}
		var err error
		if !op.Path.IsZero() {
			out, err = z.keep.pids.OfPath(ctx, op.Path)
		} else {
			out, err = z.keep.pids.Lookup(ctx, ref)
		}
		return err
	})
	return out, err
}

// RegisterHandle creates or replaces a handle record in the zone's
// registry for a Handle REST client (administrators only).
func (z *Zone) RegisterHandle(ctx context.Context, caller Principal, handle string, values []PIDValue, overwrite bool) (bool, error) {
	var created bool
	err := z.do(ctx, &Op{Name: OpPIDRegister, Caller: caller}, func(ctx context.Context) error {
		if z.keep.pids == nil {
			return errNoPIDs
		}
		var err error
		created, err = z.keep.pids.Register(ctx, caller.UserID(), handle, values, overwrite)
		return err
	})
	return created, err
}

// CreateRAiD mints a RAiD owned by caller.
func (z *Zone) CreateRAiD(ctx context.Context, caller Principal, req RAiDRequest) (RAiD, error) {
	var out RAiD
	err := z.do(ctx, &Op{Name: OpRAiDCreate, Caller: caller}, func(ctx context.Context) error {
		if z.keep.raids == nil {
			return errNoRAiDs
		}
		var err error
		out, err = z.keep.raids.Create(ctx, caller.UserID(), req)
		return err
	})
	return out, err
}

// ShowRAiD returns a RAiD: a closed one whole only to its owner and
// administrators, to others its identifier and access.
func (z *Zone) ShowRAiD(ctx context.Context, caller Principal, id string) (RAiD, error) {
	var out RAiD
	err := z.do(ctx, &Op{Name: OpRAiDShow, Caller: caller}, func(ctx context.Context) error {
		if z.keep.raids == nil {
			return errNoRAiDs
		}
		var err error
		out, err = z.keep.raids.Show(ctx, id)
		if err == nil && out.Closed && out.Owner != caller.UserID() && !isAdmin(caller.User, z.name) {
			out.Doc = out.Public
		}
		return err
	})
	return out, err
}

// LinkRAiD links the collection or data object at p to the RAiD id, or
// with unlink unlinks it. The caller needs write on p and must own the
// RAiD (or be an administrator).
func (z *Zone) LinkRAiD(ctx context.Context, caller Principal, id string, p catalog.Path, unlink bool) (RAiD, error) {
	if z.keep.raids == nil {
		return RAiD{}, errNoRAiDs
	}
	r, err := z.keep.raids.Show(ctx, id)
	if err != nil {
		return RAiD{}, err
	}
	name := OpRAiDLink
	if unlink {
		name = OpRAiDUnlink
	}
	var out RAiD
	op := &Op{Name: name, Caller: caller, Path: p, Owner: r.Owner, AVUs: []catalog.AVU{{Attribute: "RAiD", Value: r.ID}}}
	err = z.do(ctx, op, func(ctx context.Context) error {
		var err error
		out, err = z.keep.raids.Link(ctx, id, p, unlink)
		return err
	})
	return out, err
}

// Observer is a Hook that also learns of what rule actions change without
// the dispatcher (metadata.set, metadata.remove, acl.set act on the
// catalog directly): Observe is told after such a change, with the
// operation it amounts to, done by the rules' actor.
type Observer interface {
	Observe(ctx context.Context, op *Op)
}

// observe tells the hooks that observe of a change made by a rule action.
func (z *Zone) observe(ctx context.Context, op *Op) {
	for _, h := range z.hooks {
		if o, ok := h.(Observer); ok {
			o.Observe(ctx, op)
		}
	}
}

// ruleActorPrincipal is the rules' actor without a catalog lookup, for
// what observers are told.
func (z *Zone) ruleActorPrincipal() Principal {
	return As(catalog.User{Name: DefaultAdmin, Zone: z.name, Type: catalog.UserTypeAdmin})
}

// PublicView is what anyone may see of the collection or data object at
// p, for the landing page of its PID: its record and AVUs when the public
// group (or the anonymous user) may read it, else catalog.ErrPermission.
// Like a Handle server's resolution it is no operation of a caller: it
// shows only what the owner made public.
func (z *Zone) PublicView(ctx context.Context, p catalog.Path) (catalog.Entry, []catalog.AVU, error) {
	e, err := z.cat.Stat(ctx, p)
	if err != nil {
		return catalog.Entry{}, nil, err
	}
	acl, t := aclAndTarget(e)
	if accessOf(z.Anonymous(), nil, acl) < catalog.AccessRead {
		return catalog.Entry{}, nil, fmt.Errorf("%s: %w: not public", p, catalog.ErrPermission)
	}
	avus, err := z.cat.ListMetadata(ctx, t)
	if err != nil {
		return catalog.Entry{}, nil, err
	}
	return e, avus, nil
}

func aclAndTarget(e catalog.Entry) ([]catalog.ACE, catalog.AVUTarget) {
	if e.Collection != nil {
		return e.Collection.ACL, catalog.CollectionTarget(e.Collection.Path)
	}
	return e.Object.ACL, catalog.ObjectTarget(e.Object.Path)
}
