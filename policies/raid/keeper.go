// Package raid keeps a zone's RAiDs, Research Activity Identifiers (ISO
// 23527): ids https://raid.org/PREFIX/SUFFIX under the zone's prefix,
// whose records follow the RAiD v2 API's metadata schema (RaidDto, see
// Schema) and are validated against it, with contributors' ORCID iDs and
// organisations' ROR ids checked to their check digits. Linking a
// collection or data object adds it to the RAiD's related objects and the
// RAiD to its metadata (the AVU "RAiD").
package raid

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// RecordKind is the kind of the catalog records of RAiDs (key
// PREFIX/SUFFIX).
const RecordKind = "raid"

// AttrRAiD is the AVU that says which RAiD a collection or object belongs
// to.
const AttrRAiD = "RAiD"

// attrPID is the AVU of an object's PID (policies/pid).
const attrPID = "PID"

// IDBase is where RAiDs resolve.
const IDBase = "https://raid.org/"

// Vocabularies the records use, as the RAiD v2 API's schema gives them.
const (
	titlePrimary        = "https://vocabulary.raid.org/title.type.schema/5"
	titleSchema         = "https://vocabulary.raid.org/title.type.schema/376"
	descriptionPrimary  = "https://vocabulary.raid.org/description.type.schema/318"
	descriptionSchema   = "https://vocabulary.raid.org/description.type.schema/320"
	positionLeader      = "https://vocabulary.raid.org/contributor.position.schema/307"
	positionOther       = "https://vocabulary.raid.org/contributor.position.schema/311"
	positionSchema      = "https://vocabulary.raid.org/contributor.position.schema/305"
	roleSchema          = "https://credit.niso.org/"
	roleConcept         = "https://credit.niso.org/contributor-roles/conceptualization/"
	orgLead             = "https://vocabulary.raid.org/organisation.role.schema/182"
	orgOther            = "https://vocabulary.raid.org/organisation.role.schema/183"
	orgSchema           = "https://vocabulary.raid.org/organisation.role.schema/359"
	accessSchema        = "https://vocabularies.coar-repositories.org/access_rights/"
	accessOpen          = accessSchema + "c_abf2/"
	accessEmbargoed     = accessSchema + "c_f1cf/"
	relatedDataset      = "https://vocabulary.raid.org/relatedObject.type.schema/269"
	relatedTypeSchema   = "https://vocabulary.raid.org/relatedObject.type.schema/329"
	relatedOutput       = "https://vocabulary.raid.org/relatedObject.category.id/190"
	relatedCategorySchm = "https://vocabulary.raid.org/relatedObject.category.schemaUri/386"
	handleSchema        = "https://hdl.handle.net/"
	license             = "Creative Commons CC-0"
)

// ErrOtherPrefix is a RAiD under a prefix this zone does not mint.
var ErrOtherPrefix = fmt.Errorf("%w: a RAiD of another prefix", catalog.ErrInvalidArgument)

// ErrDate is a date that is not YYYY, YYYY-MM or YYYY-MM-DD.
var ErrDate = fmt.Errorf("%w: a date is YYYY, YYYY-MM or YYYY-MM-DD", catalog.ErrInvalidArgument)

// Catalog is what the keeper needs of the zone's catalog.
type Catalog interface {
	catalog.Records
	Stat(ctx context.Context, p catalog.Path) (catalog.Entry, error)
	AddMetadata(ctx context.Context, t catalog.AVUTarget, avus ...catalog.AVU) error
	RemoveMetadata(ctx context.Context, t catalog.AVUTarget, avu catalog.AVU) error
	ListMetadata(ctx context.Context, t catalog.AVUTarget) ([]catalog.AVU, error)
}

// Config is a zone's RAiD registration agency.
type Config struct {
	// Prefix is the DOI/handle prefix of the zone's RAiDs.
	Prefix string
	// Owner is the ROR of the legal entity that owns the RAiDs; Agency
	// that of who runs the registration agency (Owner if empty).
	Owner, Agency string
	// ServicePoint is the owner's service point that mints.
	ServicePoint int64
}

