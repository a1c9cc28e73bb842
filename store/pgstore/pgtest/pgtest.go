// Package pgtest gives tests a PostgreSQL server: the DSN in
// GOALSEARCH_TEST_PG (as .ci/postgres.sh prints it), and a fresh schema per
// test, dropped when the test ends.
//
// Without GOALSEARCH_TEST_PG, tests that need the server are skipped, except
// under CI (CI=true), where they fail: CI must not pass by skipping them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"goalsearch/store/pgstore"
)

// EnvDSN is the environment variable that holds the test server's DSN.
const EnvDSN = "GOALSEARCH_TEST_PG"

// DSN returns the test server's DSN, or skips (fails under CI) the test.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set under CI: .ci/run must start PostgreSQL (.ci/postgres.sh)", EnvDSN)
		}
		t.Skipf("%s is not set; start a server with .ci/postgres.sh to run this test", EnvDSN)
	}
	return dsn
}

// Schema returns a new schema name, unique to this call, that is dropped
// with everything in it when the test ends.
func Schema(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
		}
	})
	return name
}

// Open opens a store in a new schema (opts.Schema is overwritten), checks
// its consistency and closes it when the test ends.
func Open(t testing.TB, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	opts.Schema = Schema(t)
	s, err := pgstore.Open(context.Background(), DSN(t), &opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		again, err := pgstore.Open(context.Background(), DSN(t), &opts)
		if err != nil {
			t.Errorf("reopening: %v", err)
			return
		}
		defer again.Close()
		if err := again.Check(context.Background()); err != nil {
			t.Errorf("consistency check: %v", err)
		}
	})
	return s
}
