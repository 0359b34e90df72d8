// Package api is fwd's local API: HTTP/JSON over a unix socket
// (DefaultSocket), its wire types, the server and the Go client.
//
// Endpoints (all JSON; errors are an Error body):
//
//	GET  /v1/status                      Status
//	GET  /v1/interfaces                  []Interface
//	GET  /v1/bridge-domains              []BridgeDomain
//	GET  /v1/macs?vni=N&mac=M&esi=E      []MAC
//	GET  /v1/es                          []ES
//	GET  /v1/es-evi                      []ESEVI
//	GET  /v1/l2-nh                       []L2NextHop
//	GET  /v1/nexthop-groups              []NexthopGroup
//	GET  /v1/nexthop-groups/{id}         NexthopGroup
//	GET  /v1/routes?type=N               []Route
//	GET  /v1/counters                    Counters
//	GET  /v1/log-level                   LogLevel
//	PUT  /v1/log-level                   LogLevel -> LogLevel          (write)
//	POST /v1/routes                      RouteBatch -> RouteResult     (write)
//	POST /v1/routes/withdraw             RouteBatch -> RouteResult     (write)
//	POST /v1/es/{esi}/admin              ESAdmin -> ES                 (write)
//	POST /v1/trace                       TraceRequest -> TraceResult   (read)
//	GET  /v1/events                      NDJSON stream of Event
//	GET  /metrics                        Prometheus text
//
// Access is decided by the caller's credentials (SO_PEERCRED): root reads
// and writes, members of the fwd group read, everyone else gets 403 with
// the reason. Request bodies are limited to MaxBody and strictly decoded:
// an unknown field, trailing data or a wrong type is a 400 and changes
// nothing.
//
// The server (NewServer, Listen, Serve) is a thin adapter over a Backend:
// each handler validates the request, calls one Backend method and
// encodes the answer; the daemon implements Backend. Listen makes the
// socket mode 0660 and group-owned by the read group, so that outside the
// group the kernel already refuses the connection; the credentials, with
// the supplementary groups (SO_PEERGROUPS), are read once per connection
// when it is accepted. Serve's context, or Shutdown, ends the event
// streams, lets requests in flight finish and removes the socket. The
// server needs Linux; the Client builds everywhere.
package api
