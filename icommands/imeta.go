package icommands

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

// imetaArgs is one parsed imeta command line.
type imetaArgs struct {
	sub      string
	kind     arcapb.MetadataTargetKind
	name     string
	avu      catalog.AVU // add, set, rm, rmw, mod (the old AVU), ls (the attribute)
	newAVU   catalog.AVU // mod
	help     bool
	jsonFlag bool
	// adminMode is -M before the subcommand, as in iRODS.
	adminMode bool
}

// imetaArity is how many words follow NAME: at least, at most.
var imetaArity = map[string][2]int{
	"add": {2, 3}, "set": {2, 3}, "rm": {2, 3}, "rmw": {2, 3}, "mod": {2, 6}, "ls": {0, 1},
}

var imetaKinds = map[string]arcapb.MetadataTargetKind{
	"-d": arcapb.MetadataTargetKind_METADATA_TARGET_KIND_DATA_OBJECT,
	"-C": arcapb.MetadataTargetKind_METADATA_TARGET_KIND_COLLECTION,
	"-R": arcapb.MetadataTargetKind_METADATA_TARGET_KIND_RESOURCE,
	"-u": arcapb.MetadataTargetKind_METADATA_TARGET_KIND_USER,
}

// parseImeta reads "SUB -d|-C|-R|-u NAME WORDS...". Options --json and -h
// may stand anywhere before a "--"; every other word is taken as it is, so
// values like "-12" need no quoting.
func parseImeta(args []string) (imetaArgs, error) {
	var in imetaArgs
	var words []string
	literal := false
	for _, a := range args {
		switch {
		case literal:
			words = append(words, a)
		case a == "--":
			literal = true
		case a == "--json":
			in.jsonFlag = true
		case a == "-h" || a == "--help":
			in.help = true
		default:
			words = append(words, a)
		}
	}
	if in.help {
		return in, nil
	}
	for len(words) > 0 && words[0] == "-M" {
		in.adminMode, words = true, words[1:]
	}
	if len(words) == 0 {
		return in, usagef("name a subcommand: add, set, rm, rmw, mod or ls")
	}
	in.sub = words[0]
	arity, ok := imetaArity[in.sub]
	if !ok {
		return in, usagef("unknown subcommand %s (want add, set, rm, rmw, mod or ls)", quoteArg(in.sub))
	}
	if len(words) < 3 {
		return in, usagef("imeta %s needs -d|-C|-R|-u and a name", in.sub)
	}
	if in.kind, ok = imetaKinds[words[1]]; !ok {
		return in, usagef("imeta %s: %s is not -d, -C, -R or -u", in.sub, quoteArg(words[1]))
	}
	in.name = words[2]
	rest := words[3:]
	if len(rest) < arity[0] || len(rest) > arity[1] {
		return in, usagef("imeta %s takes %s, got %d word(s) after the name", in.sub, imetaUsage[in.sub], len(rest))
	}
	switch in.sub {
	case "ls":
		if len(rest) == 1 {
			in.avu.Attribute = rest[0]
		}
		return in, nil
	case "mod":
		return in, in.parseMod(rest)
	}
	in.avu = catalog.AVU{Attribute: rest[0], Value: rest[1]}
	if len(rest) == 3 {
		in.avu.Unit = rest[2]
	} else if in.sub == "rmw" {
		in.avu.Unit = "%" // rmw without a unit pattern: any unit
	}
	if in.sub == "rmw" {
		return in, inputError(catalog.ValidatePattern(in.avu))
	}
	return in, inputError(in.avu.Validate())
}

var imetaUsage = map[string]string{
	"add": "ATTR VALUE [UNIT]", "set": "ATTR VALUE [UNIT]", "rm": "ATTR VALUE [UNIT]",
	"rmw": "ATTR VALUE [UNIT] patterns", "mod": "ATTR VALUE [UNIT] [n:NEWATTR] [v:NEWVALUE] [u:NEWUNIT]",
	"ls": "[ATTR]",
}

