// Package dmp reads machine-actionable data management plans (RDA DMP
// Common Standard, maDMP v1.2) and turns them into storage requirements:
// each dataset maps to a collection, and its distributions' hosts become
// QoS requirements through a site vocabulary that a data steward edits
// (vocabulary.go). A DMP is validated against the project's copy of the
// maDMP v1.2 JSON Schema (maDMP-schema-1.2.json beside this file, from
// RDA-DMP-Common/RDA-DMP-Common-Standard, public domain) with a
// schema-validation library, not by hand.
package dmp

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/arca-data/arca/catalog"
)

//go:embed maDMP-schema-1.2.json
var schemaJSON []byte

// schemaURL is the schema's $id.
const schemaURL = "https://github.com/RDA-DMP-Common/RDA-DMP-Common-Standard/tree/master/examples/JSON/JSON-schema/1.2"

// MaxSize is the largest DMP file read.
const MaxSize = 10 << 20

// FieldError is a DMP refused for one field, named as a JSON pointer
// ("/dmp/dataset/1/dataset_id").
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return "dmp: " + e.Msg
	}
	return fmt.Sprintf("dmp: field %s: %s", e.Field, e.Msg)
}

// Unwrap makes a refusal an invalid argument for the zone's error table.
func (e *FieldError) Unwrap() error { return catalog.ErrInvalidArgument }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validator checks DMPs against the maDMP v1.2 schema, compiled once.
type Validator struct {
	schema *jsonschema.Schema
}

// NewValidator compiles the shipped schema.
func NewValidator() (*Validator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("maDMP schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("maDMP schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("maDMP schema: %w", err)
	}
	return &Validator{schema: s}, nil
}

// DMP is what Arca reads of a plan; Raw is the whole document as given,
// unknown keys included, which the catalog stores.
type DMP struct {
	ID       string // dmp_id.identifier
	IDType   string
	Title    string
	Created  time.Time
	Modified time.Time // the version: a newer one replaces an older
	Contact  string    // contact.mbox
	Datasets []Dataset
	// Projects' RAiDs (project[].project_id of type raid).
	RAiDs []string
	Raw   json.RawMessage
}

// Dataset is one dataset of a DMP.
type Dataset struct {
	Index         int // in dmp.dataset, for field names
	ID, IDType    string
	Title         string
	PersonalData  string // yes, no, unknown
	SensitiveData string
	Distributions []Distribution
}

// Distribution is one distribution of a dataset.
type Distribution struct {
	Title          string
	DataAccess     string // open, shared, closed
	AvailableUntil string // a date, "" for none
	Licenses       []License
	Host           *Host
}

// License is a distribution's licence; a start date in the future is an
// embargo.
type License struct {
	Ref       string
	StartDate string
}

// Host is where a distribution is kept: the QoS it promises.
type Host struct {
	Title, URL                  string
	BackupType, BackupFrequency string
	StorageType, GeoLocation    string
	SupportVersioning           string // either spelling (support_/supports_versioning)
	Availability                float64
	AvailabilityText            string // as written ("99,5")
	CertifiedWith, PIDSystem    []string
}

// raw mirrors the parts of the schema Arca reads.
type raw struct {
	DMP struct {
		Title    string `json:"title"`
		Created  string `json:"created"`
		Modified string `json:"modified"`
		DMPID    struct {
			Identifier string `json:"identifier"`
			Type       string `json:"type"`
		} `json:"dmp_id"`
		Contact struct {
			Mbox string `json:"mbox"`
		} `json:"contact"`
		Project []struct {
			ProjectID []struct {
				Identifier string `json:"identifier"`
				Type       string `json:"type"`
			} `json:"project_id"`
		} `json:"project"`
		Dataset []struct {
			Title     string `json:"title"`
			DatasetID struct {
				Identifier string `json:"identifier"`
				Type       string `json:"type"`
			} `json:"dataset_id"`
			PersonalData  string `json:"personal_data"`
			SensitiveData string `json:"sensitive_data"`
			Distribution  []struct {
				Title          string `json:"title"`
				DataAccess     string `json:"data_access"`
				AvailableUntil string `json:"available_until"`
				License        []struct {
					Ref       string `json:"license_ref"`
					StartDate string `json:"start_date"`
				} `json:"license"`
				Host map[string]any `json:"host"`
			} `json:"distribution"`
		} `json:"dataset"`
	} `json:"dmp"`
}

