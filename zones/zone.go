// Package zones is the server side of an Arca zone: the operations every
// client request goes through (authenticate, authorize, run, record), the
// gRPC handlers that expose them, TLS, and recovery after a crash.
package zones

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/compose"
	"github.com/arca-data/arca/rules"
)

// Defaults that iRODS users know.
const (
	DefaultZone     = "tempZone"
	DefaultAdmin    = "rods"
	DefaultPort     = 1247
	DefaultResource = "demoResc"
)

// Options configures a Zone.
type Options struct {
	Name            string
	DefaultResource string
	// Lease is how long an intermediate replica stays locked without renewal.
	Lease  time.Duration
	Logger *slog.Logger
	// ServerID names this server process among the servers of the zone; it
	// prefixes lock holders so a restarted server recognises its own dead writes.
	ServerID string
	// Drivers opens and checks storage resources (resources/drivers is
	// the registry the server passes).
	Drivers Drivers
	// Directory says that this server logs users in with a directory
	// (zones/auth), so that accounts may be switched to it.
	Directory bool
	// DataDir is the server's data directory (catalog, keys), if it has
	// one: no resource's vault may hold it.
	DataDir string
	// QoS parses QoS expressions (policies/qos); without it the zone
	// refuses QoS requirements.
	QoS QoSParser
	// QoSEvery is the cron schedule of the periodic scan that converges
	// every QoS requirement (DefaultQoSEvery if "").
	QoSEvery string
	// JobsPerRule is how many live jobs one rule may have in the zone's
	// queue; a rule that has them schedules no more until they drain.
	// 0 means DefaultJobsPerRule; negative, no limit.
	JobsPerRule int
}

// Drivers opens storage resources and checks their records; the zone asks
// nothing else of the storage drivers.
type Drivers interface {
	Open(rec catalog.Resource) (resources.Resource, error)
	// Check validates a storage resource's location and context without
	// touching storage, normalising the location in place.
	Check(rec *catalog.Resource) error
}

// noDrivers is a zone without storage: the rule tools build one to learn
// what the zone offers.
type noDrivers struct{}

func (noDrivers) Open(rec catalog.Resource) (resources.Resource, error) {
	return nil, fmt.Errorf("%w: resource %s: this zone opens no storage", resources.ErrUnavailable, rec.Name)
}

func (noDrivers) Check(*catalog.Resource) error { return nil }

// Zone runs the operations of one zone over its catalog and resources.
type Zone struct {
	name       string
	cat        catalog.Catalog
	log        *slog.Logger
	defResc    string
	lease      time.Duration
	holderBase string
	holderSeq  atomic.Uint64
	drivers    Drivers
	hooks      []Hook
	rules      *rules.Engine
	keep       keepers // provenance, PIDs, RAiDs (provenance.go)
	ruleSet    ruleSetState
	auditPath  string
	audit      *slog.Logger // the audit log, for changes of locks
	groupCache groupCache
	directory  bool
	dataDir    string
	jobs       ruleJobs
	tiers      tierState
	atimes     accessTimes
	restaging  restages
	qos        QoSParser
	qosEvery   string

	mu        sync.Mutex
	rescs     map[string]openResource
	treeCache *compose.Tree
	treeAt    time.Time
}

