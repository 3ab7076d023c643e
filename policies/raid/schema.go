package raid

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/arca-data/arca/catalog"
)

// The RAiD v2 API's OpenAPI document, as ARDC publishes it:
// au-research/raid-au, api-svc/idl-raid-v2/src/raido-openapi-3.0.yaml at
// commit fd80d56ceec635da566a07d0b9353df691dadd4a, Copyright 2022
// Australian Research Data Commons, Apache License 2.0. It is kept as it
// is; the corrections below are made to its schemas when they are read.
//
//go:embed raido-openapi-3.0.yaml
var openAPI []byte

// corrections are the "required" lists the document's schemas get wrong,
// so that a valid record would fail them: RaidCreateRequest and
// RaidUpdateRequest (whose schema RaidDto is) require "metadataSchema",
// "titles", "dates" and "contributors", properties they do not have
// (theirs are "title", "date", "contributor"; there is no
// "metadataSchema"); Id requires "servicePoint", which is a property of
// its owner (Owner.servicePoint); Language requires "code" where its
// property is "id".
var corrections = map[string][]string{
	"RaidCreateRequest": {"title", "date", "contributor", "access"},
	"RaidUpdateRequest": {"identifier", "title", "date", "contributor", "access"},
	"Id":                {"id", "schemaUri", "registrationAgency", "owner", "license", "version"},
	"Language":          {"id", "schemaUri"},
}

// ErrSchema is a record that fails the RAiD metadata schema.
var ErrSchema = fmt.Errorf("%w: the record fails the RAiD v2 metadata schema (RaidDto)", catalog.ErrInvalidArgument)

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// Schema is RaidDto of the RAiD v2 API, as a JSON Schema (draft 2020-12).
func Schema() (*jsonschema.Schema, error) {
	schemaOnce.Do(func() { schema, schemaErr = compileSchema() })
	return schema, schemaErr
}

func compileSchema() (*jsonschema.Schema, error) {
	var doc struct {
		Components struct {
			Schemas map[string]any `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		return nil, fmt.Errorf("RAiD OpenAPI document: %w", err)
	}
	defs := doc.Components.Schemas
	if defs["RaidDto"] == nil {
		return nil, errors.New("RAiD OpenAPI document: no RaidDto schema")
	}
	for name, required := range corrections {
		def, ok := defs[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("RAiD OpenAPI document: no %s schema to correct", name)
		}
		list := make([]any, len(required))
		for i, r := range required {
			list[i] = r
		}
		def["required"] = list
	}
	// OpenAPI's references point into components; a JSON Schema's into
	// $defs. A round trip through JSON also makes the values of YAML
	// (dates among the examples) plain JSON ones.
	raw, err := json.Marshal(map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$defs":   defs,
		"$ref":    "#/$defs/RaidDto",
	})
	if err != nil {
		return nil, err
	}
	raw = bytes.ReplaceAll(raw, []byte(`"#/components/schemas/`), []byte(`"#/$defs/`))
	root, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("https://arca-data.org/schemas/raid-v2-raiddto.json", root); err != nil {
		return nil, err
	}
	return c.Compile("https://arca-data.org/schemas/raid-v2-raiddto.json")
}

// Validate checks a record (a RaidDto, JSON) against the schema.
func Validate(doc []byte) error {
	s, err := Schema()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("%w: not JSON: %v", ErrSchema, err)
	}
	if err := s.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("%w:\n%s", ErrSchema, strings.TrimSpace(fmt.Sprintf("%v", ve)))
		}
		return fmt.Errorf("%w: %v", ErrSchema, err)
	}
	return nil
}
