// Package pcmk holds only tests: a real three-node Corosync 3 + Pacemaker
// cluster in network namespaces (each node its own net, UTS, mount and PID
// namespace) running habox's OCF agents, failing over, side by side with
// resource-agents' IPaddr2, and the haresources2crm migration applied to
// it. Run it with `make pcmk-test` (root; Debian packages corosync,
// pacemaker, crmsh, resource-agents). Nothing here is in the binary.
package pcmk
