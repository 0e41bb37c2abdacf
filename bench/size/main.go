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
	"strconv"
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
	sizes, bySym, err := symbolSizes(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "size:", err)
		os.Exit(2)
	}
	report(os.Stdout, sizes, *top)
	if found := bannedFound(bySym); len(found) > 0 {
		for _, l := range found {
			fmt.Fprintln(os.Stderr, "size:", l)
		}
		os.Exit(1)
	}
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

// symbolSizes sums the sizes of the symbols of the unstripped ELF binary
// at path per package and per symbol, leaving out sections that take no
// file space (bss).
func symbolSizes(path string) (map[string]int64, map[string]int64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v (build it without -s -w)", path, err)
	}
	sizes, bySym := map[string]int64{}, map[string]int64{}
	for _, s := range syms {
		if int(s.Section) >= len(f.Sections) || s.Section == elf.SHN_UNDEF {
			continue
		}
		if sec := f.Sections[s.Section]; sec.Type == elf.SHT_NOBITS || sec.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		sizes[packageOf(s.Name)] += int64(s.Size)
		bySym[s.Name] += int64(s.Size)
	}
	return sizes, bySym, nil
}

// banned lists what habox keeps out of the binary, by symbol name prefix,
// with the measured cost and the replacement. A prefix whose symbols sum
// to more than bannedSlack bytes fails the check (a package's init
// leftovers stay below it).
var banned = []struct{ prefix, why string }{
	{"fmt.", "package fmt (~165 KB): build text with strings/strconv, errors with cli.Wrap"},
	{"os/exec.", "package os/exec (~240 KB): start processes with os.StartProcess"},
	{"net.", "package net (~250 KB): sockets go through golang.org/x/sys/unix in hw/"},
	{"context.", "package context (~24 KB): pass a small Done/Err interface (see serialtest's stopper)"},
	{"slices.pdqsort", "the standard library's sort (~8-16 KB per element type): use cli.Sort; os.ReadDir sorts, use Readdirnames"},
	{"sort.pdqsort", "the standard library's sort (~8-16 KB per element type): use cli.Sort"},
	{"internal/strconv.readFloat", "strconv.ParseFloat (~12 KB): use conf.ParseDecimal"},
	{"crypto/md5.", "crypto/md5 (FIPS module, ~200 KB with sha1/hmac): use wire/digest"},
	{"crypto/sha1.", "crypto/sha1 (FIPS module, ~200 KB with md5/hmac): use wire/digest"},
	{"hash/crc32.", "hash/crc32 (~8 KB): use kmod.ChecksumIEEE"},
	{"encoding/base64.", "encoding/base64 (~8 KB): use wire's b64AppendEncode/b64Decode"},
	{"compress/", "compress/* (gzip ~74 KB): habox has its own inflate"},
	{"encoding/xml.", "encoding/xml (reflection): write the XML with strings"},
	{"encoding/json.", "encoding/json (reflection): write the JSON with strings"},
	{"text/template.", "text/template (reflection)"},
	{"regexp.", "regexp (~150 KB): match by hand"},
	{"golang.org/x/sys/unix.anyToSockaddr", "x/sys/unix's Recvfrom, Accept4, Recvmsg, Getsockname (~24 KB stripped: every Sockaddr type of x/sys/unix): read(2) when the sender is known, else syscall.Recvfrom/Accept4"},
}

// bannedSlack is the size below which a banned prefix is tolerated.
const bannedSlack = 1024

// bannedFound returns one line per banned prefix whose symbols in bySym
// sum to more than bannedSlack bytes.
func bannedFound(bySym map[string]int64) []string {
	var out []string
	for _, b := range banned {
		var n int64
		for name, size := range bySym {
			if strings.HasPrefix(name, b.prefix) {
				n += size
			}
		}
		if n > bannedSlack {
			out = append(out, b.prefix+"* is linked ("+strconv.FormatInt(n, 10)+" symbol bytes): "+b.why)
		}
	}
	return out
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
