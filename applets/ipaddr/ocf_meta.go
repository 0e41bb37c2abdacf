package ipaddr

import "strings"

// The agents' OCF meta-data in a compact form, expanded by metaData: the
// first line describes the agent, then one parameter per line as
// name|type|default|description; a name ending in '!' is required and
// unique.
const (
	ipaddrMeta = `Manages an IPv4 service address with an alias label and gratuitous ARP (habox, no shell).
ip!|string||The IPv4 address, e.g. 192.168.1.101.
nic|string||Base interface, not an alias label such as eth0:1; empty: chosen from the routing table.
cidr_netmask|string||Netmask as prefix length (24) or dotted quad; empty: that of the route through the interface.
broadcast|string||Broadcast address; empty: the highest address of the subnet.
iflabel|string||Alias label suffix: the address is labelled nic:iflabel (15 bytes at most); empty: the lowest free nic:N.
arp_count|integer|10|Gratuitous ARP request+reply pairs sent on start (0: none).
arp_interval|integer|500|Milliseconds between the pairs.
ARP_REPEAT|integer|10|resource-agents IPaddr's name for arp_count.
ARP_INTERVAL_MS|integer|500|resource-agents IPaddr's name for arp_interval.`
	ipv6addrMeta = `Manages an IPv6 service address with unsolicited neighbour advertisements (habox, no shell).
ipv6addr!|string||The IPv6 address, e.g. 2001:db8::10.
cidr_netmask|string||Prefix length; empty: that of the global address on the interface whose prefix holds ipv6addr.
nic|string||Interface; empty: the one holding a global address in the same prefix.`
)

// metaData expands a compact description into the agent's OCF 1.1
// meta-data XML (valid against resource-agents' ra-api-1.dtd). The texts
// are constants without XML special characters.
func metaData(agent, compact string) string {
	lines := strings.Split(compact, "\n")
	var b strings.Builder
	desc := func(d string) {
		b.WriteString("<longdesc lang=\"en\">" + d + "</longdesc>\n<shortdesc lang=\"en\">" + d + "</shortdesc>\n")
	}
	b.WriteString("<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n<resource-agent name=\"" +
		agent + "\">\n<version>1.1</version>\n")
	desc(lines[0])
	b.WriteString("<parameters>\n")
	for _, l := range lines[1:] {
		f := strings.SplitN(l, "|", 4)
		n, req := strings.CutSuffix(f[0], "!")
		b.WriteString("<parameter name=\"" + n + "\"")
		if req {
			b.WriteString(" unique=\"1\" required=\"1\"")
		}
		b.WriteString(">\n")
		desc(f[3])
		b.WriteString("<content type=\"" + f[1] + "\" default=\"" + f[2] + "\"/>\n</parameter>\n")
	}
	b.WriteString("</parameters>\n<actions>\n")
	for _, a := range []string{"start", "stop", "monitor\" interval=\"10s\" depth=\"0", "status", "validate-all", "meta-data"} {
		b.WriteString("<action name=\"" + a + "\" timeout=\"20s\"/>\n")
	}
	b.WriteString("</actions>\n</resource-agent>\n")
	return b.String()
}