// Keeper keeps a zone's RAiDs.
type Keeper struct {
	cat           Catalog
	cfg           Config
	owner, agency string
}

var _ zones.RAiDKeeper = (*Keeper)(nil)

var prefixRE = regexp.MustCompile(`^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$`)

// New returns a keeper of cfg's RAiDs in cat.
func New(cat Catalog, cfg Config) (*Keeper, error) {
	if !prefixRE.MatchString(cfg.Prefix) {
		return nil, fmt.Errorf("%w: RAiD prefix %q: dot-separated letters and digits, such as 10.82841", catalog.ErrInvalidArgument, cfg.Prefix)
	}
	owner, err := ParseROR(cfg.Owner)
	if err != nil {
		return nil, fmt.Errorf("RAiD owner: %w", err)
	}
	agency := owner
	if cfg.Agency != "" {
		if agency, err = ParseROR(cfg.Agency); err != nil {
			return nil, fmt.Errorf("RAiD registration agency: %w", err)
		}
	}
	return &Keeper{cat: cat, cfg: cfg, owner: owner, agency: agency}, nil
}

var dateRE = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)

// CheckDate checks a RAiD date: YYYY, YYYY-MM or YYYY-MM-DD, a real one.
func CheckDate(s string) error {
	if !dateRE.MatchString(s) {
		return fmt.Errorf("%w: %q", ErrDate, clip(s))
	}
	layout := map[int]string{4: "2006", 7: "2006-01", 10: "2006-01-02"}[len(s)]
	if _, err := time.Parse(layout, s); err != nil {
		return fmt.Errorf("%w: %q is no date", ErrDate, s)
	}
	return nil
}

// suffixAlphabet makes suffixes that cannot be misread (no i, l, o, u).
const suffixAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

func newSuffix() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = suffixAlphabet[int(c)%len(suffixAlphabet)]
	}
	return string(out)
}

type doc = map[string]any

func vocab(id, schema string) doc { return doc{"id": id, "schemaUri": schema} }

// build is the RaidDto of a request made of parts.
func (k *Keeper) build(id string, req zones.RAiDRequest, now time.Time) (doc, error) {
	if strings.TrimSpace(req.Title) == "" {
		return nil, fmt.Errorf("%w: a RAiD needs a title", catalog.ErrInvalidArgument)
	}
	if req.Start == "" {
		return nil, fmt.Errorf("%w: a RAiD needs a start date", catalog.ErrInvalidArgument)
	}
	for _, d := range []string{req.Start, req.End} {
		if d != "" {
			if err := CheckDate(d); err != nil {
				return nil, err
			}
		}
	}
	if req.End != "" && req.End < req.Start {
		return nil, fmt.Errorf("%w: the RAiD ends (%s) before it starts (%s)", catalog.ErrInvalidArgument, req.End, req.Start)
	}
	date := doc{"startDate": req.Start}
	if req.End != "" {
		date["endDate"] = req.End
	}
	access := doc{"type": vocab(accessOpen, accessSchema)}
	if req.Embargo != "" {
		if err := CheckDate(req.Embargo); err != nil || len(req.Embargo) != 10 {
			return nil, fmt.Errorf("%w: an embargo ends on a day, YYYY-MM-DD", catalog.ErrInvalidArgument)
		}
		access = doc{"type": vocab(accessEmbargoed, accessSchema), "embargoExpiry": req.Embargo,
			"statement": doc{"text": "Embargoed until " + req.Embargo + "."}}
	}
	d := doc{
		"identifier": doc{
			"id": id, "schemaUri": IDBase, "registrationAgency": vocab(k.agency, RORSchema),
			"owner":   doc{"id": k.owner, "schemaUri": RORSchema, "servicePoint": k.cfg.ServicePoint},
			"license": license, "version": 1,
		},
		"title":         []any{doc{"text": req.Title, "type": vocab(titlePrimary, titleSchema), "startDate": req.Start}},
		"date":          date,
		"access":        access,
		"contributor":   []any{},
		"organisation":  []any{},
		"relatedObject": []any{},
		"metadata":      doc{"created": now.Unix(), "updated": now.Unix()},
	}
	if req.Description != "" {
		d["description"] = []any{doc{"text": req.Description, "type": vocab(descriptionPrimary, descriptionSchema)}}
	}
	var contributors []any
	for i, c := range req.Contributors {
		orcid, err := ParseORCID(c)
		if err != nil {
			return nil, err
		}
		position := positionOther
		if i == 0 {
			position = positionLeader
		}
		contributors = append(contributors, doc{"id": orcid, "schemaUri": ORCIDSchema,
			"position": []any{doc{"id": position, "schemaUri": positionSchema, "startDate": req.Start}},
			"role":     []any{vocab(roleConcept, roleSchema)}, "leader": i == 0, "contact": i == 0})
	}
	if contributors != nil {
		d["contributor"] = contributors
	}
	var orgs []any
	for i, o := range req.Organisations {
		ror, err := ParseROR(o)
		if err != nil {
			return nil, err
		}
		role := orgOther
		if i == 0 {
			role = orgLead
		}
		orgs = append(orgs, doc{"id": ror, "schemaUri": RORSchema,
			"role": []any{doc{"id": role, "schemaUri": orgSchema, "startDate": req.Start}}})
	}
	if orgs != nil {
		d["organisation"] = orgs
	}
	return d, nil
}

