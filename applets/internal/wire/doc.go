// Package wire is heartbeat 3.0.6's wire protocol, byte-compatible with the
// Debian daemon (heartbeat 3.0.6 + cluster-glue 1.0.12): the message model,
// both encodings, authentication, and the sequencing rules. It is pure: no
// syscalls, no clocks, no randomness of its own (time and random numbers are
// injected), no fmt/net. Only state.go touches files (hb_generation,
// hb_uuid). "§N.M" in comments is section N.M of
// doc/spec/heartbeat-compat.md.
//
// # Messages
//
// A Msg is an ordered list of Fields (name, String or Binary, value);
// duplicates are legal and lookups return the first. Helpers: Get, Lookup,
// Has, Set/SetBinary (replace in place or append), Add/AddBinary, Del, Type,
// Clone, and the typed accessors Hex/SetHex (seq, hg, ts, dt, ackseq,
// NS_nak_rexmit firstseq), Dec/SetDec (NS_rexmit firstseq/lastseq, protocol,
// ttl) and UUID. Field names and message types are constants (T, St, Src,
// Seq, ...; Status, NSRexmit, ReqNodes, ...).
//
// # Encodings
//
//	AppendNetstring(dst, m)       "###\n" LEN:(t)name=value, ... "%%%\n" (no trailer)
//	ParseNetstring(b)             the same, back; returns bytes consumed
//	AppendClassic(dst, m)         ">>>\n" name=value\n ... "<<<\n" (binary: (1)name=base64,
//	                              LF in strings as 0x13; no NUL appended)
//	ParseClassic(b)               the same, back (trailing NULs accepted)
//
// # Authentication
//
// A Keyring (NewKeyring(*conf.Authkeys)) signs with the active entry and
// verifies with crc (CRC-32/CKSUM without length, %lx), HMAC-MD5 or
// HMAC-SHA1 (lower-case hex).
//
//	k.AppendNetstring(dst, m)  what 3.0.6 sends on UDP: netstring + "LEN:N token,"
//	k.SetAuth(m)               set the inner classic auth field (msgfmt classic)
//	k.AppendClassic(dst, m)    classic text with a recomputed auth field (serial)
//	k.Decode(b)                auto-detect, authenticate, then parse (see its doc)
//
// Netstring messages are authenticated only by their trailer, with the
// 3.0.6 quirk (method of the received index, key of our active entry);
// classic messages by their auth field (that index's own method and key).
// Errors are *Error values whose category is one of the Err* sentinels
// (errors.Is): ErrMalformed, ErrTooLarge, ErrFieldType, ErrAuth,
// ErrAuthIndex, ...; decoding never panics and never allocates more than a
// small multiple of its input, which must be shorter than MaxMsg. Decode
// rejects cheaply first: MaxRecv bytes, MaxFields fields, framing and
// token checked without allocating per field, a Msg built only for an
// authentic payload.
//
// # Protocol engine
//
// Sender stamps outgoing messages with the control fields of §4.7 in
// 3.0.6's order (destuuid, src, srcuuid, seq, hg, ts, ld, ttl, auth; NS_
// rules), numbers the sequenced ones, keeps the last 500 for
// retransmission and answers NS_rexmit (copies unchanged, NS_nak_rexmit
// "seqno too low"/"seqno not found", at most 50 per request). Engine wraps
// a Sender with the per-peer receive rules of §4.9 (generations, replay,
// restart, healed partition, duplicates, gaps with a bounded missing list),
// the retransmission requests of §4.10 and flow control (§4.11 NS_ackmsg,
// §4.12 reqnodes/repnodes; see Engine for the choice made). It is driven
// from one event loop with an injected clock and random source:
//
//	e := NewEngine(Config{...})
//	m, logs, err := e.Send(msg, now)   // stamp ours; encode m for every medium
//	v := e.Receive(decoded, now)       // Verdict: Deliver, Duplicate, Restart,
//	                                   // Partition, Replay, Lost, Send, Logs...
//	out, logs := e.Due(now)            // NS_rexmit / reqnodes whose time came
//	t, ok := e.NextDue()
//	e.SetStatus(node, StDead)          // membership feedback
//	e.StartReqNodes(now); e.ReqNodesPending()
//
// Log lines come back as LogLine values with 3.0.6's wording; the caller
// logs them.
//
// # State files
//
// NextGeneration (hb_generation: read, +1, durable atomic write before the
// first send), TimeGeneration (hbgenmethod time) and LoadUUID (hb_uuid, 16
// raw bytes, generated when missing) work in a state directory that
// defaults to DefaultStateDir (/var/lib/heartbeat). These are the only
// functions of the package that touch files.
package wire
