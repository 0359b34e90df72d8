package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fwdplane/fwd/api"
)

var fixEvents = []api.Event{
	{Time: time.Date(2026, 3, 1, 12, 0, 0, 123e6, time.UTC), Type: "es", Message: "ES " + esi1 + " is down",
		Fields: map[string]string{"esi": esi1, "port": "swp1", "reason": "carrier lost"}},
	{Time: time.Date(2026, 3, 1, 12, 0, 0, 124e6, time.UTC), Type: "df", Message: "no longer the designated forwarder",
		Fields: map[string]string{"esi": esi1, "df": "192.0.2.2"}},
	{Time: time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC), Type: "route", Message: "route added",
		Fields: map[string]string{"prefix": "[2]:[0]:[48]:[02:00:00:00:00:07]", "empty": ""}},
}

// eventStream serves the events as NDJSON, then holds the stream open
// until the client goes if hold, or closes it.
func eventStream(hold bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		for _, ev := range fixEvents {
			_ = json.NewEncoder(w).Encode(ev)
			w.(http.Flusher).Flush()
		}
		if hold {
			<-r.Context().Done()
		}
	}
}

func TestEvents(t *testing.T) {
	f := newFakeDaemon(t)
	f.onFunc("GET", "/v1/events", eventStream(false))
	out, _, err := runFwd(t, f.socket, "", "events")
	if err == nil || !strings.Contains(err.Error(), "the daemon closed the event stream") {
		t.Errorf("end of stream: %v", err)
	}
	golden(t, "events.golden", out)

	out, _, _ = runFwd(t, f.socket, "", "events", "--json", "--type", "es,route")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("--json --type es,route: %d lines, want 2:\n%s", len(lines), out)
	}
	for i, want := range []api.Event{fixEvents[0], fixEvents[2]} {
		var ev api.Event
		if err := json.Unmarshal([]byte(lines[i]), &ev); err != nil || !ev.Time.Equal(want.Time) || ev.Message != want.Message || len(ev.Fields) != len(want.Fields) {
			t.Errorf("line %d: %s (%v), want %+v", i+1, lines[i], err, want)
		}
	}
	_, _, err = runFwd(t, f.socket, "", "events", "--type", "bgp")
	if err == nil || !strings.Contains(err.Error(), `--type "bgp": want one of route, mac, es, port, underlay, config, df`) {
		t.Errorf("--type bgp: %v", err)
	}
}

// cancelWriter cancels once it has seen n lines.
type cancelWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Count(w.buf.String(), "\n") >= w.n {
		w.cancel()
	}
	return len(p), nil
}

// TestEventsInterrupt: Ctrl-C (the context cancelled) while following is
// the normal end, not an error, and --timeout does not cut the stream.
func TestEventsInterrupt(t *testing.T) {
	f := newFakeDaemon(t)
	f.onFunc("GET", "/v1/events", eventStream(true))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelWriter{n: len(fixEvents), cancel: cancel}
	root := newRootCmd(&rootOptions{now: time.Now})
	root.SetArgs([]string{"events", "--socket", f.socket, "--timeout", "1ms"})
	root.SetOut(w)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("interrupted: %v, want no error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fwd events did not stop when interrupted")
	}
	if got := strings.Count(w.buf.String(), "\n"); got != len(fixEvents) {
		t.Errorf("printed %d events, want %d:\n%s", got, len(fixEvents), w.buf.String())
	}
}
