// Command size reports where the bytes of the habox binary go and enforces
// the size budget (`make size`).
//
//	go run ./bench/size -bin habox -budget BYTES habox.syms
//
// It reads the symbol table of an unstripped build (habox.syms, the same
// build without -s -w), sums the sizes of the symbols in sections that take
// file space (text, rodata, data; not bss) per Go package, prints the packages largest
// first with their groups (runtime and standard library, golang.org/x,
// habox's own), and exits 1 when the stripped binary -bin is larger than
// -budget bytes. The budget only goes down: lower it in the Makefile when
// the binary shrinks.
package main

import (
	"debug/elf"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	bin := flag.String("bin", "", "the stripped binary whose size is checked against -budget")
	budget := flag.Int64("budget", 0, "maximum size in bytes of -bin (0: report only)")
	top := flag.Int("top", 25, "packages to list")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: size [-bin STRIPPED -budget BYTES] [-top N] UNSTRIPPED")
		os.Exit(2)
	}
	sizes, err := packageSizes(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "size:", err)
		os.Exit(2)
	}
	report(os.Stdout, sizes, *top)
	if *bin == "" {
		return
	}
	st, err := os.Stat(*bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "size:", err)
		os.Exit(2)
	}
	fmt.Printf("\n%s: %d bytes stripped; budget %d bytes\n", *bin, st.Size(), *budget)
	if *budget > 0 && st.Size() > *budget {
		fmt.Fprintf(os.Stderr, "size: %s is %d bytes over the budget: find bytes to pay for the feature (see the list above), or say in the commit why the budget must move\n", *bin, st.Size()-*budget)
		os.Exit(1)
	}
	if *budget > 0 && *budget-st.Size() > 16<<10 {
		fmt.Printf("the binary is %d bytes under budget: lower SIZE_BUDGET in the Makefile to %d\n", *budget-st.Size(), st.Size())
	}
}

// packageSizes sums the sizes of the symbols of the unstripped ELF binary
// at path per package, leaving out sections that take no file space (bss).
func packageSizes(path string) (map[string]int64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("%s: %v (build it without -s -w)", path, err)
	}
	sizes := map[string]int64{}
	for _, s := range syms {
		if int(s.Section) >= len(f.Sections) || s.Section == elf.SHN_UNDEF {
			continue
		}
		if sec := f.Sections[s.Section]; sec.Type == elf.SHT_NOBITS || sec.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		sizes[packageOf(s.Name)] += int64(s.Size)
	}
	return sizes, nil
}

// packageOf returns the import path of the package a symbol belongs to:
// the text before the first dot after the last slash, ignoring generic
// type arguments. Linker-made symbols (go:, type:) form their own group;
// symbols without a package are the runtime's assembly.
func packageOf(sym string) string {
	if strings.HasPrefix(sym, "go:") || strings.HasPrefix(sym, "type:") {
		return "(linker: types, func tables)"
	}
	if i := strings.IndexByte(sym, '['); i >= 0 {
		sym = sym[:i]
	}
	slash := strings.LastIndexByte(sym, '/')
	if dot := strings.IndexByte(sym[slash+1:], '.'); dot >= 0 {
		return sym[:slash+1+dot]
	}
	return "runtime" // assembly symbols (_rt0_amd64, memeqbody, $f64...) belong to the runtime
}

// group names the part of the binary a package belongs to.
func group(pkg string) string {
	switch {
	case strings.HasPrefix(pkg, "habox"):
		return "habox"
	case strings.HasPrefix(pkg, "golang.org/x/"), strings.HasPrefix(pkg, "github.com/"):
		return "modules"
	case strings.HasPrefix(pkg, "("):
		return "linker"
	}
	return "go std+runtime"
}

func report(w io.Writer, sizes map[string]int64, top int) {
	type row struct {
		pkg string
		n   int64
	}
	var rows []row
	groups := map[string]int64{}
	var total int64
	for p, n := range sizes {
		rows = append(rows, row{p, n})
		groups[group(p)] += n
		total += n
	}
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].n > rows[j].n || rows[i].n == rows[j].n && rows[i].pkg < rows[j].pkg
	})
	fmt.Fprintf(w, "symbol bytes per package (text+rodata+data, before pclntab), %d packages, %d bytes:\n", len(rows), total)
	for i, r := range rows {
		if i == top {
			break
		}
		fmt.Fprintf(w, "%9d  %5.1f%%  %s\n", r.n, 100*float64(r.n)/float64(total), r.pkg)
	}
	fmt.Fprintln(w, "per group:")
	for _, g := range []string{"go std+runtime", "habox", "modules", "linker"} {
		fmt.Fprintf(w, "%9d  %5.1f%%  %s\n", groups[g], 100*float64(groups[g])/float64(total), g)
	}
}
