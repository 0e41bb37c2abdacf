// Package contrib holds no Go code: it is the home of habox's install
// script, init files (SysV, systemd, OpenWrt procd, busybox inittab),
// initramfs-tools hook, dracut module and example configuration, and of the
// tests that check them.
package contrib
