// Package drivers is the explicit registry from a storage resource's type
// to the code that opens it: posix (and iRODS's unixfilesystem), s3 and tape.
// Each driver parses its own location and context. Only the composition root
// (internal/server) and tests import it; the zone sees the small interface it
// defines for itself.
package drivers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/bytesize"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/compose"
	"github.com/arca-data/arca/resources/posix"
	"github.com/arca-data/arca/resources/s3"
	"github.com/arca-data/arca/resources/tape"
)

// Driver opens and checks one type of storage resource.
type Driver struct {
	// Open opens the resource's storage.
	Open func(rec catalog.Resource) (resources.Resource, error)
	// Check validates the location and context of a new or changed record
	// without touching storage, normalising the location in place.
	Check func(rec *catalog.Resource) error
}

// Registry maps resource types to drivers.
type Registry struct {
	drivers map[string]Driver
}

// New returns a registry with the given drivers.
func New(drivers map[string]Driver) *Registry {
	return &Registry{drivers: drivers}
}

// Default is the registry of every driver Arca ships.
func Default() *Registry {
	return New(map[string]Driver{
		"posix":          {Open: openStorage, Check: checkDirectory},
		"unixfilesystem": {Open: openStorage, Check: checkDirectory},
		"tape":           {Open: openStorage, Check: checkTape},
		"s3":             {Open: openStorage, Check: checkS3},
	})
}

// Open opens the driver of a storage resource from its catalog record.
func (r *Registry) Open(rec catalog.Resource) (resources.Resource, error) {
	if _, ok := r.drivers[rec.Type]; !ok {
		if compose.IsCoordinatingType(rec.Type) {
			return nil, fmt.Errorf("%w: resource %s is a %s resource: it routes to its children and holds no data itself", catalog.ErrInvalidArgument, rec.Name, rec.Type)
		}
		return nil, fmt.Errorf("%w: resource %s has type %q, which this server cannot open", catalog.ErrInvalidArgument, rec.Name, rec.Type)
	}
	return r.drivers[rec.Type].Open(rec)
}

// Check validates a storage resource's record; coordinating resources take
// no location.
func (r *Registry) Check(rec *catalog.Resource) error {
	d, ok := r.drivers[rec.Type]
	if !ok {
		if compose.IsCoordinatingType(rec.Type) {
			if rec.Location != "" {
				return fmt.Errorf("%w: a %s resource holds no data and takes no location (got %q)", catalog.ErrInvalidArgument, rec.Type, rec.Location)
			}
			return nil
		}
		return fmt.Errorf("%w: unknown resource type %q (want %s or %s)", catalog.ErrInvalidArgument, rec.Type,
			strings.Join(compose.StorageTypes, ", "), strings.Join(compose.CoordinatingTypes, ", "))
	}
	if err := d.Check(rec); err != nil {
		return fmt.Errorf("%w: %v", catalog.ErrInvalidArgument, err)
	}
	return nil
}

// checkDirectory normalises a vault or library location: iRODS writes
// HOST:/path, and the host is this server.
func checkDirectory(rec *catalog.Resource) error {
	if _, path, ok := strings.Cut(rec.Location, ":"); ok && strings.HasPrefix(path, "/") {
		rec.Location = path
	}
	if !filepath.IsAbs(rec.Location) {
		return fmt.Errorf("a %s resource needs an absolute directory as its location, not %q", rec.Type, rec.Location)
	}
	rec.Location = filepath.Clean(rec.Location)
	return nil
}

func checkTape(rec *catalog.Resource) error {
	if err := checkDirectory(rec); err != nil {
		return err
	}
	_, err := tape.ParseContext(rec.Location, rec.Context)
	return err
}

func checkS3(rec *catalog.Resource) error {
	_, err := S3Config(rec.Location, rec.Context)
	return err
}

