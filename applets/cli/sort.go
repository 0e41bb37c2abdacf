package cli

import "cmp"

// Sort sorts s in increasing order (a heapsort: not stable, O(n log n), no
// allocation). It replaces sort.Strings and slices.Sort in the binary: the
// standard library's pdqsort is instantiated once per element type and
// costs ~25 KB of the stripped binary for the few short lists habox sorts.
func Sort[T cmp.Ordered](s []T) {
	n := len(s)
	for i := n/2 - 1; i >= 0; i-- {
		siftDown(s, i, n)
	}
	for end := n - 1; end > 0; end-- {
		s[0], s[end] = s[end], s[0]
		siftDown(s, 0, end)
	}
}

// siftDown restores the max-heap property of s[:n] below root.
func siftDown[T cmp.Ordered](s []T, root, n int) {
	for {
		child := 2*root + 1
		if child >= n {
			return
		}
		if child+1 < n && s[child] < s[child+1] {
			child++
		}
		if !(s[root] < s[child]) {
			return
		}
		s[root], s[child] = s[child], s[root]
		root = child
	}
}
