package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fwdplane/fwd/api"
)

func TestESAdmin(t *testing.T) {
	f := newFakeDaemon(t)
	// The fake applies the admin state to ES 1 and answers with the ES.
	f.onFunc("POST", "/v1/es/"+esi1+"/admin", func(w http.ResponseWriter, r *http.Request) {
		var a api.ESAdmin
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		es := fixESes[2]
		es.Admin = a.Up
		es.DF = a.Up
		_ = json.NewEncoder(w).Encode(es)
	})
	f.on("POST", "/v1/es/"+esi2+"/admin", http.StatusBadRequest,
		api.Error{Error: "es " + esi2 + " is not a local Ethernet Segment"})

	for _, tc := range []struct {
		verb string
		up   bool
	}{{"down", false}, {"up", true}} {
		// Any accepted spelling of the ESI reaches the daemon in canonical form.
		out, _, err := runFwd(t, f.socket, "", "es", tc.verb, "3:44:38:39:FF:FF:1:0:0:1")
		if err != nil {
			t.Fatalf("fwd es %s: %v", tc.verb, err)
		}
		reqs := f.requests()
		if len(reqs) != 1 || reqs[0].Path != "/v1/es/"+esi1+"/admin" || reqs[0].Method != "POST" {
			t.Fatalf("fwd es %s sent %+v", tc.verb, reqs)
		}
		var body api.ESAdmin
		if err := json.Unmarshal(reqs[0].Body, &body); err != nil || body.Up != tc.up {
			t.Errorf("fwd es %s sent %s, want up=%v", tc.verb, reqs[0].Body, tc.up)
		}
		golden(t, "es_"+tc.verb+".golden", out)
	}
	out, _, err := runFwd(t, f.socket, "", "es", "down", esi1, "--json")
	var es api.ES
	if err != nil || json.Unmarshal([]byte(out), &es) != nil || es.ESI != esi1 || es.Admin {
		t.Errorf("fwd es down --json: %q, %v", out, err)
	}

	_, _, err = runFwd(t, f.socket, "", "es", "down", esi2)
	if err == nil || !strings.Contains(err.Error(), "is not a local Ethernet Segment (HTTP 400)") {
		t.Errorf("remote ES: %v", err)
	}
	f.requests()
	for _, args := range [][]string{{"es", "down"}, {"es", "down", "03:44"}, {"es", "up", esi1, esi2}} {
		if _, _, err := runFwd(t, f.socket, "", args...); err == nil {
			t.Errorf("fwd %s: no error", strings.Join(args, " "))
		}
	}
	if reqs := f.requests(); len(reqs) != 0 {
		t.Errorf("bad ESIs reached the daemon: %+v", reqs)
	}
}

func TestLogLevel(t *testing.T) {
	f := newFakeDaemon(t)
	var level atomic.Value
	level.Store("info")
	f.onFunc("GET", "/v1/log-level", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(api.LogLevel{Level: level.Load().(string)})
	})
	f.onFunc("PUT", "/v1/log-level", func(w http.ResponseWriter, r *http.Request) {
		var l api.LogLevel
		if err := json.NewDecoder(r.Body).Decode(&l); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		level.Store(l.Level)
		_ = json.NewEncoder(w).Encode(l)
	})
	out, _, err := runFwd(t, f.socket, "", "log-level")
	if err != nil || out != "info\n" {
		t.Errorf("fwd log-level: %q, %v", out, err)
	}
	out, _, err = runFwd(t, f.socket, "", "log-level", "WARNING")
	if err != nil || out != "log level set to warn\n" {
		t.Errorf("fwd log-level WARNING: %q, %v", out, err)
	}
	out, _, err = runFwd(t, f.socket, "", "log-level", "--json")
	if err != nil || out != "{\n  \"level\": \"warn\"\n}\n" {
		t.Errorf("fwd log-level --json: %q, %v", out, err)
	}
	f.requests()
	_, _, err = runFwd(t, f.socket, "", "log-level", "trace")
	if err == nil || !strings.Contains(err.Error(), `log level "trace": want one of debug, info, warn, error`) {
		t.Errorf("fwd log-level trace: %v", err)
	}
	if reqs := f.requests(); len(reqs) != 0 {
		t.Errorf("a bad level reached the daemon: %+v", reqs)
	}
}