// check validates a record: the schema, then what the schema cannot say
// (ORCID and ROR check digits, dates).
func check(raw []byte) error {
	if err := Validate(raw); err != nil {
		return err
	}
	var d struct {
		Date struct {
			StartDate string `json:"startDate"`
			EndDate   string `json:"endDate"`
		} `json:"date"`
		Contributor []struct {
			ID string `json:"id"`
		} `json:"contributor"`
		Organisation []struct {
			ID string `json:"id"`
		} `json:"organisation"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("%w: %v", ErrSchema, err)
	}
	for _, s := range []string{d.Date.StartDate, d.Date.EndDate} {
		if s != "" {
			if err := CheckDate(s); err != nil {
				return err
			}
		}
	}
	for _, c := range d.Contributor {
		if _, err := ParseORCID(c.ID); err != nil {
			return fmt.Errorf("contributor: %w", err)
		}
	}
	for _, o := range d.Organisation {
		if _, err := ParseROR(o.ID); err != nil {
			return fmt.Errorf("organisation: %w", err)
		}
	}
	return nil
}

// Create mints a RAiD owned by owner.
func (k *Keeper) Create(ctx context.Context, owner catalog.UserID, req zones.RAiDRequest) (zones.RAiD, error) {
	now := time.Now()
	for attempt := 0; ; attempt++ {
		key := k.cfg.Prefix + "/" + newSuffix()
		id := IDBase + key
		var d doc
		if len(req.Doc) > 0 {
			// A whole record: it is validated as given, then gets its
			// identifier, which the registration agency gives.
			if err := json.Unmarshal(req.Doc, &d); err != nil || d == nil {
				return zones.RAiD{}, fmt.Errorf("%w: the record is not a JSON object", ErrSchema)
			}
			given, _ := json.Marshal(d)
			if err := check(withIdentifier(given, k.identifier(id))); err != nil {
				return zones.RAiD{}, err
			}
			d["identifier"] = k.identifier(id)
		} else {
			var err error
			if d, err = k.build(id, req, now); err != nil {
				return zones.RAiD{}, err
			}
		}
		raw, err := json.Marshal(d)
		if err != nil {
			return zones.RAiD{}, err
		}
		if err := check(raw); err != nil {
			return zones.RAiD{}, err
		}
		_, err = k.cat.CreateRecord(ctx, catalog.Record{Kind: RecordKind, Key: strings.ToLower(key), Owner: owner, Doc: raw})
		if errors.Is(err, catalog.ErrExists) && attempt < 3 {
			continue
		}
		if err != nil {
			return zones.RAiD{}, err
		}
		return k.raidOf(id, owner, 1, raw), nil
	}
}

func (k *Keeper) identifier(id string) doc {
	return doc{"id": id, "schemaUri": IDBase, "registrationAgency": vocab(k.agency, RORSchema),
		"owner":   doc{"id": k.owner, "schemaUri": RORSchema, "servicePoint": k.cfg.ServicePoint},
		"license": license, "version": 1}
}

// withIdentifier is a record given whole with the identifier the zone
// gives it, for validation.
func withIdentifier(raw []byte, id doc) []byte {
	var d doc
	if json.Unmarshal(raw, &d) != nil {
		return raw
	}
	d["identifier"] = id
	out, _ := json.Marshal(d)
	return out
}

// raidOf is a stored record as the zone shows it.
func (k *Keeper) raidOf(id string, owner catalog.UserID, version int64, raw []byte) zones.RAiD {
	out := zones.RAiD{ID: id, Owner: owner, Doc: raw, Version: version}
	var d struct {
		Identifier json.RawMessage `json:"identifier"`
		Access     struct {
			Type struct {
				ID string `json:"id"`
			} `json:"type"`
			EmbargoExpiry string `json:"embargoExpiry"`
		} `json:"access"`
	}
	if json.Unmarshal(raw, &d) == nil {
		if d.Access.Type.ID != accessOpen && d.Access.Type.ID != strings.TrimSuffix(accessOpen, "/") {
			// Embargoed (until its expiry) or closed.
			out.Closed = d.Access.Type.ID != accessEmbargoed || d.Access.EmbargoExpiry >= time.Now().UTC().Format("2006-01-02")
		}
		var access any
		var full doc
		_ = json.Unmarshal(raw, &full)
		access = full["access"]
		out.Public, _ = json.Marshal(doc{"identifier": json.RawMessage(d.Identifier), "access": access})
	}
	return out
}

// ParseID reads a RAiD: https://raid.org/PREFIX/SUFFIX, raid.org/...,
// or PREFIX/SUFFIX. It returns PREFIX/SUFFIX.
func ParseID(s string) (string, error) {
	key := cutAnyPrefix(strings.TrimSpace(s), "https://raid.org/", "http://raid.org/", "raid.org/")
	prefix, suffix, ok := strings.Cut(key, "/")
	if !ok || !prefixRE.MatchString(prefix) || suffix == "" || len(key) > 256 ||
		strings.ContainsFunc(suffix, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '/' }) {
		return "", fmt.Errorf("%w: %q is not a RAiD (https://raid.org/PREFIX/SUFFIX)", catalog.ErrInvalidArgument, clip(s))
	}
	return key, nil
}

func (k *Keeper) load(ctx context.Context, s string) (string, catalog.Record, error) {
	key, err := ParseID(s)
	if err != nil {
		return "", catalog.Record{}, err
	}
	prefix, _, _ := strings.Cut(key, "/")
	if !strings.EqualFold(prefix, k.cfg.Prefix) {
		return "", catalog.Record{}, fmt.Errorf("%w: %s is under %s; this zone mints RAiDs under %s", ErrOtherPrefix, s, prefix, k.cfg.Prefix)
	}
	rec, err := k.cat.Record(ctx, RecordKind, strings.ToLower(key))
	if errors.Is(err, catalog.ErrNotFound) {
		return "", catalog.Record{}, fmt.Errorf("RAiD %s: %w", s, catalog.ErrNotFound)
	}
	if err != nil {
		return "", catalog.Record{}, err
	}
	var d struct {
		Identifier struct {
			ID string `json:"id"`
		} `json:"identifier"`
	}
	_ = json.Unmarshal(rec.Doc, &d)
	return d.Identifier.ID, rec, nil
}

// Show returns a RAiD.
func (k *Keeper) Show(ctx context.Context, s string) (zones.RAiD, error) {
	id, rec, err := k.load(ctx, s)
	if err != nil {
		return zones.RAiD{}, err
	}
	return k.raidOf(id, rec.Owner, rec.Version, rec.Doc), nil
}

// relatedID is how a RAiD names the entry at p: its PID when it has one.
func (k *Keeper) relatedID(ctx context.Context, t catalog.AVUTarget, p catalog.Path) (id, schema string) {
	avus, _ := k.cat.ListMetadata(ctx, t)
	for _, a := range avus {
		if a.Attribute == attrPID {
			return handleSchema + a.Value, handleSchema
		}
	}
	return "arca:" + p.String(), "arca:"
}

// Link adds the entry at p to the RAiD's related objects (category
// Output) and the RAiD to its AVUs, or with unlink takes both away.
func (k *Keeper) Link(ctx context.Context, s string, p catalog.Path, unlink bool) (zones.RAiD, error) {
	e, err := k.cat.Stat(ctx, p)
	if err != nil {
		return zones.RAiD{}, err
	}
	t := catalog.ObjectTarget(p)
	if e.Collection != nil {
		t = catalog.CollectionTarget(p)
	}
	relID, relSchema := k.relatedID(ctx, t, p)
	for attempt := 0; ; attempt++ {
		id, rec, err := k.load(ctx, s)
		if err != nil {
			return zones.RAiD{}, err
		}
		var d doc
		if err := json.Unmarshal(rec.Doc, &d); err != nil {
			return zones.RAiD{}, fmt.Errorf("RAiD %s: stored record: %w", id, err)
		}
		related, _ := d["relatedObject"].([]any)
		had := slices.IndexFunc(related, func(o any) bool {
			m, _ := o.(map[string]any)
			return m["id"] == relID || m["id"] == "arca:"+p.String()
		})
		switch {
		case !unlink && had < 0:
			related = append(related, doc{"id": relID, "schemaUri": relSchema, "type": vocab(relatedDataset, relatedTypeSchema),
				"category": []any{vocab(relatedOutput, relatedCategorySchm)}})
		case unlink && had >= 0:
			related = slices.Delete(related, had, had+1)
		default:
			if err := k.linkAVU(ctx, t, id, unlink); err != nil {
				return zones.RAiD{}, err
			}
			return k.raidOf(id, rec.Owner, rec.Version, rec.Doc), nil // nothing to change in the record
		}
		d["relatedObject"] = related
		if ident, ok := d["identifier"].(map[string]any); ok {
			ident["version"] = rec.Version + 1
		}
		if meta, ok := d["metadata"].(map[string]any); ok {
			meta["updated"] = time.Now().Unix()
		}
		raw, err := json.Marshal(d)
		if err != nil {
			return zones.RAiD{}, err
		}
		if err := check(raw); err != nil {
			return zones.RAiD{}, err
		}
		rec.Doc = raw
		up, err := k.cat.UpdateRecord(ctx, rec)
		if errors.Is(err, catalog.ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return zones.RAiD{}, err
		}
		if err := k.linkAVU(ctx, t, id, unlink); err != nil {
			return zones.RAiD{}, err
		}
		return k.raidOf(id, up.Owner, up.Version, up.Doc), nil
	}
}

func (k *Keeper) linkAVU(ctx context.Context, t catalog.AVUTarget, id string, unlink bool) error {
	avu := catalog.AVU{Attribute: AttrRAiD, Value: id}
	var err error
	if unlink {
		err = k.cat.RemoveMetadata(ctx, t, avu)
		if errors.Is(err, catalog.ErrNotFound) {
			err = nil
		}
	} else {
		err = k.cat.AddMetadata(ctx, t, avu)
		if errors.Is(err, catalog.ErrExists) {
			err = nil
		}
	}
	return err
}
