package timerfd

import (
	"testing"
	"time"
)

// The timer fires after being set, fires again when re-armed, and a
// re-arm replaces the earlier deadline. (Its precision is measured by the
// takeover breakdown of `make bench`, not asserted here.)
func TestTimerFiresAndRearms(t *testing.T) {
	tm, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	for i := 0; i < 3; i++ {
		if err := tm.Set(time.Millisecond); err != nil {
			t.Fatal(err)
		}
		select {
		case <-tm.C:
		case <-time.After(10 * time.Second):
			t.Fatalf("expiry %d never came", i)
		}
	}
	// Re-armed far away before it fires: no expiry.
	tm.Set(200 * time.Millisecond)
	tm.Set(time.Hour)
	select {
	case <-tm.C:
		t.Fatal("an expiry of a replaced setting came through")
	case <-time.After(400 * time.Millisecond):
	}
}
