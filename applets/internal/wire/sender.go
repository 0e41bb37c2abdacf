package wire

import (
	"habox/applets/internal/hblog"
	"strconv"
	"strings"
	"time"
)

// LogLine is a line the caller should log (heartbeat's text, without the
// "heartbeat: [pid]: prio:" prefix).
type LogLine struct {
	Level hblog.Priority
	Text  string
}

// History and retransmission limits (include/heartbeat.h).
const (
	MaxHist        = 500 // sent sequenced messages kept for retransmission
	MaxMissing     = 500 // missing sequence numbers tracked per peer
	SeqGap         = 250 // a larger gap resets tracking
	MaxRexmitBatch = 50  // retransmissions (and NAKs) per NS_rexmit
	histWarn       = MaxHist * 3 / 4
	histErr        = MaxHist * 9 / 10
)

// Sender adds the control fields of §4.7 to outgoing messages, numbers the
// sequenced ones and keeps the last MaxHist of them for retransmission. It
// is not safe for concurrent use (the daemon's event loop owns it).
type Sender struct {
	Node      string   // our node name, lower case
	UUID      [16]byte // our UUID (hb_uuid)
	Gen       uint64   // heartbeat generation (hb_generation)
	TTL       int      // hopfudge + number of configured nodes
	InnerAuth bool     // msgfmt classic (the default): add the classic auth field
	Keys      *Keyring
	// DestUUID returns the UUID of node if it is in the local node table
	// (ok); the zero UUID when it is in the table but its UUID is unknown.
	// nil: no destuuid is ever added.
	DestUUID func(node string) (uuid [16]byte, ok bool)
	// Load returns the ld field (first line of /proc/loadavg without LF);
	// nil or "" gives "n/a".
	Load func() string
	// MaxRexmitDelay is ha.cf's max_rexmit_delay (default 250ms); the same
	// copy is not retransmitted twice within MaxRexmitDelay-10ms.
	MaxRexmitDelay time.Duration
	// Wall returns the wall clock for ts; nil uses Stamp's now. The daemon
	// passes time.Now() as now for its timers (monotonic) and may step
	// Wall in tests (HABOX_CLOCK_OFFSET_FILE).
	Wall func() time.Time

	seq    uint64 // last sequence number used
	lowseq uint64 // lowest sequence number kept (0: none yet)
	hist   [MaxHist]histEntry
}

type histEntry struct {
	seq  uint64
	msg  *Msg
	last time.Time // last retransmission
}

// Seq returns the last sequence number used (0 before the first).
func (s *Sender) Seq() uint64 { return s.seq }

// HistSpan returns how many sent messages are kept unacknowledged
// (hiseq - lowseq, as 3.0.6 computes it for "hist queue is filling up").
func (s *Sender) HistSpan() uint64 {
	if s.lowseq == 0 || s.seq < s.lowseq {
		return 0
	}
	return s.seq - s.lowseq
}

// Stamp adds the control fields to m in 3.0.6's order — destuuid (when
// dest names a known node), src, srcuuid, seq (sequenced types only), hg,
// ts (now's wall clock, seconds), ld (sequenced types only), ttl, auth
// (InnerAuth) — replacing existing ones in place; for NS_ types an existing
// src/srcuuid is kept. A sequenced message is stored in the history: m
// must not be modified afterwards. It returns the sequence number (0 for
// NS_ types).
func (s *Sender) Stamp(m *Msg, now time.Time) (uint64, error) {
	typ, ok := m.Lookup(T)
	if !ok || len(typ) == 0 {
		return 0, &Error{Op: "stamp", Detail: "no type in message", Err: ErrNoField}
	}
	noseq := m.IsNoSeq()
	if s.DestUUID != nil {
		if d, ok := m.Lookup(Dest); ok {
			if u, ok := s.DestUUID(strings.ToLower(string(d))); ok {
				m.set(DestUUID, Binary, append([]byte(nil), u[:]...))
			}
		}
	}
	if !noseq || !m.Has(Src) {
		m.Set(Src, s.Node)
	}
	if !noseq || !m.Has(SrcUUID) {
		m.SetBinary(SrcUUID, s.UUID[:])
	}
	var seq uint64
	if !noseq {
		seq = s.seq + 1
		m.SetHex(Seq, seq)
	}
	m.SetHex(Hg, s.Gen)
	wall := now
	if s.Wall != nil {
		wall = s.Wall()
	}
	m.SetHex(Ts, uint64(max(wall.Unix(), 1)))
	if !noseq {
		ld := ""
		if s.Load != nil {
			ld = s.Load()
		}
		if ld == "" {
			ld = "n/a"
		}
		m.Set(Ld, ld)
	}
	m.SetDec(TTL, uint64(max(s.TTL, 0)))
	if s.InnerAuth && s.Keys != nil {
		if err := s.Keys.SetAuth(m); err != nil {
			return 0, err
		}
	}
	if !noseq {
		s.seq = seq
		s.add(seq, m)
	}
	return seq, nil
}

