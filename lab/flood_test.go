package lab

import "testing"

// TestMaxSizePayloadLen: the max-size flood datagram is the largest IPv4
// UDP payload.
func TestMaxSizePayloadLen(t *testing.T) {
	if n := len(maxSizePayload()); n != 65507 {
		t.Fatal(n)
	}
}
