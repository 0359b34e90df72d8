// Package pktgen builds the frames fwd's benchmarks and tests send: Ethernet
// with up to two 802.1Q tags, IPv4 or IPv6, UDP or TCP, optionally wrapped in
// VXLAN, at any size from 64 bytes to jumbo, for flows spread over many MACs
// and 5-tuples. Frames are built with gopacket, and any set of them can be
// saved as a pcap file that Wireshark opens.
//
// Sizes are Ethernet frame sizes on the wire, FCS included, as benchmarks
// quote them: a "64-byte frame" is 60 bytes in memory, since the NIC adds and
// strips the 4-byte FCS and XDP never sees it.
//
// Pure Go; no kernel requirement.
package pktgen
