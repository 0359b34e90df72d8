package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fwdplane/fwd/evpn"
)

// The endpoint table (doc.go lists it for people). Handlers are thin:
// decode and validate, call one Backend method, encode.
func init() {
	register("GET /v1/status", accessRead, (*Server).getStatus)
	register("GET /v1/interfaces", accessRead, (*Server).getInterfaces)
	register("GET /v1/bridge-domains", accessRead, (*Server).getBridgeDomains)
	register("GET /v1/macs", accessRead, (*Server).getMACs, "vni", "mac", "esi")
	register("GET /v1/es", accessRead, (*Server).getESes)
	register("GET /v1/es-evi", accessRead, (*Server).getESEVIs)
	register("GET /v1/l2-nh", accessRead, (*Server).getL2NextHops)
	register("GET /v1/nexthop-groups", accessRead, (*Server).getNexthopGroups)
	register("GET /v1/nexthop-groups/{id}", accessRead, (*Server).getNexthopGroup)
	register("GET /v1/routes", accessRead, (*Server).getRoutes, "type")
	register("GET /v1/counters", accessRead, (*Server).getCounters)
	register("GET /v1/log-level", accessRead, (*Server).getLogLevel)
	register("PUT /v1/log-level", accessWrite, (*Server).putLogLevel)
	register("POST /v1/routes", accessWrite, (*Server).postRoutes)
	register("POST /v1/routes/withdraw", accessWrite, (*Server).postWithdraw)
	register("POST /v1/es/{esi}/admin", accessWrite, (*Server).postESAdmin)
	register("POST /v1/trace", accessRead, (*Server).postTrace)
	register("GET /v1/events", accessRead, (*Server).getEvents)
	register("GET /metrics", accessRead, (*Server).getMetrics)
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Status(r.Context())
	s.reply(w, r, v, err)
}

func (s *Server) getInterfaces(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Interfaces(r.Context())
	s.reply(w, r, list(v), err)
}

func (s *Server) getBridgeDomains(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.BridgeDomains(r.Context())
	s.reply(w, r, list(v), err)
}

func (s *Server) getMACs(w http.ResponseWriter, r *http.Request) {
	var f MACFilter
	q := r.URL.Query()
	vni, qerr := queryUint(q, "vni", 1, 1<<24-1)
	if qerr != nil {
		writeError(w, http.StatusBadRequest, qerr)
		return
	}
	f.VNI = uint32(vni)
	if v := q.Get("mac"); q.Has("mac") {
		m, err := evpn.ParseMAC(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, queryError("mac", err))
			return
		}
		f.MAC = m.String()
	}
	if v := q.Get("esi"); q.Has("esi") {
		e, err := evpn.ParseESI(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, queryError("esi", err))
			return
		}
		f.ESI = e.String()
	}
	v, err := s.b.MACs(r.Context(), f)
	s.reply(w, r, list(v), err)
}

func (s *Server) getESes(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.ESes(r.Context())
	s.reply(w, r, list(v), err)
}

func (s *Server) getESEVIs(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.ESEVIs(r.Context())
	s.reply(w, r, list(v), err)
}

func (s *Server) getL2NextHops(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.L2NextHops(r.Context())
	s.reply(w, r, list(v), err)
}

func (s *Server) getNexthopGroups(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.NexthopGroups(r.Context())
	s.reply(w, r, list(v), err)
}

// getNexthopGroup picks one group out of the list: the Backend has no
// lookup by id.
func (s *Server) getNexthopGroup(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("id")
	id, err := strconv.ParseUint(raw, 10, 32)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, &Error{
			Error: fmt.Sprintf("nexthop group id %q is not a number from 1 to %d", raw, uint32(1<<32-1)),
			Hint:  "GET /v1/nexthop-groups lists the groups with their ids",
		})
		return
	}
	groups, err := s.b.NexthopGroups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, g := range groups {
		if g.ID == uint32(id) {
			s.reply(w, r, g, nil)
			return
		}
	}
	writeError(w, http.StatusNotFound, &Error{
		Error: fmt.Sprintf("nexthop group %d not found", id),
		Hint:  "GET /v1/nexthop-groups lists the groups with their ids",
	})
}

func (s *Server) getRoutes(w http.ResponseWriter, r *http.Request) {
	typ, qerr := queryUint(r.URL.Query(), "type", 1, 5)
	if qerr != nil {
		writeError(w, http.StatusBadRequest, qerr)
		return
	}
	v, err := s.b.Routes(r.Context(), RouteFilter{Type: int(typ)})
	s.reply(w, r, list(v), err)
}

