package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/dgraph"
	"github.com/arca-data/arca/catalog/sqlite"
)

// OpenCatalog opens the catalog that url names:
//
//	sqlite://PATH            the embedded catalog in the file PATH
//	dgraph://HOST:PORT       a Dgraph cluster (its alpha's gRPC port), which
//	                         several servers of one zone may share;
//	                         ?prefix=NAME keeps several catalogs apart
//
// An empty url is sqlite://DIR/catalog.db.
func OpenCatalog(ctx context.Context, url, dir string) (catalog.Catalog, error) {
	if url == "" {
		url = "sqlite://" + filepath.Join(dir, "catalog.db")
	}
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		path := strings.TrimPrefix(url, "sqlite://")
		if path == "" {
			return nil, fmt.Errorf("%w: catalog %q: no file", catalog.ErrInvalidArgument, url)
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(url, "dgraph://"):
		addr, opts, err := dgraph.ParseURL(url)
		if err != nil {
			return nil, err
		}
		return dgraph.Open(ctx, addr, opts)
	}
	return nil, fmt.Errorf("%w: catalog %q: want sqlite://PATH or dgraph://HOST:PORT", catalog.ErrInvalidArgument, url)
}
