// Package uplink is heartbeat 3.0.6's ping nodes and ipfail policy,
// built into the daemon: no ipfail process, no client API, no exec of
// ping(8).
//
// A Tracker follows the ping and ping_group nodes (status init, ping or
// dead, one link named after the node, dead after deadping without an
// echo reply) and the carrier of the habox_track_carrier interfaces. It
// yields the number of usable ping nodes the policy compares.
//
// A Policy is ipfail's decision between the two nodes (spec
// ipfail-respawn-ping.md §2), speaking ipfail's messages so that a habox
// node and a 3.0.6 node running ipfail cooperate: each side sends its
// count in num_ping_nodes; the side that sees more answers you_are_dead,
// the side that sees fewer gives up all resource groups (hb_standby all)
// 2×keepalive later unless an abort_giveup or a balanced count arrives
// first; a balanced count with auto_failback on hands foreign groups back.
// A node still holding groups RecheckAfter (3 s) after it gave up (its
// standby request was ignored, the other side being in flux) sends its
// count again, so the decision is taken again, as ipfail does once the
// other side is stable.
//
// # Hysteresis (no flapping)
//
// Losses count at once: a ping node is lost when it has not answered for
// deadping, a tracked interface when its carrier drops, so failover
// takes deadping + 2×keepalive. Recoveries count only after Stability
// (5 s) of uninterrupted answers (or carrier) since the loss: a ping node
// that answers intermittently after it died never counts again, so the
// service moves away once and does not come back until the uplink is
// steady; a node that was never lost counts from its first answer, so
// start-up is not delayed. When both uplinks are cut, each node's loss
// reaches the other within one keepalive of its own, inside the
// 2×keepalive give-up delay, so the counts balance (0 = 0), the pending
// give-up is aborted and nothing moves; restoring both is symmetric.
// Beyond ipfail, a node tells the other it has more ping nodes
// (you_are_dead) only while its own have answered within the last
// 2×keepalive: when both uplinks die, the second node's replies are
// already late when the first one's count arrives, so it waits for its
// own verdict instead of sending the first one away (on a loaded machine
// the two detections can be further apart than the give-up delay). And a
// node told you_are_dead sends its count back, so a you_are_dead that
// crossed a recovery on the wire is aborted before the give-up is due.
package uplink
