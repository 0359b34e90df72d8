package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Errors of the package; every [Error] wraps one, match them with errors.Is.
var (
	// ErrSyntax means the file is not YAML, or not one YAML document.
	ErrSyntax = errors.New("invalid yaml")
	// ErrUnknownKey means a key the schema does not have (often a typo, or
	// FRR's dashed spelling of a snake_case key).
	ErrUnknownKey = errors.New("unknown key")
	// ErrType means a value of the wrong kind: a list where a number
	// belongs, text where true or false belongs.
	ErrType = errors.New("wrong type")
	// ErrInvalid means a value the schema does not allow, or a combination
	// of values that cannot run together.
	ErrInvalid = errors.New("invalid value")
)

// Error is one problem with a config file.
type Error struct {
	// File is the file's name as given to Load; "" for Parse.
	File string
	// Line is the line of the offending key or value (of the closest
	// enclosing one when the field is missing); 0 when unknown.
	Line int
	// Path is the field's path, as "interfaces[2].vlans[0].vni"; "" for the
	// file as a whole.
	Path string
	// Value is the offending value as written (quoted if a string), ""
	// when the field is missing or the problem is not one value.
	Value string
	// Msg says what is wrong and what would be accepted.
	Msg string
	// Err is the sentinel ([ErrSyntax], [ErrUnknownKey], [ErrType],
	// [ErrInvalid]) and, where there is one, the parser's error.
	Err error
}

// Error formats the problem as "file:line: path: value: message".
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Value != "" {
		b.WriteString(e.Value)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel and the parser's error.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in a config file, ordered by line. It is
// never empty when returned as an error.
type Errors []*Error

// Error lists the problems one a line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so errors.Is and errors.As see each one.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// collector gathers the problems of one file.
type collector struct {
	file  string
	lines map[string]int // path -> line
	errs  Errors
	// skip are paths whose value could not be decoded: problems found at
	// or under them are consequences, not news.
	skip map[string]bool
	// visits counts the nodes check has seen.
	visits int
}

// line returns the line of path, or of its closest ancestor in the file.
func (c *collector) line(path string) int {
	for p := path; ; p = parent(p) {
		if l, ok := c.lines[p]; ok {
			return l
		}
		if p == "" {
			return 0
		}
	}
}

func (c *collector) skipped(path string) bool {
	for p := path; ; p = parent(p) {
		if c.skip[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

// add records an invalid value at path; value is formatted as written.
func (c *collector) add(path, value, format string, args ...any) {
	c.addErr(path, value, ErrInvalid, format, args...)
}

func (c *collector) addErr(path, value string, sentinel error, format string, args ...any) {
	if c.skipped(path) {
		return
	}
	c.errs = append(c.errs, &Error{
		File: c.file, Line: c.line(path), Path: path, Value: value,
		Msg: fmt.Sprintf(format, args...), Err: sentinel,
	})
}

// result returns the problems sorted by line (stable, so problems on one
// line keep the order they were found in), or nil.
func (c *collector) result() error {
	if len(c.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(c.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	return c.errs
}

// parent returns the path one level up: "a.b[2]" -> "a.b", "a.b" -> "a".
func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func field(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// quote formats a string value as written in an error.
func quote(s string) string { return strconv.Quote(s) }
