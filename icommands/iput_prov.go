package icommands

import (
	"context"
	"fmt"

	"github.com/arca-data/arca/api/arcapb"
)

// deriver is what iput --derived-from does after each upload: it records
// that the object was derived from the sources given (checked to exist
// before anything is uploaded).
func deriver(ctx context.Context, c *client, sources []string) (func(ctx context.Context, path string) error, error) {
	if len(sources) == 0 {
		return func(context.Context, string) error { return nil }, nil
	}
	var abs []string
	for _, s := range sources {
		p, err := c.resolve(s)
		if err != nil {
			return nil, err
		}
		if _, err := c.stat(ctx, p); err != nil {
			return nil, fmt.Errorf("--derived-from %s: %w", p, err)
		}
		abs = append(abs, p.String())
	}
	prov := arcapb.NewProvenanceClient(c.conn)
	return func(ctx context.Context, path string) error {
		if _, err := prov.Derive(ctx, &arcapb.DeriveRequest{Path: path, Sources: abs}); err != nil {
			return fmt.Errorf("%s was put, but its derivation: %w", path, err)
		}
		return nil
	}, nil
}
