package icommands

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

// imetaArgs is one parsed imeta command line.
type imetaArgs struct {
	sub    string
	kind   arcapb.MetadataTargetKind
	name   string
	avu    catalog.AVU // add, set, rm, rmw, mod (the old AVU), ls (the attribute)
	newAVU catalog.AVU // mod
	// long is ls -l (-ld, -lC, ...): every AVU's id too.
	long bool
	// cp: the kind and name of the target the AVUs are copied to; rmi: the
	// AVU's id.
	toKind   arcapb.MetadataTargetKind
	toName   string
	id       uint64
	help     bool
	jsonFlag bool
	// adminMode is -M before the subcommand, as in iRODS.
	adminMode bool
}

// imetaArity is how many words follow NAME: at least, at most.
var imetaArity = map[string][2]int{
	"add": {2, 3}, "set": {2, 3}, "rm": {2, 3}, "rmw": {2, 3}, "mod": {2, 6}, "ls": {0, 1},
	"rmi": {1, 1}, "addw": {2, 3}, "lsw": {0, 1}, "cp": {1, 1},
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
		return in, usagef("name a subcommand: %s", imetaSubs)
	}
	in.sub = words[0]
	arity, ok := imetaArity[in.sub]
	if !ok {
		return in, usagef("unknown subcommand %s (want %s)", quoteArg(in.sub), imetaSubs)
	}
	if len(words) < 3 {
		return in, usagef("imeta %s needs -d|-C|-R|-u and a name", in.sub)
	}
	kind := words[1]
	if (in.sub == "ls" || in.sub == "lsw") && len(kind) == 3 && strings.HasPrefix(kind, "-l") {
		in.long, kind = true, "-"+kind[2:] // -ld is -l -d, as in iRODS
	}
	if in.kind, ok = imetaKinds[kind]; !ok {
		return in, usagef("imeta %s: %s is not -d, -C, -R or -u", in.sub, quoteArg(words[1]))
	}
	if in.sub == "cp" {
		// cp -d|C|R|u -d|C|R|u NAME1 NAME2
		if in.toKind, ok = imetaKinds[words[2]]; !ok || len(words) != 5 {
			return in, usagef("imeta cp takes %s", imetaUsage["cp"])
		}
		in.name, in.toName = words[3], words[4]
		return in, nil
	}
	if in.sub == "addw" && in.kind != arcapb.MetadataTargetKind_METADATA_TARGET_KIND_DATA_OBJECT {
		return in, usagef("imeta addw is for data objects (-d), as in iRODS")
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
	case "lsw":
		in.avu.Attribute = "%"
		if len(rest) == 1 {
			in.avu.Attribute = rest[0]
		}
		return in, inputError(catalog.ValidatePattern(catalog.AVU{Attribute: in.avu.Attribute, Value: "%", Unit: "%"}))
	case "rmi":
		id, err := strconv.ParseUint(rest[0], 10, 64)
		if err != nil {
			return in, usagef("imeta rmi: %s is not an AVU id (a number, as imeta ls -l shows it)", quoteArg(rest[0]))
		}
		in.id = id
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
	"ls": "[ATTR]", "lsw": "[ATTR pattern]", "rmi": "AVU_ID", "addw": "ATTR VALUE [UNIT]",
	"cp": "-d|-C|-R|-u -d|-C|-R|-u NAME1 NAME2",
}

