package rules

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/arca-data/arca/internal/bytesize"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
)

// The typed CEL environment every rule is compiled in. Facts about an
// operation are CEL struct types of our own (arca.Op, arca.User,
// arca.Object, arca.Resource, arca.Replica) declared through a small type
// provider, so that a rule reading object.nmae fails to load, and each
// field is read through a getter, so that facts that cost a catalog query
// (metadata, groups, the object's record) are fetched only when a rule
// reads them, once per operation.
//
// Beside CEL's standard functions rules have its string, list and math
// extensions (cel-go/ext: "a,b".split(","), s.substring(0, 3),
// s.replace("x", "y"), s.lowerAscii(), l.slice(1, 3), l.sort(),
// math.greatest(a, b), ...), functions on paths (path.base, path.dir,
// path.components, path.join) and on sizes and dates.

// Type names of the facts.
const (
	opTypeName       = "arca.Op"
	userTypeName     = "arca.User"
	objectTypeName   = "arca.Object"
	resourceTypeName = "arca.Resource"
	replicaTypeName  = "arca.Replica"
	ancestorTypeName = "arca.Ancestor"
)

var (
	stringMap = cel.MapType(cel.StringType, cel.StringType)
	// stringListMap is attribute to every value, for attributes with several.
	stringListMap = cel.MapType(cel.StringType, cel.ListType(cel.StringType))
	stringList    = cel.ListType(cel.StringType)
	opType        = cel.ObjectType(opTypeName)
	userType      = cel.ObjectType(userTypeName)
	objectType    = cel.ObjectType(objectTypeName)
	resourceTyp   = cel.ObjectType(resourceTypeName)
	replicaType   = cel.ObjectType(replicaTypeName)
	ancestorType  = cel.ObjectType(ancestorTypeName)
)

// field is one field of a fact type: its CEL type, what it means (for
// irule and the docs), and how to read it from the Go value behind it.
type field struct {
	name string
	typ  *cel.Type
	doc  string
	get  func(target any) ref.Val
}

// structDef is a declared fact type.
type structDef struct {
	typ    *types.Type
	fields map[string]*types.FieldType
	names  []string
	docs   []field
}

func newStructDef(name string, fields []field) *structDef {
	d := &structDef{typ: types.NewObjectType(name), fields: map[string]*types.FieldType{}, docs: fields}
	for _, f := range fields {
		get := f.get
		d.fields[f.name] = &types.FieldType{
			Type:    f.typ,
			IsSet:   func(target any) bool { return true },
			GetFrom: func(target any) (any, error) { return get(target), nil },
		}
		d.names = append(d.names, f.name)
	}
	sort.Strings(d.names)
	return d
}

// provider declares the fact types and defers everything else to the
// standard provider.
type provider struct {
	types.Provider
	structs map[string]*structDef
}

func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if d, ok := p.structs[name]; ok {
		return types.NewTypeTypeWithParam(d.typ), true
	}
	return p.Provider.FindStructType(name)
}

func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if d, ok := p.structs[name]; ok {
		return d.names, true
	}
	return p.Provider.FindStructFieldNames(name)
}

func (p *provider) FindStructFieldType(name, fieldName string) (*types.FieldType, bool) {
	if d, ok := p.structs[name]; ok {
		f, ok := d.fields[fieldName]
		return f, ok
	}
	return p.Provider.FindStructFieldType(name, fieldName)
}

func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.structs[name]; ok {
		return types.NewErr("%s values cannot be made in a rule", name)
	}
	return p.Provider.NewValue(name, fields)
}

// structVal is a fact as a CEL value: its type and the Go value its
// fields are read from.
type structVal struct {
	typ *types.Type
	v   any
}

func (s structVal) ConvertToNative(t reflect.Type) (any, error) {
	return nil, fmt.Errorf("%s cannot be converted to %v", s.typ.TypeName(), t)
}

func (s structVal) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return s.typ
	}
	return types.NewErr("type conversion error from %s to %s", s.typ.TypeName(), t.TypeName())
}

func (s structVal) Equal(o ref.Val) ref.Val {
	other, ok := o.(structVal)
	return types.Bool(ok && other.v == s.v)
}

func (s structVal) Type() ref.Type { return s.typ }
func (s structVal) Value() any     { return s.v }

