package dmp

import (
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arca-data/arca/catalog"
)

// DefaultVocabulary is the vocabulary shipped beside this file, a starting
// point for a site's own.
//
//go:embed vocabulary.yaml
var DefaultVocabulary []byte

// Rule is one requirement a vocabulary entry gives.
type Rule struct {
	Expression string `yaml:"expression"`
	Replicas   int    `yaml:"replicas"`
}

// Vocabulary maps a DMP's free text to requirements (vocabulary.yaml).
type Vocabulary struct {
	Collection   string          `yaml:"collection"`
	BackupType   map[string]Rule `yaml:"backup_type"`
	StorageType  map[string]Rule `yaml:"storage_type"`
	GeoAttribute string          `yaml:"geo_attribute"`
	SensitiveGeo []string        `yaml:"sensitive_geo"`
	Default      *Rule           `yaml:"default"`
}

// ParseVocabulary reads a vocabulary file, refusing unknown keys.
func ParseVocabulary(data []byte) (*Vocabulary, error) {
	var v Vocabulary
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: site vocabulary: %v", catalog.ErrInvalidArgument, err)
	}
	if v.Collection == "" {
		return nil, fmt.Errorf("%w: site vocabulary: no collection template", catalog.ErrInvalidArgument)
	}
	if v.GeoAttribute == "" {
		v.GeoAttribute = "geo"
	}
	lower := func(m map[string]Rule) map[string]Rule {
		out := map[string]Rule{}
		for k, r := range m {
			if r.Replicas == 0 {
				r.Replicas = 1
			}
			out[strings.ToLower(strings.TrimSpace(k))] = r
		}
		return out
	}
	v.BackupType, v.StorageType = lower(v.BackupType), lower(v.StorageType)
	if v.Default != nil && v.Default.Replicas == 0 {
		v.Default.Replicas = 1
	}
	return &v, nil
}

// Requirement is one QoS requirement a plan puts on a collection, with the
// field of the DMP it comes from.
type Requirement struct {
	Expression string `json:"expression"`
	Replicas   int    `json:"replicas"`
	From       string `json:"from"`
}

// DatasetPlan is what importing a DMP does for one dataset.
type DatasetPlan struct {
	Dataset      string        `json:"dataset"`
	Collection   string        `json:"collection"`
	Requirements []Requirement `json:"requirements"`
	// Access is the widest data_access of its distributions (open, shared,
	// closed); RetainUntil the latest available_until; EmbargoUntil the
	// latest licence start date after now. They are reported; applying
	// them (ACLs, locks) is not done yet.
	Access       string `json:"access,omitempty"`
	RetainUntil  string `json:"retain_until,omitempty"`
	EmbargoUntil string `json:"embargo_until,omitempty"`
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Plan maps the datasets of d to collections of zone and requirements.
// paths names the collection of a dataset by its identifier (idmp import
// --dataset ID=PATH); a path outside the zone is refused naming it. today
// decides what is an embargo ("2006-01-02").
func (v *Vocabulary) Plan(d *DMP, zone string, paths map[string]string, today string) ([]DatasetPlan, error) {
	known := map[string]bool{}
	for _, ds := range d.Datasets {
		known[ds.ID] = true
	}
	for id := range paths {
		if !known[id] {
			return nil, fieldErr("--dataset "+id, "the DMP has no dataset with that identifier")
		}
	}
	zoneRoot := catalog.MustPath("/" + zone)
	var out []DatasetPlan
	seenColl := map[string]string{}
	for _, ds := range d.Datasets {
		field := fmt.Sprintf("/dmp/dataset/%d", ds.Index)
		coll, from := paths[ds.ID], "--dataset "+ds.ID
		if coll == "" {
			from = "collection (site vocabulary)"
			coll = strings.NewReplacer("{zone}", zone, "{dmp}", unsafeName.ReplaceAllString(d.ID, "_"),
				"{dataset}", unsafeName.ReplaceAllString(ds.ID, "_")).Replace(v.Collection)
		}
		p, err := catalog.ParsePath(coll)
		if err != nil {
			return nil, fieldErr(from, "%v", err)
		}
		if !p.HasPrefix(zoneRoot) || p == zoneRoot {
			return nil, fieldErr(from, "%s lies outside the zone %s", p, zone)
		}
		if other, dup := seenColl[p.String()]; dup {
			return nil, fieldErr(field+"/dataset_id", "maps to %s, as dataset %s does", p, other)
		}
		seenColl[p.String()] = ds.ID
		plan := DatasetPlan{Dataset: ds.ID, Collection: p.String()}
		sensitive := ds.PersonalData == "yes" || ds.SensitiveData == "yes"
		for k, dist := range ds.Distributions {
			df := fmt.Sprintf("%s/distribution/%d", field, k)
			plan.Access = widest(plan.Access, dist.DataAccess)
			if dist.AvailableUntil > plan.RetainUntil {
				plan.RetainUntil = dist.AvailableUntil
			}
			for _, l := range dist.Licenses {
				if l.StartDate > today && l.StartDate > plan.EmbargoUntil {
					plan.EmbargoUntil = l.StartDate
				}
			}
			h := dist.Host
			if h == nil {
				continue
			}
			var rs []Requirement
			if r, ok := v.BackupType[strings.ToLower(strings.TrimSpace(h.BackupType))]; ok && h.BackupType != "" {
				rs = append(rs, Requirement{r.Expression, r.Replicas, df + "/host/backup_type"})
			}
			if r, ok := v.StorageType[strings.ToLower(strings.TrimSpace(h.StorageType))]; ok && h.StorageType != "" {
				rs = append(rs, Requirement{r.Expression, r.Replicas, df + "/host/storage_type"})
			}
			if h.GeoLocation != "" {
				geo := v.GeoAttribute + "=" + h.GeoLocation
				if len(rs) == 0 {
					rs = append(rs, Requirement{geo, 1, df + "/host/geo_location"})
				} else {
					for i := range rs {
						rs[i].Expression = "(" + rs[i].Expression + ") & " + geo
						rs[i].From += " + geo_location"
					}
				}
			}
			plan.Requirements = append(plan.Requirements, rs...)
		}
		if len(plan.Requirements) == 0 && v.Default != nil {
			plan.Requirements = append(plan.Requirements, Requirement{v.Default.Expression, v.Default.Replicas, "default (site vocabulary)"})
		}
		if sensitive && len(v.SensitiveGeo) > 0 {
			var alts []string
			for _, c := range v.SensitiveGeo {
				alts = append(alts, v.GeoAttribute+"="+c)
			}
			allowed := "(" + strings.Join(alts, " | ") + ")"
			which := "personal_data"
			if ds.PersonalData != "yes" {
				which = "sensitive_data"
			}
			for i := range plan.Requirements {
				plan.Requirements[i].Expression = "(" + plan.Requirements[i].Expression + ") & " + allowed
				plan.Requirements[i].From += " + " + field + "/" + which
			}
		}
		out = append(out, plan)
	}
	return out, nil
}

// widest of two data_access values: open > shared > closed.
func widest(a, b string) string {
	order := []string{"", "closed", "shared", "open"}
	if slices.Index(order, b) > slices.Index(order, a) {
		return b
	}
	return a
}
