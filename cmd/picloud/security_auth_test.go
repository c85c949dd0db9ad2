package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests of this file drive the real daemon for the login throttle,
// forwarded headers from trusted proxies, slow request bodies and log
// streams whose credentials are revoked.

const (
	ownerLogin = `{"username":"admin","password":"s3cret-passw0rd"}`
	wrongLogin = `{"username":"admin","password":"not the password"}`
	loginPath  = "/api/v1/admin/auth/login"
)

// clientFrom returns an HTTP client whose connections come from the
// loopback address ip: on Linux every address of 127.0.0.0/8 reaches the
// daemon, so one test plays several clients with different addresses.
func clientFrom(ip string) *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{
		Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 64},
		Timeout:   60 * time.Second,
	}
}

// send is d.call through client, without the daemon's token; the error is
// returned, so that goroutines can use it.
func (d *daemon) send(client *http.Client, method, path, body string, header ...string) (reply, error) {
	req, err := http.NewRequest(method, d.url+path, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, string(b)}, err
}

// callFrom is d.call through client, without the daemon's token.
func (d *daemon) callFrom(client *http.Client, method, path, body string, header ...string) reply {
	d.t.Helper()
	r, err := d.send(client, method, path, body, header...)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// burst sends n logins at once through client, the body of the i-th being
// body(i), and counts the answers by status.
func (d *daemon) burst(client *http.Client, n int, body func(i int) string) map[int]int {
	d.t.Helper()
	statuses := make(chan int, n)
	errs := make(chan error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			r, err := d.send(client, "POST", loginPath, body(i))
			if err != nil {
				errs <- err
				return
			}
			statuses <- r.status
		})
	}
	close(start)
	wg.Wait()
	close(statuses)
	close(errs)
	for err := range errs {
		d.t.Fatalf("login in a burst: %v", err)
	}
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	return counts
}

// failUntilLimited sends a wrong login through client until it is refused
// with 429, and returns how many were verified (401) before; at most max
// tries.
func (d *daemon) failUntilLimited(client *http.Client, body func(i int) string, max int, header ...string) (verified int, refused reply) {
	d.t.Helper()
	for i := range max {
		r := d.callFrom(client, "POST", loginPath, body(i), header...)
		switch r.status {
		case 401:
			verified++
		case 429:
			if r.header.Get("Retry-After") == "" {
				d.t.Fatalf("429 without Retry-After: %s", r.body)
			}
			return verified, r
		default:
			d.t.Fatalf("wrong login %d: status %d, want 401 or 429: %s", i, r.status, r.body)
		}
	}
	d.t.Fatalf("%d wrong logins were never refused with 429", max)
	return verified, reply{}
}

func constant(s string) func(int) string { return func(int) string { return s } }

// TestLoginParallelGuessesAreCapped sends many wrong passwords for one
// account from one address at the same moment: no more of them are verified
// than the rule allows (five), however many arrive at once, and a right
// password in the middle of such a burst is not let through past them.
func TestLoginParallelGuessesAreCapped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()

	counts := d.burst(clientFrom("127.0.0.2"), 200, constant(wrongLogin))
	t.Logf("200 parallel wrong passwords: %v", counts)
	if counts[401] > 5 || counts[401]+counts[429]+counts[503] != 200 {
		t.Fatalf("200 parallel wrong passwords: %v; want at most 5 verified (401), the rest 429 or 503", counts)
	}
	// The address's slots are spent: even the right password waits.
	refused := d.callFrom(clientFrom("127.0.0.2"), "POST", loginPath, ownerLogin)
	d.expect(refused, 429)

	// A burst of 40 from another address with the right password 30th:
	// still at most five verified, right or wrong.
	counts = d.burst(clientFrom("127.0.0.3"), 40, func(i int) string {
		if i == 29 {
			return ownerLogin
		}
		return wrongLogin
	})
	if counts[401]+counts[200] > 5 {
		t.Fatalf("a burst of 40 with the right password 30th: %v; want at most 5 verified", counts)
	}
}

