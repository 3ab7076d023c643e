package icommands

import (
	"context"
	"fmt"
	"strings"

	"github.com/arca-data/arca/api/arcapb"
)

// iadmin's resource subcommands, as iRODS names them.
const iadminRescHelp = `
Resources (rodsadmin):
  mkresc NAME TYPE [LOCATION] [CONTEXT]
                       TYPE posix (or unixfilesystem) LOCATION a vault directory;
                       s3 LOCATION BUCKET[/PREFIX] CONTEXT
                         "endpoint=URL;region=R;auth_file=PATH" (the file holds the
                         access key and the secret key on two lines);
                       tape LOCATION a library directory CONTEXT
                         "drives=2;cartridge_size=1GiB;mount_latency=200ms;seek_rate=400MiB";
                       replication, compound, random, passthru (no location)
  modresc NAME status up|down | comment TEXT | context CONTEXT | qos ATTRS | rebalance
                       rebalance refreshes stale and fills missing replicas below NAME;
                       qos sets the storage attributes that QoS expressions match,
                       "type=tape,geo=DE,tier=cold" (free keys; "" for none)
  modresc NAME tier GROUP INDEX | untier | tier_time SECONDS|12h|30d
        | tier_verify catalog|size|checksum | tier_preserve true|false | tier_restage true|false
                       storage tiering: INDEX 0 is the fastest tier, each index once,
                       no gaps; objects unread for tier_time move to the next tier
  rmresc NAME          (refused while replicas or children remain)
  addchildtoresc PARENT CHILD [cache|archive]
  rmchildfromresc PARENT CHILD
  lr [NAME]            list resources, or describe one (as ilsresc)
ilsresc lists resources and their trees.`

const iadminRescExamples = `
  iadmin mkresc fast posix /srv/vault1
  iadmin mkresc objects s3 arca-bucket/zone1 "endpoint=http://127.0.0.1:9000;region=us-east-1;auth_file=/etc/arca/s3.keys"
  iadmin mkresc lib tape /srv/tapelib "drives=2;cartridge_size=1GiB;mount_latency=200ms"
  iadmin mkresc archive compound
  iadmin addchildtoresc archive fast cache
  iadmin addchildtoresc archive lib archive
  iadmin modresc lib status down
  iadmin modresc lib qos 'type=tape,geo=DE,tier=cold'
  iadmin modresc fast tier archive 0; iadmin modresc fast tier_time 30d
  iadmin modresc objects tier archive 1; iadmin modresc lib tier archive 2`

// iadminRescArgs are the argument counts of the resource subcommands.
var iadminRescArgs = map[string][2]int{
	"mkresc": {2, 4}, "modresc": {2, 4}, "rmresc": {1, 1}, "addchildtoresc": {2, 3}, "rmchildfromresc": {2, 2},
	"lr": {0, 1},
}

// runIadminResc runs one resource subcommand.
func (a *app) runIadminResc(ctx context.Context, c *client, sub string, rest []string) error {
	arg := func(i int) string {
		if i < len(rest) {
			return rest[i]
		}
		return ""
	}
	var (
		r   *arcapb.Resource
		err error
	)
	switch sub {
	case "mkresc":
		r, err = c.rescs.MakeResource(ctx, &arcapb.MakeResourceRequest{Name: rest[0], Type: rest[1], Location: arg(2), Context: arg(3)})
	case "modresc":
		if rest[1] != "rebalance" && rest[1] != "untier" && len(rest) < 3 {
			return usagef("iadmin modresc %s %s needs a value", rest[0], rest[1])
		}
		value := arg(2)
		if rest[1] != "tier" && len(rest) > 3 {
			return usagef("iadmin modresc %s %s takes one value (quote it if it has spaces)", rest[0], rest[1])
		}
		if rest[1] == "tier" {
			// iadmin modresc NAME tier GROUP INDEX
			if len(rest) != 4 {
				return usagef("iadmin modresc %s tier GROUP INDEX: the tier group and the resource's index in it (0 is the fastest tier)", rest[0])
			}
			value = rest[2] + " " + rest[3]
		}
		r, err = c.rescs.ModifyResource(ctx, &arcapb.ModifyResourceRequest{Name: rest[0], Field: rest[1], Value: value})
	case "rmresc":
		if _, err := c.rescs.RemoveResource(ctx, &arcapb.RemoveResourceRequest{Name: rest[0]}); err != nil {
			return err
		}
		if a.json {
			return a.printJSON(map[string]any{"resource": rest[0], "removed": true})
		}
		return nil
	case "lr":
		return a.listResources(ctx, c, arg(0), false, false, true)
	case "addchildtoresc":
		r, err = c.rescs.AddChild(ctx, &arcapb.ChildRequest{Parent: rest[0], Child: rest[1], Role: arg(2)})
	case "rmchildfromresc":
		r, err = c.rescs.RemoveChild(ctx, &arcapb.ChildRequest{Parent: rest[0], Child: rest[1]})
	default:
		return usagef("unknown subcommand %s", quoteArg(sub))
	}
	if err != nil {
		return err
	}
	if a.json && r != nil {
		return a.printJSON(resourceJSON(r))
	}
	return nil
}

func resourceJSON(r *arcapb.Resource) map[string]any {
	return map[string]any{"name": r.Name, "type": r.Type, "location": r.Location, "context": r.Context,
		"status": r.Status, "comment": r.Comment, "parent": r.Parent, "role": r.Role,
		"children": nonNil(r.Children), "hierarchy": r.Hierarchy, "qos": qosAttrsJSON(r.Qos),
		"create_time": unixTime(r.CreateUnix), "modify_time": unixTime(r.ModifyUnix)}
}

func describeResource(r *arcapb.Resource) string {
	return fmt.Sprintf("resc_name: %s\nresc_type_name: %s\nresc_location: %s\nresc_context: %s\nresc_status: %s\nresc_comment: %s\nresc_parent: %s\nresc_children: %v\nresc_hierarchy: %s\nresc_qos: %s\n",
		r.Name, r.Type, r.Location, r.Context, r.Status, r.Comment, r.Parent, r.Children, r.Hierarchy, r.Qos)
}

// qosAttrsJSON gives a resource's canonical "k=v,k=v" attributes as a
// list of {attribute, value}, as AVUs are (a value is text, digits or not).
func qosAttrsJSON(s string) []map[string]string {
	out := []map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out = append(out, map[string]string{"attribute": k, "value": v})
		}
	}
	return out
}
