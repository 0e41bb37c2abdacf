package wire

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenOK(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"0123abcd", "0123abcd", true},
		{"0123abcd", "0123abce", false},
		{"0123abcd", "1123abcd", false},
		{"0123abcd", "0123abc", false},
		{"", "", true},
		{"", "0", false},
	} {
		if got := tokenOK([]byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("tokenOK(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

// TestAuthTokensComparedInConstantTime: no == or != in the package's code
// has a received auth token (a variable named tok) as an operand: those
// compares stop at the first differing byte and leak where it is. Tokens
// go through tokenOK (crypto/subtle).
func TestAuthTokensComparedInConstantTime(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			be, ok := n.(*ast.BinaryExpr)
			if !ok || (be.Op != token.EQL && be.Op != token.NEQ) {
				return true
			}
			for _, x := range []ast.Expr{be.X, be.Y} {
				ast.Inspect(x, func(n ast.Node) bool {
					if id, ok := n.(*ast.Ident); ok && id.Name == "tok" {
						t.Errorf("%s: auth token compared with %s", fset.Position(be.Pos()), be.Op)
					}
					return true
				})
			}
			return true
		})
	}
}
