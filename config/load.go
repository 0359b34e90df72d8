package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxDepth bounds the nesting the checker follows, so that an alias cycle
// cannot send it round for ever.
const maxDepth = 64

// maxNodes bounds the values the checker visits, aliases expanded, so that
// a "billion laughs" file is refused instead of walked.
const maxNodes = 1 << 20

// Load reads the config file at path and parses it with [Parse]; errors
// carry the file's name. A file that cannot be read is an *os.PathError,
// not an [Errors].
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parse(b, path)
}

// Parse decodes and validates a config file's contents. It returns the
// config with every default applied, or an [Errors] list of every problem
// found: syntax, unknown keys, wrong kinds of values, values out of range and
// settings that contradict each other.
func Parse(b []byte) (*Config, error) { return parse(b, "") }

func parse(b []byte, file string) (*Config, error) {
	col := &collector{file: file, lines: map[string]int{}, skip: map[string]bool{}}
	root, err := document(b)
	if err != nil {
		col.syntax(err)
		return nil, col.result()
	}
	var fc fileConfig
	if root != nil {
		col.check(root, reflect.TypeOf(fc), "", 0)
		// The checker has reported what is wrong with the tree in its own
		// words; the strict decoder is the safety net for anything it
		// missed (a number too large for int64, say).
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if !col.decodeErrors(dec.Decode(&fc)) || col.has(ErrSyntax) {
			// The decoder stopped short: checking what it decoded
			// would report fields as missing that are not.
			return nil, col.result()
		}
	}
	cfg := build(col, &fc)
	if err := col.result(); err != nil {
		return nil, err
	}
	cfg.source = file
	return cfg, nil
}

// decodeNode decodes n into v (a pointer) as strictly as Parse decodes a
// file; path prefixes the paths in errors.
func decodeNode(n *yaml.Node, v any, path, file string) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode %s: want a non-nil pointer, have %T", path, v)
	}
	col := &collector{file: file, lines: map[string]int{}, skip: map[string]bool{}}
	col.check(n, rv.Type().Elem(), path, 0)
	if len(col.errs) == 0 {
		col.decodeErrors(n.Decode(v))
	}
	return col.result()
}

