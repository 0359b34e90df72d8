package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultGroup is the group whose members may read through the API.
const DefaultGroup = "fwd"

// ServerOptions configures a Server. The zero value is the daemon's
// default: group fwd reads, mode 0660, a 5 s graceful shutdown.
type ServerOptions struct {
	// Group names the read group: its members may use every read
	// endpoint, and the socket is group-owned by it. "" means
	// DefaultGroup. When the group does not exist the API is root-only
	// (the socket is mode 0600) and Listen logs a warning.
	Group string
	// GID, when not zero, is the read group's id; it overrides Group.
	GID int
	// SocketMode is the socket file's permission bits; 0 means 0660
	// (0600 when there is no read group). Access is decided per request
	// by the caller's credentials whatever the mode: a mode that lets
	// everyone connect gets everyone outside the group a 403 that says
	// why, instead of EACCES.
	SocketMode fs.FileMode
	// ReadTimeout bounds how long a request, body included, may take to
	// arrive; 0 means a minute. The event stream is not cut by it.
	ReadTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown Serve does when its
	// context ends; 0 means 5 s. Then open connections are closed.
	ShutdownTimeout time.Duration
	// Logger receives refusals, writes and internal errors; nil means
	// slog.Default().
	Logger *slog.Logger
}

func (o *ServerOptions) validate() error {
	if o.GID < 0 {
		return fmt.Errorf("api server: gid %d is negative", o.GID)
	}
	if o.SocketMode&^fs.ModePerm != 0 {
		return fmt.Errorf("api server: socket mode %v has bits beyond the permissions", o.SocketMode)
	}
	if o.ReadTimeout < 0 {
		return fmt.Errorf("api server: read timeout %v is negative", o.ReadTimeout)
	}
	if o.ShutdownTimeout < 0 {
		return fmt.Errorf("api server: shutdown timeout %v is negative", o.ShutdownTimeout)
	}
	return nil
}

// Server serves a Backend over HTTP/JSON on a unix socket. Create it with
// NewServer, then Listen and Serve; Shutdown (or the end of Serve's
// context) stops it and removes the socket.
type Server struct {
	b    Backend
	opts ServerOptions
	log  *slog.Logger
	mux  *http.ServeMux
	hs   *http.Server

	pol  policy
	ln   net.Listener
	path string
	// sock is the socket file Listen made, so that Shutdown removes it
	// only if it is still ours.
	sock fs.FileInfo

	// stopping is closed when the server shuts down: event streams end.
	stopping chan struct{}
	stopOnce sync.Once
	// reqID numbers the internal errors, to find them in the log.
	reqID atomic.Uint64
}

// NewServer returns a server of b. It panics if b is nil.
func NewServer(b Backend, opts ServerOptions) *Server {
	if b == nil {
		panic("api: NewServer with a nil Backend")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{b: b, opts: opts, log: log, stopping: make(chan struct{})}
	s.mux = s.newMux()
	s.hs = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		// A whole request, body included: 64 MiB over a unix socket takes
		// well under a second, so only a client that trickles its body
		// meets this. No write timeout: /v1/events streams for as long as
		// its client listens.
		ReadTimeout: cmp.Or(opts.ReadTimeout, time.Minute),
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return withPeer(ctx, identify(c))
		},
	}
	return s
}