// openStorage opens the driver of a storage resource from its catalog record:
//
//	posix, unixfilesystem  Location is the vault directory
//	s3                     Location is BUCKET[/PREFIX]; Context
//	                       "endpoint=URL;region=R;auth_file=PATH" where the
//	                       file holds the access key and the secret key on
//	                       two lines, as iRODS's S3_AUTH_FILE
//	tape                   Location is the library directory; Context as
//	                       tape.ParseContext
func openStorage(rec catalog.Resource) (resources.Resource, error) {
	switch rec.Type {
	case "posix", "unixfilesystem":
		if rec.Location == "" {
			return nil, fmt.Errorf("%w: resource %s: a posix resource needs a vault directory", catalog.ErrInvalidArgument, rec.Name)
		}
		// A vault that is gone (an unmounted file system, a moved data
		// directory) is not made again: files would go where nobody looks,
		// or fill the file system below the mount point.
		// Unavailable, not "not found": it is the storage that is missing,
		// not what the user asked for.
		if fi, err := os.Stat(rec.Location); err != nil {
			return nil, fmt.Errorf("%w: resource %s: vault directory %s: %v (made when the resource was; mount or restore it)",
				resources.ErrUnavailable, rec.Name, rec.Location, err)
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("%w: resource %s: vault %s is not a directory", resources.ErrUnavailable, rec.Name, rec.Location)
		}
		return posix.Open(rec.Location)
	case "s3":
		cfg, err := S3Config(rec.Location, rec.Context)
		if err != nil {
			return nil, fmt.Errorf("%w: resource %s: %v", catalog.ErrInvalidArgument, rec.Name, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return s3.Open(ctx, cfg)
	case "tape":
		if rec.Location == "" {
			return nil, fmt.Errorf("%w: resource %s: a tape resource needs a library directory", catalog.ErrInvalidArgument, rec.Name)
		}
		cfg, err := tape.ParseContext(rec.Location, rec.Context)
		if err != nil {
			return nil, fmt.Errorf("%w: resource %s: %v", catalog.ErrInvalidArgument, rec.Name, err)
		}
		return tape.Open(cfg)
	}
	if compose.IsCoordinatingType(rec.Type) {
		return nil, fmt.Errorf("%w: resource %s is a %s resource: it routes to its children and holds no data itself", catalog.ErrInvalidArgument, rec.Name, rec.Type)
	}
	return nil, fmt.Errorf("%w: resource %s has type %q, which this server cannot open", catalog.ErrInvalidArgument, rec.Name, rec.Type)
}

// S3Config reads the location and context of an s3 resource.
func S3Config(location, rescContext string) (s3.Config, error) {
	var cfg s3.Config
	bucket, prefix, _ := strings.Cut(strings.Trim(location, "/"), "/")
	if bucket == "" {
		return cfg, fmt.Errorf("s3 location %q: want BUCKET or BUCKET/PREFIX", location)
	}
	cfg.Bucket, cfg.Prefix = bucket, prefix
	kv, err := resources.ParseContext(rescContext)
	if err != nil {
		return cfg, err
	}
	for k, v := range kv {
		switch strings.ToLower(k) {
		case "endpoint", "s3_default_hostname":
			if !strings.Contains(v, "://") {
				v = "https://" + v
			}
			cfg.Endpoint = v
		case "region", "s3_regionname":
			cfg.Region = v
		case "auth_file", "s3_auth_file":
			b, err := os.ReadFile(v)
			if err != nil {
				return cfg, fmt.Errorf("auth_file: %w", err)
			}
			lines := strings.Fields(string(b))
			if len(lines) < 2 {
				return cfg, fmt.Errorf("auth_file %s: want the access key and the secret key on two lines", v)
			}
			cfg.AccessKey, cfg.SecretKey = lines[0], lines[1]
		case "part_size":
			n, err := bytesize.Parse(v)
			if err != nil {
				return cfg, fmt.Errorf("part_size: %w", err)
			}
			cfg.PartSize = uint64(n)
		case "threads":
			var n uint
			if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 1 || n > 64 {
				return cfg, fmt.Errorf("threads=%q: want 1 to 64", v)
			}
			cfg.Threads = n
		default:
			return cfg, fmt.Errorf("s3 context: unknown key %q (want endpoint, region, auth_file, part_size or threads)", k)
		}
	}
	if cfg.Endpoint == "" {
		return cfg, fmt.Errorf("s3 context: no endpoint=")
	}
	if cfg.AccessKey == "" {
		return cfg, fmt.Errorf("s3 context: no auth_file= with the access and secret keys")
	}
	return cfg, nil
}