func (s *Sender) add(seq uint64, m *Msg) {
	e := &s.hist[seq%MaxHist]
	if e.msg != nil && e.seq+MaxHist <= seq {
		s.lowseq = max(s.lowseq, e.seq+1)
	}
	*e = histEntry{seq: seq, msg: m}
	if s.lowseq == 0 {
		s.lowseq = seq
	}
}

// Ack frees the history up to and including seq (the smallest sequence
// acknowledged by every live node), as 3.0.6 does with flow control.
func (s *Sender) Ack(seq uint64) {
	seq = min(seq, s.seq)
	if s.lowseq == 0 || seq < s.lowseq {
		return
	}
	for q := s.lowseq; q <= seq; q++ {
		if e := &s.hist[q%MaxHist]; e.seq == q {
			*e = histEntry{}
		}
	}
	s.lowseq = seq + 1
}

// Lookup returns the stored copy of sequence number seq.
func (s *Sender) Lookup(seq uint64) (*Msg, bool) {
	e := &s.hist[seq%MaxHist]
	if e.msg == nil || e.seq != seq {
		return nil, false
	}
	return e.msg, true
}

// Rexmit answers an NS_rexmit from node peer (already checked to be
// addressed to us): firstseq..lastseq (decimal), skipping what peer has
// acknowledged (acked), NAKing what is older than the history ("seqno too
// low") or missing from it ("seqno not found"), warning about sequence
// numbers never sent, not resending a copy sent less than
// MaxRexmitDelay-10ms ago, and at most MaxRexmitBatch messages per
// request. Debug lines name the request and each retransmission, as 3.0.6
// does with debugging on. It returns the messages to send — stored copies unchanged, and
// stamped NS_nak_rexmit messages — and the log lines.
func (s *Sender) Rexmit(req *Msg, peer string, acked uint64, now time.Time) ([]*Msg, []LogLine) {
	return s.rexmit(req, peer, acked, now, MaxRexmitBatch)
}

// rexmit is Rexmit answering with at most limit messages.
func (s *Sender) rexmit(req *Msg, peer string, acked uint64, now time.Time, limit int) ([]*Msg, []LogLine) {
	var out []*Msg
	var logs []LogLine
	first, err1 := req.Dec(FirstSeq)
	last, err2 := req.Dec(LastSeq)
	if err1 != nil || err2 != nil || first == 0 || last == 0 || first > last {
		return nil, []LogLine{{hblog.Err, "Invalid rexmit seqnos"}}
	}
	logs = append(logs, LogLine{hblog.DebugPri, "rexmit request from node " + peer + " for msg(" + u10(first) + "-" + u10(last) + ")"})
	guard := s.MaxRexmitDelay - 10*time.Millisecond
	if s.MaxRexmitDelay == 0 {
		guard = 240 * time.Millisecond
	}
	first = max(first, acked+1)
	for q := first; q <= last && len(out) < limit; q++ {
		if q > s.seq {
			logs = append(logs, LogLine{hblog.Warning, "Rexmit of seq " + u10(q) + " requested. " + u10(s.seq) + " is max."})
			break
		}
		if s.lowseq == 0 || q < s.lowseq {
			out, logs = s.nak(out, logs, q, peer, "seqno too low", now)
			continue
		}
		e := &s.hist[q%MaxHist]
		if e.msg == nil || e.seq != q {
			out, logs = s.nak(out, logs, q, peer, "seqno not found", now)
			continue
		}
		if !e.last.IsZero() && now.Sub(e.last) < guard {
			continue
		}
		e.last = now
		out = append(out, e.msg)
		logs = append(logs, LogLine{hblog.DebugPri, "Retransmitting pkt " + u10(q)})
	}
	return out, logs
}

func (s *Sender) nak(out []*Msg, logs []LogLine, q uint64, peer, reason string, now time.Time) ([]*Msg, []LogLine) {
	logs = append(logs, LogLine{hblog.Err, "Cannot rexmit pkt " + u10(q) + " for " + peer + ": " + reason})
	m := New(NSNakRexmit)
	m.SetHex(FirstSeq, q)
	m.Add(Dest, peer)
	m.Add(Info, reason)
	if _, err := s.Stamp(m, now); err != nil {
		return out, logs
	}
	return append(out, m), logs
}

func u10(v uint64) string { return strconv.FormatUint(v, 10) }
