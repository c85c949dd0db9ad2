package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// probeSource is a script that fetches the URL in its query's u and
// answers what came back, or the error fetch threw.
const probeSource = `export default async (req) => {
  const u = new URL(req.url).searchParams.get("u")
  try {
    const r = await fetch(u)
    return "reached " + r.status + " " + (await r.text()).slice(0, 60)
  } catch (e) { return "failed: " + e.message }
}`

// deployProbe creates the probe script on the route /probe.
func (d *daemon) deployProbe() {
	d.t.Helper()
	d.deploy("", "probe", probeSource, "GET", "/probe")
}

// probe makes the probe script fetch target and returns what it answered.
func (d *daemon) probe(target string) string {
	d.t.Helper()
	r := d.call("GET", "/probe?u="+url.QueryEscape(target), "")
	if r.status != 200 {
		d.t.Fatalf("probe %s: status %d: %s", target, r.status, r.body)
	}
	return r.body
}

// expectRefused checks that a script's fetch of target was refused by the
// policy because it is one of the daemon's own listeners.
func (d *daemon) expectRefused(target, why string) {
	d.t.Helper()
	got := d.probe(target)
	if !strings.Contains(got, "refused by the fetch policy") || !strings.Contains(got, why) {
		d.t.Errorf("fetch %s: %q, want a refusal by the fetch policy (%s)", target, got, why)
	}
}

// ownAddress is a non-loopback IPv4 address of this machine, or "" when it
// has none.
func ownAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatalf("list this machine's addresses: %v", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// portOf is the port of a host:port address.
func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// A script's fetch reaches none of the daemon's listeners, the SSH server's
// included, on loopback or on this machine's other addresses, even with
// PICLOUD_FETCH_ALLOW naming those addresses; a service of its own on the
// same address is reached. A URL with percent escapes comes back whole in
// the error.
func TestFetchRefusesEveryListener(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "upstream") }))
	defer upstream.Close()
	own := ownAddress(t)
	allow := "127.0.0.1"
	if own != "" {
		allow += "," + own
	} else {
		t.Log("this machine has no non-loopback IPv4 address: only loopback is checked")
	}

	bin := buildBinary(t)
	httpPort, sshPort := portOf(t, freePort(t)), portOf(t, freePort(t))
	d := newDaemon(t, bin, "PICLOUD_LISTEN=:"+httpPort, "PICLOUD_SSH_BIND=:"+sshPort, "PICLOUD_FETCH_ALLOW="+allow)
	d.url = "http://127.0.0.1:" + httpPort
	d.startAsOwner()
	d.deployProbe()

	if got := d.probe(upstream.URL); got != "reached 200 upstream" {
		t.Fatalf("fetch of a service on loopback, which PICLOUD_FETCH_ALLOW names: %q", got)
	}
	hosts := []string{"127.0.0.1"}
	if own != "" {
		hosts = append(hosts, own)
	}
	for _, host := range hosts {
		d.expectRefused("http://"+net.JoinHostPort(host, httpPort)+"/healthz", "PiCloud itself")
		d.expectRefused("http://"+net.JoinHostPort(host, sshPort)+"/", "PiCloud itself")
	}
	// Other spellings of 127.0.0.1, as the URL standard reads them:
	// numeric, hex, octal, and digits that IDNA maps (full-width,
	// percent-encoded full-width).
	for _, host := range []string{"2130706433", "0x7f.1", "0177.0.0.1", "0x7F.0.0.0x1", "\uff11\uff12\uff17.0.0.1", "%EF%BC%91%EF%BC%92%EF%BC%97.1"} {
		d.expectRefused("http://"+host+":"+httpPort+"/healthz", "127.0.0.1:"+httpPort+" is PiCloud itself")
	}

	// Percent signs in the URL are data, not formatting directives: in
	// the policy's refusal, and in the error of a URL that does not parse.
	target := "http://127.0.0.1:" + httpPort + "/a%2fb%2F"
	got := d.probe(target)
	if !strings.Contains(got, "fetch "+target+" failed: refused by the fetch policy") || strings.Contains(got, "%!") {
		t.Errorf("fetch %s failed with %q", target, got)
	}
	target = "http://127.0.0.1:" + httpPort + "/%d%s"
	if got := d.probe(target); !strings.Contains(got, target) || strings.Contains(got, "%!") {
		t.Errorf("fetch %s failed with %q", target, got)
	}
}

// Under socket activation the socket systemd passed is the daemon's HTTP
// listener, whatever PICLOUD_LISTEN says: scripts' fetch cannot reach it.
func TestFetchRefusesSocketActivatedListener(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	// PICLOUD_LISTEN names a port the daemon does not bind.
	d := newDaemon(t, bin, "PICLOUD_LISTEN="+freePort(t), "PICLOUD_FETCH_ALLOW=127.0.0.1")
	if out, err := d.picloud("s3cret-passw0rd\n", "user", "add", "admin", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	d.url = "http://" + ln.Addr().String()
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" serve`, d.bin)
	cmd.Env = append(d.env, "LISTEN_FDS=1", "LISTEN_FDNAMES=picloud.socket")
	cmd.ExtraFiles = []*os.File{f} // fd 3
	d.launch(cmd)
	f.Close()
	d.waitHealthy()
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"admin","password":"s3cret-passw0rd"}`)
	d.expect(login, 200)
	d.token = login.field(t, "token").(string)
	d.deployProbe()

	d.expectRefused(d.url+"/healthz", "PiCloud itself")
}
