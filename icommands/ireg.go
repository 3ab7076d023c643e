package icommands

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIreg(a *app) *cobra.Command {
	var (
		resource, metadata, owner string
		parents                   bool
	)
	cmd := &cobra.Command{
		Use:   "ireg [-R RESOURCE] [-p] [--owner USER] [--metadata AVUS] PHYSICALPATH LOGICALPATH",
		Short: "Register a file already on a resource (rodsadmin)",
		Long: `ireg registers a file that is already on a resource as a data object with
one good replica, without moving a byte, as iRODS's ireg. PHYSICALPATH is
the file's path relative to the resource's root, or absolute below the
resource's location; the zone checks that the file is there and takes its
size. Registering is for a rodsadmin. Many files at once go through the
Registry API (a stream of batches, one transaction each).`,
		Example: `  ireg -R demoResc /srv/arca/vault/imports/run42.dat /tempZone/home/alice/run42.dat
  ireg -p --owner alice imports/run43.dat /tempZone/home/alice/imports/run43.dat
  ireg --metadata 'project;abc' imports/x.dat /tempZone/home/alice/x.dat`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var avus []*arcapb.AVU
			if cmd.Flags().Changed("metadata") {
				parsed, err := parseMetadataTriplets(metadata)
				if err != nil {
					return usagef("--metadata: %v", err)
				}
				for _, m := range parsed {
					avus = append(avus, &arcapb.AVU{Attribute: m.Attribute, Value: m.Value, Unit: m.Unit})
				}
			}
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			p, err := c.resolve(args[1])
			if err != nil {
				return err
			}
			if resource == "" {
				resource = c.env.DefaultResource
			}
			stream, err := c.registry.RegisterObjects(ctx)
			if err != nil {
				return err
			}
			err = stream.Send(&arcapb.RegisterRequest{Parents: parents, Verify: true, Owner: owner, Objects: []*arcapb.RegisterObject{{
				Path: p.String(), Metadata: avus,
				Replicas: []*arcapb.RegisterReplica{{Resource: resource, PhysicalPath: args[0], Size: -1}},
			}}})
			if err != nil && err != io.EOF {
				return err
			}
			resp, err := stream.CloseAndRecv()
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"path": p.String(), "physical_path": args[0], "resource": resource, "registered": resp.Registered})
			}
			if resp.Registered != 1 {
				return fmt.Errorf("registered %d objects, expected 1", resp.Registered)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&resource, "resource", "R", "", "the resource the file is on (default: the zone's default resource)")
	f.BoolVarP(&parents, "parents", "p", false, "create missing collections")
	f.StringVar(&owner, "owner", "", "the user who owns the new data object (default: you)")
	f.StringVar(&metadata, "metadata", "", `AVUs to attach: "attr;value;unit;..."`)
	return cmd
}
