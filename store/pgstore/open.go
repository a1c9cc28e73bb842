// Package pgstore is the store.Store backend on PostgreSQL, for studies
// that many worker processes on many machines run together (goalsearch
// worker). It implements store.Leaser: running trials are leased.
//
// # Transactions and locks
//
// Every change is one PostgreSQL transaction (READ COMMITTED) that locks
// the rows it changes with SELECT ... FOR UPDATE, applies the shared rules
// of store/internal/rules to the decoded record and writes it back; so a
// nil error means the change is committed, and durable as far as the
// server's synchronous_commit says (on by default). Reads that return
// several records (Trials, SamplerStates, Export) run in one REPEATABLE
// READ, read-only transaction, i.e. one snapshot.
//
//   - Trial numbers come from the study row's next_trial, locked FOR
//     UPDATE, so EnqueueTrial and PutSamplerState of one study are
//     serialised and numbers are consecutive.
//   - ClaimTrial takes the lowest queued trial with FOR UPDATE SKIP LOCKED:
//     concurrent workers never wait for each other and never get the same
//     trial.
//   - Leases: StartTrial and ClaimTrial lease the trial to its worker for
//     Options.Lease; ReportEpoch and Heartbeat renew it. RequeueRunning
//     requeues only trials whose lease expired (FOR UPDATE SKIP LOCKED, so
//     a trial being reported on right now is left alone). Times are the
//     server's clock_timestamp(), so workers' clocks need not agree.
//
// Deadlocks and serialisation failures are retried inside the method. A
// lost or refused connection returns an error wrapping
// store.ErrUnavailable: the change may or may not have committed, and the
// caller may repeat it (the search worker does, and recognises its own
// earlier success by the trial's state and attempt).
//
// # Schema
//
// The tables live in one PostgreSQL schema (Options.Schema, default
// "goalsearch"), created by Open together with its tables under an
// advisory lock, so that many workers may start at once. Records are the
// same versioned JSON as in the bbolt backend (store.EncodeTrial etc.),
// kept in bytea so that they round-trip byte for byte; the columns beside
// them (state, attempt, worker, lease) are copies used for indexes, locks
// and goalsearch status.
//
//	meta(key, value)            format "goalsearch", schema store.SchemaVersion,
//	                            layout (this package's table layout version)
//	studies(name, next_trial, rec)
//	trials(study, number, state, attempt, worker, lease_expiry, rec)
//	checkpoints(study, number, epoch, data)
//	sampler_states(study, generation, rec)
//
// A database written by a newer goalsearch (schema or layout) is refused
// with store.ErrNewerSchema; an older layout would be migrated by Open.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"goalsearch/store"
)

// DefaultLease is how long a running trial stays leased to its worker
// without a report or heartbeat.
const DefaultLease = time.Minute

// DefaultSchema is the PostgreSQL schema that holds the tables.
const DefaultSchema = "goalsearch"

// layoutVersion is the version of this package's tables; Open creates or
// migrates to it.
const layoutVersion = 1

const formatName = "goalsearch"

// Options configures Open. A nil *Options means the defaults.
type Options struct {
	// Lease is how long a start, report or heartbeat leases a running
	// trial. If Lease is 0, DefaultLease is used; a negative Lease makes
	// every lease expire at once (RequeueRunning then requeues every
	// running trial, as bbolt's does: for tests and single-process use).
	Lease time.Duration

	// Schema is the PostgreSQL schema of the tables; "" means the DSN's
	// search_path parameter if it has one, else DefaultSchema. It is
	// created if missing.
	Schema string

	// MaxConns bounds the connection pool; 0 means pgxpool's default
	// (4 or the number of CPUs, whichever is larger).
	MaxConns int32
}

// Store is a store.Store in a PostgreSQL database. It is safe for
// concurrent use by any number of goroutines, and any number of processes
// may open the same database.
type Store struct {
	pool   *pgxpool.Pool
	dsn    string
	schema string
	lease  time.Duration
	closed atomic.Bool
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Leaser = (*Store)(nil)
)

// IsDSN reports whether s names a PostgreSQL database (a postgres:// or
// postgresql:// URL) rather than a file.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database that dsn names (a libpq URL or key=value
// string, e.g. postgres:///goalsearch?host=/run/postgresql), creates the
// schema and tables if they are missing, and checks their versions. It
// returns store.ErrNewerSchema for a database written by a newer
// goalsearch, store.ErrNotStore if the schema holds something else, and an
// error wrapping store.ErrUnavailable if the server cannot be reached. The
// Store holds a connection pool until Close; it may be used from any
// goroutine. The tables are committed when Open returns.
func Open(ctx context.Context, dsn string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	lease := o.Lease
	switch {
	case lease == 0:
		lease = DefaultLease
	case lease < 0:
		lease = 0
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", redact(dsn), err)
	}
	if o.Schema == "" {
		// A search_path in the DSN names the schema, so that a command
		// line can choose it.
		o.Schema = cfg.ConnConfig.RuntimeParams["search_path"]
	}
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = o.Schema
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", redact(dsn), mapErr(err))
	}
	s := &Store{pool: pool, dsn: redact(dsn), schema: o.Schema, lease: lease}
	if err := s.init(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// redact drops the password from a DSN that is shown in messages.
func redact(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "the PostgreSQL store"
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		return fmt.Sprintf("postgres database %s (socket %s)", cfg.Database, host)
	}
	return fmt.Sprintf("postgres database %s on %s:%d", cfg.Database, host, cfg.Port)
}

