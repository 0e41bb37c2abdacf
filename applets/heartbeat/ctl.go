package heartbeat

// serveControl opens the control socket (cl_status, hb_standby,
// hb_takeover). The control package is being written; until its Serve
// exists the daemon runs without a socket.
func (d *daemon) serveControl() error { return nil }
