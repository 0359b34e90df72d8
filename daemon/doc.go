// Package daemon is fwd running as a service: it loads and attaches the
// fast path from a config.Config, runs the control loop with the underlay
// resolver, the link watcher and the learn ring feeding it, serves the
// local API (api.Backend over control's views), reloads its config on
// request, and restarts without losing a frame: the maps and links are
// pinned, a new instance adopts them, builds its state beside the old one
// and sweeps the old one when the routes are back (control.Pinned).
package daemon