func (s *Server) getCounters(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Counters(r.Context())
	if v.Counters == nil {
		v.Counters = []Counter{}
	}
	s.reply(w, r, v, err)
}

func (s *Server) getLogLevel(w http.ResponseWriter, r *http.Request) {
	s.reply(w, r, LogLevel{Level: s.b.LogLevel()}, nil)
}

func (s *Server) putLogLevel(w http.ResponseWriter, r *http.Request) {
	var in LogLevel
	if !s.decode(w, r, &in) {
		return
	}
	if err := s.b.SetLogLevel(in.Level); err != nil {
		s.fail(w, r, err)
		return
	}
	s.reply(w, r, LogLevel{Level: s.b.LogLevel()}, nil)
}

func (s *Server) postRoutes(w http.ResponseWriter, r *http.Request) {
	var in RouteBatch
	if !s.decode(w, r, &in) {
		return
	}
	v, err := s.b.AddRoutes(r.Context(), in)
	s.reply(w, r, v, err)
}

func (s *Server) postWithdraw(w http.ResponseWriter, r *http.Request) {
	var in RouteBatch
	if !s.decode(w, r, &in) {
		return
	}
	v, err := s.b.WithdrawRoutes(r.Context(), in)
	s.reply(w, r, v, err)
}

// postESAdmin answers with the ES as it is after the change: the Backend
// sets and the list says.
func (s *Server) postESAdmin(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("esi")
	esi, err := evpn.ParseESI(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, &Error{
			Error: "path: " + trimSentinel(err),
			Hint:  "GET /v1/es lists the Ethernet Segments",
		})
		return
	}
	var in ESAdmin
	if !s.decode(w, r, &in) {
		return
	}
	if err := s.b.SetESAdmin(r.Context(), esi.String(), in.Up); err != nil {
		s.fail(w, r, err)
		return
	}
	out := ES{ESI: esi.String(), Admin: in.Up}
	all, err := s.b.ESes(r.Context())
	if err != nil {
		// The change is made; only the echo is missing.
		s.log.Warn("api: es admin set, listing it back failed", "esi", out.ESI, "err", err)
	}
	for _, e := range all {
		if p, perr := evpn.ParseESI(e.ESI); perr == nil && p == esi {
			out = e
			break
		}
	}
	s.reply(w, r, out, nil)
}

func (s *Server) postTrace(w http.ResponseWriter, r *http.Request) {
	var in TraceRequest
	if !s.decode(w, r, &in) {
		return
	}
	v, err := s.b.Trace(r.Context(), in)
	if v.Steps == nil {
		v.Steps = []TraceStep{}
	}
	s.reply(w, r, v, err)
}

// getEvents streams the Backend's events as NDJSON, one flushed line per
// event, until the client goes, the server shuts down or the Backend
// closes the channel.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	events := s.b.Subscribe(ctx)
	rc := http.NewResponseController(w)
	// A stream has no end to wait for: no write deadline, and no read
	// deadline (TestEvents checks it outlives the server's ReadTimeout).
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	enc := json.NewEncoder(w) // Encode ends each value with a newline
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			if err := enc.Encode(ev); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		}
	}
}

func (s *Server) getMetrics(w http.ResponseWriter, r *http.Request) {
	m, err := s.b.Metrics(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := writeMetrics(&buf, m); err != nil {
		s.fail(w, r, fmt.Errorf("metrics: %w", err))
		return
	}
	w.Header().Set("Content-Type", metricsContentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

// list makes a nil slice an empty one, so that JSON says [] and not null.
func list[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// reply writes v as JSON, or the error.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.fail(w, r, fmt.Errorf("encode the answer: %w", err))
		return
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// fail answers a Backend error: ErrNotFound 404, ErrInvalid 400,
// ErrUnavailable 503 with its message; anything else is logged and
// answered 500 with a number to find it in the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, &Error{Error: err.Error()})
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, &Error{Error: err.Error()})
	case errors.Is(err, ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, &Error{Error: err.Error(), Hint: "try again in a moment; the daemon's log says why"})
	case r.Context().Err() != nil && errors.Is(err, r.Context().Err()):
		// The client went away; there is nobody to answer.
		s.log.Debug("api request abandoned by the client", "method", r.Method, "path", r.URL.Path, "err", err)
	default:
		id := s.reqID.Add(1)
		s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "request", id, "err", err)
		writeError(w, http.StatusInternalServerError, &Error{
			Error: fmt.Sprintf("internal error (request %d)", id),
			Hint:  fmt.Sprintf("the daemon's log has the details: look for request=%d", id),
		})
	}
}

