package api

import (
	"context"
	"errors"
)

// Backend is what the server serves: the daemon implements it over the
// control loop and the dataplane. Every method may be called concurrently.
//
// Errors: wrap ErrNotFound (404), ErrInvalid (400) or ErrUnavailable (503)
// so the server answers with the right status; anything else is a 500.
type Backend interface {
	Status(ctx context.Context) (Status, error)
	Interfaces(ctx context.Context) ([]Interface, error)
	BridgeDomains(ctx context.Context) ([]BridgeDomain, error)
	MACs(ctx context.Context, f MACFilter) ([]MAC, error)
	ESes(ctx context.Context) ([]ES, error)
	ESEVIs(ctx context.Context) ([]ESEVI, error)
	L2NextHops(ctx context.Context) ([]L2NextHop, error)
	NexthopGroups(ctx context.Context) ([]NexthopGroup, error)
	Routes(ctx context.Context, f RouteFilter) ([]Route, error)
	Counters(ctx context.Context) (Counters, error)
	Metrics(ctx context.Context) (Metrics, error)

	LogLevel() string
	SetLogLevel(level string) error

	// AddRoutes and WithdrawRoutes apply a batch in order: a route that
	// is invalid is counted in Rejected and named in Errors, the rest
	// still apply. An error means nothing was applied.
	AddRoutes(ctx context.Context, b RouteBatch) (RouteResult, error)
	WithdrawRoutes(ctx context.Context, b RouteBatch) (RouteResult, error)
	// SetESAdmin holds a local ES down (up false) or releases it.
	SetESAdmin(ctx context.Context, esi string, up bool) error
	Trace(ctx context.Context, r TraceRequest) (TraceResult, error)

	// Subscribe streams events until ctx ends; the channel is closed
	// then. A subscriber that does not keep up loses events (the server
	// says so on the stream), never blocks the daemon.
	Subscribe(ctx context.Context) <-chan Event
}

var (
	// ErrNotFound: the object asked for does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the request is malformed or names something impossible
	// (400).
	ErrInvalid = errors.New("invalid request")
	// ErrUnavailable: the daemon cannot serve this now (503).
	ErrUnavailable = errors.New("unavailable")
)