const imetaSubs = "add, addw, set, rm, rmw, rmi, mod, ls, lsw or cp"

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
		Use:   "imeta [-M] add|addw|set|rm|rmw|rmi|mod|ls|lsw|cp -d|-C|-R|-u NAME [ATTR [VALUE [UNIT]]]",
		Short: "Manage AVU metadata of data objects, collections, resources and users",
		Long: `imeta manages AVUs (attribute, value, optional unit) on a data object (-d),
a collection (-C), a resource (-R) or a user (-u), as iRODS's imeta. An
attribute may have many values.

  add -d|-C|-R|-u NAME ATTR VALUE [UNIT]   attach an AVU; one it has already is an error
  addw -d PATTERN ATTR VALUE [UNIT]        attach an AVU to every data object whose path
                                           matches PATTERN (% and _ as for rmw, in the
                                           collection and the name), that you may change
  set -d|-C|-R|-u NAME ATTR VALUE [UNIT]   replace every value of ATTR by this one
  rm  -d|-C|-R|-u NAME ATTR VALUE [UNIT]   remove the AVU with exactly these fields
                                           (no UNIT: the AVU without a unit)
  rmw -d|-C|-R|-u NAME ATTR VALUE [UNIT]   remove every AVU matching the patterns:
                                           % any run of characters, _ one character,
                                           \% and \_ literal, case-sensitive
                                           (no UNIT: any unit)
  mod -d|-C|-R|-u NAME ATTR VALUE [UNIT] [n:NEWATTR] [v:NEWVALUE] [u:NEWUNIT]
                                           change one AVU; "u:" alone drops the unit
  rmi -d|-C|-R|-u NAME AVU_ID             remove the AVU with this id (imeta ls -l)
  ls  -[l]d|C|R|u NAME [ATTR]              list the AVUs (of ATTR only); -l adds ids
  lsw -[l]d|C|R|u NAME [ATTR]              list the AVUs whose attribute matches ATTR,
                                           a pattern as for rmw
  cp  -d|C|R|u -d|C|R|u NAME1 NAME2        copy the AVUs of NAME1 to NAME2 (those it
                                           has already stay as they are)

AVUs have no row in Arca's catalog of their own, so no catalog id: an AVU's
id is a number made from its attribute, value and unit (a hash), the same
on every object that holds it, as iRODS shares one AVU row among objects.
imeta ls -l and --json show it; rmi takes it.

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
  imeta ls -u alice
  imeta ls -ld results.csv
  imeta rmi -d results.csv 81985529216486
  imeta addw -d 'run4%/%.csv' checked yes
  imeta lsw -d results.csv 'pro%'
  imeta cp -d -C results.csv run42`,
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
	target, err := imetaTarget(c, in.kind, in.name)
	if err != nil {
		return err
	}
	name := target.Name
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
		return imetaList(ctx, a, c, target, in.avu.Attribute, "", in.long)
	case "lsw":
		return imetaList(ctx, a, c, target, "", in.avu.Attribute, in.long)
	case "rmi":
		avus, err := listAVUs(ctx, c, target, "")
		if err != nil {
			return err
		}
		var found *arcapb.AVU
		for _, avu := range avus {
			if avuID(avu) == in.id {
				found = avu
			}
		}
		if found == nil {
			return notFoundf("%s has no AVU with id %d (imeta ls -l shows the ids)", name, in.id)
		}
		resp, err := c.meta.RemoveMetadata(ctx, &arcapb.RemoveMetadataRequest{Target: target, Avu: found})
		if err != nil {
			return err
		}
		removed := make([]map[string]any, len(resp.Removed))
		for i, r := range resp.Removed {
			removed[i] = avuIDJSON(r)
		}
		out["removed"] = removed
	case "addw":
		n, err := imetaAddWild(ctx, a, c, in)
		if err != nil {
			return err
		}
		out = map[string]any{"pattern": in.name, "kind": "data_object", "added": n, "avu": avuJSON(pb(in.avu))}
		if !a.json {
			fmt.Fprintf(a.Out, "AVU added to %d data-objects\n", n)
		}
	case "cp":
		n, err := imetaCopy(ctx, c, in, target)
		if err != nil {
			return err
		}
		out = map[string]any{"source": name, "source_kind": targetKindJSON(in.kind), "target": in.toName, "kind": targetKindJSON(in.toKind), "added": n}
	}
	if a.json {
		return a.printJSON(out)
	}
	return nil
}

// imetaList prints the AVUs of target as iRODS does: a header, then
// attribute/value/units blocks separated by "----", or "None"; only those
// of attribute, or whose attribute matches pattern (lsw); with long, each
// AVU's id too.
func imetaList(ctx context.Context, a *app, c *client, target *arcapb.MetadataTarget, attribute, pattern string, long bool) error {
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
			if pattern != "" && !catalog.MatchLike(pattern, avu.Attribute) {
				continue
			}
			if a.json {
				m := map[string]any{"target": target.Name, "kind": targetKindJSON(target.Kind)}
				for k, v := range avuIDJSON(avu) {
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
			if long {
				fmt.Fprintf(w, "id: %d\n", avuID(avu))
			}
		}
	}
	if n == 0 && !a.json {
		fmt.Fprintf(w, "AVUs defined for %s %s:\nNone\n", irodsKindName(target.Kind), target.Name)
	}
	return nil
}

// avuID is the id of an AVU: Arca's catalog keeps no AVU rows of their own,
// so the id is made from the AVU's fields (48 bits of their SHA-256, at
// most 15 digits), the same wherever the AVU is, as iRODS shares one AVU
// row among the objects that hold it.
func avuID(avu *arcapb.AVU) uint64 {
	h := sha256.New()
	for _, f := range []string{avu.Attribute, avu.Value, avu.Unit} {
		binary.Write(h, binary.BigEndian, uint64(len(f)))
		h.Write([]byte(f))
	}
	return binary.BigEndian.Uint64(h.Sum(nil)) >> 16
}

// avuIDJSON is avuJSON with the AVU's id.
func avuIDJSON(avu *arcapb.AVU) map[string]any {
	m := map[string]any{"id": avuID(avu)}
	for k, v := range avuJSON(avu) {
		m[k] = v
	}
	return m
}

