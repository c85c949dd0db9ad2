package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/klauspost/compress/zstd"
	"github.com/picloud/picloud/api/secrets"
	"github.com/picloud/picloud/appliance/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	schema = 1 << 20 // newer than any backup the tests write
	shopID = "10000000-0000-0000-0000-000000000001"
)

// newBoard returns a database with an app "shop" holding a plain and a
// secret variable sealed with key, and kv data; and the key.
func newBoard(t *testing.T) (*pgxpool.Pool, []byte) {
	t.Helper()
	pool := pgtest.NewDatabase(t)
	key, _ := secrets.NewKey()
	box, _ := secrets.New(key)
	sealed, _ := box.Seal(shopID, "API_KEY", "k-123")
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO apps (id, name) VALUES ('` + shopID + `', 'shop')`,
		`INSERT INTO app_variables (app_id, name, secret, value) VALUES ('` + shopID + `', 'MODE', false, 'live')`,
		`INSERT INTO kv_entries (app_id, collection, key, type, value) VALUES ('` + shopID + `', 'c', 'k', 'text', 'v'), ('` + shopID + `', 'c', 'k2', 'text', convert_to('line1' || chr(10) || 'line2', 'UTF8'))`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO app_variables (app_id, name, secret, sealed) VALUES ($1, 'API_KEY', true, $2)`, shopID, sealed); err != nil {
		t.Fatal(err)
	}
	return pool, key
}

func writeBackup(t *testing.T, pool *pgxpool.Pool, key []byte, passphrase string) []byte {
	t.Helper()
	var buf bytes.Buffer
	opt := Options{PiCloud: "test", SchemaVersion: 1, SecretsKey: key}
	if passphrase != "" {
		opt.Passphrase = []byte(passphrase)
	}
	if _, err := Write(context.Background(), pool, &buf, opt); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func restore(t *testing.T, pool *pgxpool.Pool, file []byte, passphrase string, box *secrets.Box) (*Result, error) {
	t.Helper()
	return Restore(context.Background(), pool, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(file)), nil },
		RestoreOptions{Passphrase: []byte(passphrase), SchemaVersion: schema, Box: box})
}

