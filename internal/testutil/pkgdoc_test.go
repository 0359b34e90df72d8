package testutil_test

import (
	"errors"
	"go/ast"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPackageDocs checks that every package in the module has exactly one
// package doc comment, "// Package name ..." (any doc comment for a command),
// as tailscale's tstest/pkgdoc does. Test files and files excluded with
// //go:build ignore don't count; tools/ (its own module), bpf/ (C), testdata
// and hidden directories are skipped.
func TestPackageDocs(t *testing.T) {
	root := moduleRoot(t)
	skip := map[string]bool{
		filepath.Join(root, "tools"): true,
		filepath.Join(root, "bpf"):   true,
		filepath.Join(root, "bin"):   true,
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (skip[path] || name == "testdata" || name == "vendor" ||
			strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		if path != root {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		for pkg, docs := range packageDocs(t, fset, path, rel) {
			switch {
			case len(docs) == 0 && pkg == "main":
				t.Errorf("%s: command has no doc comment; add one, e.g. in doc.go", rel)
			case len(docs) == 0:
				t.Errorf("%s: package %s has no doc comment; add \"// Package %s ...\" in doc.go", rel, pkg, pkg)
			case len(docs) > 1:
				t.Errorf("%s: package %s has %d doc comments, want one: in %s", rel, pkg, len(docs), strings.Join(docs, ", "))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// packageDocs parses the non-test .go files in dir and returns, for each
// package there, the files that carry a package doc comment.
func packageDocs(t *testing.T, fset *token.FileSet, dir, rel string) map[string][]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("parse %s/%s: %v", rel, name, err)
			continue
		}
		if ignored(f) {
			continue
		}
		pkg := f.Name.Name
		if _, ok := docs[pkg]; !ok {
			docs[pkg] = nil
		}
		if isPackageDoc(pkg, f.Doc) {
			docs[pkg] = append(docs[pkg], name)
		} else if f.Doc != nil && pkg != "main" {
			t.Errorf("%s/%s: comment above the package clause does not start with \"Package %s \"", rel, name, pkg)
		}
	}
	return docs
}

// isPackageDoc reports whether doc is a package doc comment for pkg. A
// command's doc may start any way ("Fwd runs ...", "Command fwd ...").
func isPackageDoc(pkg string, doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	text := doc.Text()
	if pkg == "main" {
		return strings.TrimSpace(text) != ""
	}
	return strings.HasPrefix(text, "Package "+pkg+" ") || strings.HasPrefix(text, "Package "+pkg+"\n")
}

// ignored reports whether f has a //go:build constraint naming "ignore", so
// it is in no package (generators, C-side helpers).
func ignored(f *ast.File) bool {
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if !constraint.IsGoBuild(c.Text) {
				continue
			}
			expr, err := constraint.Parse(c.Text)
			if err != nil {
				continue
			}
			if hasTag(expr, "ignore") {
				return true
			}
		}
	}
	return false
}

func hasTag(e constraint.Expr, tag string) bool {
	switch e := e.(type) {
	case *constraint.TagExpr:
		return e.Tag == tag
	case *constraint.NotExpr:
		return hasTag(e.X, tag)
	case *constraint.AndExpr:
		return hasTag(e.X, tag) || hasTag(e.Y, tag)
	case *constraint.OrExpr:
		return hasTag(e.X, tag) || hasTag(e.Y, tag)
	}
	return false
}

// moduleRoot walks up from the working directory to the go.mod of the
// github.com/fwdplane/fwd module.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && slices.Contains(strings.Fields(string(data)), "github.com/fwdplane/fwd") {
			return dir
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of module github.com/fwdplane/fwd above the working directory")
		}
		dir = parent
	}
}
