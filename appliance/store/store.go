// Package store is PiCloud's PostgreSQL storage: the control-plane tables and
// the execution log. Store's methods, one file per area (users, apps,
// scripts, routes, …), are the queries themselves: each runs on the
// transaction of the Atomically its context comes from, or else on the
// pool, both a querier. Store satisfies the small role interfaces that the
// services declare for what they need (manager.UserStore,
// manager.ScriptStore, orchestrator.Source, execlog.Store, …) without
// importing them.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/api/model"
)

// querier is satisfied by *pgxpool.Pool, *pgx.Conn and pgx.Tx.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store runs the store's queries on a connection pool.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Pool returns the underlying pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// txKey marks the transaction of one Store in a context.
type txKey struct{ s *Store }

// Atomically runs fn in one transaction: every call of this Store's methods
// with the context fn receives is part of it, and it commits only if fn
// returns nil. This is how an admin action and its audit record are written
// together. Inside an Atomically, a nested one joins the outer transaction.
func (s *Store) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{s}).(pgx.Tx); ok {
		return fn(ctx)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(context.WithValue(ctx, txKey{s}, tx))
	})
}

// q is the transaction of the Atomically that ctx comes from, or the pool.
func (s *Store) q(ctx context.Context) querier {
	if tx, ok := ctx.Value(txKey{s}).(pgx.Tx); ok {
		return tx
	}
	return s.pool
}

// PostgreSQL error codes the store maps to the project's errors.
const (
	pgUniqueViolation     = "23505"
	pgDiskFull            = "53100" // "could not extend file": no space left
	pgForeignKeyViolation = "23503"
	pgCheckViolation      = "23514"
	pgNotNullViolation    = "23502"
	pgInvalidText         = "22P02"
	pgStringTooLong       = "22001"
	pgSerialization       = "40001"
	pgDeadlock            = "40P01"
	pgInFailedTx          = "25P02"
)

// mapError turns driver errors into model errors with a sentence for a
// person, keeping the driver's error in the chain for logs. It is the one
// place that knows PostgreSQL's error codes.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &dbError{kind: model.ErrNotFound, msg: "not found", cause: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgUniqueViolation:
			return &dbError{kind: model.ErrConflict, msg: "already exists", cause: err}
		case pgForeignKeyViolation:
			return &dbError{kind: model.ErrInvalid, msg: "refers to something that does not exist", cause: err}
		case pgCheckViolation, pgNotNullViolation, pgInvalidText, pgStringTooLong:
			return &dbError{kind: model.ErrInvalid, msg: "value not accepted: " + pgErr.Message, cause: err}
		case pgDiskFull:
			return &dbError{kind: model.ErrStorageFull, msg: "the disk holding the database is full", cause: err}
		case pgSerialization, pgDeadlock:
			return &dbError{kind: model.ErrTxConflict, msg: "conflicts with concurrent transactions", cause: err}
		case pgInFailedTx:
			return &dbError{kind: model.ErrTxAborted, msg: "an earlier statement of the transaction failed", cause: err}
		}
	}
	return err
}

// dbError is a driver error classified as one of the model's errors.
type dbError struct {
	kind  error
	msg   string
	cause error
}

func (e *dbError) Error() string   { return e.msg }
func (e *dbError) Unwrap() []error { return []error{e.kind, e.cause} }

// DatabaseSize is the size of the database on disk, in bytes.
func (s *Store) DatabaseSize(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
		return 0, fmt.Errorf("database size: %w", mapError(err))
	}
	return n, nil
}
