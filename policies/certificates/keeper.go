// Package certificates issues and keeps a zone's preservation certificates
// (the format and its verification are api/certificate, which icert verify
// uses too): it gathers what a certificate says from the catalog (digests,
// replicas, locks, PIDs, RAiD, provenance heads), computes an object's
// SHA-512 once and keeps it, signs with the zone's certificate-signing
// key, and stores certificates and their manifests as catalog records.
package certificates

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/arca-data/arca/api/certificate"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// Catalog records the keeper keeps (catalog.Records, which both backends
// store): certificates, their parts, and the SHA-512 digests computed
// once per object content.
const (
	// KindCertificate: key the certificate id, ref the subject
	// ("object:ID" or "collection:ID"), doc a certRecord.
	KindCertificate = "certificate"
	// KindPart: key "ID/NAME/N", the N-th chunk of the part NAME (the JWS,
	// a manifest) of a certificate.
	KindPart = "certificate.part"
	// KindDigest: key and ref "object:ID", doc a digestRecord: the
	// SHA-512 of the object's content whose SHA-256 the catalog has.
	KindDigest = "digest.sha512"
)

// partChunk is how much of a part one record holds.
const partChunk = catalog.MaxRecordDoc - 1024

// Catalog is what the keeper needs of the zone's catalog.
type Catalog interface {
	catalog.Records
	ProvenanceHead(ctx context.Context, s catalog.ProvSubject) (catalog.ProvHead, error)
	ListMetadata(ctx context.Context, t catalog.AVUTarget) ([]catalog.AVU, error)
	ListResources(ctx context.Context) ([]catalog.Resource, error)
}

// Config is how a zone issues certificates.
type Config struct {
	Zone         string
	Organisation string
	// Stewards is the group whose members may issue certificates beside
	// rodsadmin ("": rodsadmin only).
	Stewards string
	Logger   *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// PartSize is how many bytes of a certificate's part (its JWS, a
	// manifest) one catalog record holds; 0 is as many as a record may.
	PartSize int
}

// Keeper issues and keeps a zone's certificates: zones.CertificateKeeper.
type Keeper struct {
	cat    Catalog
	signer *certificate.Signer
	cfg    Config
}

var _ zones.CertificateKeeper = (*Keeper)(nil)

// NewKeeper issues with signer and keeps certificates in cat.
func NewKeeper(cat Catalog, signer *certificate.Signer, cfg Config) *Keeper {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PartSize <= 0 || cfg.PartSize > partChunk {
		cfg.PartSize = partChunk
	}
	return &Keeper{cat: cat, signer: signer, cfg: cfg}
}

// Stewards is the steward group.
func (k *Keeper) Stewards() string { return k.cfg.Stewards }

// certRecord is what the catalog keeps of a certificate beside its parts.
type certRecord struct {
	ID           string   `json:"id"`
	Subject      string   `json:"subject"`
	Issuer       string   `json:"issuer"`
	IssuedAt     string   `json:"issued_at"`
	Objects      int      `json:"objects"`
	Bytes        int64    `json:"bytes"`
	BodyDigest   string   `json:"body_digest"` // sha-256 of the canonical body
	Parts        []string `json:"parts"`       // part names, in the file's order
	Chunks       []int    `json:"chunks"`      // chunks of each part
	SupersededBy string   `json:"superseded_by"`
}

// digestRecord is an object's SHA-512, with the SHA-256 of the content it
// was computed from (hex), and the read that computed it: a fixity check.
type digestRecord struct {
	SHA256    string `json:"sha256"`
	SHA512    string `json:"sha512"`
	Size      int64  `json:"size"`
	Replica   int    `json:"replica"`
	CheckedAt string `json:"checked_at"`
	Outcome   string `json:"outcome"`
}

func objectRef(id catalog.ID) string {
	return catalog.SubjectObject + ":" + strconv.FormatInt(int64(id), 10)
}

