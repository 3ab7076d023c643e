package catalog

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Record is a versioned document of one kind under a key unique in its
// kind: a PID's handle record, a RAiD's metadata. The catalog stores the
// document as it is; what it says is the business of the policy that
// keeps it. A record is never removed, so that a key (a PID, a RAiD) is
// never given out twice: a record whose subject is gone says so in its
// document.
type Record struct {
	Kind string
	Key  string
	// Ref is what the record is about, for RecordsByRef ("" for nothing):
	// "object:ID" for a PID of a data object, say.
	Ref     string
	Owner   UserID
	Version int64 // 1 when created, one more with each update
	Doc     []byte
	// CreateTime and ModifyTime are set by the catalog.
	CreateTime time.Time
	ModifyTime time.Time
}

// Limits of a record.
const (
	MaxRecordKind = 64
	MaxRecordKey  = 1024
	MaxRecordDoc  = 1 << 20
)

// Validate checks r for CreateRecord and UpdateRecord without a catalog.
func (r Record) Validate() error {
	switch {
	case !validKind(r.Kind):
		return invalid("record kind %q: 1 to %d letters, digits, '.', '-' or '_'", r.Kind, MaxRecordKind)
	case r.Key == "" || len(r.Key) > MaxRecordKey || !utf8.ValidString(r.Key):
		return invalid("record key: 1 to %d bytes of UTF-8", MaxRecordKey)
	case len(r.Ref) > MaxRecordKey || !utf8.ValidString(r.Ref):
		return invalid("record ref: at most %d bytes of UTF-8", MaxRecordKey)
	case len(r.Doc) > MaxRecordDoc:
		return invalid("record document of %d bytes (at most %d)", len(r.Doc), MaxRecordDoc)
	}
	return CheckUserID("owner", r.Owner)
}

func validKind(k string) bool {
	if k == "" || len(k) > MaxRecordKind {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// CheckRecordRefs checks the refs of RecordsByRef.
func CheckRecordRefs(kind string, refs []string) error {
	if !validKind(kind) {
		return invalid("record kind %q", kind)
	}
	if len(refs) > MaxProvBatch {
		return invalid("%d refs (at most %d)", len(refs), MaxProvBatch)
	}
	return nil
}

// Records stores versioned documents (see Record).
type Records interface {
	// CreateRecord stores r as version 1 and returns it; ErrExists when
	// its kind and key were ever taken.
	CreateRecord(ctx context.Context, r Record) (Record, error)
	// Record returns the record of kind and key.
	Record(ctx context.Context, kind, key string) (Record, error)
	// UpdateRecord replaces the ref, owner and document of the record of
	// r.Kind and r.Key if its version is still r.Version (ErrConflict
	// otherwise), and returns it with the next version.
	UpdateRecord(ctx context.Context, r Record) (Record, error)
	// RecordsByRef returns the records of kind about any of refs (at most
	// MaxProvBatch), ordered by ref and key.
	RecordsByRef(ctx context.Context, kind string, refs []string) ([]Record, error)
	// ListRecords returns up to limit records of kind with keys after
	// after, by key.
	ListRecords(ctx context.Context, kind, after string, limit int) ([]Record, error)
	// CreateRecords stores each of recs as CreateRecord does and sets the
	// AVUs of each item of set as SetMetadata does (each AVU replaces the
	// AVUs of its target with its attribute), all in one transaction: a
	// PID's handle record, its index and the AVUs that mirror it on its
	// object. ErrExists when the kind and key of one of recs were ever
	// taken (or one is given twice); then nothing of it is stored. It
	// returns recs as stored.
	CreateRecords(ctx context.Context, recs []Record, set []AVUBatch) ([]Record, error)
}

// MaxRecordsBatch bounds the records of one CreateRecords.
const MaxRecordsBatch = 64

// ValidateRecordsBatch checks the arguments of CreateRecords without a
// catalog.
func ValidateRecordsBatch(recs []Record, set []AVUBatch) error {
	if len(recs) == 0 || len(recs) > MaxRecordsBatch {
		return invalid("%d records (1 to %d)", len(recs), MaxRecordsBatch)
	}
	type kk struct{ kind, key string }
	seen := make(map[kk]bool, len(recs))
	for i, r := range recs {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("record %d of %d: %w", i+1, len(recs), err)
		}
		if seen[kk{r.Kind, r.Key}] {
			return fmt.Errorf("%w: %s record %s is given twice", ErrExists, r.Kind, r.Key)
		}
		seen[kk{r.Kind, r.Key}] = true
	}
	if len(set) == 0 {
		return nil
	}
	return ValidateBatch(set)
}

// SortRecordsByRef orders records as RecordsByRef returns them: by ref,
// then key.
func SortRecordsByRef(rs []Record) {
	slices.SortFunc(rs, func(a, b Record) int {
		return cmp.Or(strings.Compare(a.Ref, b.Ref), strings.Compare(a.Key, b.Key))
	})
}
