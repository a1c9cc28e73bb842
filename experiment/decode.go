package experiment

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A PathError is an experiment that cannot be read, named by the key path
// of its offending value (network.hidden, space.entries.2.lower).
type PathError struct {
	Path string
	Msg  string
}

func (e *PathError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func pathErr(path, format string, a ...any) error {
	return &PathError{Path: path, Msg: fmt.Sprintf(format, a...)}
}

// An Override sets the value at a key path, as key=value on the command
// line does. Value is YAML (a number, a word, [a, b], {k: v}). With Append
// the value is appended to the list at Path instead.
type Override struct {
	Path   string
	Value  string
	Append bool
	// Flag names the command-line flag the override stands for, if any,
	// for error messages.
	Flag string
}

// ParseOverride parses KEY=VALUE.
func ParseOverride(s string) (Override, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return Override{}, pathErr("", "override %q: want KEY=VALUE, e.g. network.hidden=500", s)
	}
	return Override{Path: k, Value: v}, nil
}

// Load decodes an experiment file's contents (nil: no file, every value
// its default) and applies the overrides in order. Decoding is strict: an
// unknown key, a value of the wrong type or an override of a key the
// schema does not have is an error naming the key path. Load fills in no
// defaults; Resolve does.
func Load(file []byte, overrides []Override) (Experiment, error) {
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if len(bytes.TrimSpace(file)) > 0 {
		var doc yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(file))
		if err := dec.Decode(&doc); err != nil {
			return Experiment{}, pathErr("", "not YAML: %v", err)
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); err != io.EOF {
			return Experiment{}, pathErr("", "more than one YAML document")
		}
		if len(doc.Content) == 1 && doc.Content[0].Kind != yaml.ScalarNode {
			root = doc.Content[0]
		} else if len(doc.Content) == 1 && doc.Content[0].Tag != "!!null" {
			return Experiment{}, pathErr("", "the file is not a mapping of keys to values")
		}
	}
	typ := reflect.TypeFor[Experiment]()
	if err := check(root, typ, ""); err != nil {
		return Experiment{}, err
	}
	if len(file) > 0 {
		// The library's own strict decoding, behind the checks above that
		// name key paths.
		dec := yaml.NewDecoder(bytes.NewReader(file))
		dec.KnownFields(true)
		var e Experiment
		if err := dec.Decode(&e); err != nil && !errors.Is(err, io.EOF) {
			return Experiment{}, pathErr("", "%v", err)
		}
	}
	for _, o := range overrides {
		if err := apply(root, typ, o); err != nil {
			return Experiment{}, err
		}
	}
	if err := check(root, typ, ""); err != nil {
		return Experiment{}, err
	}
	// The document goes over the defaults of its setup, key by key, so
	// that a value given as 0 stays 0 (and is refused if it must not be),
	// and a layer setting given in part keeps the paper's other values.
	setup := ""
	if n := lookup(root, "network", "setup"); n != nil && n.Kind == yaml.ScalarNode {
		setup = n.Value
	}
	var defs yaml.Node
	b, err := Marshal(Defaults(setup))
	if err == nil {
		err = yaml.Unmarshal(b, &defs)
	}
	if err != nil || len(defs.Content) != 1 {
		return Experiment{}, fmt.Errorf("experiment: encoding the defaults: %v", err)
	}
	merged := merge(defs.Content[0], root)
	var e Experiment
	if err := merged.Decode(&e); err != nil {
		return Experiment{}, pathErr("", "%v", err)
	}
	return e, nil
}

// lookup returns the value at the key path in a mapping node, or nil.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// merge returns over laid over base: mappings merge key by key, anything
// else in over (a null too: it means "the default") replaces base's.
func merge(base, over *yaml.Node) *yaml.Node {
	if over.Kind == yaml.ScalarNode && over.Tag == "!!null" {
		return base
	}
	if base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	done := map[string]bool{}
	for i := 0; i+1 < len(base.Content); i += 2 {
		k := base.Content[i].Value
		v := base.Content[i+1]
		if o := lookup(over, k); o != nil {
			v = merge(v, o)
		}
		done[k] = true
		out.Content = append(out.Content, base.Content[i], v)
	}
	for i := 0; i+1 < len(over.Content); i += 2 {
		if !done[over.Content[i].Value] {
			out.Content = append(out.Content, over.Content[i], over.Content[i+1])
		}
	}
	return out
}

