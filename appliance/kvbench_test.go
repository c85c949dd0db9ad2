package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The kv benchmarks measure a script's kv reads and writes against a raw
// gin handler running the same SQL statements as appliance/store/kv.go
// (GetKV, and PutKV without a version check) through a pgx pool sized as
// the daemon's, on the same table of the same database. Each side has its
// own app, so its own keys.

const (
	envBenchApp = "PICLOUD_BENCH_APP" // the app whose keys the gin baseline reads and writes
	benchKeys   = 1000                // keys read, and keys written in rotation
)

// The statements of store.GetKV and store.PutKV (CheckVersion false).
const (
	kvGetSQL = `SELECT key, type, value, metadata, version, expires_at FROM kv_entries
WHERE app_id = $1 AND collection = $2 AND key = $3 AND (expires_at IS NULL OR expires_at > now())`
	kvPutSQL = `INSERT INTO kv_entries AS kv (app_id, collection, key, type, value, metadata, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (app_id, collection, key) DO UPDATE SET type = EXCLUDED.type, value = EXCLUDED.value,
    metadata = EXCLUDED.metadata, expires_at = EXCLUDED.expires_at, version = nextval('kv_versions'), updated_at = now()
RETURNING version`
)

// The scripts of the kv benchmarks: read key "k"+n, or write a small JSON
// document to key "w"+n, in the collection "bench".
const (
	kvReadScript = `import { kv } from "picloud"
export default { async fetch(request) {
  const n = new URL(request.url).searchParams.get("n")
  const v = await kv.collection("bench").get("k" + n)
  if (v === null) return new Response("no key k" + n, { status: 404 })
  return Response.json(v)
} }`
	kvWriteScript = `import { kv } from "picloud"
export default { async fetch(request) {
  const n = new URL(request.url).searchParams.get("n")
  const { version } = await kv.collection("bench").put("w" + n, await request.json())
  return Response.json({ version })
} }`
)

// kvValue is the JSON value preloaded at key "k"+n.
func kvValue(n int) []byte {
	b, _ := json.Marshal(map[string]any{"n": n, "name": fmt.Sprintf("item number %d", n), "tags": []string{"blue", "small"}})
	return b
}

// kvWriteBody is the small JSON document the write benchmark puts.
var kvWriteBody = []byte(`{"user":"ada","score":42,"tags":["blue","small"],"active":true}`)

var (
	kvReadLoad = load{path: "/kvread", keys: benchKeys, want: func(b []byte) error {
		var got, want any
		if err := json.Unmarshal(b, &got); err != nil {
			return fmt.Errorf("answered %q: %v", b, err)
		}
		_ = json.Unmarshal(kvValue(0), &want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("read %s for k0, want %s", b, kvValue(0))
		}
		return nil
	}}
	kvWriteLoad = load{path: "/kvwrite", body: kvWriteBody, keys: benchKeys, want: func(b []byte) error {
		var got struct{ Version *int64 }
		if err := json.Unmarshal(b, &got); err != nil || got.Version == nil || *got.Version < 1 {
			return fmt.Errorf("answered %q, want a version", b)
		}
		return nil
	}}
)

// benchPool opens a pool on url sized as the daemon's (pgx's default,
// capped at 16 as appliance/database.go does).
func benchPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse the database URL: %w", err)
	}
	if cfg.MaxConns > 16 {
		cfg.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the database: %w", err)
	}
	return pool, nil
}

// benchKVGin serves the kv baseline from raw gin and pgx until SIGTERM:
// GET /kvread?n=N answers the value of key "k"+N, POST /kvwrite?n=N puts
// the JSON body at key "w"+N and answers its version.
func benchKVGin() int {
	ctx := context.Background()
	pool, err := benchPool(ctx, os.Getenv(envBenchDB))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pool.Close()
	app := os.Getenv(envBenchApp)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/kvread", func(c *gin.Context) {
		var (
			key, typ  string
			value     []byte
			meta      []byte
			version   int64
			expiresAt *time.Time
		)
		err := pool.QueryRow(c, kvGetSQL, app, "bench", "k"+c.Query("n")).Scan(&key, &typ, &value, &meta, &version, &expiresAt)
		if err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.Data(http.StatusOK, "application/json", value)
	})
	r.POST("/kvwrite", func(c *gin.Context) {
		var v any
		if err := c.ShouldBindJSON(&v); err != nil {
			c.String(http.StatusBadRequest, err.Error())
			return
		}
		value, _ := json.Marshal(v)
		var version int64
		err := pool.QueryRow(c, kvPutSQL, app, "bench", "w"+c.Query("n"), "json", value, nil, nil).Scan(&version)
		if err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.JSON(http.StatusOK, gin.H{"version": version})
	})
	return serveGin(r)
}