// TestLoginThrottleIsPerAccountAndAddress has an attacker hammer the owner's
// account from one address: that address is slowed down for that account,
// while the owner logs in from another address at once. An address that
// tries many accounts is refused across all of them, and the account's own
// ceiling delays guesses from many addresses rather than locking it.
func TestLoginThrottleIsPerAccountAndAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()

	attacker := clientFrom("127.0.0.2")
	verified, refused := d.failUntilLimited(attacker, constant(wrongLogin), 20)
	if verified != 5 {
		t.Fatalf("%d wrong passwords verified before the refusal, want 5", verified)
	}
	if s, _ := strconv.Atoi(refused.header.Get("Retry-After")); s < 60 {
		t.Errorf("the attacker's Retry-After is %q, want minutes", refused.header.Get("Retry-After"))
	}
	// Even the right password from the attacker's address waits...
	d.expect(d.callFrom(attacker, "POST", loginPath, ownerLogin), 429)
	// ...while the owner, elsewhere, logs in, and wrong passwords from a
	// third address are still answered 401, not 429.
	d.expect(d.callFrom(clientFrom("127.0.0.3"), "POST", loginPath, ownerLogin), 200, `"token"`)
	d.expect(d.callFrom(clientFrom("127.0.0.4"), "POST", loginPath, wrongLogin), 401)

	// One address trying many accounts: refused for every account after
	// 20 failures, a fresh one included.
	sprayer := clientFrom("127.0.0.5")
	verified, _ = d.failUntilLimited(sprayer, func(i int) string {
		return fmt.Sprintf(`{"username":"user%d","password":"not the password"}`, i)
	}, 40)
	if verified != 20 {
		t.Fatalf("%d failures across accounts verified from one address, want 20", verified)
	}
	d.expect(d.callFrom(sprayer, "POST", loginPath, `{"username":"fresh","password":"not the password"}`), 429)

	// Many addresses against one account: past the account's ceiling of
	// 100 failures in 15 minutes, guesses are paced (a Retry-After of
	// seconds), never locked for the window.
	acct := func(int) string { return `{"username":"carol","password":"not the password"}` }
	total := 0
	var paced reply
	for a := 10; paced.status == 0 && a < 60; a++ {
		n, r := d.failUntilLimited(clientFrom(fmt.Sprintf("127.0.1.%d", a)), acct, 10)
		total += n
		if n < 5 {
			paced = r
		}
	}
	if total != 100 {
		t.Fatalf("%d failures against one account from many addresses before its ceiling, want 100", total)
	}
	if s, err := strconv.Atoi(paced.header.Get("Retry-After")); err != nil || s > 10 {
		t.Fatalf("past the account's ceiling: Retry-After %q, want a few seconds: %s", paced.header.Get("Retry-After"), paced.body)
	}
	d.expect(d.callFrom(clientFrom("127.0.0.3"), "POST", loginPath, ownerLogin), 200)
}

// rawRequest opens a connection to the daemon, sends head (a request line,
// headers and maybe the start of a body), then drips one byte ('a') of the
// body every interval until the connection breaks; it returns the
// connection, to read the answer from.
func (d *daemon) rawRequest(head string, interval time.Duration) net.Conn {
	d.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(d.url, "http://"))
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, head); err != nil {
		d.t.Fatal(err)
	}
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for range tick.C {
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
		}
	}()
	return conn
}

// expectTimedOut reads the answer of a slow request: 408, then the
// connection is closed.
func (d *daemon) expectTimedOut(conn net.Conn, within time.Duration) {
	d.t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(within))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		d.t.Fatalf("no answer to a body sent at a byte at a time within %v: %v", within, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "request body") {
		d.t.Fatalf("slow body: %d %s, want 408", res.StatusCode, body)
	}
	// Closed: an end of file, or a reset when the daemon closes with the
	// client's bytes still unread.
	if _, err := br.ReadByte(); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		d.t.Fatalf("the connection stays open after the 408: %v", err)
	}
}

// TestSlowRequestBodyTimesOut sends bodies a byte at a time: past the body
// read timeout the daemon answers 408 and closes the connection, for
// scripts and the admin API alike, while a log stream (a long response, not
// a body) and a script running longer than the timeout are unaffected.
func TestSlowRequestBodyTimesOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), "PICLOUD_BODY_READ_TIMEOUT_SECONDS=2")
	d.startAsOwner()
	echo := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "echo", "source": "export default async (req) => new Response(await req.text())"}))
	d.expect(echo, 201)
	echoID := echo.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+echoID+"/routes", `{"method":"POST","path":"/echo"}`), 201)

	// A stream opened now outlives the slow bodies below.
	stream := d.openStream("/api/v1/admin/logs/all/stream", d.token)

	host := strings.TrimPrefix(d.url, "http://")
	for _, head := range []string{
		// Anonymous, to a route; by id with a credential (run by id on the
		// board's own names needs one).
		"POST /echo HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 1000\r\n\r\n",
		"POST /api/v1/execute/" + echoID + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + d.token + "\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n",
		"POST " + loginPath + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"username\":\"",
	} {
		conn := d.rawRequest(head, 200*time.Millisecond)
		d.expectTimedOut(conn, 20*time.Second)
	}

	// A script that runs longer than the body timeout, after a quick body.
	slow := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "slow",
		"source": "export default async (req) => { const b = await req.text(); await new Promise(r => setTimeout(r, 3000)); return b }"}))
	d.expect(slow, 201)
	d.expect(d.call("POST", "/api/v1/execute/"+slow.field(t, "id").(string), "quick body"), 200, "quick body")

	// The stream, open for longer than the timeout, still delivers.
	d.expect(d.call("POST", "/api/v1/execute/"+echoID, "after the slow ones"), 200)
	stream.waitEvent(t, `"script_id":"`+echoID+`"`, 20*time.Second)
}