// newEnv builds the one CEL environment of the engine.
func newEnv() (*cel.Env, map[string]*structDef, error) {
	defs := map[string]*structDef{
		opTypeName:        newStructDef(opTypeName, opFields),
		userTypeName:      newStructDef(userTypeName, userFields),
		objectTypeName:    newStructDef(objectTypeName, slices.Concat(objectFields, provenanceObjectFields, lifecycleObjectFields, qosObjectFields, certificateObjectFields)),
		resourceTypeName:  newStructDef(resourceTypeName, resourceFields),
		replicaTypeName:   newStructDef(replicaTypeName, replicaFields),
		ancestorTypeName:  newStructDef(ancestorTypeName, ancestorFields),
		retentionTypeName: newStructDef(retentionTypeName, retentionFields),
		qosTypeName:       newStructDef(qosTypeName, qosFields),
	}
	// m.?key.orValue("") reads an AVU that may be missing. The string,
	// list and math extensions are pinned to the versions that come with
	// cost estimates, so that their calls are bounded like the rest and a
	// cel-go upgrade adds no function a rule set did not know.
	base, err := cel.NewEnv(
		cel.OptionalTypes(),
		ext.Strings(ext.StringsVersion(5)),
		ext.Lists(ext.ListsVersion(3), ext.ListsMaxRangeSize(sizeBound)),
		ext.Math(ext.MathVersion(3)),
	)
	if err != nil {
		return nil, nil, err
	}
	prov := &provider{Provider: base.CELTypeProvider(), structs: defs}
	env, err := base.Extend(
		cel.CustomTypeProvider(prov),
		// The top-level variables:
		cel.Variable("op", opType),             // the operation: its name and arguments
		cel.Variable("user", userType),         // the user who asked for it
		cel.Variable("object", objectType),     // the data object or collection it acts on (for a put: the object being written)
		cel.Variable("dest", objectType),       // the destination of a rename or copy
		cel.Variable("resource", resourceTyp),  // the target resource of a put or copy
		cel.Variable("zone", cel.StringType),   // the name of the zone
		cel.Variable("now", cel.TimestampType), // the time of the operation
		cel.Variable("error", cel.StringType),  // how the operation ended, in post, except and finally rules: "" on success
		cel.Constant("KiB", cel.IntType, types.Int(1<<10)),
		cel.Constant("MiB", cel.IntType, types.Int(1<<20)),
		cel.Constant("GiB", cel.IntType, types.Int(1<<30)),
		cel.Constant("TiB", cel.IntType, types.Int(1<<40)),
		cel.Function("glob",
			cel.MemberOverload("string_glob_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(func(s, pattern ref.Val) ref.Val {
					return types.Bool(Glob(string(pattern.(types.String)), string(s.(types.String))))
				}))),
		cel.Function("under",
			cel.MemberOverload("string_under_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(func(s, prefix ref.Val) ref.Val {
					return types.Bool(Under(string(s.(types.String)), string(prefix.(types.String))))
				}))),
		cel.Function("path.base",
			cel.Overload("path_base_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(func(s ref.Val) ref.Val { return types.String(PathBase(string(s.(types.String)))) }))),
		cel.Function("path.dir",
			cel.Overload("path_dir_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(func(s ref.Val) ref.Val { return types.String(PathDir(string(s.(types.String)))) }))),
		cel.Function("path.components",
			cel.Overload("path_components_string", []*cel.Type{cel.StringType}, stringList,
				cel.UnaryBinding(func(s ref.Val) ref.Val {
					return types.NewStringList(types.DefaultTypeAdapter, PathComponents(string(s.(types.String))))
				}))),
		cel.Function("path.join",
			cel.Overload("path_join_list", []*cel.Type{stringList}, cel.StringType,
				cel.UnaryBinding(func(l ref.Val) ref.Val {
					var names []string
					for it := l.(traits.Lister).Iterator(); it.HasNext() == types.True; {
						s, ok := it.Next().(types.String)
						if !ok {
							return types.NewErr("path.join takes a list of strings")
						}
						names = append(names, string(s))
					}
					return types.String(PathJoin(names))
				}))),
		cel.Function("byteSize",
			cel.Overload("byteSize_string", []*cel.Type{cel.StringType}, cel.IntType,
				cel.UnaryBinding(func(s ref.Val) ref.Val {
					n, err := bytesize.Parse(string(s.(types.String)))
					if err != nil {
						return types.NewErr("%v", err)
					}
					return types.Int(n)
				}))),
		cel.Function("days",
			cel.Overload("days_int", []*cel.Type{cel.IntType}, cel.DurationType,
				cel.UnaryBinding(func(n ref.Val) ref.Val {
					return types.Duration{Duration: time.Duration(n.(types.Int)) * 24 * time.Hour}
				}))),
		cel.Function("date",
			cel.Overload("date_string", []*cel.Type{cel.StringType}, cel.TimestampType,
				cel.UnaryBinding(func(s ref.Val) ref.Val {
					t, err := ParseDate(string(s.(types.String)))
					if err != nil {
						return types.NewErr("%v", err)
					}
					return types.Timestamp{Time: t}
				}))),
	)
	if err != nil {
		return nil, nil, err
	}
	return env, defs, nil
}

// PathComponents is path.components(p) in rules: the names along the
// path p, the zone first; empty components (a doubled or trailing slash)
// are skipped: "/tempZone/home/alice/x" gives [tempZone home alice x].
func PathComponents(p string) []string {
	out := []string{}
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// PathBase is path.base(p) in rules: the last component of p, "" for "/".
func PathBase(p string) string {
	cs := PathComponents(p)
	if len(cs) == 0 {
		return ""
	}
	return cs[len(cs)-1]
}

// PathDir is path.dir(p) in rules: the path of the collection that holds
// p; "/" for "/" and for a collection right below it, "" for "".
func PathDir(p string) string {
	if p == "" {
		return ""
	}
	cs := PathComponents(p)
	if len(cs) == 0 {
		return "/"
	}
	return PathJoin(cs[:len(cs)-1])
}

// PathJoin is path.join(names) in rules, the inverse of path.components:
// "/" followed by the names separated by "/".
func PathJoin(names []string) string { return "/" + strings.Join(names, "/") }

// ParseDate reads a time as RFC 3339 or as a date YYYY-MM-DD (midnight UTC).
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD or RFC 3339 (2006-01-02T15:04:05Z)", s)
}
