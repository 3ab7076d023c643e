package dmp

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/arca-data/arca/zones"
)

// Keeper is the zone's DMP keeper (zones.DMPKeeper) over an Importer: its
// answers are JSON documents.
type Keeper struct{ Importer *Importer }

var _ zones.DMPKeeper = Keeper{}

// Import is idmp import.
func (k Keeper) Import(ctx context.Context, caller zones.Principal, doc []byte, datasets map[string]string, dryRun bool) ([]byte, error) {
	res, err := k.Importer.Import(ctx, caller, bytes.NewReader(doc), ImportOptions{Datasets: datasets, DryRun: dryRun})
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// List is idmp ls: a JSON array of Summary.
func (k Keeper) List(ctx context.Context) ([]byte, error) {
	l, err := k.Importer.List(ctx)
	if err != nil {
		return nil, err
	}
	if l == nil {
		l = []Summary{}
	}
	return json.Marshal(l)
}

// Show is idmp show: the DMP as imported.
func (k Keeper) Show(ctx context.Context, id string) ([]byte, error) {
	return k.Importer.Show(ctx, id)
}