func subjectRef(e catalog.Entry) (string, catalog.ProvSubject) {
	if e.Collection != nil {
		return catalog.SubjectCollection + ":" + strconv.FormatInt(int64(e.Collection.ID), 10), catalog.ProvSubject{Kind: catalog.SubjectCollection, ID: e.Collection.ID}
	}
	return objectRef(e.Object.ID), catalog.ProvSubject{Kind: catalog.SubjectObject, ID: e.Object.ID}
}

// Issue certifies req.Subject: digests from the catalog (a SHA-512 is
// computed once, reading a good replica, and kept), replicas, locks, the
// rule set, provenance heads, PIDs and RAiD; it signs, stores the
// certificate and its parts, and marks the subject's previous certificate
// superseded.
func (k *Keeper) Issue(ctx context.Context, req zones.CertificateRequest) (zones.Certificate, error) {
	subject, kind := req.Subject.Path(), "object"
	if req.Subject.Collection != nil {
		kind = "collection"
	}
	if len(req.Objects) == 0 {
		return zones.Certificate{}, fmt.Errorf("certify %s: %w: nothing to certify (no data object the caller may read)", subject, catalog.ErrInvalidArgument)
	}
	// The body says the second; the record keeps the exact time, which
	// orders certificates issued within one second.
	exact := k.cfg.Now().UTC()
	now := exact.Truncate(time.Second)
	id, err := newID()
	if err != nil {
		return zones.Certificate{}, err
	}
	body := certificate.Body{
		Version:  certificate.BodyVersion,
		ID:       id,
		IssuedAt: certificate.FormatTime(now),
		Issuer:   certificate.Issuer{Zone: k.cfg.Zone, Organisation: k.cfg.Organisation, IssuedBy: req.Issuer.String()},
		Subject:  certificate.Subject{Path: subject.String(), Kind: kind, PIDs: []string{}},
		Policy:   certificate.Policy{RuleSetVersion: req.RuleSetVersion, RuleSetDigest: req.RuleSetDigest},
		QoS:      qosOf(req.QoS),
		Objects:  []certificate.Object{},
		Replicas: []certificate.ReplicaSummary{},
	}
	if err := k.describeSubject(ctx, req.Subject, &body); err != nil {
		return zones.Certificate{}, err
	}
	media, geo, err := k.media(ctx)
	if err != nil {
		return zones.Certificate{}, err
	}
	digests, err := k.digests(ctx, req, now)
	if err != nil {
		return zones.Certificate{}, err
	}
	inline := len(req.Objects) <= certificate.MaxInlineObjects
	body.ObjectsOmitted = !inline
	var (
		pids   map[catalog.ID][]string
		checks map[string]zones.FixityCheck
	)
	if inline {
		if pids, err = k.pidsOf(ctx, req.Objects); err != nil {
			return zones.Certificate{}, err
		}
		if checks, err = k.fixityOf(ctx, req.Objects); err != nil {
			return zones.Certificate{}, err
		}
	}
	entries := make([]certificate.Entry, 0, len(req.Objects))
	summary := map[string]*certificate.ReplicaSummary{}
	var modified time.Time
	for _, o := range req.Objects {
		d := digests[o.ID]
		rel := bagPath(subject, o.Path, req.Subject.Collection != nil)
		entries = append(entries, certificate.Entry{Path: rel, Size: d.Size, SHA256: d.SHA256, SHA512: d.SHA512})
		if o.ModifyTime.After(modified) {
			modified = o.ModifyTime
		}
		addLock(&body.Retention, o.Lock)
		for _, r := range o.Replicas {
			s := summary[r.Resource]
			if s == nil {
				s = &certificate.ReplicaSummary{Resource: r.Resource, Medium: media[r.Resource], Geo: geo[r.Resource]}
				summary[r.Resource] = s
			}
			if r.Status == catalog.ReplicaGood {
				s.Good++
			} else {
				s.Other++
			}
		}
		if !inline {
			continue
		}
		obj := certificate.Object{Path: rel, Size: d.Size, Fixity: []certificate.Digest{{Alg: certificate.AlgSHA256, Value: d.SHA256}, {Alg: certificate.AlgSHA512, Value: d.SHA512}},
			PIDs: pids[o.ID], Retention: lockOf(o.Lock), Replicas: []certificate.Replica{}}
		if obj.PIDs == nil {
			obj.PIDs = []string{}
		}
		for _, r := range o.Replicas {
			rep := certificate.Replica{Number: r.Number, Resource: r.Resource, Medium: media[r.Resource], Geo: geo[r.Resource], Status: r.Status.String()}
			if d.Replica == r.Number && d.CheckedAt != "" {
				rep.LastFixityCheck, rep.Outcome = d.CheckedAt, d.Outcome
			}
			if c, ok := checks[zones.FixityKey(o.ID, r.Number)]; ok && certificate.FormatTime(c.Time) >= rep.LastFixityCheck {
				rep.LastFixityCheck, rep.Outcome = certificate.FormatTime(c.Time), c.Outcome
			}
			obj.Replicas = append(obj.Replicas, rep)
		}
		if h, err := k.cat.ProvenanceHead(ctx, catalog.ProvSubject{Kind: catalog.SubjectObject, ID: o.ID}); err == nil {
			obj.ProvenanceHead = h.Digest
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return zones.Certificate{}, fmt.Errorf("certify %s: provenance of %s: %w", subject, o.Path, err)
		}
		body.Objects = append(body.Objects, obj)
	}
	body.Subject.Modified = certificate.FormatTime(modified)
	for _, name := range slices.Sorted(mapKeys(summary)) {
		body.Replicas = append(body.Replicas, *summary[name])
	}
	ref, _ := subjectRef(req.Subject)
	prev, err := k.newest(ctx, ref)
	if err != nil {
		return zones.Certificate{}, err
	}
	if prev != nil {
		body.Previous = certificate.Previous{ID: prev.ID, Digest: prev.BodyDigest}
	}
	file, canonical, err := k.signer.Issue(body, entries)
	if err != nil {
		return zones.Certificate{}, fmt.Errorf("certify %s: %w", subject, err)
	}
	f, err := certificate.ParseFile(file)
	if err != nil {
		return zones.Certificate{}, err
	}
	rec := certRecord{ID: id, Subject: subject.String(), Issuer: req.Issuer.String(), IssuedAt: exact.Format(time.RFC3339Nano),
		Objects: len(entries), BodyDigest: certificate.BodyDigest(canonical)}
	for _, e := range entries {
		rec.Bytes += e.Size
	}
	parts := map[string]string{"jws": f.JWS, certificate.ManifestSHA512: f.Manifests[certificate.ManifestSHA512], certificate.ManifestSHA256: f.Manifests[certificate.ManifestSHA256]}
	if err := k.store(ctx, rec, ref, req.Issuer, parts); err != nil {
		return zones.Certificate{}, fmt.Errorf("certify %s: %w", subject, err)
	}
	if prev != nil {
		if err := k.supersede(ctx, prev.ID, id); err != nil {
			return zones.Certificate{}, fmt.Errorf("certify %s: mark %s superseded: %w", subject, prev.ID, err)
		}
	}
	k.cfg.Logger.Info("certificate issued", "id", id, "subject", subject.String(), "objects", rec.Objects, "by", req.Issuer.String())
	c := toCertificate(rec)
	c.File = file
	return c, nil
}