// document parses b as one YAML document and returns its root node, nil
// for an empty file.
func document(b []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	default:
		return nil, fmt.Errorf("yaml: line %d: a second document starts here; want one document (remove the \"---\" and what follows, or merge them)", next.Line)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntax records a YAML syntax error.
func (c *collector) syntax(err error) {
	e := &Error{File: c.file, Msg: strings.TrimPrefix(err.Error(), "yaml: "), Err: errors.Join(ErrSyntax, err)}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	c.errs = append(c.errs, e)
}

// decimal matches an integer YAML resolves as a float because it does not
// fit in 64 bits.
var decimal = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

// isInteger reports whether n is an integer, or would be one if it fit in
// 64 bits.
func isInteger(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float" && decimal.MatchString(n.Value))
}

var typeErrorLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// decodeErrors records what the decoder found that the checker did not
// (errors on a line the checker already flagged are dropped). It returns
// false when the decoder stopped short of the end.
func (c *collector) decodeErrors(err error) bool {
	if err == nil {
		return true
	}
	flagged := map[int]bool{}
	for _, e := range c.errs {
		flagged[e.Line] = true
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		if len(c.errs) == 0 {
			c.syntax(err)
		}
		return false
	}
	for _, msg := range te.Errors {
		line := 0
		if m := typeErrorLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		if line > 0 && flagged[line] {
			continue
		}
		path := c.pathAt(line)
		c.skip[path] = true
		c.errs = append(c.errs, &Error{File: c.file, Line: line, Path: path, Msg: msg, Err: ErrType})
	}
	return true
}

// has reports whether a problem found so far wraps sentinel.
func (c *collector) has(sentinel error) bool {
	return slices.ContainsFunc(c.errs, func(e *Error) bool { return errors.Is(e, sentinel) })
}

// pathAt returns the deepest path whose value is on line.
func (c *collector) pathAt(line int) string {
	best := ""
	for p, l := range c.lines {
		if l == line && len(p) > len(best) {
			best = p
		}
	}
	return best
}

var (
	nodeType        = reflect.TypeFor[yaml.Node]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	yamlUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()
)

// check walks n against the Go type t that it will be decoded into: it
// records the line of every path, and reports unknown keys and values of
// the wrong kind with their path. Paths with a wrong kind are skipped by
// later checks (their field stays unset).
func (c *collector) check(n *yaml.Node, t reflect.Type, path string, depth int) {
	if depth > maxDepth {
		c.typeError(n, path, fmt.Sprintf("nested deeper than %d levels", maxDepth))
		return
	}
	if c.visits++; c.visits > maxNodes {
		if c.visits == maxNodes+1 {
			c.addErr(path, "", ErrSyntax, "more than %d values once aliases are expanded: want a smaller file, with fewer aliases", maxNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		c.check(n.Alias, t, path, depth+1)
		return
	}
	if _, ok := c.lines[path]; !ok {
		c.lines[path] = n.Line
	}
	if t == nodeType || t.Kind() == reflect.Interface {
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an unset field
	}
	if t.Kind() == reflect.Pointer {
		c.check(n, t.Elem(), path, depth+1)
		return
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(yamlUnmarshaler) {
		return // decodes itself
	}
	if pt.Implements(textUnmarshaler) {
		if n.Kind != yaml.ScalarNode {
			c.typeError(n, path, "want a string")
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		c.checkStruct(n, t, path, depth)
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			c.typeError(n, path, "want a list")
			return
		}
		for i, item := range n.Content {
			c.check(item, t.Elem(), index(path, i), depth+1)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.typeError(n, path, "want a mapping")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			c.check(n.Content[i+1], t.Elem(), field(path, n.Content[i].Value), depth+1)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			c.typeError(n, path, "want a string")
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			c.typeError(n, path, "want true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var v int64
		lo, hi := int64(-1)<<(t.Bits()-1), int64(1<<(t.Bits()-1)-1)
		switch {
		case !isInteger(n):
			c.typeError(n, path, "want an integer")
		case n.ShortTag() != "!!int" || n.Decode(&v) != nil || v < lo || v > hi:
			c.typeError(n, path, fmt.Sprintf("integer out of range: want %d to %d", lo, hi))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var v uint64
		hi := uint64(1<<t.Bits() - 1)
		switch {
		case !isInteger(n):
			c.typeError(n, path, "want a non-negative integer")
		case strings.HasPrefix(n.Value, "-"):
			c.typeError(n, path, "want a non-negative integer")
		case n.ShortTag() != "!!int" || n.Decode(&v) != nil || v > hi:
			c.typeError(n, path, fmt.Sprintf("integer out of range: want 0 to %d", hi))
		}
	case reflect.Float32, reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
			c.typeError(n, path, "want a number")
		}
	}
}

func (c *collector) checkStruct(n *yaml.Node, t reflect.Type, path string, depth int) {
	fields, names := yamlFields(t)
	if n.Kind != yaml.MappingNode {
		c.typeError(n, path, "want a mapping with keys "+strings.Join(names, ", "))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if first, dup := seen[k.Value]; dup {
			c.errs = append(c.errs, &Error{File: c.file, Line: k.Line, Path: field(path, k.Value),
				Msg: fmt.Sprintf("key given twice (first at line %d): keep one", first), Err: ErrSyntax})
			continue
		}
		seen[k.Value] = k.Line
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					c.check(m, t, path, depth+1)
				}
			} else {
				c.check(v, t, path, depth+1)
			}
			continue
		}
		ft, ok := fields[k.Value]
		if !ok {
			c.lines[field(path, k.Value)] = k.Line
			msg := "unknown key"
			if s := suggest(k.Value, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
				// The field is there, misspelled: saying it is missing
				// too would be noise.
				if !hasKey(n, s) {
					c.skip[field(path, s)] = true
				}
			}
			where := "at the top level"
			if path != "" {
				where = "in " + path
			}
			msg += fmt.Sprintf(" (keys %s: %s)", where, strings.Join(names, ", "))
			c.addErr(field(path, k.Value), "", ErrUnknownKey, "%s", msg)
			continue
		}
		// A field's line is its key's: for a mapping or a list that is
		// where it starts, for a block scalar where it is named.
		if _, ok := c.lines[field(path, k.Value)]; !ok {
			c.lines[field(path, k.Value)] = k.Line
		}
		c.check(v, ft, field(path, k.Value), depth+1)
	}
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// typeError reports a value of the wrong kind at path and skips the path.
func (c *collector) typeError(n *yaml.Node, path, want string) {
	c.addErr(path, describe(n), ErrType, "%s", want)
	c.skip[path] = true
}

// describe formats a node as it appears in the file, for an error.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.ShortTag() == "!!str" {
		return quote(n.Value)
	}
	return n.Value
}

// yamlFields returns the keys of struct t as the yaml package decodes them
// (tag names, lowercased field names, inline structs flattened), and the
// keys in field order.
func yamlFields(t reflect.Type) (map[string]reflect.Type, []string) {
	fields := map[string]reflect.Type{}
	var names []string
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("yaml")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if slices.Contains(strings.Split(opts, ","), "inline") {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
				}
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			if _, dup := fields[name]; !dup {
				names = append(names, name)
			}
			fields[name] = f.Type
		}
	}
	walk(t)
	return fields, names
}

// suggest returns the known key closest to an unknown one: the same key
// spelled with underscores for dashes or in another case, or one at most
// two edits away (one for a key of three or four letters, none for
// shorter ones).
func suggest(key string, known []string) string {
	norm := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	// Short keys get one edit: "a" is not a typo of "api".
	best, bestDist := "", 2
	if len(norm) > 4 {
		bestDist = 3
	}
	if len(norm) < 3 {
		bestDist = 1
	}
	for _, k := range known {
		if k == norm {
			return k
		}
		if d := editDistance(norm, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
