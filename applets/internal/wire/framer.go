package wire

// Framer cuts a serial byte stream into classic heartbeat frames the way
// 3.0.6's serial reader does (spec 4.1.4): bytes are split into
// LF-terminated lines; lines are discarded until one starting with ">>>";
// from there lines are collected until one starting with "<<<", and the
// collected lines (each with its LF) form one frame.
//
// CR bytes are dropped and the eighth bit is stripped, as the IGNCR and
// ISTRIP line settings of 3.0.6 do. A frame larger than Max is dropped
// (and counted); a ">>>" line inside a frame restarts the frame, so a
// frame cut short by line noise does not swallow the next one.
type Framer struct {
	// Max bounds one frame; 0 means MaxRecv.
	Max int
	// Dropped counts frames discarded (oversize or restarted).
	Dropped uint64

	line       []byte
	frame      []byte
	collecting bool
	skipLine   bool // the current line overflowed: ignore it up to its LF
}

// Feed consumes b and calls emit for each complete frame. The frame slice
// is fresh and owned by emit.
func (f *Framer) Feed(b []byte, emit func([]byte)) {
	max := f.Max
	if max <= 0 {
		max = MaxRecv
	}
	for _, c := range b {
		c &= 0x7f
		if c == '\r' {
			continue
		}
		if c != '\n' {
			if f.skipLine {
				continue
			}
			if len(f.line) >= max {
				// A line longer than a whole frame: drop it and any
				// frame it belongs to.
				f.skipLine = true
				f.line = f.line[:0]
				if f.collecting {
					f.abort()
				}
				continue
			}
			f.line = append(f.line, c)
			continue
		}
		if f.skipLine {
			f.skipLine = false
			continue
		}
		f.endLine(max, emit)
	}
}

// endLine handles one complete line (without its LF).
func (f *Framer) endLine(max int, emit func([]byte)) {
	line := f.line
	f.line = f.line[:0]
	start := len(line) >= 3 && line[0] == '>' && line[1] == '>' && line[2] == '>'
	if start {
		if f.collecting {
			f.Dropped++ // incomplete frame, restarted
		}
		f.collecting = true
		f.frame = append(f.frame[:0], line...)
		f.frame = append(f.frame, '\n')
		return
	}
	if !f.collecting {
		return // noise between frames
	}
	if len(f.frame)+len(line)+1 > max {
		f.abort()
		return
	}
	f.frame = append(f.frame, line...)
	f.frame = append(f.frame, '\n')
	if len(line) >= 3 && line[0] == '<' && line[1] == '<' && line[2] == '<' {
		out := make([]byte, len(f.frame))
		copy(out, f.frame)
		f.collecting = false
		f.frame = f.frame[:0]
		emit(out)
	}
}

// abort drops the frame being collected.
func (f *Framer) abort() {
	f.Dropped++
	f.collecting = false
	f.frame = f.frame[:0]
}

// Reset forgets any partial line or frame (after the line was reopened).
func (f *Framer) Reset() {
	f.line = f.line[:0]
	f.frame = f.frame[:0]
	f.collecting = false
	f.skipLine = false
}