// bagPath is where an object is in the bag: data/ and its path below the
// collection certified, or its name when an object is.
func bagPath(subject, p catalog.Path, collection bool) string {
	if !collection {
		return "data/" + p.Name()
	}
	return "data/" + strings.TrimPrefix(p.String(), subject.String()+"/")
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("certificate id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

func lockOf(l catalog.Lock) certificate.Lock {
	out := certificate.Lock{Mode: "none", Hold: l.Hold}
	if l.Mode != catalog.LockNone {
		out.Mode = string(l.Mode)
		out.Until = certificate.FormatTime(l.Until)
	}
	return out
}

func addLock(s *certificate.RetentionSummary, l catalog.Lock) {
	if l.Hold {
		s.Held++
	}
	if l.Mode == catalog.LockNone {
		return
	}
	s.Locked++
	u := certificate.FormatTime(l.Until)
	if s.EarliestUntil == "" || u < s.EarliestUntil {
		s.EarliestUntil = u
	}
	if u > s.LatestUntil {
		s.LatestUntil = u
	}
}

// describeSubject adds the subject's PIDs, RAiD and provenance head.
func (k *Keeper) describeSubject(ctx context.Context, e catalog.Entry, b *certificate.Body) error {
	target := catalog.ObjectTarget(e.Path())
	if e.Collection != nil {
		target = catalog.CollectionTarget(e.Path())
	}
	avus, err := k.cat.ListMetadata(ctx, target)
	if err != nil {
		return fmt.Errorf("certify %s: metadata: %w", e.Path(), err)
	}
	for _, a := range avus {
		switch a.Attribute {
		case "PID": // policies/pid.AttrPID
			b.Subject.PIDs = append(b.Subject.PIDs, a.Value)
		case "RAiD": // policies/raid.AttrRAiD
			b.Subject.RAiD = a.Value
		}
	}
	slices.Sort(b.Subject.PIDs)
	// The DMP is named on the dataset's collection (policies/dmp), the
	// subject or one above it: the nearest.
	for c := e.Path(); ; c = c.Parent() {
		t := catalog.CollectionTarget(c)
		if c == e.Path() {
			t = target
		}
		as := avus
		if c != e.Path() {
			if as, err = k.cat.ListMetadata(ctx, t); err != nil {
				return fmt.Errorf("certify %s: metadata of %s: %w", e.Path(), c, err)
			}
		}
		for _, a := range as {
			switch a.Attribute {
			case "arca.dmp": // policies/dmp.AttrDMP
				b.Subject.DMP.ID = a.Value
			case "arca.dmp_modified": // policies/dmp.AttrDMPModified
				b.Subject.DMP.Modified = a.Value
			}
		}
		if b.Subject.DMP.ID != "" || c.IsRoot() {
			break
		}
	}
	_, s := subjectRef(e)
	h, err := k.cat.ProvenanceHead(ctx, s)
	switch {
	case err == nil:
		b.Evidence.ProvenanceHead = h.Digest
	case !errors.Is(err, catalog.ErrNotFound):
		return fmt.Errorf("certify %s: provenance: %w", e.Path(), err)
	}
	return nil
}

// media names each resource's storage medium.
func (k *Keeper) media(ctx context.Context) (map[string]string, map[string]string, error) {
	rs, err := k.cat.ListResources(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("resources: %w", err)
	}
	out := make(map[string]string, len(rs))
	geo := make(map[string]string, len(rs))
	for _, r := range rs {
		if attrs, err := catalog.ParseQoSAttributes(r.QoS); err == nil {
			geo[r.Name] = attrs["geo"]
		}
		switch r.Type {
		case "posix", "unixfilesystem":
			out[r.Name] = "DISK"
		case "s3":
			out[r.Name] = "OBJECT"
		case "tape":
			out[r.Name] = "TAPE"
		default:
			out[r.Name] = strings.ToUpper(r.Type)
		}
	}
	return out, geo, nil
}

// qosOf is the certificate's QoS: each requirement that applies (its
// expression, the replicas it asks, where it is set) and what was
// observed, and the worst status of them all ("none" without any).
func qosOf(rs []zones.QoSStatus) certificate.QoS {
	q := certificate.QoS{Required: map[string]string{}, Observed: map[string]string{}, Status: "none"}
	rank := map[string]int{"none": 0, zones.QoSFulfilled: 1, zones.QoSPending: 2, zones.QoSImpossible: 3}
	for _, r := range rs {
		key := fmt.Sprintf("%s x%d", r.Expr, r.Replicas)
		q.Required[key] = "set on " + r.Path.String()
		obs := r.Status
		if r.Reason != "" {
			obs += ": " + r.Reason
		}
		q.Observed[key] = obs
		if rank[r.Status] > rank[q.Status] {
			q.Status = r.Status
		}
	}
	return q
}

// pidsOf returns the PIDs of objects (policies/pid's index records).
func (k *Keeper) pidsOf(ctx context.Context, objs []catalog.DataObject) (map[catalog.ID][]string, error) {
	out := map[catalog.ID][]string{}
	byRef := map[string]catalog.ID{}
	refs := make([]string, 0, len(objs))
	for _, o := range objs {
		r := objectRef(o.ID)
		byRef[r] = o.ID
		refs = append(refs, r)
	}
	for chunk := range slices.Chunk(refs, catalog.MaxProvBatch) {
		recs, err := k.cat.RecordsByRef(ctx, "pid", chunk) // policies/pid.IndexKind
		if err != nil {
			return nil, fmt.Errorf("PIDs: %w", err)
		}
		for _, r := range recs {
			out[byRef[r.Ref]] = append(out[byRef[r.Ref]], r.Key)
		}
	}
	return out, nil
}

// fixityOf returns the last fixity checks of the replicas of objs
// (zones/fixity.go), by zones.FixityKey.
func (k *Keeper) fixityOf(ctx context.Context, objs []catalog.DataObject) (map[string]zones.FixityCheck, error) {
	refs := make([]string, 0, len(objs))
	for _, o := range objs {
		refs = append(refs, objectRef(o.ID))
	}
	var all []catalog.Record
	for chunk := range slices.Chunk(refs, catalog.MaxProvBatch) {
		recs, err := k.cat.RecordsByRef(ctx, zones.FixityKind, chunk)
		if err != nil {
			return nil, fmt.Errorf("fixity checks: %w", err)
		}
		all = append(all, recs...)
	}
	return zones.LastFixity(all), nil
}

// KeepDigests computes and keeps the SHA-512 of every object of req that
// has none kept for its content (certificate.digest, at ingest).
func (k *Keeper) KeepDigests(ctx context.Context, req zones.CertificateRequest) error {
	for chunk := range slices.Chunk(req.Objects, catalog.MaxProvBatch) {
		part := req
		part.Objects = chunk
		if _, err := k.digests(ctx, part, k.cfg.Now().UTC()); err != nil {
			return err
		}
	}
	return nil
}

// digests returns both digests of every object: the SHA-256 from the
// catalog, the SHA-512 kept beside it, computed (in the same read as a
// SHA-256 that checks the replica) where none is kept for this content.
func (k *Keeper) digests(ctx context.Context, req zones.CertificateRequest, now time.Time) (map[catalog.ID]digestRecord, error) {
	out := make(map[catalog.ID]digestRecord, len(req.Objects))
	kept := map[string]catalog.Record{}
	refs := make([]string, 0, len(req.Objects))
	for _, o := range req.Objects {
		refs = append(refs, objectRef(o.ID))
	}
	for chunk := range slices.Chunk(refs, catalog.MaxProvBatch) {
		recs, err := k.cat.RecordsByRef(ctx, KindDigest, chunk)
		if err != nil {
			return nil, fmt.Errorf("kept digests: %w", err)
		}
		for _, r := range recs {
			kept[r.Ref] = r
		}
	}
	for _, o := range req.Objects {
		rep, ok := o.Newest()
		if !ok || rep.Status != catalog.ReplicaGood {
			return nil, fmt.Errorf("certify %s: %w: no good replica", o.Path, catalog.ErrInvalidArgument)
		}
		want, err := hexSHA256(rep.Checksum)
		if err != nil {
			return nil, fmt.Errorf("certify %s: %w", o.Path, err)
		}
		ref := objectRef(o.ID)
		if r, ok := kept[ref]; ok {
			var d digestRecord
			if err := json.Unmarshal(r.Doc, &d); err == nil && d.SHA256 == want && want != "" && d.Size == rep.Size {
				out[o.ID] = d
				continue
			}
		}
		d, err := k.readDigests(ctx, req, o, now)
		if err != nil {
			return nil, err
		}
		if want != "" && d.SHA256 != want {
			return nil, fmt.Errorf("certify %s: %w: replica %d reads SHA-256 %s, the catalog says %s (run ichksum -K / ifsck)", o.Path, catalog.ErrConflict, d.Replica, shortDigest(d.SHA256), shortDigest(want))
		}
		doc, _ := json.Marshal(d)
		rec := catalog.Record{Kind: KindDigest, Key: ref, Ref: ref, Owner: o.Owner, Doc: doc}
		if old, ok := kept[ref]; ok {
			old.Doc, old.Ref = doc, ref
			_, err = k.cat.UpdateRecord(ctx, old)
		} else {
			_, err = k.cat.CreateRecord(ctx, rec)
		}
		if err != nil && !errors.Is(err, catalog.ErrExists) && !errors.Is(err, catalog.ErrConflict) {
			return nil, fmt.Errorf("certify %s: keep its SHA-512: %w", o.Path, err)
		}
		out[o.ID] = d
	}
	return out, nil
}

// readDigests reads a good replica of o once, for both digests.
func (k *Keeper) readDigests(ctx context.Context, req zones.CertificateRequest, o catalog.DataObject, now time.Time) (digestRecord, error) {
	if req.Read == nil {
		return digestRecord{}, fmt.Errorf("certify %s: no SHA-512 kept and no reader", o.Path)
	}
	rep, rc, err := req.Read(ctx, o)
	if err != nil {
		return digestRecord{}, fmt.Errorf("certify %s: read for its SHA-512: %w", o.Path, err)
	}
	defer rc.Close()
	h256, h512 := sha256.New(), sha512.New()
	n, err := io.Copy(io.MultiWriter(h256, h512), rc)
	if err != nil {
		return digestRecord{}, fmt.Errorf("certify %s: read for its SHA-512: %w", o.Path, err)
	}
	k.cfg.Logger.Debug("SHA-512 computed", "path", o.Path.String(), "replica", rep.Number, "bytes", n)
	return digestRecord{SHA256: hex.EncodeToString(h256.Sum(nil)), SHA512: hex.EncodeToString(h512.Sum(nil)),
		Size: n, Replica: rep.Number, CheckedAt: certificate.FormatTime(now), Outcome: "pass"}, nil
}

// hexSHA256 turns the catalog's "sha2:BASE64" into hex ("" for none).
func hexSHA256(checksum string) (string, error) {
	if checksum == "" {
		return "", nil
	}
	b64, ok := strings.CutPrefix(checksum, "sha2:")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil || len(raw) != sha256.Size {
		return "", fmt.Errorf("checksum %q is not sha2:BASE64 of a SHA-256", checksum)
	}
	return hex.EncodeToString(raw), nil
}

// store keeps the parts of a certificate, then its record: the record's
// presence means every part is there.
func (k *Keeper) store(ctx context.Context, rec certRecord, ref string, owner catalog.UserID, parts map[string]string) error {
	var recs []catalog.Record
	for _, name := range []string{"jws", certificate.ManifestSHA512, certificate.ManifestSHA256} {
		content := parts[name]
		n := 0
		for {
			end := min(len(content), k.cfg.PartSize)
			recs = append(recs, catalog.Record{Kind: KindPart, Key: rec.ID + "/" + name + "/" + strconv.Itoa(n), Owner: owner, Doc: []byte(content[:end])})
			content = content[end:]
			n++
			if content == "" {
				break
			}
		}
		rec.Parts = append(rec.Parts, name)
		rec.Chunks = append(rec.Chunks, n)
	}
	for batch := range slices.Chunk(recs, catalog.MaxRecordsBatch) {
		if _, err := k.cat.CreateRecords(ctx, batch, nil); err != nil {
			return fmt.Errorf("store the certificate's parts: %w", err)
		}
	}
	doc, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := k.cat.CreateRecord(ctx, catalog.Record{Kind: KindCertificate, Key: rec.ID, Ref: ref, Owner: owner, Doc: doc}); err != nil {
		return fmt.Errorf("store the certificate: %w", err)
	}
	return nil
}

// newest is the subject's newest certificate, nil for none.
func (k *Keeper) newest(ctx context.Context, ref string) (*certRecord, error) {
	recs, err := k.cat.RecordsByRef(ctx, KindCertificate, []string{ref})
	if err != nil {
		return nil, fmt.Errorf("certificates of %s: %w", ref, err)
	}
	var best *certRecord
	for _, r := range recs {
		var c certRecord
		if err := json.Unmarshal(r.Doc, &c); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", r.Key, err)
		}
		if c.SupersededBy == "" && (best == nil || issuedAt(c).After(issuedAt(*best))) {
			best = &c
		}
	}
	return best, nil
}

func (k *Keeper) supersede(ctx context.Context, id, by string) error {
	for attempt := 0; ; attempt++ {
		r, err := k.cat.Record(ctx, KindCertificate, id)
		if err != nil {
			return err
		}
		var c certRecord
		if err := json.Unmarshal(r.Doc, &c); err != nil {
			return err
		}
		c.SupersededBy = by
		if r.Doc, err = json.Marshal(c); err != nil {
			return err
		}
		_, err = k.cat.UpdateRecord(ctx, r)
		if errors.Is(err, catalog.ErrConflict) && attempt < 5 {
			continue
		}
		return err
	}
}

func issuedAt(c certRecord) time.Time {
	at, _ := time.Parse(time.RFC3339Nano, c.IssuedAt)
	return at
}

func toCertificate(c certRecord) zones.Certificate {
	at := issuedAt(c)
	issuer, _ := catalog.ParseUserID(c.Issuer, "")
	subject, _ := catalog.ParsePath(c.Subject)
	return zones.Certificate{ID: c.ID, Subject: subject, Issuer: issuer, IssuedAt: at, Objects: c.Objects, Bytes: c.Bytes, SupersededBy: c.SupersededBy}
}

// List returns the certificates of subjects at or below p, newest first.
func (k *Keeper) List(ctx context.Context, p catalog.Path) ([]zones.Certificate, error) {
	var out []zones.Certificate
	prefix := strings.TrimSuffix(p.String(), "/") + "/"
	for after := ""; ; {
		recs, err := k.cat.ListRecords(ctx, KindCertificate, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("certificates: %w", err)
		}
		for _, r := range recs {
			var c certRecord
			if err := json.Unmarshal(r.Doc, &c); err != nil {
				return nil, fmt.Errorf("certificate %s: %w", r.Key, err)
			}
			if c.Subject == p.String() || strings.HasPrefix(c.Subject, prefix) {
				out = append(out, toCertificate(c))
			}
		}
		if len(recs) < 1000 {
			break
		}
		after = recs[len(recs)-1].Key
	}
	slices.SortFunc(out, func(a, b zones.Certificate) int { return b.IssuedAt.Compare(a.IssuedAt) })
	return out, nil
}

// Get returns a certificate with its file, reassembled from its parts.
func (k *Keeper) Get(ctx context.Context, id string) (zones.Certificate, error) {
	r, err := k.cat.Record(ctx, KindCertificate, id)
	if err != nil {
		return zones.Certificate{}, fmt.Errorf("certificate %s: %w", id, err)
	}
	var c certRecord
	if err := json.Unmarshal(r.Doc, &c); err != nil {
		return zones.Certificate{}, fmt.Errorf("certificate %s: %w", id, err)
	}
	parts := map[string]string{}
	for i, name := range c.Parts {
		var b strings.Builder
		for n := range c.Chunks[i] {
			pr, err := k.cat.Record(ctx, KindPart, id+"/"+name+"/"+strconv.Itoa(n))
			if err != nil {
				return zones.Certificate{}, fmt.Errorf("certificate %s: part %s: %w", id, name, err)
			}
			b.Write(pr.Doc)
		}
		parts[name] = b.String()
	}
	file, err := certificate.File{Format: certificate.FileFormat, JWS: parts["jws"], Manifests: map[string]string{certificate.ManifestSHA512: parts[certificate.ManifestSHA512], certificate.ManifestSHA256: parts[certificate.ManifestSHA256]}}.Marshal()
	if err != nil {
		return zones.Certificate{}, err
	}
	out := toCertificate(c)
	out.File = file
	return out, nil
}

func shortDigest(d string) string {
	if len(d) > 16 {
		return d[:16] + "…"
	}
	return d
}