// Listen creates the unix socket at path ("" means DefaultSocket), its
// directory if missing (mode 0755), group-owned by the read group with
// SocketMode. A socket file left by a daemon that died is replaced; one a
// live daemon answers on is an error, and so is a path that is not a
// socket. The socket appears complete (owner, group, mode) or not at all.
func (s *Server) Listen(path string) error {
	if err := s.opts.validate(); err != nil {
		return err
	}
	if s.ln != nil {
		return fmt.Errorf("api server: already listening on %s", s.path)
	}
	if path == "" {
		path = DefaultSocket
	}
	pol, err := s.readGroup()
	if err != nil {
		return err
	}
	mode := s.opts.SocketMode
	if mode == 0 {
		mode = 0o660
		if !pol.hasGroup {
			mode = 0o600
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("api socket directory: %w", err)
	}
	if err := checkStale(path); err != nil {
		return err
	}

	// Bind under a temporary name, set owner and mode, then rename into
	// place: nobody can connect while the socket is still open to all.
	tmp := filepath.Join(dir, "."+filepath.Base(path)+"."+strconv.Itoa(os.Getpid())+".tmp")
	_ = os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return fmt.Errorf("listen on %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false)
	fail := func(err error) error {
		ln.Close()
		os.Remove(tmp)
		return err
	}
	gid := -1
	if pol.hasGroup {
		gid = int(pol.readGID)
	}
	if err := os.Chown(tmp, -1, gid); err != nil {
		return fail(fmt.Errorf("api socket %s: give it to group %s: %w", path, pol.groupName, err))
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fail(fmt.Errorf("api socket %s: %w", path, err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(fmt.Errorf("api socket %s: %w", path, err))
	}
	fi, err := os.Lstat(path)
	if err != nil {
		ln.Close()
		return fmt.Errorf("api socket %s: %w", path, err)
	}
	s.ln, s.path, s.sock, s.pol = ln, path, fi, pol
	s.log.Info("api listening", "socket", path, "group", pol.groupName, "mode", fmt.Sprintf("%#o", mode))
	return nil
}

// readGroup resolves the read group of the options.
func (s *Server) readGroup() (policy, error) {
	if s.opts.GID != 0 {
		pol := policy{readGID: uint32(s.opts.GID), hasGroup: true, groupName: strconv.Itoa(s.opts.GID)}
		if g, err := user.LookupGroupId(strconv.Itoa(s.opts.GID)); err == nil {
			pol.groupName = g.Name
		}
		return pol, nil
	}
	name := s.opts.Group
	if name == "" {
		name = DefaultGroup
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		var unknown user.UnknownGroupError
		if errors.As(err, &unknown) {
			s.log.Warn("api read group does not exist: the API is root-only", "group", name,
				"fix", "groupadd "+name+", add the users who may read, restart the daemon")
			return policy{groupName: name}, nil
		}
		return policy{}, fmt.Errorf("api read group %q: %w", name, err)
	}
	gid, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return policy{}, fmt.Errorf("api read group %q: gid %q: %w", name, g.Gid, err)
	}
	return policy{readGID: uint32(gid), hasGroup: true, groupName: name}, nil
}

// checkStale fails if path is a socket a live daemon answers on, or not a
// socket at all. A socket nobody answers on is left to be replaced.
func checkStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("api socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("api socket %s exists and is not a socket (%v): remove it or choose another path", path, fi.Mode().Type())
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("api socket %s: another daemon is serving on it: stop it first (systemctl stop fwd)", path)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return nil // stale: its daemon died without removing it
	}
	return fmt.Errorf("api socket %s exists and cannot be probed: %w", path, err)
}

// Addr is the socket the server listens on ("" before Listen).
func (s *Server) Addr() string { return s.path }

// Serve answers requests until ctx ends, then shuts down gracefully
// (ServerOptions.ShutdownTimeout), or until Shutdown is called. It returns
// nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		return errors.New("api server: Serve before Listen")
	}
	errc := make(chan error, 1)
	go func() { errc <- s.hs.Serve(s.ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("api server: %w", err)
	case <-ctx.Done():
		timeout := s.opts.ShutdownTimeout
		if timeout == 0 {
			timeout = 5 * time.Second
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		err := s.Shutdown(sctx)
		if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, fmt.Errorf("api server: %w", serr))
		}
		return err
	}
}

