// Package evpn is fwd's EVPN vocabulary: route types 1 to 5 (RFC 7432, RFC
// 9136) as plain Go values, the identifiers they carry ([ESI], [RD], [RT],
// [MAC]), the path attributes the control plane acts on ([Attrs], [Path]),
// and the designated forwarder (DF) election algorithms ([ElectDF],
// [Election]).
//
// Every type parses and formats the way operators write it in FRR and GoBGP
// configuration and show output, round-trips through encoding.TextMarshaler,
// and can be checked with a Validate method whose error names the bad field.
// Every error wraps one of the package's sentinels ([ErrSyntax], [ErrRange],
// [ErrInvalid], [ErrNoCandidates], [ErrAlgMismatch], [ErrUnknownAlg]); match
// them with [errors.Is].
//
// # Route identity
//
// [Route.Key] returns a comparable [RouteKey] made of the RD and of the NLRI
// fields that RFC 7432 section 7 and RFC 9136 section 3.1 name as the prefix
// "for the purpose of BGP route key processing"; the other NLRI fields (the
// ESI of types 2 and 5, labels, the gateway IP) are route attributes, so two
// NLRIs that differ only in them are the same route, and the later replaces
// the earlier.
//
// # Ethernet Segments
//
// [ESI] covers the ten-octet identifier of RFC 7432 section 5. fwd builds type
// 0 (an arbitrary nine-octet value) and type 3 the way FRR does from
// "evpn mh es-id" and "evpn mh es-sys-mac" ([ESIFromSysMAC]); it carries the
// other types as opaque values. [ESI.ImportRT] derives the ES-Import route
// target of RFC 7432 section 7.6 for types 1 to 3; other types need it
// configured.
//
// # DF election
//
// Three algorithms are implemented: the default modulo "service carving" of
// RFC 7432 section 8.5, HRW (RFC 8584 section 3.2, DF algorithm 1) and
// preference (RFC 8584 DF algorithm 2 as specified in RFC 9785, FRR's only
// algorithm and fwd's default): highest preference wins, a tie goes to the
// candidate with the Don't-Preempt bit, then to the lowest VTEP address,
// compared as addresses with IPv4 before IPv6.
//
// When a candidate advertises another algorithm than ours, RFC 8584 section
// 2.2 has every PE fall back to modulo. FRR instead makes the local PE non-DF
// (zebra_evpn_es_run_df_election: "as service-carving is not supported we
// will stop forwarding BUM"). fwd follows FRR for the preference algorithm,
// so that a mixed fwd/FRR segment never has two DFs, and the RFC for the
// others; [Election.Mismatch] chooses explicitly.
//
// Two differences from FRR are deliberate. FRR compares VTEP addresses as raw
// in_addr words, which on little-endian hosts orders them by their last octet
// first; fwd compares them as numbers, as the RFCs say. The two agree
// whenever the candidates differ only in their last octet, the common case of
// VTEPs in one /24. FRR ignores the Don't-Preempt bit and never sets it, so
// with FRR peers the bit never decides.
//
// The package is pure Go: it holds no kernel objects, so there is nothing to
// close, and it needs no particular kernel or privileges.
package evpn
