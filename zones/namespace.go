package zones

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
)

// listPage is how many entries one catalog query and one streamed message hold.
const listPage = 1000

// Stat returns the collection or data object at p.
func (z *Zone) Stat(ctx context.Context, caller Principal, p catalog.Path) (catalog.Entry, error) {
	var e catalog.Entry
	err := z.do(ctx, &Op{Name: "stat", Caller: caller, Path: p}, func(ctx context.Context) error {
		var err error
		e, err = z.cat.Stat(ctx, p)
		return err
	})
	return e, err
}

// List calls fn with pages of the entries at p: the object itself, or the
// data objects and then the sub-collections of a collection, in name order.
// With recursive it descends into every readable sub-collection after
// listing a collection's own entries. Entries the caller may not read are left out.
func (z *Zone) List(ctx context.Context, caller Principal, p catalog.Path, recursive bool, fn func([]catalog.Entry) error) error {
	op := &Op{Name: "list", Caller: caller, Path: p}
	return z.do(ctx, op, func(ctx context.Context) error {
		e, err := z.cat.Stat(ctx, p)
		if err != nil {
			return err
		}
		if e.Object != nil {
			return fn([]catalog.Entry{e})
		}
		readable, err := z.readable(ctx, op)
		if err != nil {
			return err
		}
		return z.listCollection(ctx, readable, p, recursive, fn)
	})
}