// listAVUs returns every AVU of target (of attribute only, if set).
func listAVUs(ctx context.Context, c *client, target *arcapb.MetadataTarget, attribute string) ([]*arcapb.AVU, error) {
	stream, err := c.meta.ListMetadata(ctx, &arcapb.ListMetadataRequest{Target: target, Attribute: attribute})
	if err != nil {
		return nil, err
	}
	var out []*arcapb.AVU
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, resp.Avus...)
	}
}

// imetaTarget is the metadata target of kind and name as typed: a logical
// path resolved against the working collection, a user with its zone.
func imetaTarget(c *client, kind arcapb.MetadataTargetKind, name string) (*arcapb.MetadataTarget, error) {
	switch kind {
	case arcapb.MetadataTargetKind_METADATA_TARGET_KIND_DATA_OBJECT, arcapb.MetadataTargetKind_METADATA_TARGET_KIND_COLLECTION:
		p, err := c.resolve(name)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		name = p.String()
	case arcapb.MetadataTargetKind_METADATA_TARGET_KIND_USER:
		if !strings.Contains(name, "#") {
			name += "#" + c.env.Zone
		}
	}
	return &arcapb.MetadataTarget{Kind: kind, Name: name}, nil
}

// imetaCopy is imeta cp: the AVUs of from that the target lacks are added
// to it in one request, and how many is returned.
func imetaCopy(ctx context.Context, c *client, in imetaArgs, from *arcapb.MetadataTarget) (int64, error) {
	to, err := imetaTarget(c, in.toKind, in.toName)
	if err != nil {
		return 0, err
	}
	src, err := listAVUs(ctx, c, from, "")
	if err != nil {
		return 0, err
	}
	have, err := listAVUs(ctx, c, to, "")
	if err != nil {
		return 0, err
	}
	held := map[uint64]bool{}
	for _, avu := range have {
		held[avuID(avu)] = true
	}
	var missing []*arcapb.AVU
	for _, avu := range src {
		// The zone's own attributes (an expiry, an access time) are not
		// the source's to give: they are not copied.
		if strings.HasPrefix(avu.GetAttribute(), catalog.ReservedAttributePrefix) {
			continue
		}
		if !held[avuID(avu)] {
			missing = append(missing, avu)
		}
	}
	if len(missing) == 0 {
		return 0, nil
	}
	resp, err := c.meta.AddMetadata(ctx, &arcapb.AddMetadataRequest{Target: to, Avus: missing})
	if err != nil {
		return 0, err
	}
	return resp.Added, nil
}

// imetaAddWild is imeta addw: the AVU goes on every data object whose
// collection and name match in.name's patterns (a catalog query finds
// those the caller may read). Each object is its own request: those it may
// not change are reported, and the others still get the AVU.
func imetaAddWild(ctx context.Context, a *app, c *client, in imetaArgs) (int64, error) {
	p, err := catalog.Resolve(c.env.cwd(), in.name)
	if err != nil {
		return 0, usageError{err.Error()}
	}
	if p.IsRoot() {
		return 0, usagef("imeta addw: %s names no data object", quoteArg(in.name))
	}
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	q := fmt.Sprintf("select COLL_NAME, DATA_NAME where COLL_NAME like %s and DATA_NAME like %s",
		quote(p.Parent().String()), quote(p.Name()))
	stream, err := c.query.Run(ctx, &arcapb.QueryRequest{Query: q})
	if err != nil {
		return 0, err
	}
	var paths []string
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		for _, r := range resp.Rows {
			if len(r.Values) == 2 {
				paths = append(paths, strings.TrimSuffix(r.Values[0], "/")+"/"+r.Values[1])
			}
		}
	}
	if len(paths) == 0 {
		return 0, notFoundf("no data object matches %s", p)
	}
	avu := avusPB([]catalog.AVU{in.avu})[0]
	var added int64
	failed := 0
	for _, obj := range paths {
		t := &arcapb.MetadataTarget{Kind: arcapb.MetadataTargetKind_METADATA_TARGET_KIND_DATA_OBJECT, Name: obj}
		resp, err := c.meta.AddMetadata(ctx, &arcapb.AddMetadataRequest{Target: t, Avus: []*arcapb.AVU{avu}})
		if err != nil {
			failed++
			fmt.Fprintf(a.Err, "imeta addw: %s: %v\n", obj, err)
			continue
		}
		added += resp.Added
	}
	if failed > 0 {
		return added, fmt.Errorf("the AVU was not added to %d of %d data objects", failed, len(paths))
	}
	return added, nil
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

// notFoundf is an error of exit status 3 (not found) that the client finds.
func notFoundf(format string, args ...any) error {
	return exitError{code: ExitNotFound, err: fmt.Errorf(format, args...)}
}