// TestTrustedProxyForwardedHeaders puts a "proxy" at 127.0.0.5, named in
// PICLOUD_TRUSTED_PROXIES: its X-Forwarded-For names the client the throttle
// and the audit log see, and its X-Forwarded-Proto: https makes the session
// cookie Secure. The same headers from any other address are ignored.
func TestTrustedProxyForwardedHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), "PICLOUD_TRUSTED_PROXIES=127.0.0.5, 10.9.0.0/16")
	d.startAsOwner()
	proxy, stranger := clientFrom("127.0.0.5"), clientFrom("127.0.0.6")
	fwd := func(client string) []string {
		return []string{"X-Forwarded-For", client, "X-Forwarded-Proto", "https"}
	}

	// Through the proxy: a Secure cookie, and the client's address in the
	// audit log.
	login := d.callFrom(proxy, "POST", loginPath, ownerLogin, fwd("198.51.100.7")...)
	d.expect(login, 200)
	if c := login.header.Get("Set-Cookie"); !strings.Contains(c, "picloud_session=") || !strings.Contains(c, "; Secure") {
		t.Fatalf("cookie through a trusted TLS proxy: %q, want Secure", c)
	}
	audit := d.call("GET", "/api/v1/admin/audit?limit=1", "")
	d.expect(audit, 200, `"action":"session.login"`, `"remote":"198.51.100.7"`)

	// Directly from elsewhere with the same headers: not Secure, and the
	// real address is recorded.
	login = d.callFrom(stranger, "POST", loginPath, ownerLogin, fwd("198.51.100.7")...)
	d.expect(login, 200)
	if c := login.header.Get("Set-Cookie"); !strings.Contains(c, "picloud_session=") || strings.Contains(c, "Secure") {
		t.Fatalf("cookie from an untrusted address claiming https: %q, want not Secure", c)
	}
	d.expect(d.call("GET", "/api/v1/admin/audit?limit=1", ""), 200, `"remote":"127.0.0.6"`)

	// Scripts see the scheme the client used, from the proxy only.
	url := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "url", "source": "export default (req) => req.url"}))
	d.expect(url, 201)
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+url.field(t, "id").(string)+"/routes", `{"method":"GET","path":"/where"}`), 201)
	d.expect(d.callFrom(proxy, "GET", "/where", "", fwd("198.51.100.7")...), 200, "https://")
	d.expect(d.callFrom(stranger, "GET", "/where", "", fwd("198.51.100.7")...), 200, "http://")

	// The throttle counts the forwarded client behind the proxy: one
	// client is refused, another behind the same proxy is not.
	_, _ = d.failUntilLimited(proxy, constant(wrongLogin), 20, fwd("198.51.100.8")...)
	d.expect(d.callFrom(proxy, "POST", loginPath, ownerLogin, fwd("198.51.100.9")...), 200)

	// From an untrusted address, a made-up X-Forwarded-For changes
	// nothing: the guesses count against the real address.
	verified, _ := d.failUntilLimited(stranger, constant(wrongLogin), 20, "X-Forwarded-For", "203.0.113.1")
	if verified != 5 {
		t.Fatalf("%d guesses verified from an untrusted address, want 5", verified)
	}
	d.expect(d.callFrom(stranger, "POST", loginPath, wrongLogin, "X-Forwarded-For", "203.0.113.2"), 429)
}

// stream is an open Server-Sent Events response.
type stream struct {
	lines chan string // closed when the stream ends
	body  io.Closer
}

// openStream opens a log stream with token and reads it in the background.
func (d *daemon) openStream(path, token string) *stream {
	d.t.Helper()
	req, err := http.NewRequest("GET", d.url+path, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		d.t.Fatalf("open %s: %d %s", path, res.StatusCode, b)
	}
	s := &stream{lines: make(chan string, 1024), body: res.Body}
	d.t.Cleanup(func() { res.Body.Close() })
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	return s
}