// New returns a Zone over cat.
func New(cat catalog.Catalog, opts Options) *Zone {
	if opts.Name == "" {
		opts.Name = DefaultZone
	}
	if opts.DefaultResource == "" {
		opts.DefaultResource = DefaultResource
	}
	if opts.Lease == 0 {
		opts.Lease = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Drivers == nil {
		opts.Drivers = noDrivers{}
	}
	if opts.ServerID == "" {
		opts.ServerID = "arca"
	}
	boot := make([]byte, 6)
	rand.Read(boot)
	return &Zone{
		name:       opts.Name,
		cat:        cat,
		log:        opts.Logger,
		defResc:    opts.DefaultResource,
		lease:      opts.Lease,
		holderBase: opts.ServerID + "/" + hex.EncodeToString(boot) + "/",
		drivers:    opts.Drivers,
		rescs:      map[string]openResource{},
		directory:  opts.Directory,
		dataDir:    opts.DataDir,
		jobs:       ruleJobs{perRule: opts.JobsPerRule},
		qos:        opts.QoS,
		qosEvery:   opts.QoSEvery,
	}
}

// Name is the zone's name.
func (z *Zone) Name() string { return z.name }

// Catalog is the zone's catalog.
func (z *Zone) Catalog() catalog.Catalog { return z.cat }

// AddHook makes h see every operation; rules and audit plug in here.
func (z *Zone) AddHook(h Hook) { z.hooks = append(z.hooks, h) }

// Home is the home collection of user.
func (z *Zone) Home(user string) catalog.Path {
	return catalog.MustPath("/" + z.name + "/home/" + user)
}

// TrashHome is the trash collection of user.
func (z *Zone) TrashHome(user string) catalog.Path {
	return catalog.MustPath("/" + z.name + "/trash/home/" + user)
}

func (z *Zone) zoneRoot() catalog.Path { return catalog.MustPath("/" + z.name) }

// resourceRecheck is how long a resource's catalog record (its status, up
// or down) is trusted before it is read again.
const resourceRecheck = 5 * time.Second

type openResource struct {
	driver  resources.Resource
	rec     catalog.Resource
	checked time.Time
}

// resource returns the open driver of the named resource.
func (z *Zone) resource(ctx context.Context, name string) (resources.Resource, catalog.Resource, error) {
	z.mu.Lock()
	cached, ok := z.rescs[name]
	z.mu.Unlock()
	if ok && time.Since(cached.checked) < resourceRecheck {
		return usable(cached.driver, cached.rec)
	}
	rec, err := z.cat.Resource(ctx, name)
	if err != nil {
		return nil, catalog.Resource{}, fmt.Errorf("resource %s: %w", name, err)
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if cached, ok := z.rescs[name]; ok && cached.rec.Type == rec.Type && cached.rec.Location == rec.Location && cached.rec.Context == rec.Context {
		z.rescs[name] = openResource{driver: cached.driver, rec: rec, checked: time.Now()}
		return usable(cached.driver, rec)
	}
	d, err := z.drivers.Open(rec)
	if err != nil {
		return nil, rec, fmt.Errorf("open resource %s: %w", name, err)
	}
	if old, ok := z.rescs[name]; ok {
		// Its location or context changed: a tape library must not run
		// twice over one directory.
		closeDriver(old.driver)
	}
	z.rescs[name] = openResource{driver: d, rec: rec, checked: time.Now()}
	return usable(d, rec)
}

// closeDriver releases a driver that holds something (tape drives).
func closeDriver(d resources.Resource) {
	if c, ok := d.(interface{ Close() error }); ok {
		c.Close()
	}
}

func usable(d resources.Resource, rec catalog.Resource) (resources.Resource, catalog.Resource, error) {
	if rec.Status == "down" {
		return nil, rec, fmt.Errorf("resource %s is down: %w", rec.Name, resources.ErrUnavailable)
	}
	return d, rec, nil
}

// newHolder names one write for the lock of an intermediate replica.
func (z *Zone) newHolder() string {
	return fmt.Sprintf("%s%d", z.holderBase, z.holderSeq.Add(1))
}

// BootstrapOptions describes the first start of a zone.
type BootstrapOptions struct {
	AdminPasswordHash string
	VaultDir          string
}

// Bootstrap creates what an empty zone needs: the root collections, the
// administrator rods with a home, and the POSIX resource demoResc. It is
// idempotent: what exists is kept.
func (z *Zone) Bootstrap(ctx context.Context, b BootstrapOptions) error {
	admin := catalog.UserID{Name: DefaultAdmin, Zone: z.name}
	if _, err := z.cat.User(ctx, admin); errors.Is(err, catalog.ErrNotFound) {
		if _, err := z.cat.CreateUser(ctx, catalog.User{Name: admin.Name, Zone: admin.Zone, Type: catalog.UserTypeAdmin, PasswordHash: b.AdminPasswordHash}); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if err := z.ensurePublic(ctx); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	public := catalog.UserID{Name: PublicGroup, Zone: z.name}
	for _, p := range []string{"/", "/" + z.name, "/" + z.name + "/home", "/" + z.name + "/trash", "/" + z.name + "/trash/home"} {
		path := catalog.MustPath(p)
		if err := z.ensureCollection(ctx, path, admin); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		if err := z.cat.SetAccess(ctx, path, public, catalog.AccessRead); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	if err := z.ensureHome(ctx, admin); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if _, err := z.cat.Resource(ctx, z.defResc); errors.Is(err, catalog.ErrNotFound) {
		vault, err := filepath.Abs(b.VaultDir)
		if err != nil {
			return err
		}
		// Made here, once: later a missing vault is an error (see resources/drivers).
		if err := os.MkdirAll(vault, 0o700); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		if _, err := z.cat.CreateResource(ctx, catalog.Resource{Name: z.defResc, Type: "posix", Location: vault, Status: "up"}); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}

func (z *Zone) ensureCollection(ctx context.Context, p catalog.Path, owner catalog.UserID) error {
	_, err := z.cat.CreateCollection(ctx, catalog.Collection{Path: p, Owner: owner})
	if errors.Is(err, catalog.ErrExists) {
		e, serr := z.cat.Stat(ctx, p)
		if serr != nil {
			return serr
		}
		if e.Collection == nil {
			return fmt.Errorf("%s: %w", p, catalog.ErrNotCollection)
		}
		return nil
	}
	return err
}

// ensureHome creates the home and trash collections of u.
func (z *Zone) ensureHome(ctx context.Context, u catalog.UserID) error {
	for _, p := range []catalog.Path{z.Home(u.Name), z.TrashHome(u.Name)} {
		if err := z.ensureCollection(ctx, p, u); err != nil {
			return err
		}
	}
	return nil
}

// displayPath renders where a replica's bytes are for a person: the absolute
// file path on a POSIX resource, the key elsewhere.
func (z *Zone) displayPath(ctx context.Context, resource, key string) string {
	type pather interface{ Path(key string) string }
	r, _, err := z.resource(ctx, resource)
	if err != nil {
		return key
	}
	if p, ok := r.(pather); ok {
		return p.Path(key)
	}
	return key
}
