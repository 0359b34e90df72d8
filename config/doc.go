// Package config reads, validates and compares the fwd daemon's YAML
// configuration (docs/CONFIG.md describes the file field by field;
// examples/fwd.yaml is a complete example).
//
// [Load] and [Parse] decode one YAML document strictly: an unknown key, a
// value of the wrong kind (a list where a number belongs) or a second
// document is an error that names its line. The decoded file is then checked
// as a whole and every problem is reported at once, as an [Errors] list; each
// [Error] names the field path (interfaces[2].vlans[0].vni), its line, the
// bad value and what would be accepted. A file that parses yields a
// [Config]: typed values (VNIs, [evpn.ESI], [evpn.MAC], [netip.Addr],
// durations) with every default applied, which the daemon converts into its
// control-plane and dataplane settings.
//
// Interface names are checked only for syntax (what the kernel accepts as a
// name): the daemon resolves them to ifindexes when it runs, and follows
// interfaces that come and go.
//
// [Diff] compares two configs, for the daemon's SIGHUP reload: what was
// added, removed and changed among interfaces, VLAN maps, bridge domains,
// static MACs and Ethernet Segments, and which single settings changed
// (with whether the daemon can apply them live).
//
// The bgp section is reserved for the BGP issue: it is accepted as an opaque
// YAML node ([Config.BGP]), not checked here, and decoded strictly by its
// owner with [Config.DecodeBGP].
//
// The package is pure Go and needs no privileges; it imports evpn for the
// EVPN vocabulary and nothing else of fwd.
package config