// schemaSQL creates layout version 1. Names sort bytewise (COLLATE "C"),
// as bbolt's keys do, so Studies orders them the same way.
const schemaSQL = `
CREATE TABLE IF NOT EXISTS meta (
	key   text PRIMARY KEY,
	value text NOT NULL
);
CREATE TABLE IF NOT EXISTS studies (
	name       text COLLATE "C" PRIMARY KEY,
	next_trial bigint NOT NULL DEFAULT 0,
	rec        bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
	study        text COLLATE "C" NOT NULL REFERENCES studies (name) ON DELETE CASCADE,
	number       bigint NOT NULL,
	state        text NOT NULL,
	attempt      bigint NOT NULL,
	worker       text NOT NULL,
	lease_expiry timestamptz,
	rec          bytea NOT NULL,
	PRIMARY KEY (study, number)
);
CREATE INDEX IF NOT EXISTS trials_by_state ON trials (study, state, number);
CREATE TABLE IF NOT EXISTS checkpoints (
	study  text COLLATE "C" NOT NULL,
	number bigint NOT NULL,
	epoch  bigint NOT NULL,
	data   bytea NOT NULL,
	PRIMARY KEY (study, number),
	FOREIGN KEY (study, number) REFERENCES trials (study, number) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS sampler_states (
	study      text COLLATE "C" NOT NULL REFERENCES studies (name) ON DELETE CASCADE,
	generation bigint NOT NULL,
	rec        bytea NOT NULL,
	PRIMARY KEY (study, generation)
);
`

// init creates or checks the schema, under a transaction-level advisory
// lock so that workers starting together do not race on CREATE.
func (s *Store) init(ctx context.Context) error {
	return s.tx(ctx, pgx.ReadCommitted, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('goalsearch schema ' || $1))`, s.schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = $1`, s.schema).Scan(&n); err != nil {
			return err
		}
		var hasMeta bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'meta')`, s.schema).Scan(&hasMeta); err != nil {
			return err
		}
		if n > 0 && !hasMeta {
			return fmt.Errorf("%w: schema %q of %s holds other tables", store.ErrNotStore, s.schema, s.dsn)
		}
		if n == 0 {
			if _, err := tx.Exec(ctx, schemaSQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('format', $1), ('schema', $2), ('layout', $3)`,
				formatName, strconv.Itoa(store.SchemaVersion), strconv.Itoa(layoutVersion))
			return err
		}
		meta := map[string]string{}
		rows, err := tx.Query(ctx, `SELECT key, value FROM meta`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				return err
			}
			meta[k] = v
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if meta["format"] != formatName {
			return fmt.Errorf("%w: schema %q of %s has format %.40q", store.ErrNotStore, s.schema, s.dsn, meta["format"])
		}
		for _, v := range []struct {
			key  string
			mine int
		}{{"schema", store.SchemaVersion}, {"layout", layoutVersion}} {
			got, err := strconv.Atoi(meta[v.key])
			switch {
			case err != nil || got < 1:
				return fmt.Errorf("%w: schema %q of %s has %s version %.20q", store.ErrNotStore, s.schema, s.dsn, v.key, meta[v.key])
			case got > v.mine:
				return fmt.Errorf("%w (%s, schema %q, has %s version %d, this build reads up to %d): upgrade goalsearch to open it",
					store.ErrNewerSchema, s.dsn, s.schema, v.key, got, v.mine)
			}
			// Older versions would be migrated here, in this
			// transaction; version 1 is the first.
		}
		return nil
	})
}

// Lease implements store.Leaser: how long a start, report or heartbeat
// keeps a trial leased (0 if leases expire at once). Safe at any time.
func (s *Store) Lease() time.Duration { return s.lease }

// Schema returns the PostgreSQL schema the tables live in. Safe at any
// time.
func (s *Store) Schema() string { return s.schema }

// String names the database (without a password) for messages.
func (s *Store) String() string { return s.dsn }

// Close closes the connection pool once the connections in use are
// returned. Later calls return store.ErrClosed; Close itself may be called
// again and returns nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}

// maxRetries bounds the retries of a transaction that failed with a
// deadlock or serialisation failure.
const maxRetries = 10

// tx runs fn in a transaction of the given isolation, committed if fn
// returns nil and rolled back otherwise, retrying on deadlocks and
// serialisation failures (fn must then be repeatable: it is, as every
// method reads what it changes inside fn).
func (s *Store) tx(ctx context.Context, iso pgx.TxIsoLevel, fn func(tx pgx.Tx) error) error {
	return s.txOpts(ctx, pgx.TxOptions{IsoLevel: iso}, fn)
}

func (s *Store) view(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.txOpts(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

func (s *Store) txOpts(ctx context.Context, o pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, s.pool, o, fn)
		if err == nil {
			return nil
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") && attempt < maxRetries {
			time.Sleep(time.Duration(attempt+1) * time.Millisecond)
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.closed.Load() {
			return store.ErrClosed
		}
		return mapErr(err)
	}
}

// mapErr wraps connection failures in store.ErrUnavailable and leaves the
// store's own errors as they are.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return err
}

func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-3: admin shutdown, crash
		// shutdown, cannot connect now (starting up); 53300: too many
		// connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "unexpected EOF") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset") || strings.Contains(msg, "EOF")
}
