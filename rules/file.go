package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds a rule file, so a stray large file in the rules
// directory cannot exhaust the server.
const MaxFileSize = 4 << 20

// Error is one problem in a rule file, with where it is.
type Error struct {
	File   string
	Line   int // 1-based; 0 when unknown
	Column int // 1-based; 0 when unknown
	Rule   string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a set of rule files, in file and line
// order.
type Errors []*Error

func (es Errors) Error() string {
	var lines []string
	for _, e := range es {
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].File != es[j].File {
			return es[i].File < es[j].File
		}
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Column < es[j].Column
	})
	return es
}

// ruleSpec is one rule as written, with the YAML nodes of its expressions
// so that errors point into the file.
type ruleSpec struct {
	Name        string    `yaml:"name"`
	Description string    `yaml:"description"`
	On          opList    `yaml:"on"`
	When        string    `yaml:"when"`
	Priority    int       `yaml:"priority"`
	Mode        string    `yaml:"mode"`
	Failure     string    `yaml:"failure"`
	Condition   yaml.Node `yaml:"condition"`
	Deny        yaml.Node `yaml:"deny"`
	Then        yaml.Node `yaml:"then"`
	Every       string    `yaml:"every"`
	Select      yaml.Node `yaml:"select"`
	Async       yaml.Node `yaml:"async"`

	file      string
	line, col int
	index     int // position in its file
}

type fileSpec struct {
	Rules []yaml.Node `yaml:"rules"`
}

// opList is "on": one operation pattern or a list of them.
type opList []string

func (o *opList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*o = opList{n.Value}
		return nil
	case yaml.SequenceNode:
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		*o = list
		return nil
	}
	return fmt.Errorf("line %d: on: want an operation or a list of operations", n.Line)
}

// parseFile reads the rules of one file. It checks the shape (known keys,
// types) but not the expressions, which compile checks.
func parseFile(name string, data []byte) ([]*ruleSpec, Errors) {
	if len(data) > MaxFileSize {
		return nil, Errors{{File: name, Msg: fmt.Sprintf("file of %d bytes is larger than %d", len(data), MaxFileSize)}}
	}
	var doc fileSpec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty file holds no rules
		}
		return nil, Errors{yamlError(name, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, Errors{{File: name, Line: extra.Line, Msg: "more than one YAML document; put all rules under one \"rules:\" list"}}
	}
	var specs []*ruleSpec
	var errs Errors
	for i, n := range doc.Rules {
		s := &ruleSpec{file: name, line: n.Line, col: n.Column, index: i}
		if n.Kind != yaml.MappingNode {
			errs = append(errs, &Error{File: name, Line: n.Line, Column: n.Column, Msg: "a rule must be a mapping with name, on, when, ..."})
			continue
		}
		if err := decodeStrict(&n, s); err != nil {
			e := yamlError(name, err)
			e.Rule = ruleNameOf(&n)
			if e.Line == 0 {
				e.Line, e.Column = n.Line, n.Column
			}
			errs = append(errs, e)
			continue
		}
		specs = append(specs, s)
	}
	return specs, errs
}

// ruleKeys are the keys a rule may have: a misspelt "condtion" must not
// silently make a rule match everything.
var ruleKeys = map[string]bool{
	"name": true, "description": true, "on": true, "when": true, "priority": true,
	"mode": true, "failure": true, "condition": true, "deny": true, "then": true, "every": true,
	"select": true, "async": true,
}

// decodeStrict decodes the rule mapping n into s, refusing unknown keys.
// Decoding from the node keeps the positions of the expression nodes.
func decodeStrict(n *yaml.Node, s *ruleSpec) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !ruleKeys[k.Value] {
			return &posError{line: k.Line, col: k.Column, msg: fmt.Sprintf("unknown key %q (a rule has name, description, on, when, every, select, priority, mode, failure, condition, deny, then, async)", k.Value)}
		}
	}
	return n.Decode(s)
}

// posError is an error at a known place.
type posError struct {
	line, col int
	msg       string
}

func (p *posError) Error() string { return p.msg }

func ruleNameOf(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// yamlError turns a yaml.v3 error ("yaml: line 3: ...") into an Error.
func yamlError(file string, err error) *Error {
	var pe *posError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.line, Column: pe.col, Msg: pe.msg}
	}
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ":"); ok {
			if _, err := fmt.Sscanf(n, "%d", &line); err == nil {
				msg = strings.TrimSpace(tail)
			}
		}
	}
	return &Error{File: file, Line: line, Msg: msg}
}
