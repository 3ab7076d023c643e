package server

import (
	"log/slog"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/policies/provenance"
	"github.com/arca-data/arca/zones"
)

// startProvenance makes zone record the provenance of every change (unless
// cfg.NoProvenance) and answer iprov. It runs before the rules are in
// use: an operation's record comes before those of what its post rules
// then do.
func startProvenance(cfg ServerConfig, zone *zones.Zone, cat catalog.Catalog, log *slog.Logger) {
	if cfg.NoProvenance {
		log.Warn("provenance is not recorded (NoProvenance)")
		return
	}
	rec := provenance.New(cat, zone.Name(), log)
	zone.AddHook(rec)
	zone.UseProvenance(rec)
}
