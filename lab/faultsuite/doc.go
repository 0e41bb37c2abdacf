// Package faultsuite holds the fault suite as tests (no
// non-test code): two habox nodes in package lab
// under lost media, random loss, CPU saturation, partitions, a stopped
// daemon, packet floods and failing resources. Every case checks that
// exactly one node holds the service afterwards, the client reaches it,
// configuration and hb_generation are intact and the daemons still run.
//
// Set HABOX_FAULT_KIND=heartbeat to run the cases that make sense for it
// against two stock heartbeat 3.0.6 nodes (validation of the suite).
package faultsuite
