package pid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
)

// Provider keeps handle records under one prefix. Handles are never
// deleted: a key once given out stays taken.
type Provider interface {
	// Prefix is the prefix the provider is responsible for.
	Prefix() string
	// Create stores a new record: catalog.ErrExists when h is taken,
	// ErrOtherPrefix when h is not under Prefix.
	Create(ctx context.Context, h Handle, values []Value) error
	// Update replaces the values of h's record: catalog.ErrNotFound when
	// there is none.
	Update(ctx context.Context, h Handle, values []Value) error
	// Resolve returns h's values, by index: catalog.ErrNotFound when h has
	// no record.
	Resolve(ctx context.Context, h Handle) ([]Value, error)
}

// RecordKind is the kind of the catalog records of the own registry.
const RecordKind = "handle"

// Registry is the zone's own registry: handle records in its catalog.
// Resolutions are cached for CacheTTL, as a Handle server caches: what
// this process changes is seen at once, what another server of the zone
// changes within CacheTTL.
type Registry struct {
	cat    catalog.Records
	prefix string
	owner  catalog.UserID

	mu    sync.Mutex
	cache map[string]cached
	gen   uint64
}

// CacheTTL is how long a resolution is reused.
const CacheTTL = 2 * time.Second

// maxCached bounds the cache; when it is full it starts afresh.
const maxCached = 100_000

type cached struct {
	handle string
	values []Value // shared: never changed, cloned for callers
	until  time.Time
	gen    uint64 // tells this entry from one remembered later
	// answer is the Handle REST API's answer of a resolution of the handle
	// written as answerFor, once one was asked for.
	answer    []byte
	answerFor string
}

func (r *Registry) cached(key string) (cached, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.cache[key]
	if !ok || time.Now().After(c.until) {
		return cached{}, false
	}
	return c, true
}

func (r *Registry) remember(key, handle string, values []Value) cached {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cache == nil || len(r.cache) >= maxCached {
		r.cache = map[string]cached{}
	}
	r.gen++
	c := cached{handle: handle, values: values, until: time.Now().Add(CacheTTL), gen: r.gen}
	r.cache[key] = c
	return c
}

// keepAnswer stores the answer made from c, unless c was replaced or
// forgotten meanwhile.
func (r *Registry) keepAnswer(key string, c cached, answer []byte, answerFor string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now, ok := r.cache[key]; ok && now.gen == c.gen {
		now.answer, now.answerFor = answer, answerFor
		r.cache[key] = now
	}
}

func (r *Registry) forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.cache, key)
}

// NewRegistry keeps the handles under prefix in cat; records it creates
// belong to owner unless Register says otherwise.
func NewRegistry(cat catalog.Records, prefix string, owner catalog.UserID) (*Registry, error) {
	if _, err := ParsePrefix(prefix); err != nil {
		return nil, err
	}
	return &Registry{cat: cat, prefix: prefix, owner: owner}, nil
}

// Prefix is the registry's prefix.
func (r *Registry) Prefix() string { return r.prefix }

// recordDoc is a registry record's document: the Handle REST API's.
type recordDoc struct {
	Handle string  `json:"handle"`
	Values []Value `json:"values"`
}

func (r *Registry) check(h Handle, values []Value) error {
	if err := Responsible(h, r.prefix); err != nil {
		return err
	}
	return CheckValues(values)
}

// Create stores a new record.
func (r *Registry) Create(ctx context.Context, h Handle, values []Value) error {
	return r.create(ctx, h, values, r.owner, "")
}

func (r *Registry) create(ctx context.Context, h Handle, values []Value, owner catalog.UserID, ref string) error {
	rec, _, err := r.record(h, values, owner, ref)
	if err != nil {
		return err
	}
	r.forget(h.Key())
	_, err = r.cat.CreateRecord(ctx, rec)
	if errors.Is(err, catalog.ErrExists) {
		return fmt.Errorf("handle %s: %w", h, catalog.ErrExists)
	}
	return err
}

