// Package certificate is the format of preservation certificates, which
// the zone issues (policies/certificates) and anyone verifies (icert
// verify), so it lives with the protocol that client and server share: a
// JSON body (reference policies.md §4.6) canonicalised with RFC 8785 (JCS)
// and signed as a JWS (RFC 7515) by the zone's certificate-signing key,
// whose X.509 certificate chain (issued by the zone's CA) rides in the
// JWS header (x5c). The per-object digests are also written as BagIt
// manifests (manifest-sha512.txt, manifest-sha256.txt) whose digests the
// body signs, so that a collection of any size is certified by a body of
// bounded size; the manifests travel in the one self-contained
// certificate file beside the JWS.
//
// Verification needs nothing but the file and the CA certificate: see
// Verify and VerifyData.
package certificate

import (
	"time"
)

// BodyVersion is the version of the body's format.
const BodyVersion = "1.0"

// Body is what a certificate certifies. Field names follow the proposal
// in policies.md §4.6 (snake case); every field is always written, empty
// where the zone knows nothing, so that a reader sees what was not known
// rather than guessing from an absence.
type Body struct {
	Version  string  `json:"certificate_version"`
	ID       string  `json:"certificate_id"` // urn:uuid:...
	IssuedAt string  `json:"issued_at"`      // RFC 3339, UTC
	Issuer   Issuer  `json:"issuer"`
	Subject  Subject `json:"subject"`
	// Policy is the rule set in force when the certificate was issued.
	Policy Policy `json:"policy"`
	// Retention sums up the locks of the objects (each object has its
	// own in Objects).
	Retention RetentionSummary `json:"retention"`
	// QoS is what the QoS requirements that apply ask of the subject,
	// and what was observed when it was certified.
	QoS QoS `json:"qos"`
	// Manifest names the BagIt manifests and their digests: the list of
	// every object with both digests, in the certificate file.
	Manifest Manifest `json:"manifest"`
	// Objects lists each object with its replicas and lock, up to
	// MaxInlineObjects; beyond that ObjectsOmitted is true and the
	// manifest alone lists them (with their digests).
	Objects        []Object `json:"objects"`
	ObjectsOmitted bool     `json:"objects_omitted"`
	// Replicas sums up where the replicas are, per resource.
	Replicas []ReplicaSummary `json:"replicas"`
	Evidence Evidence         `json:"evidence"`
	// Previous is the certificate of the same subject this one follows
	// ("" for the first).
	Previous Previous `json:"previous_certificate"`
}

// MaxInlineObjects is how many objects a body lists one by one.
const MaxInlineObjects = 1000

// Issuer is who signed: the zone, its organisation, the user who asked,
// and the signing key's identifier (x5t#S256 of its certificate).
type Issuer struct {
	Zone         string `json:"zone"`
	Organisation string `json:"organisation"`
	IssuedBy     string `json:"issued_by"`
	KeyID        string `json:"kid"`
}

// Subject is what is certified.
type Subject struct {
	Path string `json:"path"`
	Kind string `json:"kind"` // "collection" or "object"
	// PIDs are the subject's PIDs (the AVU "PID", policies/pid).
	PIDs []string `json:"pids"`
	// RAiD is the RAiD it belongs to (the AVU "RAiD", policies/raid).
	RAiD string `json:"raid"`
	// DMP is the data management plan of the subject's dataset, when one
	// was imported (idmp import) for it or a collection above it.
	DMP DMP `json:"dmp"`
	// Modified is the newest modification time below the subject.
	Modified string `json:"modified"`
}

// DMP names a data management plan and its version (maDMP dmp_id and
// modified); empty without one.
type DMP struct {
	ID       string `json:"dmp_id"`
	Modified string `json:"modified"`
}

// Policy is the zone's rule set in force.
type Policy struct {
	RuleSetVersion int64  `json:"ruleset_version"`
	RuleSetDigest  string `json:"ruleset_sha256"`
}

// QoS is the quality of service the subject's requirements ask for and
// what was observed at issue: Required maps each requirement ("EXPR xN")
// to where it is set, Observed to its status and why; Status is the worst
// of them (none, fulfilled, pending, impossible).
type QoS struct {
	Required map[string]string `json:"required"`
	Observed map[string]string `json:"observed"`
	Status   string            `json:"status"`
}

// QoSNotEvaluated is QoS.Status of a zone that has no QoS.
const QoSNotEvaluated = "not-evaluated"

// RetentionSummary: how many objects are locked or held, and the earliest
// and latest end of a lock.
type RetentionSummary struct {
	Locked        int    `json:"locked"`
	Held          int    `json:"held"`
	EarliestUntil string `json:"earliest_until"`
	LatestUntil   string `json:"latest_until"`
}

// Manifest names the BagIt manifests that list every object.
type Manifest struct {
	Format      string         `json:"format"` // "bagit-1.0"
	Files       []ManifestFile `json:"files"`
	ObjectCount int            `json:"object_count"`
	ByteCount   int64          `json:"byte_count"`
}

// ManifestFile is one manifest and its digest.
type ManifestFile struct {
	Name   string `json:"name"` // manifest-sha512.txt
	Alg    string `json:"alg"`  // "sha-512": of the manifest file itself
	Digest string `json:"digest"`
}

// Object is one certified data object.
type Object struct {
	Path   string   `json:"path"` // as in the manifest: data/...
	Size   int64    `json:"size"`
	Fixity []Digest `json:"fixity"`
	// PIDs are the object's PIDs.
	PIDs      []string  `json:"pids"`
	Replicas  []Replica `json:"replicas"`
	Retention Lock      `json:"retention"`
	// ProvenanceHead is the digest of the object's provenance chain head
	// (policies/provenance), "" when it has none.
	ProvenanceHead string `json:"provenance_head"`
}

// Digest is one message digest (PREMIS fixity).
type Digest struct {
	Alg   string `json:"alg"` // sha-256, sha-512
	Value string `json:"value"`
}

// Replica is one copy of an object.
type Replica struct {
	Number   int    `json:"number"`
	Resource string `json:"resource"`
	Medium   string `json:"medium"` // DISK, OBJECT, TAPE, ...
	// Geo is the country of the resource, its QoS attribute geo ("" if
	// it has none).
	Geo    string `json:"geo"`
	Status string `json:"status"` // good, stale
	// LastFixityCheck and Outcome are the last recorded fixity check.
	LastFixityCheck string `json:"last_fixity_check"`
	Outcome         string `json:"outcome"`
}

// Lock is an object's retention lock and legal hold.
type Lock struct {
	Mode  string `json:"mode"` // none, governance, compliance
	Until string `json:"until"`
	Hold  bool   `json:"hold"`
}

// ReplicaSummary: how many replicas, in which status, one resource holds.
type ReplicaSummary struct {
	Resource string `json:"resource"`
	Medium   string `json:"medium"`
	Geo      string `json:"geo"`
	Good     int    `json:"good"`
	Other    int    `json:"other"`
}

// Evidence ties the certificate to the provenance records.
type Evidence struct {
	// ProvenanceHead is the digest of the subject's provenance chain head.
	ProvenanceHead string `json:"provenance_head"`
}

// Previous is the certificate this one follows.
type Previous struct {
	ID     string `json:"id"`
	Digest string `json:"digest"` // sha-256 of its canonical body, hex
}

// Algorithms, as the body and PREMIS name them.
const (
	AlgSHA256 = "sha-256"
	AlgSHA512 = "sha-512"
)

// FormatTime writes t as the body does ("" for the zero time).
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
