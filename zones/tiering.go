package zones

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
	"github.com/arca-data/arca/resources/compose"
)

// The settings of storage tiering are resource AVUs, as iRODS storage
// tiering keeps them (irods::storage_tiering::group and the rest), set by
// iadmin modresc NAME tier GROUP INDEX and its siblings. A resource is in
// at most one tier group.
const (
	// TierGroupAttr: value the group, unit the index (0 is the fastest
	// tier; each index of a group is held by one resource, without gaps).
	TierGroupAttr = "arca.tier.group"
	// TierTimeAttr: the seconds an object rests on the tier, unread,
	// before it moves to the next (none on the last tier).
	TierTimeAttr = "arca.tier.time"
	// TierRestageAttr marks the tier an object read on a slower tier of
	// its group is brought back to (default: index 0).
	TierRestageAttr = "arca.tier.minimum_restage"
	// TierPreserveAttr "true": an object moving on keeps its replica here.
	TierPreserveAttr = "arca.tier.preserve_replicas"
	// TierVerifyAttr: how a copy to this tier is verified before the
	// source is trimmed: catalog (the copy's streamed checksum and size,
	// the default), size (the stored file's size too) or checksum (the
	// stored file read back and hashed).
	TierVerifyAttr = "arca.tier.verification"
)

// Verification modes of TierVerifyAttr.
var tierVerifications = []string{"catalog", "size", "checksum"}

// TierLevel is one tier of a group.
type TierLevel struct {
	Resource string
	Index    int
	// Rest is how long an object stays here unread before it moves on; 0
	// on the last tier (nothing moves on) or when unset.
	Rest     time.Duration
	Preserve bool
	Verify   string
	// Leaves are the storage resources below Resource, where replicas on
	// the tier are.
	Leaves []string
}

// TierGroup is a tier group, fastest tier first.
type TierGroup struct {
	Name    string
	Levels  []TierLevel
	Restage int // the index reads on slower tiers bring objects back to
}

// tierState caches the tier groups, as the resource tree is cached.
type tierState struct {
	mu     sync.Mutex
	groups []TierGroup
	err    error
	at     time.Time
	leaves map[string]tierPlace // leaf resource → its group and index
}

type tierPlace struct {
	group string
	index int
}

// TierGroups returns the zone's tier groups, by name; an error when a
// group is not valid (a gap in its indexes, a bad setting).
func (z *Zone) TierGroups(ctx context.Context) ([]TierGroup, error) {
	groups, _, err := z.tierGroups(ctx)
	return groups, err
}