// TestEveryTableIsListed fails when a migration adds a table that is
// neither in Tables nor in Excluded: decide whether backups hold it.
func TestEveryTableIsListed(t *testing.T) {
	pool := pgtest.NewDatabase(t)
	rows, _ := pool.Query(context.Background(), `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		_, listed := table(n)
		excluded := slices.ContainsFunc(Excluded, func(e struct {
			Name, Why string
			Keep      bool
		}) bool {
			return e.Name == n
		})
		if listed == excluded {
			t.Errorf("table %s: listed in Tables %v, in Excluded %v; it must be in exactly one", n, listed, excluded)
		}
	}
}

func TestRoundTripReseals(t *testing.T) {
	pool, key := newBoard(t)
	file := writeBackup(t, pool, key, "a passphrase")
	other := pgtest.NewDatabase(t)
	otherKey, _ := secrets.NewKey()
	box, _ := secrets.New(otherKey)
	if _, err := restore(t, other, file, "a passphrase", box); err != nil {
		t.Fatal(err)
	}
	var sealed []byte
	if err := other.QueryRow(context.Background(), `SELECT sealed FROM app_variables WHERE name = 'API_KEY'`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if v, err := box.Open(shopID, "API_KEY", sealed); err != nil || v != "k-123" {
		t.Fatalf("the restored secret opens with this board's key as %q, %v", v, err)
	}
	var value string
	if err := other.QueryRow(context.Background(), `SELECT convert_from(value, 'UTF8') FROM kv_entries WHERE key = 'k2'`).Scan(&value); err != nil || value != "line1\nline2" {
		t.Fatalf("a value with a newline came back as %q, %v", value, err)
	}
	// Sequences are past the restored versions.
	var next, top int64
	if err := other.QueryRow(context.Background(), `SELECT nextval('kv_versions'), (SELECT max(version) FROM kv_entries)`).Scan(&next, &top); err != nil || next <= top {
		t.Fatalf("kv_versions gives %d after a restored %d: %v", next, top, err)
	}
	// A board that is not fresh is refused.
	if _, err := restore(t, other, file, "a passphrase", box); !errors.Is(err, ErrNotFresh) {
		t.Fatalf("a second restore: %v", err)
	}
}

func TestWithoutPassphraseSecretsAreLeftOut(t *testing.T) {
	pool, key := newBoard(t)
	file := writeBackup(t, pool, key, "")
	other := pgtest.NewDatabase(t)
	box, _ := secrets.New(key)
	res, err := restore(t, other, file, "", box)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "API_KEY") {
		t.Fatalf("warnings %q", res.Warnings)
	}
	var names []string
	rows, _ := other.Query(context.Background(), `SELECT name FROM app_variables ORDER BY name`)
	if names, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || !slices.Equal(names, []string{"MODE"}) {
		t.Fatalf("variables after the restore: %v %v", names, err)
	}
}

// rewrite decompresses a backup, lets change edit the payload of each
// record before the trailer, and writes it again with a SHA-256 that
// matches the changed content (as someone without the passphrase could).
func rewrite(t *testing.T, file []byte, change func(typ byte, payload []byte) []byte) []byte {
	t.Helper()
	nl := bytes.IndexByte(file, '\n')
	dec, err := zstd.NewReader(bytes.NewReader(file[nl+1:]))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var out bytes.Buffer
	out.Write(file[:nl+1])
	enc, _ := zstd.NewWriter(&out)
	sum := sha256.New()
	r := bufio.NewReader(dec)
	for {
		var head [5]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			t.Fatal(err)
		}
		payload := make([]byte, binary.BigEndian.Uint32(head[1:]))
		if _, err := io.ReadFull(r, payload); err != nil {
			t.Fatal(err)
		}
		if head[0] == recTrailer {
			var tr Trailer
			_ = json.Unmarshal(payload, &tr)
			tr.SHA256 = hex.EncodeToString(sum.Sum(nil))
			_ = writeJSON(enc, recTrailer, tr)
			break
		}
		_ = writeRecord(io.MultiWriter(enc, sum), head[0], change(head[0], payload))
	}
	_ = enc.Close()
	return out.Bytes()
}

func TestTamperedFileIsRefused(t *testing.T) {
	pool, key := newBoard(t)
	tamper := func(typ byte, p []byte) []byte {
		if typ == recRows {
			return bytes.ReplaceAll(p, []byte("live"), []byte("evil"))
		}
		return p
	}
	// Without a passphrase only the checksum guards the file: a changed
	// file with a checksum made again passes (which is why the docs say
	// to use one). The rewrite itself keeps a good file good.
	plain := rewrite(t, writeBackup(t, pool, key, ""), tamper)
	if _, err := Verify(bytes.NewReader(plain), nil, schema); err != nil {
		t.Fatalf("a rewritten file without a passphrase: %v", err)
	}
	protected := rewrite(t, writeBackup(t, pool, key, "a passphrase"), tamper)
	other := pgtest.NewDatabase(t)
	box, _ := secrets.New(key)
	if _, err := restore(t, other, protected, "a passphrase", box); err == nil || !strings.Contains(err.Error(), "HMAC") {
		t.Fatalf("a tampered file: %v", err)
	}
	var n int
	if err := other.QueryRow(context.Background(), `SELECT count(*) FROM apps`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the refused restore changed the board: %d apps, %v", n, err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	pool, key := newBoard(t)
	file := writeBackup(t, pool, key, "")
	if _, err := Verify(bytes.NewReader(file), nil, 0); err == nil || !strings.Contains(err.Error(), "newer than this build's") {
		t.Fatalf("a backup of a newer schema: %v", err)
	}
}

// TestBadRowChangesNothing restores a file whose checksum is good but one
// of whose rows the database refuses: the restore fails and the board is
// as it was.
func TestBadRowChangesNothing(t *testing.T) {
	pool, key := newBoard(t)
	bad := rewrite(t, writeBackup(t, pool, key, ""), func(typ byte, p []byte) []byte {
		if typ == recRows {
			return bytes.ReplaceAll(p, []byte("\ttext\t"), []byte("\ttexx\t")) // kv_entries.type's CHECK refuses it
		}
		return p
	})
	other := pgtest.NewDatabase(t)
	if _, err := other.Exec(context.Background(), `INSERT INTO apps (name) VALUES ('mine')`); err != nil {
		t.Fatal(err)
	}
	_, err := Restore(context.Background(), other, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(bad)), nil },
		RestoreOptions{SchemaVersion: schema, Force: true})
	if err == nil || !strings.Contains(err.Error(), "kv_entries") {
		t.Fatalf("a restore with a bad row: %v", err)
	}
	rows, _ := other.Query(context.Background(), `SELECT name FROM apps ORDER BY name`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !slices.Equal(names, []string{"default", "mine"}) {
		t.Fatalf("apps after the failed restore: %v %v", names, err)
	}
}

func TestNotABackupIsRefused(t *testing.T) {
	for name, file := range map[string][]byte{
		"empty":          nil,
		"text":           []byte("hello\n"),
		"no line at all": bytes.Repeat([]byte("x"), 1<<20),
		"magic, no zstd": []byte(Magic + "1\nnot compressed"),
		"a bad version":  []byte(Magic + "x\n"),
	} {
		if _, err := Verify(bytes.NewReader(file), nil, schema); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