// kvBench is the setup of the kv benchmarks: PiCloud with both scripts,
// the gin baseline on the daemon's database, each with its app's keys
// preloaded.
type kvBench struct {
	servers map[string]server
	pool    *pgxpool.Pool
	apps    map[string]string // server → app id
}

func startKVBench(b *testing.B) kvBench {
	ctx := context.Background()
	pc, dbURL := startPiCloudDB(b, map[string]string{"/kvread": kvReadScript, "/kvwrite": kvWriteScript})
	pool, err := benchPool(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	var scriptApp, ginApp string
	if err := pool.QueryRow(ctx, `SELECT app_id::text FROM scripts WHERE name = 'kvread'`).Scan(&scriptApp); err != nil {
		b.Fatalf("find the app of the kv scripts: %v", err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO apps (name) VALUES ('gin-baseline') RETURNING id::text`).Scan(&ginApp); err != nil {
		b.Fatalf("make the app of the gin baseline: %v", err)
	}
	apps := map[string]string{"picloud": scriptApp, "gin": ginApp}
	var backend int64
	if err := pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		b.Fatalf("find PostgreSQL's processes: %v", err)
	}
	if f := statFields(fmt.Sprintf("/proc/%d/stat", backend)); len(f) > 1 {
		postmaster, _ := strconv.ParseInt(f[1], 10, 64)
		dbPID.Store(postmaster)
		b.Cleanup(func() { dbPID.Store(0) })
	}
	for _, app := range apps {
		for n := 0; n < benchKeys; n++ {
			if _, err := pool.Exec(ctx, kvPutSQL, app, "bench", fmt.Sprintf("k%d", n), "json", kvValue(n), nil, nil); err != nil {
				b.Fatalf("preload key k%d: %v", n, err)
			}
		}
	}
	exe, _ := os.Executable()
	cmd := exec.Command(exe, argBenchKV)
	cmd.Env = append(os.Environ(), envBenchDB+"="+dbURL, envBenchApp+"="+apps["gin"])
	return kvBench{servers: map[string]server{"picloud": pc, "gin": startProcess(b, cmd)}, pool: pool, apps: apps}
}

// BenchmarkKVRead reads one of 1000 preloaded keys per request, spread
// evenly, from a PiCloud script (kv.collection("bench").get) and from the
// raw gin + pgx baseline.
func BenchmarkKVRead(b *testing.B) {
	k := startKVBench(b)
	compare(b, "kvread", kvReadLoad, k.servers)
}

// BenchmarkKVWrite puts a small JSON document per request to one of 1000
// keys in rotation (request i writes key "w"+(i mod 1000)), from a PiCloud
// script (kv.collection("bench").put) and from the raw gin + pgx baseline.
// Afterwards each side's keys must hold the document.
func BenchmarkKVWrite(b *testing.B) {
	k := startKVBench(b)
	compare(b, "kvwrite", kvWriteLoad, k.servers)
	for name, app := range k.apps {
		var n int
		err := k.pool.QueryRow(context.Background(), `SELECT count(*) FROM kv_entries
WHERE app_id = $1 AND collection = 'bench' AND key LIKE 'w%' AND type = 'json' AND convert_from(value, 'UTF8')::jsonb = $2::jsonb`, app, string(kvWriteBody)).Scan(&n)
		if err != nil {
			b.Fatalf("count the keys %s wrote: %v", name, err)
		}
		if n < 1 {
			b.Fatalf("%s wrote no key holding the document", name)
		}
		b.Logf("%s: %d keys hold the document", name, n)
	}
}
