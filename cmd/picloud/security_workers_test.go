package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	osuser "os/user"
	"strconv"
	"strings"
	"testing"

	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/testkit"
)

// workerEnvAllowed is every variable an executor worker may see: the Go
// runtime's settings the daemon chose, its engine settings, and the few
// variables of the daemon's environment that Go reads for time zones and
// TLS roots.
var workerEnvAllowed = map[string]bool{
	"GOGC": true, "GOMEMLIMIT": true, "GOMAXPROCS": true, "GODEBUG": true, "GOTRACEBACK": true,
	"PICLOUD_WORKER_ENGINE": true, "TZ": true, "ZONEINFO": true, "SSL_CERT_FILE": true, "SSL_CERT_DIR": true,
}

// TestWorkersRunWithLeastPrivilege starts the real daemon as it is started
// outside systemd, as root with the database URL and a password in its
// environment, and checks each executor worker process from outside: its
// environment holds none of the daemon's, it runs as an unprivileged user
// without capabilities, with no_new_privs and a system-call filter, and
// scripts still run and fetch.
func TestWorkersRunWithLeastPrivilege(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	dbURL := pgtest.NewDatabaseURL(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "pong") }))
	defer upstream.Close()
	_, port, _ := net.SplitHostPort(upstream.Listener.Addr().String())
	d := newDaemon(t, bin,
		"DATABASE_URL="+dbURL,
		"PGPASSWORD=daemon-only-password",
		"PICLOUD_EXECUTOR_WORKERS=2",
		"PICLOUD_FETCH_ALLOW=127.0.0.1:"+port+",[::1]:"+port,
	)
	d.startAsOwner()

	// A script runs, and its fetch reaches a server by name (/etc/hosts)
	// from inside the worker's restrictions.
	created := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "fetcher",
		"source": `export default async () => { const r = await fetch("http://localhost:` + port + `/"); return new Response("fetched " + await r.text()) }`}))
	d.expect(created, 201)
	id := created.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+id+"/routes", `{"method":"GET","path":"/fetch"}`), 201)
	d.expect(d.call("GET", "/fetch", ""), 200, "fetched pong")

	pids := workerPIDs(t, d)
	if len(pids) != 2 {
		t.Fatalf("want 2 workers, got pids %v", pids)
	}
	seccomp := kernelHasSeccomp(t)
	for _, pid := range pids {
		t.Run("worker "+strconv.Itoa(pid), func(t *testing.T) {
			env := processEnv(t, pid)
			for k := range env {
				if !workerEnvAllowed[k] {
					t.Errorf("the worker's environment has %s", k)
				}
			}
			for _, k := range []string{"DATABASE_URL", "PGPASSWORD", "PICLOUD_DATA_DIR", "PICLOUD_CONFIG", "PICLOUD_LISTEN", "HOME", "PATH"} {
				if v, ok := env[k]; ok {
					t.Errorf("the worker inherited %s=%s", k, v)
				}
			}
			if env["PICLOUD_WORKER_ENGINE"] == "" || env["GOMAXPROCS"] == "" {
				t.Errorf("the worker lacks its own settings: %v", env)
			}

			st := testkit.ProcStatus(t, pid)
			if os.Geteuid() == 0 {
				want := expectedWorkerUser(t)
				for _, f := range []string{"Uid", "Gid"} {
					ids := strings.Fields(st[f])
					wantID := want.Uid
					if f == "Gid" {
						wantID = want.Gid
					}
					if len(ids) != 4 || ids[0] != wantID || ids[1] != wantID || ids[2] != wantID || ids[3] != wantID {
						t.Errorf("%s: %q, want %s (user %s) for real, effective, saved and file system", f, st[f], wantID, want.Username)
					}
				}
				if st["Groups"] != "" {
					t.Errorf("supplementary groups %q, want none", st["Groups"])
				}
			}
			for _, f := range []string{"CapInh", "CapPrm", "CapEff", "CapAmb"} {
				if v, err := strconv.ParseUint(st[f], 16, 64); err != nil || v != 0 {
					t.Errorf("%s: %q, want no capabilities", f, st[f])
				}
			}
			if st["NoNewPrivs"] != "1" {
				t.Errorf("NoNewPrivs: %q, want 1", st["NoNewPrivs"])
			}
			if seccomp && st["Seccomp"] != "2" {
				t.Errorf("Seccomp: %q, want 2 (a filter)", st["Seccomp"])
			}
		})
	}
}

// workerPIDs reads the executor workers' process ids from the system status.
func workerPIDs(t *testing.T, d *daemon) []int {
	t.Helper()
	r := d.call("GET", "/api/v1/admin/system", "")
	d.expect(r, 200)
	var s struct {
		Workers []struct {
			PID int `json:"pid"`
		} `json:"workers"`
	}
	if err := json.Unmarshal([]byte(r.body), &s); err != nil {
		t.Fatalf("system status: %v: %s", err, r.body)
	}
	var pids []int
	for _, w := range s.Workers {
		if w.PID != 0 {
			pids = append(pids, w.PID)
		}
	}
	return pids
}

// processEnv reads a process's environment from /proc.
func processEnv(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			env[k] = v
		}
	}
	return env
}

// kernelHasSeccomp reports whether the kernel shows seccomp modes, as it
// does when built with seccomp.
func kernelHasSeccomp(t *testing.T) bool {
	_, ok := testkit.ProcStatus(t, os.Getpid())["Seccomp"]
	return ok
}

// expectedWorkerUser is the user the workers of a daemon run by root run
// as without PICLOUD_EXECUTOR_USER: picloud where it exists, else nobody.
func expectedWorkerUser(t *testing.T) *osuser.User {
	t.Helper()
	for _, name := range []string{"picloud", "nobody"} {
		if u, err := osuser.Lookup(name); err == nil {
			return u
		}
	}
	t.Fatal("neither the picloud nor the nobody user exists")
	return nil
}

// TestWorkerUserMustExist: a daemon run by root refuses to start its
// workers as a user that does not exist, saying which setting to fix,
// rather than fall back to root.
func TestWorkerUserMustExist(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	if os.Geteuid() != 0 {
		t.Skip("only a daemon run by root switches users")
	}
	d := newDaemon(t, buildBinary(t), "PICLOUD_EXECUTOR_USER=no-such-picloud-user")
	out, err := d.picloud("", "serve")
	if err == nil {
		t.Fatalf("serve started with workers as a missing user:\n%s", out)
	}
	for _, want := range []string{"PICLOUD_EXECUTOR_USER", `user "no-such-picloud-user" for the executor workers does not exist`} {
		if !strings.Contains(out, want) {
			t.Errorf("serve's output does not say %q:\n%s", want, out)
		}
	}
}
