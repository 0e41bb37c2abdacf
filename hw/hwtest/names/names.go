// Package names gives test fixtures (network namespaces, interfaces) names
// unique to the process. It is apart from hwtest so the bench harness can
// use it without linking package testing.
package names

import (
	"os"
	"strconv"
	"sync/atomic"
)

var seq atomic.Int32

// Unique returns a short name unique to this process and call, for
// namespaces and interfaces: prefix + pid + counter, at most 15 bytes
// (IFNAMSIZ-1), cut from the front so the counter stays.
func Unique(prefix string) string {
	n := prefix + strconv.Itoa(os.Getpid()%100000) + "x" + strconv.Itoa(int(seq.Add(1)))
	if len(n) > 15 {
		n = n[len(n)-15:]
	}
	return n
}