// writeError writes an Error body with the status.
func writeError(w http.ResponseWriter, code int, e *Error) {
	b, _ := json.Marshal(e) // two strings: cannot fail
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func tooLarge() *Error {
	return &Error{
		Error: fmt.Sprintf("request body is larger than the limit of %d bytes; nothing was applied", MaxBody),
		Hint:  "send the routes in several batches, or describe them with a generate spec",
	}
}

// decode reads the body as exactly one JSON value into v, refusing
// unknown fields and trailing data. On failure it has answered (400 or
// 413) and returns false.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err != nil {
		return s.badBody(w, err, dec)
	}
	// Only white space may follow. (Scanned here rather than with
	// dec.Token, which rescans buffered white space on every refill:
	// quadratic in its length.)
	end := dec.InputOffset()
	if err := trailing(io.MultiReader(dec.Buffered(), r.Body)); err != nil {
		if !isTooLarge(err) {
			err = fmt.Errorf("request body has more after the JSON value that ends at byte %d (%w): send exactly one JSON object", end, err)
		}
		return s.badBody(w, err, dec)
	}
	return true
}

// errTrailing is trailing data after the body's JSON value.
var errTrailing = errors.New("trailing data")

// trailing reads r to its end and fails if it holds anything but JSON
// white space.
func trailing(r io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		for _, c := range buf[:n] {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return fmt.Errorf("%w %q", errTrailing, c)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func isTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// badBody answers a body decode error with a message that says where.
func (s *Server) badBody(w http.ResponseWriter, err error, dec *json.Decoder) bool {
	if isTooLarge(err) {
		writeError(w, http.StatusRequestEntityTooLarge, tooLarge())
		return false
	}
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		msg string
	)
	switch {
	case errors.Is(err, io.EOF):
		msg = "request body is empty: want a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = "request body ends in the middle of its JSON value"
	case errors.As(err, &syn):
		msg = fmt.Sprintf("request body is not valid JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(the body)"
		}
		msg = fmt.Sprintf("request body: field %s at byte %d is a JSON %s, want %s", field, typ.Offset, typ.Value, jsonKind(typ.Type.String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		msg = fmt.Sprintf("request body: unknown field %s before byte %d", strings.TrimPrefix(err.Error(), "json: unknown field "), dec.InputOffset())
	default:
		msg = "request body: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	writeError(w, http.StatusBadRequest, &Error{Error: msg + "; nothing was applied", Hint: "the api package documents each body (go doc github.com/fwdplane/fwd/api)"})
	return false
}

// jsonKind names a Go type as what JSON should hold: "a number from 0 to
// 4294967295" reads better than "uint32".
func jsonKind(goType string) string {
	switch goType {
	case "uint8", "uint16", "uint32", "uint64", "uint", "int", "int8", "int16", "int32", "int64":
		return "number (" + goType + ")"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	}
	if strings.HasPrefix(goType, "[]") {
		return "array"
	}
	return "object (" + goType + ")"
}

// checkParams refuses (400) query parameters the endpoint does not take,
// and any given more than once.
func checkParams(w http.ResponseWriter, r *http.Request, allowed []string) bool {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, &Error{Error: "query string: " + err.Error()})
		return false
	}
	for name, vals := range q {
		known := false
		for _, a := range allowed {
			known = known || a == name
		}
		if !known {
			e := &Error{Error: fmt.Sprintf("query parameter %q is not taken by %s %s", name, r.Method, r.URL.Path)}
			if len(allowed) > 0 {
				e.Hint = "it takes " + strings.Join(allowed, ", ")
			} else {
				e.Hint = "it takes no parameters"
			}
			writeError(w, http.StatusBadRequest, e)
			return false
		}
		if len(vals) > 1 {
			writeError(w, http.StatusBadRequest, &Error{Error: fmt.Sprintf("query parameter %q is given %d times; give it once", name, len(vals))})
			return false
		}
	}
	return true
}

// queryUint parses an optional numeric parameter in [lo, hi]; absent is 0.
func queryUint(q url.Values, name string, lo, hi uint64) (uint64, *Error) {
	if !q.Has(name) {
		return 0, nil
	}
	raw := q.Get(name)
	v, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, &Error{Error: fmt.Sprintf("query parameter %s=%q: want a number from %d to %d", name, raw, lo, hi)}
	}
	return v, nil
}

func queryError(name string, err error) *Error {
	return &Error{Error: "query parameter " + name + ": " + trimSentinel(err)}
}

// trimSentinel drops the ": syntax error"-like sentinel suffix evpn's parse
// errors end with: the message before it already says what is wrong.
func trimSentinel(err error) string {
	msg := err.Error()
	if u := errors.Unwrap(err); u != nil {
		msg = strings.TrimSuffix(msg, ": "+u.Error())
	}
	return msg
}
