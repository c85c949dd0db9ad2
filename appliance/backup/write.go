package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/klauspost/compress/zstd"
)

// Options say what a backup holds and who writes it.
type Options struct {
	// App is the name of the one app to back up; "" backs up the board.
	App string
	// Passphrase wraps SecretsKey into the file and keys its HMAC; without
	// one, the file's secrets cannot be restored and it has no HMAC.
	Passphrase []byte
	// SecretsKey is the key that seals the board's secrets.
	SecretsKey []byte
	// PiCloud and SchemaVersion are the writing build's versions.
	PiCloud       string
	SchemaVersion int
}

// Summary says what a backup holds.
type Summary struct {
	Header Header
	Rows   map[string]int64
	// Tables are the tables in the order the file holds them.
	Tables []string
}

// snapshotSettings make COPY's text the same whatever the server's
// defaults: restored by a server with other defaults, it means the same.
const snapshotSettings = `SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD';
SET LOCAL IntervalStyle = 'postgres'; SET LOCAL bytea_output = 'hex'; SET LOCAL extra_float_digits = 3`

// Write writes a backup to w, from one snapshot of the database (a
// REPEATABLE READ, READ ONLY transaction: the board keeps serving and
// writing meanwhile). Rows stream from COPY to w through the compressor,
// so that memory does not grow with the data.
func Write(ctx context.Context, pool *pgxpool.Pool, w io.Writer, opt Options) (Summary, error) {
	if len(opt.Passphrase) > 0 && len(opt.SecretsKey) == 0 {
		return Summary{}, errors.New("back up: a passphrase is given but the board has no secrets key to wrap")
	}
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Summary{}, fmt.Errorf("back up: begin the snapshot: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, snapshotSettings); err != nil {
		return Summary{}, fmt.Errorf("back up: %w", err)
	}
	h := Header{Format: FormatVersion, PiCloud: opt.PiCloud, SchemaVersion: opt.SchemaVersion,
		CreatedAt: time.Now().UTC().Format(time.RFC3339), Scope: ScopeBoard}
	if opt.App != "" {
		h.Scope, h.App = ScopeApp, opt.App
		err := tx.QueryRow(ctx, `SELECT id::text FROM apps WHERE name = $1`, opt.App).Scan(&h.AppID)
		if errors.Is(err, pgx.ErrNoRows) {
			return Summary{}, fmt.Errorf("back up: no app is named %q", opt.App)
		} else if err != nil {
			return Summary{}, fmt.Errorf("back up: find app %q: %w", opt.App, err)
		}
	}
	var macKey []byte
	if len(opt.Passphrase) > 0 {
		if h.Secrets, macKey, err = seal(opt.Passphrase, opt.SecretsKey); err != nil {
			return Summary{}, fmt.Errorf("back up: %w", err)
		}
	}
	var names []string
	for _, t := range Tables {
		if t.inScope(h.Scope) {
			names = append(names, t.Name)
		}
	}
	if names, err = order(ctx, tx, names); err != nil {
		return Summary{}, fmt.Errorf("back up: %w", err)
	}

	if _, err := fmt.Fprintf(w, "%s%d\n", Magic, FormatVersion); err != nil {
		return Summary{}, fmt.Errorf("back up: write: %w", err)
	}
	enc, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return Summary{}, fmt.Errorf("back up: %w", err)
	}
	sum := sha256.New()
	sinks := []io.Writer{enc, sum}
	mac := newMAC(macKey)
	if mac != nil {
		sinks = append(sinks, mac)
	}
	content := io.MultiWriter(sinks...)
	if err := writeJSON(content, recHeader, h); err != nil {
		return Summary{}, fmt.Errorf("back up: write: %w", err)
	}
	s := Summary{Header: h, Rows: map[string]int64{}, Tables: names}
	for _, name := range names {
		t, _ := table(name)
		n, err := writeTable(ctx, tx, content, t, h.AppID)
		if err != nil {
			return Summary{}, fmt.Errorf("back up %s: %w", name, err)
		}
		s.Rows[name] = n
	}
	tr := Trailer{Rows: s.Rows, SHA256: hex.EncodeToString(sum.Sum(nil))}
	if mac != nil {
		tr.HMAC = hex.EncodeToString(mac.Sum(nil))
	}
	if err := writeJSON(enc, recTrailer, tr); err != nil {
		return Summary{}, fmt.Errorf("back up: write: %w", err)
	}
	if err := enc.Close(); err != nil {
		return Summary{}, fmt.Errorf("back up: write: %w", err)
	}
	return s, nil
}

// writeTable writes one table: its header, its rows as COPY text in
// records of up to chunkSize bytes, and its end with the row count.
func writeTable(ctx context.Context, tx pgx.Tx, w io.Writer, t Table, appID string) (int64, error) {
	cols, err := columns(ctx, tx, t.Name)
	if err != nil {
		return 0, err
	}
	if err := writeJSON(w, recTable, TableHeader{Name: t.Name, Columns: cols}); err != nil {
		return 0, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = pgx.Identifier{c.Name}.Sanitize()
	}
	q := "SELECT " + strings.Join(names, ", ") + " FROM " + pgx.Identifier{t.Name}.Sanitize()
	if cond := t.where(appID); cond != "" {
		q += " WHERE " + cond
	}
	ch := &chunker{w: w, buf: make([]byte, 0, chunkSize)}
	if _, err := tx.Conn().PgConn().CopyTo(ctx, ch, "COPY ("+q+") TO STDOUT"); err != nil {
		return 0, fmt.Errorf("copy rows: %w", err)
	}
	if err := ch.flush(); err != nil {
		return 0, err
	}
	return ch.rows, writeJSON(w, recEnd, TableEnd{Name: t.Name, Rows: ch.rows})
}

// chunker gathers COPY's output into rows records and counts the rows
// (one newline ends each; COPY's text format escapes those in values).
type chunker struct {
	w    io.Writer
	buf  []byte
	rows int64
}

func (c *chunker) Write(p []byte) (int, error) {
	c.rows += int64(bytes.Count(p, []byte{'\n'}))
	n := len(p)
	for len(p) > 0 {
		room := chunkSize - len(c.buf)
		take := min(room, len(p))
		c.buf = append(c.buf, p[:take]...)
		p = p[take:]
		if len(c.buf) == chunkSize {
			if err := c.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *chunker) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	err := writeRecord(c.w, recRows, c.buf)
	c.buf = c.buf[:0]
	return err
}