// record is the catalog record of a new handle h with values (checked,
// and stamped: they come back as stored).
func (r *Registry) record(h Handle, values []Value, owner catalog.UserID, ref string) (catalog.Record, []Value, error) {
	if err := r.check(h, values); err != nil {
		return catalog.Record{}, nil, err
	}
	values = stamp(values)
	doc, err := json.Marshal(recordDoc{Handle: h.String(), Values: values})
	if err != nil {
		return catalog.Record{}, nil, fmt.Errorf("handle %s: %w", h, err)
	}
	return catalog.Record{Kind: RecordKind, Key: h.Key(), Ref: ref, Owner: owner, Doc: doc}, values, nil
}

// stamp gives values without a timestamp the current time.
func stamp(values []Value) []Value {
	out := make([]Value, len(values))
	now := time.Now().UTC().Truncate(time.Second)
	for i, v := range values {
		if v.Timestamp.IsZero() {
			v.Timestamp = now
		}
		if v.TTL == 0 {
			v.TTL = DefaultTTL
		}
		out[i] = v
	}
	sortValues(out)
	return out
}

// Update replaces a record's values.
func (r *Registry) Update(ctx context.Context, h Handle, values []Value) error {
	if err := r.check(h, values); err != nil {
		return err
	}
	values = stamp(values)
	for attempt := 0; ; attempt++ {
		rec, err := r.cat.Record(ctx, RecordKind, h.Key())
		if errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("handle %s: %w", h, catalog.ErrNotFound)
		}
		if err != nil {
			return err
		}
		var old recordDoc
		if err := json.Unmarshal(rec.Doc, &old); err != nil {
			return fmt.Errorf("handle %s: stored record: %w", h, err)
		}
		// The record keeps the handle as it was minted.
		rec.Doc, err = json.Marshal(recordDoc{Handle: old.Handle, Values: values})
		if err != nil {
			return err
		}
		_, err = r.cat.UpdateRecord(ctx, rec)
		r.forget(h.Key())
		if !errors.Is(err, catalog.ErrConflict) || attempt >= 10 {
			return err
		}
	}
}

// Resolve returns a record's values.
func (r *Registry) Resolve(ctx context.Context, h Handle) ([]Value, error) {
	_, values, err := r.lookup(ctx, h)
	return values, err
}

func (r *Registry) lookup(ctx context.Context, h Handle) (string, []Value, error) {
	c, err := r.entry(ctx, h)
	if err != nil {
		return "", nil, err
	}
	return c.handle, slices.Clone(c.values), nil
}

// entry is the cache entry of h, read from the catalog if it has none.
func (r *Registry) entry(ctx context.Context, h Handle) (cached, error) {
	if err := Responsible(h, r.prefix); err != nil {
		return cached{}, err
	}
	if c, ok := r.cached(h.Key()); ok {
		return c, nil
	}
	rec, err := r.cat.Record(ctx, RecordKind, h.Key())
	if errors.Is(err, catalog.ErrNotFound) {
		return cached{}, fmt.Errorf("handle %s: %w", h, catalog.ErrNotFound)
	}
	if err != nil {
		return cached{}, err
	}
	var doc recordDoc
	if err := json.Unmarshal(rec.Doc, &doc); err != nil {
		return cached{}, fmt.Errorf("handle %s: stored record: %w", h, err)
	}
	return r.remember(h.Key(), doc.Handle, doc.Values), nil
}

// Answer is the Handle REST API's answer to a resolution of h, the whole
// record (responseCode 1), as JSON: made once per cached resolution.
func (r *Registry) Answer(ctx context.Context, h Handle) ([]byte, error) {
	c, err := r.entry(ctx, h)
	if err != nil {
		return nil, err
	}
	asked := h.String()
	if c.answer != nil && c.answerFor == asked {
		return c.answer, nil
	}
	b, err := json.Marshal(Response{ResponseCode: CodeSuccess, Handle: asked, Values: c.values})
	if err != nil {
		return nil, fmt.Errorf("handle %s: %w", h, err)
	}
	b = append(b, '\n') // as json.Encoder writes it
	r.keepAnswer(h.Key(), c, b, asked)
	return b, nil
}