func (z *Zone) tierGroups(ctx context.Context) ([]TierGroup, map[string]tierPlace, error) {
	s := &z.tiers
	s.mu.Lock()
	if !s.at.IsZero() && time.Since(s.at) < treeTTL {
		defer s.mu.Unlock()
		return s.groups, s.leaves, s.err
	}
	s.mu.Unlock()
	groups, err := z.loadTierGroups(ctx)
	if ctx.Err() != nil {
		return nil, nil, err
	}
	leaves := map[string]tierPlace{}
	for _, g := range groups {
		for _, l := range g.Levels {
			for _, leaf := range l.Leaves {
				leaves[leaf] = tierPlace{g.Name, l.Index}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups, s.leaves, s.err, s.at = groups, leaves, err, time.Now()
	return groups, leaves, err
}

func (z *Zone) forgetTiers() {
	z.tiers.mu.Lock()
	z.tiers.at = time.Time{}
	z.tiers.mu.Unlock()
}

// loadTierGroups reads the tier settings of every resource with one query.
func (z *Zone) loadTierGroups(ctx context.Context) ([]TierGroup, error) {
	q, err := query.Parse("select RESC_NAME, META_RESC_ATTR_NAME, META_RESC_ATTR_VALUE, META_RESC_ATTR_UNITS where META_RESC_ATTR_NAME like 'arca.tier.%'")
	if err != nil {
		return nil, err
	}
	settings := map[string]map[string]catalog.AVU{}
	err = z.cat.Query(ctx, q, catalog.Caller{User: catalog.UserID{Name: DefaultAdmin, Zone: z.name}, Admin: true}, func(row []string) error {
		if settings[row[0]] == nil {
			settings[row[0]] = map[string]catalog.AVU{}
		}
		settings[row[0]][row[1]] = catalog.AVU{Attribute: row[1], Value: row[2], Unit: row[3]}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read tier settings: %w", err)
	}
	t, err := z.tree(ctx)
	if err != nil {
		return nil, err
	}
	return tierGroupsOf(settings, t)
}

// tierGroupsOf builds the tier groups from the resources' settings
// (resource → attribute → AVU), checking each.
func tierGroupsOf(settings map[string]map[string]catalog.AVU, t *compose.Tree) ([]TierGroup, error) {
	byName := map[string]*TierGroup{}
	restage := map[string]string{}
	var errs []error
	for resc, s := range settings {
		g, ok := s[TierGroupAttr]
		if !ok {
			continue
		}
		idx, err := strconv.Atoi(g.Unit)
		if err != nil || idx < 0 {
			errs = append(errs, fmt.Errorf("resource %s: tier index %q is not a number from 0", resc, g.Unit))
			continue
		}
		l := TierLevel{Resource: resc, Index: idx, Verify: "catalog"}
		if v, ok := s[TierTimeAttr]; ok {
			if l.Rest, err = ParseTierTime(v.Value); err != nil {
				errs = append(errs, fmt.Errorf("resource %s: %w", resc, err))
			}
		}
		if v, ok := s[TierVerifyAttr]; ok {
			if !slices.Contains(tierVerifications, v.Value) {
				errs = append(errs, fmt.Errorf("resource %s: tier verification %q (want %s)", resc, v.Value, strings.Join(tierVerifications, ", ")))
			}
			l.Verify = v.Value
		}
		l.Preserve = s[TierPreserveAttr].Value == "true"
		if n, ok := t.Lookup(resc); ok {
			for _, leaf := range n.Leaves() {
				l.Leaves = append(l.Leaves, leaf.Name())
			}
		} else {
			errs = append(errs, fmt.Errorf("resource %s of tier group %s is not in the resource tree", resc, g.Value))
		}
		if s[TierRestageAttr].Value == "true" {
			restage[g.Value] = resc
		}
		if byName[g.Value] == nil {
			byName[g.Value] = &TierGroup{Name: g.Value}
		}
		byName[g.Value].Levels = append(byName[g.Value].Levels, l)
	}
	var groups []TierGroup
	for _, g := range byName {
		slices.SortFunc(g.Levels, func(a, b TierLevel) int { return a.Index - b.Index })
		if err := checkTierIndexes(g.Name, g.Levels); err != nil {
			errs = append(errs, err)
		}
		if r, ok := restage[g.Name]; ok {
			for _, l := range g.Levels {
				if l.Resource == r {
					g.Restage = l.Index
				}
			}
		}
		groups = append(groups, *g)
	}
	slices.SortFunc(groups, func(a, b TierGroup) int { return strings.Compare(a.Name, b.Name) })
	if len(errs) > 0 {
		return groups, fmt.Errorf("%w: tier settings: %w", catalog.ErrInvalidArgument, errors.Join(errs...))
	}
	return groups, nil
}

// checkTierIndexes checks that the levels (sorted by index) hold the
// indexes 0 to n-1, each once.
func checkTierIndexes(group string, levels []TierLevel) error {
	for i, l := range levels {
		if l.Index == i {
			continue
		}
		have := make([]string, len(levels))
		for j, l := range levels {
			have[j] = fmt.Sprintf("%s at %d", l.Resource, l.Index)
		}
		if i > 0 && levels[i-1].Index == l.Index {
			return fmt.Errorf("tier group %s has two resources at index %d (%s)", group, l.Index, strings.Join(have, ", "))
		}
		return fmt.Errorf("tier group %s has a gap: no resource at index %d (%s); indexes run from 0 without gaps", group, i, strings.Join(have, ", "))
	}
	return nil
}

// ParseTierTime reads a time at rest: seconds (as iRODS writes it), a Go
// duration (90s, 12h) or days (30d).
func ParseTierTime(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > 100*365*86400 {
			return 0, fmt.Errorf("tier time %q: seconds from 0 to 100 years", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 36500 {
			return 0, fmt.Errorf("tier time %q: days from 0 to 36500", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("tier time %q: give seconds, a duration such as 12h, or days such as 30d", s)
	}
	return d, nil
}

// SetTier is iadmin modresc NAME tier|untier|tier_time|tier_verify|
// tier_preserve|tier_restage VALUE: it changes the tier settings of a
// resource, refusing a change that leaves its group with a gap or two
// resources at one index.
func (z *Zone) SetTier(ctx context.Context, caller Principal, name, field, value string) error {
	return z.do(ctx, &Op{Name: "resource.modify", Caller: caller, Resource: name}, func(ctx context.Context) error {
		if _, err := z.cat.Resource(ctx, name); err != nil {
			return fmt.Errorf("resource %s: %w", name, err)
		}
		target := catalog.ResourceTarget(name)
		have, err := z.cat.ListMetadata(ctx, target)
		if err != nil {
			return err
		}
		var group catalog.AVU
		for _, a := range have {
			if a.Attribute == TierGroupAttr {
				group = a
			}
		}
		set := func(attr, v, unit string) error {
			return z.cat.SetMetadata(ctx, target, catalog.AVU{Attribute: attr, Value: v, Unit: unit})
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: %s", catalog.ErrInvalidArgument, fmt.Sprintf(format, args...))
		}
		defer z.forgetTiers()
		switch field {
		case "tier":
			g, idx, ok := strings.Cut(strings.TrimSpace(value), " ")
			n, err := strconv.Atoi(strings.TrimSpace(idx))
			if !ok || err != nil || n < 0 || n > 99 {
				return bad("tier %q: give the group and the index, from 0 (the fastest tier) to 99: iadmin modresc %s tier GROUP INDEX", value, name)
			}
			if err := checkTierGroupName(g); err != nil {
				return err
			}
			if err := z.checkTierChange(ctx, name, g, n); err != nil {
				return err
			}
			if err := set(TierGroupAttr, g, strconv.Itoa(n)); err != nil {
				return err
			}
			// What is there already gets an access time, its last write,
			// so that tiering sees it; in the background, as it may be a
			// million objects.
			go func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Hour)
				defer cancel()
				n, err := z.backfillAccessTimes(ctx, name)
				if err != nil {
					z.log.Warn("give the objects on a new tier their access times", "resource", name, "objects", n, "err", err)
					return
				}
				z.log.Info("objects on a new tier got their access times", "resource", name, "objects", n)
			}()
			return nil
		case "untier":
			if group.Value == "" {
				return bad("resource %s is in no tier group", name)
			}
			if err := z.checkTierChange(ctx, name, group.Value, -1); err != nil {
				return err
			}
			_, err := z.cat.RemoveMetadataMatching(ctx, target, catalog.AVU{Attribute: "arca.tier.%", Value: "%", Unit: "%"})
			return err
		case "tier_time":
			if _, err := ParseTierTime(value); err != nil {
				return bad("%v", err)
			}
			return set(TierTimeAttr, value, "")
		case "tier_verify":
			if !slices.Contains(tierVerifications, value) {
				return bad("tier_verify %q: want %s", value, strings.Join(tierVerifications, ", "))
			}
			return set(TierVerifyAttr, value, "")
		case "tier_preserve":
			if value != "true" && value != "false" {
				return bad("tier_preserve %q: want true or false", value)
			}
			return set(TierPreserveAttr, value, "")
		case "tier_restage":
			if value != "true" && value != "false" {
				return bad("tier_restage %q: want true or false", value)
			}
			if group.Value == "" {
				return bad("resource %s is in no tier group: iadmin modresc %s tier GROUP INDEX first", name, name)
			}
			return set(TierRestageAttr, value, "")
		}
		return bad("cannot modify %q of a resource's tiering (want tier, untier, tier_time, tier_verify, tier_preserve or tier_restage)", field)
	})
}

func checkTierGroupName(g string) error {
	if g == "" || len(g) > 64 || strings.ContainsAny(g, " \t\n'\"\\%") {
		return fmt.Errorf("%w: tier group %q: 1 to 64 characters, no spaces, quotes, backslashes or %%", catalog.ErrInvalidArgument, g)
	}
	return nil
}

// checkTierChange checks that resource name at index (-1: leaving) keeps
// group free of gaps and of two resources at one index.
func (z *Zone) checkTierChange(ctx context.Context, name, group string, index int) error {
	z.forgetTiers()
	groups, _, err := z.tierGroups(ctx)
	if err != nil && groups == nil {
		return err
	}
	var levels []TierLevel
	for _, g := range groups {
		if g.Name != group {
			continue
		}
		for _, l := range g.Levels {
			if l.Resource != name {
				levels = append(levels, l)
			}
		}
	}
	if index >= 0 {
		levels = append(levels, TierLevel{Resource: name, Index: index})
	}
	slices.SortFunc(levels, func(a, b TierLevel) int { return a.Index - b.Index })
	if err := checkTierIndexes(group, levels); err != nil {
		return fmt.Errorf("%w: %w; nothing changed", catalog.ErrInvalidArgument, err)
	}
	return nil
}

// restages are the restages running on this server, by object, so that
// reads of one object bring it back once.
type restages struct {
	mu      sync.Mutex
	running map[catalog.Path]bool
}

// maxRestages is how many restages a server runs at once; reads beyond
// it are served from the slow tier without one (the next read tries).
const maxRestages = 4

// restageAfterRead brings obj, just read from replica rep, back to its
// tier group's restage tier when rep is on a slower tier and no good
// replica is on the restage tier or a faster one. It runs in the
// background: the read goes on from rep. The copy is verified as any
// tier move is, and the slow replica is trimmed after, unless its tier
// preserves replicas.
func (z *Zone) restageAfterRead(ctx context.Context, obj catalog.DataObject, rep catalog.Replica) {
	groups, leaves, _ := z.tierGroups(ctx)
	place, ok := leaves[rep.Resource]
	if !ok {
		return
	}
	var g TierGroup
	for _, gg := range groups {
		if gg.Name == place.group {
			g = gg
		}
	}
	if place.index <= g.Restage || g.Restage >= len(g.Levels) || place.index >= len(g.Levels) {
		return
	}
	for _, r := range obj.Good() {
		if p, ok := leaves[r.Resource]; ok && p.group == g.Name && p.index <= g.Restage {
			return
		}
	}
	r := &z.restaging
	r.mu.Lock()
	if r.running == nil {
		r.running = map[catalog.Path]bool{}
	}
	if r.running[obj.Path] || len(r.running) >= maxRestages {
		r.mu.Unlock()
		return
	}
	r.running[obj.Path] = true
	r.mu.Unlock()
	dest, from := g.Levels[g.Restage], g.Levels[place.index]
	go func() {
		defer func() {
			r.mu.Lock()
			delete(r.running, obj.Path)
			r.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Hour)
		defer cancel()
		if err := z.restage(ctx, obj, rep, dest, from); err != nil {
			z.log.Warn("restage after a read on a slow tier", "path", obj.Path, "from", rep.Resource, "to", dest.Resource, "err", err)
			return
		}
		z.log.Info("restaged after a read on a slow tier", "path", obj.Path, "from", rep.Resource, "to", dest.Resource)
	}()
}

func (z *Zone) restage(ctx context.Context, obj catalog.DataObject, src catalog.Replica, dest, from TierLevel) error {
	t, err := z.tree(ctx)
	if err != nil {
		return err
	}
	n, ok := t.Lookup(dest.Resource)
	if !ok {
		return fmt.Errorf("%w: resource %s", catalog.ErrNotFound, dest.Resource)
	}
	leaf, _, err := n.WriteTargets()
	if err != nil {
		return err
	}
	rep, err := z.copyReplica(ctx, obj, src, leaf.Name())
	if err != nil {
		return err
	}
	if err := z.VerifyReplica(ctx, obj.Path, rep.Number, dest.Verify); err != nil {
		return err
	}
	if from.Preserve {
		return nil
	}
	removed, err := z.cat.TrimReplica(ctx, obj.ID, src.Number)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restaged as replica %d, but the slow replica stays: %w", rep.Number, err)
	}
	z.removeBytes(context.WithoutCancel(ctx), []catalog.Replica{removed})
	return nil
}

// VerifyReplica checks replica number of the object at p as a tier move's
// verification says: catalog (what the copy committed is trusted), size
// (the stored file has the catalog's size) or checksum (the stored file,
// read back, has the catalog's checksum).
func (z *Zone) VerifyReplica(ctx context.Context, p catalog.Path, number int, how string) error {
	if how == "" || how == "catalog" {
		return nil
	}
	obj, err := z.cat.DataObject(ctx, p)
	if err != nil {
		return err
	}
	var rep catalog.Replica
	found := false
	for _, r := range obj.Replicas {
		if r.Number == number {
			rep, found = r, true
		}
	}
	if !found {
		return fmt.Errorf("%w: replica %d of %s", catalog.ErrNotFound, number, p)
	}
	d, _, err := z.resource(ctx, rep.Resource)
	if err != nil {
		return err
	}
	switch how {
	case "size":
		info, err := d.Stat(ctx, rep.PhysicalPath)
		if err != nil {
			return fmt.Errorf("verify replica %d of %s on %s: %w", number, p, rep.Resource, err)
		}
		if info.Size != rep.Size {
			return fmt.Errorf("%w: replica %d of %s on %s holds %d bytes, the catalog says %d", ErrChecksumMismatch, number, p, rep.Resource, info.Size, rep.Size)
		}
		return nil
	case "checksum":
		sum, err := d.Checksum(ctx, rep.PhysicalPath)
		if err != nil {
			return fmt.Errorf("verify replica %d of %s on %s: %w", number, p, rep.Resource, err)
		}
		if rep.Checksum != "" && sum != rep.Checksum {
			return fmt.Errorf("%w: replica %d of %s on %s reads back with checksum %s, the catalog says %s",
				ErrChecksumMismatch, number, p, rep.Resource, sum, rep.Checksum)
		}
		return nil
	}
	return fmt.Errorf("%w: verification %q (want %s)", catalog.ErrInvalidArgument, how, strings.Join(tierVerifications, ", "))
}

// TierKeeps reports, with ErrQoSRequired, that the replica of the object
// at p on leaf must stay where it is: a QoS requirement needs it there
// even once a copy is on dest (whose replica counts when dest matches).
// The tiering pass leaves such an object alone: moving it would only
// have QoS bring it back.
func (z *Zone) TierKeeps(ctx context.Context, p catalog.Path, leaf, dest string) error {
	if rs, err := z.cat.QoSRequirementsOn(ctx, p); err != nil || len(rs) == 0 {
		return err
	}
	obj, err := z.cat.DataObject(ctx, p)
	if err != nil {
		return err
	}
	t, err := z.tree(ctx)
	if err != nil {
		return err
	}
	var src catalog.Replica
	found := false
	for _, r := range obj.Replicas {
		if r.Resource == leaf && r.Status == catalog.ReplicaGood {
			src, found = r, true
		}
	}
	if !found {
		return nil
	}
	if n, ok := t.Lookup(dest); ok {
		if w, _, err := n.WriteTargets(); err == nil {
			obj.Replicas = append(obj.Replicas, catalog.Replica{Number: -1, Resource: w.Name(), Status: catalog.ReplicaGood})
		}
	}
	return z.qosKeeps(ctx, t, obj, src)
}