// waitEnd waits for the stream to end and returns what it sent last.
func (s *stream) waitEnd(t *testing.T, within time.Duration) []string {
	t.Helper()
	var seen []string
	timeout := time.After(within)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return seen
			}
			seen = append(seen, l)
		case <-timeout:
			t.Fatalf("the stream is still open after %v; it sent %q", within, seen)
		}
	}
}

// waitEvent waits for a line of the stream that contains want.
func (s *stream) waitEvent(t *testing.T, want string, within time.Duration) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("the stream ended before sending %q", want)
			}
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			t.Fatalf("the stream did not send %q within %v", want, within)
		}
	}
}

// TestLogStreamEndsOnRevocation opens log streams with a session that is
// then logged out, an API token that is then revoked, the session of a user
// who is then disabled and that of a member whose role in the app is then
// taken away: each stream ends at its next keep-alive, with an event saying
// why, while a stream whose credentials stay valid goes on.
func TestLogStreamEndsOnRevocation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	const defaultApp = "00000000-0000-0000-0000-000000000001"

	second := d.call("POST", loginPath, ownerLogin)
	d.expect(second, 200)
	session := second.field(t, "token").(string)

	tok := d.call("POST", "/api/v1/admin/tokens", mustJSON(map[string]any{"name": "ci", "apps": []string{defaultApp}, "capabilities": []string{"app.read"}}))
	d.expect(tok, 201)
	apiToken, tokenID := tok.field(t, "token").(string), tok.field(t, "id").(string)

	bob := d.call("POST", "/api/v1/admin/users", `{"username":"bob","password":"bob's long password","role":"admin"}`)
	d.expect(bob, 201)
	bobLogin := d.call("POST", loginPath, `{"username":"bob","password":"bob's long password"}`)
	d.expect(bobLogin, 200)

	eve := d.call("POST", "/api/v1/admin/users", `{"username":"eve","password":"eve's long password"}`)
	d.expect(eve, 201)
	eveID := eve.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/users/"+eveID+"/roles", `{"app_id":"`+defaultApp+`","role":"viewer"}`), 204)
	eveLogin := d.call("POST", loginPath, `{"username":"eve","password":"eve's long password"}`)
	d.expect(eveLogin, 200)

	kept := d.openStream("/api/v1/admin/logs/all/stream", d.token)
	streams := map[string]*stream{
		"logged-out session": d.openStream("/api/v1/admin/logs/all/stream", session),
		"revoked API token":  d.openStream("/api/v1/admin/logs/stream?app_id="+defaultApp, apiToken),
		"disabled user":      d.openStream("/api/v1/admin/logs/all/stream", bobLogin.field(t, "token").(string)),
		"role taken away":    d.openStream("/api/v1/admin/logs/stream?app_id="+defaultApp, eveLogin.field(t, "token").(string)),
	}
	for _, s := range streams {
		s.waitEvent(t, ": connected", 10*time.Second)
	}

	logout, err := d.send(http.DefaultClient, "POST", "/api/v1/admin/auth/logout", "", "Authorization", "Bearer "+session)
	if err != nil || logout.status != 204 {
		t.Fatalf("logout: %v %d %s", err, logout.status, logout.body)
	}
	d.expect(d.call("DELETE", "/api/v1/admin/tokens/"+tokenID, ""), 204)
	d.expect(d.call("PATCH", "/api/v1/admin/users/"+bob.field(t, "id").(string), `{"disabled":true}`), 200)
	d.expect(d.call("DELETE", "/api/v1/admin/users/"+eveID+"/roles/"+defaultApp, ""), 204)

	// Every keep-alive (15 s) re-checks the credentials.
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for name, s := range streams {
		wg.Go(func() {
			deadline, _ := ctx.Deadline()
			t.Run(name, func(t *testing.T) {
				seen := s.waitEnd(t, time.Until(deadline))
				if !strings.Contains(strings.Join(seen, "\n"), "event: end") {
					t.Errorf("the stream ended without an end event: %q", seen)
				}
			})
		})
	}
	wg.Wait()

	// The owner's own stream goes on.
	echo := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "echo", "source": "export default async (req) => new Response(await req.text())"}))
	d.expect(echo, 201)
	echoID := echo.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/execute/"+echoID, "still here"), 200)
	kept.waitEvent(t, `"script_id":"`+echoID+`"`, 20*time.Second)
}
