package zones

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/bytesize"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/posix"
	"github.com/arca-data/arca/resources/s3"
	"github.com/arca-data/arca/resources/tape"
)

// Resource types. Storage types hold bytes and have a driver; coordinating
// types route to their children (see tree.go).
var (
	storageTypes      = []string{"posix", "unixfilesystem", "s3", "tape"}
	coordinatingTypes = []string{"replication", "compound", "random", "passthru"}
)

func isStorageType(t string) bool {
	for _, s := range storageTypes {
		if s == t {
			return true
		}
	}
	return false
}

func isCoordinatingType(t string) bool {
	for _, s := range coordinatingTypes {
		if s == t {
			return true
		}
	}
	return false
}

// OpenDriver opens the driver of a storage resource from its catalog record:
//
//	posix, unixfilesystem  Location is the vault directory
//	s3                     Location is BUCKET[/PREFIX]; Context
//	                       "endpoint=URL;region=R;auth_file=PATH" where the
//	                       file holds the access key and the secret key on
//	                       two lines, as iRODS's S3_AUTH_FILE
//	tape                   Location is the library directory; Context as
//	                       tape.ParseContext
//
// It is the default of Options.OpenResource.
func OpenDriver(rec catalog.Resource) (resources.Resource, error) {
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
	if isCoordinatingType(rec.Type) {
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
	kv, err := parseContext(rescContext)
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

// parseContext splits "k=v;k=v" into a map; empty parts are skipped.
func parseContext(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("context %q: want key=value;key=value", s)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// formatContext renders kv as "k=v;k=v" in key order.
func formatContext(kv map[string]string) string {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+kv[k])
	}
	return strings.Join(parts, ";")
}
