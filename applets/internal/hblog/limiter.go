package hblog

import (
	"strconv"
	"sync"
	"time"
)

// Limiter rate-limits repeated log lines per key (e.g. bad packets from
// one address): at most Burst lines per key in each Interval. Lines over
// the limit are counted, and the next allowed line can carry a summary
// ("N similar messages suppressed").
type Limiter struct {
	Burst    int
	Interval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// MaxKeys bounds the memory used by keys (default 256); when full, the
	// oldest windows are forgotten.
	MaxKeys int

	mu   sync.Mutex
	keys map[string]*window
}

type window struct {
	start      time.Time
	n          int
	suppressed int
}

// NewLimiter returns a limiter allowing burst lines per key per interval.
func NewLimiter(burst int, interval time.Duration) *Limiter {
	return &Limiter{Burst: burst, Interval: interval}
}

// Allow reports whether a line for key may be logged now.
func (r *Limiter) Allow(key string) bool {
	ok, _ := r.AllowN(key)
	return ok
}

// AllowN is Allow that also returns how many lines for key were suppressed
// since the last allowed one (to log a summary with it).
func (r *Limiter) AllowN(key string) (bool, int) {
	if r == nil {
		return true, 0
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	t := now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = make(map[string]*window)
	}
	w := r.keys[key]
	if w == nil {
		max := r.MaxKeys
		if max <= 0 {
			max = 256
		}
		if len(r.keys) >= max {
			r.evict(t, max)
		}
		w = &window{start: t}
		r.keys[key] = w
	}
	if t.Sub(w.start) >= r.Interval {
		w.start, w.n = t, 0
	}
	if w.n < r.Burst {
		w.n++
		s := w.suppressed
		w.suppressed = 0
		return true, s
	}
	w.suppressed++
	return false, 0
}

// evict drops expired windows, or all of them when none expired.
func (r *Limiter) evict(t time.Time, max int) {
	for k, w := range r.keys {
		if t.Sub(w.start) >= r.Interval && w.suppressed == 0 {
			delete(r.keys, k)
		}
	}
	if len(r.keys) >= max {
		clear(r.keys)
	}
}

// Suppressed returns the number of suppressed lines per key not yet
// reported, and resets them (for a periodic summary).
func (r *Limiter) Suppressed() map[string]int {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int)
	for k, w := range r.keys {
		if w.suppressed > 0 {
			out[k] = w.suppressed
			w.suppressed = 0
		}
	}
	return out
}

// SuppressedText is the summary sentence for n suppressed lines.
func SuppressedText(n int) string {
	if n == 1 {
		return "1 similar message suppressed"
	}
	return strconv.Itoa(n) + " similar messages suppressed"
}