// yamlName returns a struct field's YAML key, or "" if it has none.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); yamlName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func keysOf(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if n := yamlName(t.Field(i)); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// check reports the first value of n that does not fit t, by key path.
func check(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return pathErr(path, "want a mapping with keys %s, got %s", strings.Join(keysOf(t), ", "), describe(n))
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			f, ok := fieldByKey(t, key)
			if !ok {
				return pathErr(join(path, key), "unknown key; %s takes %s", nameOr(path, "the file"), strings.Join(keysOf(t), ", "))
			}
			if seen[key] {
				return pathErr(join(path, key), "given twice")
			}
			seen[key] = true
			if err := check(n.Content[i+1], f.Type, join(path, key)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return pathErr(path, "want a list, got %s", describe(n))
		}
		if t.Kind() == reflect.Array && len(n.Content) != t.Len() {
			return pathErr(path, "want a list of %d, got %d values", t.Len(), len(n.Content))
		}
		for i, c := range n.Content {
			if err := check(c, t.Elem(), join(path, strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map, reflect.Interface:
		return nil // settings: checked by the sampler or pruner they configure
	}
	if n.Kind != yaml.ScalarNode {
		return pathErr(path, "want %s, got %s", typeWord(t), describe(n))
	}
	v := reflect.New(t)
	if err := n.Decode(v.Interface()); err != nil {
		return pathErr(path, "want %s, got %q", typeWord(t), n.Value)
	}
	return nil
}

func nameOr(path, def string) string {
	if path == "" {
		return def
	}
	return path
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

func typeWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Uint64, reflect.Uint, reflect.Uint32:
		return "a non-negative integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

// apply sets o in the document n of type t. The path must exist in the
// schema (not necessarily in the document: a missing mapping is created).
func apply(root *yaml.Node, t reflect.Type, o Override) error {
	full := o.Path + "=" + o.Value
	var val yaml.Node
	if err := yaml.Unmarshal([]byte(o.Value), &val); err != nil {
		return pathErr(o.Path, "override %s: the value is not YAML: %v", full, err)
	}
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ""}
	if len(val.Content) == 1 {
		v = val.Content[0]
	}
	parts := strings.Split(o.Path, ".")
	n := root
	path := ""
	for i, p := range parts {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		last := i == len(parts)-1
		switch t.Kind() {
		case reflect.Struct:
			f, ok := fieldByKey(t, p)
			if !ok {
				return pathErr(join(path, p), "override %s: no such key; %s takes %s", full, nameOr(path, "an experiment"), strings.Join(keysOf(t), ", "))
			}
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			if n.Kind != yaml.MappingNode {
				return pathErr(path, "override %s: %s is not a mapping", full, path)
			}
			var child *yaml.Node
			for k := 0; k+1 < len(n.Content); k += 2 {
				if n.Content[k].Value == p {
					child = n.Content[k+1]
				}
			}
			if child == nil {
				child = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p}, child)
			}
			n, t, path = child, f.Type, join(path, p)
		case reflect.Slice, reflect.Array:
			k, err := strconv.Atoi(p)
			if err != nil || n.Kind != yaml.SequenceNode || k < 0 || k >= len(n.Content) {
				return pathErr(join(path, p), "override %s: %s has %d entries; %q is not one of their indices", full, path, len(n.Content), p)
			}
			n, t, path = n.Content[k], t.Elem(), join(path, p)
		case reflect.Map, reflect.Interface:
			// Settings: any key, checked by their sampler or pruner.
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			if n.Kind != yaml.MappingNode {
				return pathErr(path, "override %s: %s is not a mapping", full, path)
			}
			var child *yaml.Node
			for k := 0; k+1 < len(n.Content); k += 2 {
				if n.Content[k].Value == p {
					child = n.Content[k+1]
				}
			}
			if child == nil {
				child = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p}, child)
			}
			n, path = child, join(path, p)
			t = reflect.TypeFor[any]()
		default:
			return pathErr(join(path, p), "override %s: %s is a value, not a mapping", full, path)
		}
		if last {
			break
		}
	}
	if o.Append {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Slice {
			return pathErr(o.Path, "override %s: not a list", full)
		}
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			*n = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		}
		if err := check(v, t.Elem(), join(o.Path, strconv.Itoa(len(n.Content)))); err != nil {
			return err
		}
		n.Content = append(n.Content, v)
		return nil
	}
	if err := check(v, t, o.Path); err != nil {
		var pe *PathError
		if errors.As(err, &pe) {
			pe.Msg = "override " + full + ": " + pe.Msg
		}
		return err
	}
	*n = *v
	return nil
}

// Marshal returns e as YAML, every resolved value written out.
func Marshal(e Experiment) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sortedKeys returns m's keys in order, for deterministic messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
