package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
)

// Client talks to the daemon over its unix socket.
type Client struct {
	socket string
	hc     *http.Client
}

// NewClient returns a client of the daemon listening on socket ("" means
// DefaultSocket).
func NewClient(socket string) *Client {
	if socket == "" {
		socket = DefaultSocket
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableCompression: true,
	}
	return &Client{socket: socket, hc: &http.Client{Transport: tr}}
}

// Socket is the socket the client dials.
func (c *Client) Socket() string { return c.socket }

// StatusError is a refusal or failure the daemon answered with.
type StatusError struct {
	Code int
	Body Error
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("daemon: %s (HTTP %d)", e.Body.Error, e.Code)
	if e.Body.Hint != "" {
		msg += "; " + e.Body.Hint
	}
	return msg
}

// ErrNotRunning reports that nothing listens on the socket.
var ErrNotRunning = errors.New("fwd daemon is not running")

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if w, ok := out.(io.Writer); ok {
		_, err = io.Copy(w, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("daemon's answer to %s %s: %w", method, path, err)
	}
	return nil
}

// send makes the request and turns a refusal into a *StatusError and a
// missing daemon into ErrNotRunning.
func (c *Client) send(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://fwd"+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w (nothing listens on %s): start it with `systemctl start fwd` or `fwd daemon --config FILE`", ErrNotRunning, c.socket)
		}
		if errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("cannot open %s: permission denied: run as root or as a member of the fwd group", c.socket)
		}
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		se := &StatusError{Code: resp.StatusCode}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if json.Unmarshal(b, &se.Body) != nil || se.Body.Error == "" {
			se.Body.Error = http.StatusText(resp.StatusCode)
		}
		return nil, se
	}
	return resp, nil
}

// Status is GET /v1/status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	return s, c.do(ctx, http.MethodGet, "/v1/status", nil, &s)
}

// Interfaces is GET /v1/interfaces.
func (c *Client) Interfaces(ctx context.Context) ([]Interface, error) {
	var v []Interface
	return v, c.do(ctx, http.MethodGet, "/v1/interfaces", nil, &v)
}

// BridgeDomains is GET /v1/bridge-domains.
func (c *Client) BridgeDomains(ctx context.Context) ([]BridgeDomain, error) {
	var v []BridgeDomain
	return v, c.do(ctx, http.MethodGet, "/v1/bridge-domains", nil, &v)
}

// MACs is GET /v1/macs.
func (c *Client) MACs(ctx context.Context, f MACFilter) ([]MAC, error) {
	q := url.Values{}
	if f.VNI != 0 {
		q.Set("vni", strconv.FormatUint(uint64(f.VNI), 10))
	}
	if f.MAC != "" {
		q.Set("mac", f.MAC)
	}
	if f.ESI != "" {
		q.Set("esi", f.ESI)
	}
	var v []MAC
	return v, c.do(ctx, http.MethodGet, withQuery("/v1/macs", q), nil, &v)
}

// ESes is GET /v1/es.
func (c *Client) ESes(ctx context.Context) ([]ES, error) {
	var v []ES
	return v, c.do(ctx, http.MethodGet, "/v1/es", nil, &v)
}

// ESEVIs is GET /v1/es-evi.
func (c *Client) ESEVIs(ctx context.Context) ([]ESEVI, error) {
	var v []ESEVI
	return v, c.do(ctx, http.MethodGet, "/v1/es-evi", nil, &v)
}

// L2NextHops is GET /v1/l2-nh.
func (c *Client) L2NextHops(ctx context.Context) ([]L2NextHop, error) {
	var v []L2NextHop
	return v, c.do(ctx, http.MethodGet, "/v1/l2-nh", nil, &v)
}

// NexthopGroups is GET /v1/nexthop-groups.
func (c *Client) NexthopGroups(ctx context.Context) ([]NexthopGroup, error) {
	var v []NexthopGroup
	return v, c.do(ctx, http.MethodGet, "/v1/nexthop-groups", nil, &v)
}

// NexthopGroup is GET /v1/nexthop-groups/{id}.
func (c *Client) NexthopGroup(ctx context.Context, id uint32) (NexthopGroup, error) {
	var v NexthopGroup
	return v, c.do(ctx, http.MethodGet, "/v1/nexthop-groups/"+strconv.FormatUint(uint64(id), 10), nil, &v)
}

// Routes is GET /v1/routes.
func (c *Client) Routes(ctx context.Context, f RouteFilter) ([]Route, error) {
	q := url.Values{}
	if f.Type != 0 {
		q.Set("type", strconv.Itoa(f.Type))
	}
	var v []Route
	return v, c.do(ctx, http.MethodGet, withQuery("/v1/routes", q), nil, &v)
}

// Counters is GET /v1/counters.
func (c *Client) Counters(ctx context.Context) (Counters, error) {
	var v Counters
	return v, c.do(ctx, http.MethodGet, "/v1/counters", nil, &v)
}

// LogLevel is GET /v1/log-level.
func (c *Client) LogLevel(ctx context.Context) (string, error) {
	var v LogLevel
	return v.Level, c.do(ctx, http.MethodGet, "/v1/log-level", nil, &v)
}

// SetLogLevel is PUT /v1/log-level.
func (c *Client) SetLogLevel(ctx context.Context, level string) (string, error) {
	var v LogLevel
	return v.Level, c.do(ctx, http.MethodPut, "/v1/log-level", LogLevel{Level: level}, &v)
}

// AddRoutes is POST /v1/routes.
func (c *Client) AddRoutes(ctx context.Context, b RouteBatch) (RouteResult, error) {
	var v RouteResult
	return v, c.do(ctx, http.MethodPost, "/v1/routes", b, &v)
}

// WithdrawRoutes is POST /v1/routes/withdraw.
func (c *Client) WithdrawRoutes(ctx context.Context, b RouteBatch) (RouteResult, error) {
	var v RouteResult
	return v, c.do(ctx, http.MethodPost, "/v1/routes/withdraw", b, &v)
}

// SetESAdmin is POST /v1/es/{esi}/admin.
func (c *Client) SetESAdmin(ctx context.Context, esi string, up bool) (ES, error) {
	var v ES
	return v, c.do(ctx, http.MethodPost, "/v1/es/"+url.PathEscape(esi)+"/admin", ESAdmin{Up: up}, &v)
}

// Trace is POST /v1/trace.
func (c *Client) Trace(ctx context.Context, r TraceRequest) (TraceResult, error) {
	var v TraceResult
	return v, c.do(ctx, http.MethodPost, "/v1/trace", r, &v)
}

// Metrics copies GET /metrics (Prometheus text) to w.
func (c *Client) Metrics(ctx context.Context, w io.Writer) error {
	return c.do(ctx, http.MethodGet, "/metrics", nil, w)
}

// Events streams GET /v1/events to fn until ctx ends, fn returns an error
// or the daemon closes the stream.
func (c *Client) Events(ctx context.Context, fn func(Event) error) error {
	resp, err := c.send(ctx, http.MethodGet, "/v1/events", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("event stream: %w", err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return sc.Err()
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
