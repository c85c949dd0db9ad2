package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
	"golang.org/x/crypto/ssh"
)

// waitForMatch waits until the session shows text that re matches, after
// the last keys sent.
func (s *sshScreen) waitForMatch(re *regexp.Regexp) {
	s.t.Helper()
	testkit.Eventually(s.t, 20*time.Second, "the SSH session shows "+re.String(), func() error {
		txt := s.text()
		if re.MatchString(txt[min(s.mark, len(txt)):]) {
			return nil
		}
		return fmt.Errorf("not yet; the screen so far:\n%s", txt[max(0, len(txt)-3000):])
	})
}

// TestTUIDay2OverSSH works over SSH in an 80×24 terminal against the real
// daemon: try it shows a response's spaces and indentation as the script
// wrote them; a route conflict names the script it conflicts with; an API
// error reads without its status number; the versions say who saved them;
// and deleting the key the session signed in with is warned about.
func TestTUIDay2OverSSH(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	addr := freePort(t)
	d := newDaemon(t, bin, "PICLOUD_SSH_BIND="+addr)
	laptop, phone := newSigner(t), newSigner(t)
	if out, err := d.picloud("alice's long password", "user", "add", "alice", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	for _, k := range []string{authorizedKey(laptop), strings.Replace(authorizedKey(phone), "test@laptop", "phone", 1)} {
		if out, err := d.picloud(k+"\n", "user", "add-key", "alice"); err != nil {
			t.Fatalf("user add-key: %v\n%s", err, out)
		}
	}
	d.start()
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"alice","password":"alice's long password"}`)
	d.expect(login, 200)
	d.token = login.field(t, "token").(string)
	shape := d.deploy("", "shape.js", `export default {
  fetch() {
    const body = JSON.stringify({ greeting: "two  spaces", nested: { deep: true } }, null, 2)
    return new Response(body, { headers: { "content-type": "application/json" } })
  }
}
`, "GET", "/shape")
	d.deploy("", "other.js", "export default { fetch() { return 'taken' } }\n", "GET", "/taken")
	d.deploy("", "boom.js", "export default {\n  fetch() {\n    const order = undefined; return order.id\n  }\n}\n", "GET", "/boom")
	d.expect(d.call("GET", "/boom", ""), 500)
	// The log record says where in the source the exception was raised.
	testkit.Eventually(t, 10*time.Second, "the failed execution's record", func() error {
		r := d.call("GET", "/api/v1/admin/logs?limit=1", "")
		if !strings.Contains(r.body, `"error_line":3`) {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		return nil
	})
	d.expect(d.call("PUT", "/api/v1/admin/scripts/"+shape, `{"source":"// v2\nexport default { fetch() { return new Response(JSON.stringify({ greeting: \"two  spaces\", nested: { deep: true } }, null, 2), { headers: { \"content-type\": \"application/json\" } }) } }\n"}`), 200)

	host := hostKeyOf(t, d)
	c, err := dialSSH(t, addr, host, laptop)
	if err != nil {
		t.Fatalf("sign in with alice's laptop key: %v", err)
	}
	s := openTUI(t, c)
	s.waitFor("ssh · alice (owner)")
	s.waitFor("default")
	s.send("\r")
	s.waitFor("shape.js")
	s.send("/shape\r")
	s.waitFor("/shape")

	// Try it: the body as the script wrote it, indentation and all.
	s.send("x")
	s.waitFor("/shape")
	s.send(ctrlS)
	s.waitFor("200 OK")
	s.waitFor(`  "greeting": "two  spaces",`)
	s.waitFor(`    "deep": true`)
	s.send(esc)
	s.waitFor("x try it") // before the next key: esc t in one packet is alt+t

	// A route that conflicts names the other script; a reserved path
	// reads without "400:".
	s.send("t")
	s.waitFor("/shape")
	s.send("a")
	s.waitFor("new route")
	s.send("GET /taken\r")
	s.waitFor("GET /taken → other.js")
	s.send("a")
	s.waitFor("new route")
	s.send("GET /api/x\r")
	s.waitFor("/api is reserved for PiCloud itself")
	if txt := s.text(); strings.Contains(txt, "400:") {
		t.Errorf("an error shows its status number:\n%s", txt[max(0, len(txt)-2000):])
	}
	s.send(esc)
	s.waitFor("x try it")

	// The versions say who saved them.
	s.send("\r")
	s.waitFor("shape.js · js · version 2 active")
	s.waitFor("// v2") // the editor takes no key but esc before its source
	s.send("\x0f")     // ctrl+o
	s.waitFor("versions of shape.js")
	s.waitForMatch(regexp.MustCompile(`v1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+alice`))
	// One esc at a time: two in one packet read as one alt+esc.
	s.send(esc)
	s.waitFor("ctrl+s save")
	s.send(esc)
	s.waitFor("x try it")
	s.send(esc)
	s.waitFor("DESCRIPTION")

	// Deleting the key this session signed in with is warned about;
	// another key is not.
	s.send("s")
	s.waitFor("your SSH keys")
	s.send("/laptop\r")
	s.waitFor("/laptop")
	s.send("d")
	s.waitFor("delete this session's own key? It signs you in no more")
	s.send("n")
	s.waitFor("a add key")
	s.send("/")
	s.waitFor("/laptop")
	s.send(ctrlU + "phone\r")
	s.waitFor("/phone")
	s.send("d")
	s.waitFor("delete the ssh-ed25519 key " + ssh.FingerprintSHA256(phone.PublicKey()) + "?")
	s.send("n")
	s.waitFor("a add key")
	s.send(esc)
	s.waitFor("DESCRIPTION")

	// The failed execution, found through the logs, says where it failed.
	s.send("l")
	s.waitFor("GET /boom")
	s.send("/boom\r")
	s.waitFor("1 of")
	s.send("\r")
	s.waitForMatch(regexp.MustCompile(`error script\.exception at line 3, column \d+`))
	s.waitFor("TypeError")
}

// hostKeyOf is the public half of the daemon's SSH host key, made on its
// first start.
func hostKeyOf(t *testing.T, d *daemon) ssh.PublicKey {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(d.dataDir, "ssh_host_ed25519_key"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.ParsePrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey()
}
