// Command mkinitramfs builds a gzip-compressed cpio (newc) initramfs whose
// only userland is habox: /init and every applet link point to
// /usr/sbin/habox, plus /etc/ha.d, kernel modules and extra files. It needs
// no cpio binary and no root.
//
//	go run ./vm/mkinitramfs -o habox-initramfs.cpio.gz -habox ./habox \
//	    [-ha-dir /etc/ha.d] [-kdir /lib/modules/RELEASE] [-load virtio_net,...] \
//	    [-carry softdog] [-file /etc/hainit.rc=./node.rc ...]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"habox/vm/initramfs"
)

type fileFlags map[string]string

func (f fileFlags) String() string { return "" }
func (f fileFlags) Set(v string) error {
	dst, src, ok := strings.Cut(v, "=")
	if !ok || dst == "" || src == "" {
		return fmt.Errorf("want IMAGE-PATH=HOST-PATH: %q", v)
	}
	f[dst] = src
	return nil
}

func list(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// defaultKDir is the running kernel's module tree, else the newest one
// installed (a Debian linux-image package for VMs).
func defaultKDir() string {
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		d := "/lib/modules/" + strings.TrimSpace(string(b))
		if _, err := os.Stat(d + "/modules.dep"); err == nil {
			return d
		}
	}
	m, _ := filepath.Glob("/lib/modules/*/modules.dep")
	if len(m) == 0 {
		return ""
	}
	sort.Strings(m)
	return filepath.Dir(m[len(m)-1])
}

func main() {
	o := &initramfs.Options{Files: fileFlags{}}
	out := flag.String("o", "habox-initramfs.cpio.gz", "output file")
	flag.StringVar(&o.Habox, "habox", "./habox", "the habox binary")
	flag.StringVar(&o.HaDir, "ha-dir", "", "configuration directory copied to /etc/ha.d")
	kdir := flag.String("kdir", "", "module tree to copy modules from (default: running kernel's, else newest in /lib/modules)")
	load := flag.String("load", "", "modules loaded at boot by init, comma-separated")
	carry := flag.String("carry", "softdog", "modules only copied (mkwatchdog loads softdog), comma-separated")
	flag.Var(fileFlags(o.Files), "file", "extra file IMAGE-PATH=HOST-PATH (repeatable)")
	verbose := flag.Bool("v", false, "list the image's contents")
	flag.Parse()
	o.Load, o.Carry = list(*load), list(*carry)
	if len(o.Load)+len(o.Carry) > 0 {
		o.KDir = *kdir
		if o.KDir == "" {
			o.KDir = defaultKDir()
		}
		if o.KDir == "" {
			if *kdir != "" || len(o.Load) > 0 {
				fmt.Fprintln(os.Stderr, "mkinitramfs: no /lib/modules/*/modules.dep: install the kernel's modules, or pass -kdir")
				os.Exit(1)
			}
			fmt.Fprintln(os.Stderr, "mkinitramfs: warning: no kernel module tree here; image without", strings.Join(o.Carry, ", "))
			o.Carry = nil
		}
	}
	a, err := initramfs.Build(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkinitramfs:", err)
		os.Exit(1)
	}
	// The image holds the cluster's keys: readable by its owner only.
	os.Remove(*out + ".tmp")
	f, err := os.OpenFile(*out+".tmp", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = a.WriteGzip(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Rename(*out+".tmp", *out)
	}
	if err != nil {
		os.Remove(*out + ".tmp")
		fmt.Fprintln(os.Stderr, "mkinitramfs:", err)
		os.Exit(1)
	}
	if *verbose {
		for _, n := range a.Names() {
			fmt.Println(n)
		}
	}
	fi, _ := os.Stat(*out)
	fmt.Printf("mkinitramfs: %s: %d entries, %d bytes (modules: %d from %s)\n", *out, len(a.Names()), fi.Size(), len(o.Modules), o.KDir)
}