func (z *Zone) listCollection(ctx context.Context, readable func(catalog.Path, []catalog.ACE) bool, p catalog.Path, recursive bool, fn func([]catalog.Entry) error) error {
	for after := ""; ; {
		objs, err := z.cat.ListObjects(ctx, p, after, listPage)
		if err != nil {
			return err
		}
		page := make([]catalog.Entry, 0, len(objs))
		for i := range objs {
			if readable(objs[i].Path, objs[i].ACL) {
				page = append(page, catalog.Entry{Object: &objs[i]})
			}
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if len(objs) < listPage {
			break
		}
		after = objs[len(objs)-1].Path.Name()
	}
	var subs []catalog.Path
	for after := ""; ; {
		colls, err := z.cat.ListCollections(ctx, p, after, listPage)
		if err != nil {
			return err
		}
		page := make([]catalog.Entry, 0, len(colls))
		for i := range colls {
			if readable(colls[i].Path, colls[i].ACL) {
				page = append(page, catalog.Entry{Collection: &colls[i]})
				subs = append(subs, colls[i].Path)
			}
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if len(colls) < listPage {
			break
		}
		after = colls[len(colls)-1].Path.Name()
	}
	if !recursive {
		return nil
	}
	for _, sub := range subs {
		if err := z.listCollection(ctx, readable, sub, true, fn); err != nil {
			return err
		}
	}
	return nil
}

// MakeCollection creates p, owned by the caller; with parents it creates the
// missing collections above it too and does not mind p existing.
func (z *Zone) MakeCollection(ctx context.Context, caller Principal, p catalog.Path, parents bool) (catalog.Collection, error) {
	if !parents {
		var c catalog.Collection
		err := z.do(ctx, &Op{Name: "mkdir", Caller: caller, Path: p}, func(ctx context.Context) error {
			var err error
			c, err = z.cat.CreateCollection(ctx, catalog.Collection{Path: p, Owner: caller.UserID()})
			return err
		})
		return c, err
	}
	// Find the deepest existing ancestor, then create downwards; each step
	// is authorized on its own.
	var missing []catalog.Path
	for q := p; !q.IsRoot(); q = q.Parent() {
		e, err := z.cat.Stat(ctx, q)
		if err == nil {
			if e.Collection == nil {
				return catalog.Collection{}, fmt.Errorf("%s: %w", q, catalog.ErrNotCollection)
			}
			break
		}
		if !errors.Is(err, catalog.ErrNotFound) {
			return catalog.Collection{}, err
		}
		missing = append(missing, q)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if _, err := z.MakeCollection(ctx, caller, missing[i], false); err != nil && !errors.Is(err, catalog.ErrExists) {
			return catalog.Collection{}, err
		}
	}
	e, err := z.Stat(ctx, caller, p)
	if err != nil {
		return catalog.Collection{}, err
	}
	if e.Collection == nil {
		return catalog.Collection{}, fmt.Errorf("%s: %w", p, catalog.ErrNotCollection)
	}
	return *e.Collection, nil
}

// Rename moves a data object or a collection tree.
func (z *Zone) Rename(ctx context.Context, caller Principal, from, to catalog.Path) error {
	return z.do(ctx, &Op{Name: "rename", Caller: caller, Path: from, Dest: to}, func(ctx context.Context) error {
		if to.HasPrefix(from) {
			return fmt.Errorf("%w: cannot move %s into itself (%s)", catalog.ErrInvalidArgument, from, to)
		}
		if err := z.checkNotStructural(ctx, from, "moved"); err != nil {
			return err
		}
		if e, err := z.cat.Stat(ctx, from); err == nil && e.Collection != nil {
			if err := z.checkRulesInside(ctx, &Op{Name: OpRename, Caller: caller, Path: from, Dest: to}, from, nil); err != nil {
				return err
			}
		}
		return z.cat.Rename(ctx, from, to)
	})
}

// RemoveResult counts what a removal took away.
type RemoveResult struct {
	DataObjects int64
	Collections int64
	TrashPath   catalog.Path
}

// Remove moves p to the caller's trash, or deletes it for good with force.
// A collection needs recursive.
func (z *Zone) Remove(ctx context.Context, caller Principal, p catalog.Path, recursive, force bool) (RemoveResult, error) {
	var res RemoveResult
	err := z.do(ctx, &Op{Name: "remove", Caller: caller, Path: p, Recursive: recursive}, func(ctx context.Context) error {
		e, err := z.cat.Stat(ctx, p)
		if err != nil {
			return err
		}
		if e.Collection != nil && !recursive {
			return fmt.Errorf("%w: %s is a collection: use -r to remove it", catalog.ErrInvalidArgument, p)
		}
		// A lock refuses before the trash is touched (the catalog would
		// refuse the move or the removal itself too).
		if e.Object != nil {
			if err := e.Object.Lock.Refuse(p, time.Now(), "removed"); err != nil {
				return err
			}
		} else if err := z.refuseLockedBelow(ctx, p, "removed"); err != nil {
			return err
		}
		if e.Collection != nil {
			if err := z.checkNotStructural(ctx, p, "removed"); err != nil {
				return err
			}
			if err := z.checkRulesInside(ctx, &Op{Name: OpRemove, Caller: caller, Path: p, Recursive: recursive}, p, nil); err != nil {
				return err
			}
		}
		if force || z.isTrash(p) {
			return z.deleteEntry(ctx, e, &res)
		}
		target, err := z.trashTarget(ctx, caller, p)
		if err != nil {
			return err
		}
		if err := z.cat.Rename(ctx, p, target); err != nil {
			return fmt.Errorf("move %s to trash: %w", p, err)
		}
		res.TrashPath = target
		if e.Object != nil {
			res.DataObjects = 1
		} else {
			res.Collections = 1
		}
		return nil
	})
	return res, err
}

// deleteEntry removes e from the catalog, then its bytes from storage. The
// catalog goes first, and records the files in the same transaction: a
// crash in between leaves files that the next start deletes (see
// DeletePending), and never a catalog entry whose bytes are gone.
func (z *Zone) deleteEntry(ctx context.Context, e catalog.Entry, res *RemoveResult) error {
	var reps []catalog.Replica
	var err error
	if e.Object != nil {
		reps, err = z.cat.RemoveDataObject(ctx, e.Object.Path)
		res.DataObjects++
	} else {
		reps, err = z.cat.RemoveCollection(ctx, e.Collection.Path, true)
		res.Collections++
		objects := map[catalog.ID]bool{}
		for _, r := range reps {
			objects[r.ObjectID] = true
		}
		res.DataObjects += int64(len(objects))
	}
	if err != nil {
		return err
	}
	z.removeBytes(ctx, reps)
	return nil
}

// removeBytes deletes the files of replicas already gone from the catalog,
// then forgets the deletions the catalog recorded for them. A file that
// cannot be deleted stays recorded, for DeletePending.
func (z *Zone) removeBytes(ctx context.Context, reps []catalog.Replica) {
	done := make([]catalog.Deletion, 0, len(reps))
	for _, r := range reps {
		resc, _, err := z.resource(ctx, r.Resource)
		if err == nil {
			err = resc.Remove(ctx, r.PhysicalPath)
		}
		if err != nil && !errors.Is(err, resources.ErrNotFound) {
			z.log.Warn("replica removed from the catalog but its file remains; it is deleted again at the next start",
				"resource", r.Resource, "physical_path", r.PhysicalPath, "err", err)
			continue
		}
		done = append(done, catalog.Deletion{Resource: r.Resource, PhysicalPath: r.PhysicalPath})
	}
	if err := z.cat.ForgetDeletions(ctx, done); err != nil {
		z.log.Warn("files deleted, but the catalog still lists them for deletion; the next start deletes them again",
			"files", len(done), "err", err)
	}
}

// trashTarget is where p goes in the caller's trash: below
// /zone/trash/home/<user>, keeping its path relative to the caller's home
// (or to the zone), with a time suffix if that name is taken.
func (z *Zone) trashTarget(ctx context.Context, caller Principal, p catalog.Path) (catalog.Path, error) {
	home, trash := z.Home(caller.Name), z.TrashHome(caller.Name)
	var rel catalog.Path
	if p.HasPrefix(home) {
		rel = p.Rebase(home, trash)
	} else {
		rel = p.Rebase(z.zoneRoot(), trash)
	}
	if err := z.ensureTrashParents(ctx, caller, trash, rel.Parent()); err != nil {
		return catalog.Path{}, err
	}
	if _, err := z.cat.Stat(ctx, rel); errors.Is(err, catalog.ErrNotFound) {
		return rel, nil
	}
	suffixed, err := rel.Parent().Join(rel.Name() + "." + time.Now().UTC().Format("20060102T150405.000000000"))
	if err != nil {
		return catalog.Path{}, err
	}
	return suffixed, nil
}

func (z *Zone) ensureTrashParents(ctx context.Context, caller Principal, trash, dir catalog.Path) error {
	if err := z.ensureCollection(ctx, trash, caller.UserID()); err != nil {
		return err
	}
	var missing []catalog.Path
	for q := dir; q != trash && q.HasPrefix(trash); q = q.Parent() {
		missing = append(missing, q)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := z.ensureCollection(ctx, missing[i], caller.UserID()); err != nil {
			return err
		}
	}
	return nil
}

// RemoveTrash empties the trash of user (the caller's own when empty), or
// with all the trash of every user.
func (z *Zone) RemoveTrash(ctx context.Context, caller Principal, user string, all bool) (RemoveResult, error) {
	var res RemoveResult
	name := OpTrashRemove
	if all || (user != "" && user != caller.Name) {
		name = OpTrashRemoveOther
	}
	if user == "" {
		user = caller.Name
	}
	// The name becomes a path component: "..", "a/b" or a NUL would
	// reach another collection, or make TrashHome panic.
	if err := catalog.ValidateUserName(user); err != nil {
		return res, fmt.Errorf("trash of user: %w", err)
	}
	op := &Op{Name: name, Caller: caller}
	err := z.do(ctx, op, func(ctx context.Context) error {
		// Asked after authorization: only who may empty it learns whether
		// the user exists.
		if !all {
			if _, err := z.cat.User(ctx, catalog.UserID{Name: user, Zone: z.name}); errors.Is(err, catalog.ErrNotFound) {
				return fmt.Errorf("trash of user %s: no such user: %w", user, catalog.ErrNotFound)
			} else if err != nil {
				return err
			}
		}
		roots := []catalog.Path{z.TrashHome(user)}
		if all {
			roots = nil
			colls, err := z.allCollections(ctx, catalog.MustPath("/"+z.name+"/trash/home"))
			if err != nil {
				return err
			}
			for _, c := range colls {
				roots = append(roots, c.Path)
			}
		}
		// Every object the purge takes passes the rules with its path, as
		// irm does: the trash is no way around a rule that guards objects.
		for _, root := range roots {
			if err := z.checkRulesInside(ctx, op, root, nil); err != nil && !errors.Is(err, catalog.ErrNotFound) {
				return err
			}
		}
		// A locked object in the trash (locked there, or put there by
		// ireg) stops the purge before anything goes.
		for _, root := range roots {
			if err := z.refuseLockedBelow(ctx, root, "emptied"); err != nil && !errors.Is(err, catalog.ErrNotFound) {
				return err
			}
		}
		for _, root := range roots {
			if err := z.emptyCollection(ctx, root, &res); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

func (z *Zone) allCollections(ctx context.Context, p catalog.Path) ([]catalog.Collection, error) {
	var out []catalog.Collection
	for after := ""; ; {
		colls, err := z.cat.ListCollections(ctx, p, after, listPage)
		if err != nil {
			return nil, err
		}
		out = append(out, colls...)
		if len(colls) < listPage {
			return out, nil
		}
		after = colls[len(colls)-1].Path.Name()
	}
}

// emptyCollection deletes everything inside root but root itself.
func (z *Zone) emptyCollection(ctx context.Context, root catalog.Path, res *RemoveResult) error {
	for {
		objs, err := z.cat.ListObjects(ctx, root, "", listPage)
		if err != nil {
			if errors.Is(err, catalog.ErrNotFound) {
				return nil
			}
			return err
		}
		for i := range objs {
			if err := z.deleteEntry(ctx, catalog.Entry{Object: &objs[i]}, res); err != nil {
				return err
			}
		}
		if len(objs) < listPage {
			break
		}
	}
	colls, err := z.allCollections(ctx, root)
	if err != nil {
		return err
	}
	for i := range colls {
		if err := z.deleteEntry(ctx, catalog.Entry{Collection: &colls[i]}, res); err != nil {
			return err
		}
	}
	return nil
}

// isTrash reports whether p lies in a trash collection.
// checkNotStructural refuses to remove or move (done) a collection that the
// zone's layout rests on: a zone, its home and trash, the trash's home, and
// the home and trash of every user and group. Removing a user removes its
// home and trash (iadmin rmuser).
func (z *Zone) checkNotStructural(ctx context.Context, p catalog.Path, done string) error {
	root := z.zoneRoot()
	homes := catalog.MustPath("/" + z.name + "/home")
	trashHomes := catalog.MustPath("/" + z.name + "/trash/home")
	// The root, zones, their home and trash, and the trash's home.
	structural := p.IsRoot() || p.Parent().IsRoot() || p.Parent() == root || p == trashHomes
	if !structural && (p.Parent() == homes || p.Parent() == trashHomes) {
		_, err := z.cat.User(ctx, catalog.UserID{Name: p.Name(), Zone: z.name})
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		structural = err == nil
	}
	if structural {
		return fmt.Errorf("%w: %s is a zone, home or trash collection and cannot be %s", catalog.ErrPermission, p, done)
	}
	return nil
}

func (z *Zone) isTrash(p catalog.Path) bool {
	return strings.HasPrefix(p.String(), "/"+z.name+"/trash/")
}