// Shutdown stops accepting connections, ends the event streams, waits for
// the requests in flight until ctx ends (then closes their connections),
// and removes the socket file if it is still the one Listen made.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stopping) })
	err := s.hs.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("api server: graceful shutdown: %w", err), s.hs.Close())
	}
	if s.ln != nil {
		// Serve closes it, but Serve may never have run.
		if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = errors.Join(err, fmt.Errorf("api socket %s: %w", s.path, cerr))
		}
	}
	if s.sock != nil {
		if fi, serr := os.Lstat(s.path); serr == nil && os.SameFile(fi, s.sock) {
			if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = errors.Join(err, fmt.Errorf("api socket %s: %w", s.path, rerr))
			}
		}
		s.sock = nil
	}
	return err
}

// handler is one entry of the endpoint table: what the caller needs, the
// query parameters it takes, and the function that serves it.
type handler struct {
	need   access
	params []string
	serve  func(*Server, http.ResponseWriter, *http.Request)
}

// handlers is the endpoint table, "METHOD /path" -> handler, with
// http.ServeMux wildcards in paths. register fills it at init.
var handlers = map[string]handler{}

// register adds an endpoint to the table; it panics if the method and
// path are already there (tailscale's LocalAPI Register).
func register(pattern string, need access, serve func(*Server, http.ResponseWriter, *http.Request), params ...string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || !strings.HasPrefix(path, "/") {
		panic("api: malformed handler pattern " + strconv.Quote(pattern))
	}
	if _, dup := handlers[pattern]; dup {
		panic("api: duplicate handler registration: " + pattern)
	}
	handlers[pattern] = handler{need: need, params: params, serve: serve}
}

// newMux routes each path of the table to a handler that checks the
// method (405 with Allow), the caller's access (403) and the query
// parameters (400); every other path is a JSON 404.
func (s *Server) newMux() *http.ServeMux {
	byPath := map[string]map[string]handler{}
	for pattern, h := range handlers {
		method, path, _ := strings.Cut(pattern, " ")
		if byPath[path] == nil {
			byPath[path] = map[string]handler{}
		}
		byPath[path][method] = h
	}
	mux := http.NewServeMux()
	for path, methods := range byPath {
		allow := slices.Sorted(func(yield func(string) bool) {
			for m := range methods {
				if !yield(m) {
					return
				}
			}
		})
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			p, ok := s.admit(w, r)
			if !ok {
				return
			}
			h, ok := methods[r.Method]
			if !ok {
				w.Header().Set("Allow", strings.Join(allow, ", "))
				writeError(w, http.StatusMethodNotAllowed, &Error{
					Error: fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path),
					Hint:  "use " + strings.Join(allow, " or "),
				})
				return
			}
			if h.need == accessWrite && s.pol.grantOf(p) < accessWrite {
				e := s.pol.refuseWrite(p, r)
				s.log.Info("api write refused", "method", r.Method, "path", r.URL.Path, "uid", p.uid, "pid", p.pid)
				writeError(w, http.StatusForbidden, e)
				return
			}
			if !checkParams(w, r, h.params) {
				return
			}
			if r.ContentLength > MaxBody {
				writeError(w, http.StatusRequestEntityTooLarge, tooLarge())
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
			if h.need == accessWrite {
				s.log.Info("api write", "method", r.Method, "path", r.URL.Path, "uid", p.uid, "pid", p.pid)
			}
			h.serve(s, w, r)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.admit(w, r); !ok {
			return
		}
		writeError(w, http.StatusNotFound, &Error{
			Error: fmt.Sprintf("no endpoint %s", r.URL.Path),
			Hint:  "the endpoints are listed in the api package's documentation (go doc github.com/fwdplane/fwd/api)",
		})
	})
	return mux
}

// admit refuses (403) a caller that may do nothing, and returns the peer.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (peer, bool) {
	p := peerFrom(r.Context())
	if a, e := s.pol.grant(p); a == accessNone {
		s.log.Info("api request refused", "method", r.Method, "path", r.URL.Path, "uid", p.uid, "pid", p.pid, "reason", e.Error)
		writeError(w, http.StatusForbidden, e)
		return p, false
	}
	return p, true
}

// grantOf is grant without the reason.
func (pol policy) grantOf(p peer) access {
	a, _ := pol.grant(p)
	return a
}