// parseMod reads "ATTR VALUE [UNIT] [n:NEW] [v:NEW] [u:NEW]": the old AVU,
// then what changes, at least one, each once. The new AVU keeps what is not
// given; "u:" with nothing after it removes the unit.
func (in *imetaArgs) parseMod(rest []string) error {
	in.avu = catalog.AVU{Attribute: rest[0], Value: rest[1]}
	changes := rest[2:]
	isChange := func(s string) bool {
		return strings.HasPrefix(s, "n:") || strings.HasPrefix(s, "v:") || strings.HasPrefix(s, "u:")
	}
	if len(changes) > 0 && !isChange(changes[0]) {
		in.avu.Unit, changes = changes[0], changes[1:]
	}
	if len(changes) == 0 {
		return usagef("imeta mod: say what changes with n:NEWATTR, v:NEWVALUE or u:NEWUNIT")
	}
	in.newAVU = in.avu
	seen := map[byte]bool{}
	for _, c := range changes {
		if !isChange(c) {
			return usagef("imeta mod: %s is not n:NEWATTR, v:NEWVALUE or u:NEWUNIT", quoteArg(c))
		}
		if seen[c[0]] {
			return usagef("imeta mod: %s: given twice", c[:2])
		}
		seen[c[0]] = true
		switch v := c[2:]; c[0] {
		case 'n':
			in.newAVU.Attribute = v
		case 'v':
			in.newAVU.Value = v
		case 'u':
			in.newAVU.Unit = v
		}
	}
	if err := in.avu.Validate(); err != nil {
		return inputError(err)
	}
	if err := in.newAVU.Validate(); err != nil {
		return inputError(fmt.Errorf("new AVU: %w", err))
	}
	return nil
}

func newImeta(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "imeta [-M] add|set|rm|rmw|mod|ls -d|-C|-R|-u NAME [ATTR [VALUE [UNIT]]]",
		Short: "Manage AVU metadata of data objects, collections, resources and users",
		Long: `imeta manages AVUs (attribute, value, optional unit) on a data object (-d),
a collection (-C), a resource (-R) or a user (-u), as iRODS's imeta. An
attribute may have many values.

  add -d|-C|-R|-u NAME ATTR VALUE [UNIT]   attach an AVU; one it has already is an error
  set -d|-C|-R|-u NAME ATTR VALUE [UNIT]   replace every value of ATTR by this one
  rm  -d|-C|-R|-u NAME ATTR VALUE [UNIT]   remove the AVU with exactly these fields
                                           (no UNIT: the AVU without a unit)
  rmw -d|-C|-R|-u NAME ATTR VALUE [UNIT]   remove every AVU matching the patterns:
                                           % any run of characters, _ one character,
                                           \% and \_ literal, case-sensitive
                                           (no UNIT: any unit)
  mod -d|-C|-R|-u NAME ATTR VALUE [UNIT] [n:NEWATTR] [v:NEWVALUE] [u:NEWUNIT]
                                           change one AVU; "u:" alone drops the unit
  ls  -d|-C|-R|-u NAME [ATTR]              list the AVUs (of ATTR only)

Changing the AVUs of a data object or collection needs write access, listing
them read access. Anyone may list the AVUs of resources and users; only a
rodsadmin may change them. A rodsadmin lists any AVU, and changes those of
other users' data objects and collections with -M (admin mode), given before
the subcommand as in iRODS: imeta -M add -d PATH ATTR VALUE. Words after NAME are taken as they are (a value
may be "-12"); put "--" before a value that is "--json" or "-h".`,
		Annotations: map[string]string{jsonLines: "AVU for ls (the other subcommands print one object)"},
		Example: `  imeta add -d results.csv project abc-123
  imeta add -d results.csv size 12 GB
  imeta set -C run42 status done
  imeta mod -d results.csv size 12 GB v:13 u:GiB
  imeta rm -d results.csv project abc-123
  imeta rmw -d results.csv project abc%
  imeta ls -d results.csv
  imeta ls --json -C run42 status
  imeta add -R demoResc tier hot
  imeta ls -u alice`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := parseImeta(args)
			if in.jsonFlag {
				// Flag parsing is off: set it so that errors come as JSON too.
				cmd.Flags().Set("json", "true")
			}
			if in.help {
				return cmd.Help()
			}
			if err != nil {
				return err
			}
			return runImeta(cmd.Context(), a, in)
		},
	}
	return cmd
}

