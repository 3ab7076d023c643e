package icommands

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/arca-data/arca/api/arcapb"
)

const iadminZoneHelp = `
Federation (rodsadmin; lz for everyone):
  mkzone NAME remote HOST:PORT --ca FILE [COMMENT]
                       register another zone: where one of its servers
                       listens and the CA that signs its servers' certificates
                       (no shared secret; the other zone registers this one too)
  modzone NAME conn HOST:PORT | ca FILE | comment TEXT
  rmzone NAME          forget a registered zone
  lz                   list the zones, each remote one probed (a TLS handshake
                       that accepts only its registered CA)`

const iadminZoneExamples = `
  iadmin mkzone zoneB remote b.example.org:1247 --ca zoneB-ca.pem
  iadmin lz`

// iadminZoneArgs are the argument counts of the zone subcommands.
var iadminZoneArgs = map[string][2]int{"mkzone": {3, 4}, "modzone": {3, 3}, "rmzone": {1, 1}, "lz": {0, 0}}

func (a *app) runIadminZone(ctx context.Context, c *client, sub string, rest []string, caFile string) error {
	var (
		z   *arcapb.ZoneInfo
		err error
	)
	switch sub {
	case "mkzone":
		if rest[1] != "remote" {
			return usagef("iadmin mkzone %s %s: the type of a zone one registers is remote", rest[0], quoteArg(rest[1]))
		}
		if caFile == "" {
			return usagef("iadmin mkzone %s remote %s needs --ca FILE: the CA certificate that signs its servers' certificates", rest[0], rest[2])
		}
		ca, rerr := readCAFile(caFile)
		if rerr != nil {
			return rerr
		}
		comment := ""
		if len(rest) == 4 {
			comment = rest[3]
		}
		z, err = c.zones.MakeZone(ctx, &arcapb.MakeZoneRequest{Name: rest[0], Conn: rest[2], CaPem: ca, Comment: comment})
	case "modzone":
		value := rest[2]
		if rest[1] == "ca" {
			if value, err = readCAFile(value); err != nil {
				return err
			}
		}
		z, err = c.zones.ModifyZone(ctx, &arcapb.ModifyZoneRequest{Name: rest[0], Field: rest[1], Value: value})
	case "rmzone":
		if _, err := c.zones.RemoveZone(ctx, &arcapb.RemoveZoneRequest{Name: rest[0]}); err != nil {
			return err
		}
		if a.json {
			return a.printJSON(map[string]any{"zone": rest[0], "removed": true})
		}
		return nil
	case "lz":
		resp, err := c.zones.ListZones(ctx, &arcapb.ListZonesRequest{Probe: true})
		if err != nil {
			return err
		}
		if a.json {
			for _, z := range resp.Zones {
				if err := a.printJSON(zoneJSON(z)); err != nil {
					return err
				}
			}
			return nil
		}
		w := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ZONE\tTYPE\tCONNECTION\tSTATE")
		for _, z := range resp.Zones {
			state := "this zone"
			if z.Type == "remote" {
				state = "reachable"
				if !z.Reachable {
					state = "unreachable: " + z.ReachError
				}
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", z.Name, z.Type, z.Conn, state)
		}
		return w.Flush()
	}
	if err != nil {
		return err
	}
	if a.json && z != nil {
		return a.printJSON(zoneJSON(z))
	}
	return nil
}

// readCAFile reads a CA file for mkzone and modzone; the zone checks
// that it is a CA.
func readCAFile(name string) (string, error) {
	info, err := os.Stat(name)
	if err != nil {
		return "", fmt.Errorf("CA file: %w", err)
	}
	if info.Size() > 1<<20 {
		return "", fmt.Errorf("CA file %s: %d bytes; a CA certificate is a few KiB", name, info.Size())
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("CA file: %w", err)
	}
	return string(b), nil
}

func zoneJSON(z *arcapb.ZoneInfo) map[string]any {
	out := map[string]any{"name": z.Name, "type": z.Type}
	if z.Type == "remote" {
		out["conn"], out["comment"], out["ca_subject"] = z.Conn, z.Comment, z.CaSubject
		out["create_time"], out["modify_time"] = z.CreateTime, z.ModifyTime
		if z.Probed {
			out["reachable"] = z.Reachable
			if !z.Reachable {
				out["reach_error"] = z.ReachError
			}
		}
	}
	return out
}