// Parse reads a DMP: at most MaxSize bytes of JSON that pass the maDMP
// v1.2 schema, whose datasets have distinct identifiers. A refusal is a
// *FieldError naming the field.
func (v *Validator) Parse(r io.Reader) (*DMP, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read dmp: %w", err)
	}
	if len(data) > MaxSize {
		return nil, fieldErr("", "larger than %d MiB", MaxSize>>20)
	}
	if !json.Valid(data) {
		var se *json.SyntaxError
		var x any
		if err := json.Unmarshal(data, &x); errors.As(err, &se) {
			return nil, fieldErr("", "not JSON: %v at byte %d", se, se.Offset)
		}
		return nil, fieldErr("", "not JSON")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fieldErr("", "not JSON: %v", err)
	}
	if err := v.schema.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return nil, schemaError(ve)
		}
		return nil, fieldErr("", "fails the maDMP v1.2 schema: %v", err)
	}
	var doc raw
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fieldErr("", "%v", err)
	}
	d := doc.DMP
	out := &DMP{ID: d.DMPID.Identifier, IDType: d.DMPID.Type, Title: d.Title, Contact: d.Contact.Mbox, Raw: json.RawMessage(data)}
	if out.Created, err = parseTime(d.Created); err != nil {
		return nil, fieldErr("/dmp/created", "%v", err)
	}
	if out.Modified, err = parseTime(d.Modified); err != nil {
		return nil, fieldErr("/dmp/modified", "%v", err)
	}
	for _, p := range d.Project {
		for _, id := range p.ProjectID {
			if strings.EqualFold(id.Type, "raid") {
				out.RAiDs = append(out.RAiDs, id.Identifier)
			}
		}
	}
	seen := map[string]int{}
	for i, ds := range d.Dataset {
		key := ds.DatasetID.Type + ":" + ds.DatasetID.Identifier
		if j, dup := seen[key]; dup {
			return nil, fieldErr(fmt.Sprintf("/dmp/dataset/%d/dataset_id", i), "%s %q names dataset %d too: each dataset needs its own identifier",
				ds.DatasetID.Type, ds.DatasetID.Identifier, j)
		}
		seen[key] = i
		set := Dataset{Index: i, ID: ds.DatasetID.Identifier, IDType: ds.DatasetID.Type, Title: ds.Title,
			PersonalData: ds.PersonalData, SensitiveData: ds.SensitiveData}
		for k, dist := range ds.Distribution {
			out := Distribution{Title: dist.Title, DataAccess: dist.DataAccess, AvailableUntil: dist.AvailableUntil}
			for _, l := range dist.License {
				out.Licenses = append(out.Licenses, License{Ref: l.Ref, StartDate: l.StartDate})
			}
			if dist.Host != nil {
				h, err := readHost(dist.Host, fmt.Sprintf("/dmp/dataset/%d/distribution/%d/host", i, k))
				if err != nil {
					return nil, err
				}
				out.Host = h
			}
			set.Distributions = append(set.Distributions, out)
		}
		out.Datasets = append(out.Datasets, set)
	}
	return out, nil
}

// readHost reads a host, with the quirks of real files: the versioning
// key spelled two ways, availability with a decimal comma ("99,5").
func readHost(m map[string]any, field string) (*Host, error) {
	s := func(k string) string { v, _ := m[k].(string); return v }
	list := func(k string) []string {
		var out []string
		switch v := m[k].(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					out = append(out, s)
				}
			}
		}
		return out
	}
	h := &Host{Title: s("title"), URL: s("url"), BackupType: s("backup_type"), BackupFrequency: s("backup_frequency"),
		StorageType: s("storage_type"), GeoLocation: s("geo_location"), SupportVersioning: s("support_versioning"),
		AvailabilityText: s("availability"), CertifiedWith: list("certified_with"), PIDSystem: list("pid_system")}
	if h.SupportVersioning == "" {
		h.SupportVersioning = s("supports_versioning")
	}
	if h.AvailabilityText != "" {
		a, err := strconv.ParseFloat(strings.TrimSuffix(strings.ReplaceAll(strings.TrimSpace(h.AvailabilityText), ",", "."), "%"), 64)
		if err != nil || a < 0 || a > 100 {
			return nil, fieldErr(field+"/availability", "%q: want a percentage such as 99.5 or 99,5", h.AvailabilityText)
		}
		h.Availability = a
	}
	return h, nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date-time", s)
}

// schemaError names the deepest field the schema refused.
func schemaError(ve *jsonschema.ValidationError) error {
	leaf := ve
	for len(leaf.Causes) > 0 {
		leaf = leaf.Causes[0]
	}
	field := "/" + strings.Join(leaf.InstanceLocation, "/")
	msg := leaf.Error()
	if leaf.ErrorKind != nil {
		msg = leaf.ErrorKind.LocalizedString(message.NewPrinter(language.English))
	}
	return fieldErr(field, "fails the maDMP v1.2 schema: %s", msg)
}