func runImeta(ctx context.Context, a *app, in imetaArgs) error {
	a.adminMode = in.adminMode
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	name := in.name
	if in.kind == arcapb.MetadataTargetKind_METADATA_TARGET_KIND_DATA_OBJECT ||
		in.kind == arcapb.MetadataTargetKind_METADATA_TARGET_KIND_COLLECTION {
		p, err := c.resolve(in.name)
		if err != nil {
			return usageError{err.Error()}
		}
		name = p.String()
	}
	if in.kind == arcapb.MetadataTargetKind_METADATA_TARGET_KIND_USER && !strings.Contains(name, "#") {
		name += "#" + c.env.Zone
	}
	target := &arcapb.MetadataTarget{Kind: in.kind, Name: name}
	pb := func(a catalog.AVU) *arcapb.AVU { return avusPB([]catalog.AVU{a})[0] }
	out := map[string]any{"target": name, "kind": targetKindJSON(in.kind)}
	switch in.sub {
	case "add":
		resp, err := c.meta.AddMetadata(ctx, &arcapb.AddMetadataRequest{Target: target, Avus: []*arcapb.AVU{pb(in.avu)}})
		if err != nil {
			return err
		}
		out["added"] = resp.Added
	case "set":
		if _, err := c.meta.SetMetadata(ctx, &arcapb.SetMetadataRequest{Target: target, Avu: pb(in.avu)}); err != nil {
			return err
		}
		out["set"] = avuJSON(pb(in.avu))
	case "rm", "rmw":
		resp, err := c.meta.RemoveMetadata(ctx, &arcapb.RemoveMetadataRequest{Target: target, Avu: pb(in.avu), Wildcard: in.sub == "rmw"})
		if err != nil {
			return err
		}
		removed := make([]map[string]string, len(resp.Removed))
		for i, r := range resp.Removed {
			removed[i] = avuJSON(r)
		}
		out["removed"] = removed
	case "mod":
		if _, err := c.meta.ModifyMetadata(ctx, &arcapb.ModifyMetadataRequest{Target: target, Old: pb(in.avu), New: pb(in.newAVU)}); err != nil {
			return err
		}
		out["old"], out["new"] = avuJSON(pb(in.avu)), avuJSON(pb(in.newAVU))
	case "ls":
		return imetaList(ctx, a, c, target, in.avu.Attribute)
	}
	if a.json {
		return a.printJSON(out)
	}
	return nil
}

// imetaList prints the AVUs of target as iRODS does: a header, then
// attribute/value/units blocks separated by "----", or "None".
func imetaList(ctx context.Context, a *app, c *client, target *arcapb.MetadataTarget, attribute string) error {
	stream, err := c.meta.ListMetadata(ctx, &arcapb.ListMetadataRequest{Target: target, Attribute: attribute})
	if err != nil {
		return err
	}
	w := bufio.NewWriter(a.Out)
	defer w.Flush()
	n := 0
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		for _, avu := range resp.Avus {
			if a.json {
				m := map[string]any{"target": target.Name, "kind": targetKindJSON(target.Kind)}
				for k, v := range avuJSON(avu) {
					m[k] = v
				}
				if err := writeJSONLine(w, m); err != nil {
					return err
				}
				n++
				continue
			}
			if n == 0 {
				fmt.Fprintf(w, "AVUs defined for %s %s:\n", irodsKindName(target.Kind), target.Name)
			} else {
				fmt.Fprintln(w, "----")
			}
			n++
			fmt.Fprintf(w, "attribute: %s\nvalue: %s\nunits: %s\n", avu.Attribute, avu.Value, avu.Unit)
		}
	}
	if n == 0 && !a.json {
		fmt.Fprintf(w, "AVUs defined for %s %s:\nNone\n", irodsKindName(target.Kind), target.Name)
	}
	return nil
}

// irodsKindName is how iRODS's imeta ls names a kind of target.
func irodsKindName(k arcapb.MetadataTargetKind) string {
	switch k {
	case arcapb.MetadataTargetKind_METADATA_TARGET_KIND_DATA_OBJECT:
		return "dataObj"
	case arcapb.MetadataTargetKind_METADATA_TARGET_KIND_COLLECTION:
		return "collection"
	case arcapb.MetadataTargetKind_METADATA_TARGET_KIND_RESOURCE:
		return "resource"
	}
	return "user"
}

func targetKindJSON(k arcapb.MetadataTargetKind) string {
	switch k {
	case arcapb.MetadataTargetKind_METADATA_TARGET_KIND_DATA_OBJECT:
		return "data_object"
	case arcapb.MetadataTargetKind_METADATA_TARGET_KIND_COLLECTION:
		return "collection"
	case arcapb.MetadataTargetKind_METADATA_TARGET_KIND_RESOURCE:
		return "resource"
	}
	return "user"
}
