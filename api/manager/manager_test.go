package manager

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

var ctx = context.Background()

const helloJS = `export default { fetch() { return new Response("hi") } }`

func ptr[T any](v T) *T { return &v }

// recordingInvalidator counts Invalidate calls and those made while a
// transaction of the store was still open.
type recordingInvalidator struct {
	st           *memStore
	calls, inTxn int
}

func (r *recordingInvalidator) Invalidate() {
	r.calls++
	if r.st.open > 0 {
		r.inTxn++
	}
}

// fakeSealer seals by reversing the value behind a prefix naming the
// variable, enough to see that what is stored is not the value.
type fakeSealer struct{}

func (fakeSealer) Seal(appID, name, value string) ([]byte, error) {
	r := []rune(value)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return []byte("sealed:" + appID + "/" + name + ":" + string(r)), nil
}

func (fakeSealer) Open(string, string, []byte) (string, error) {
	return "", errors.New("the manager never opens secrets")
}

// fixture is a Service on a memStore holding: an owner (olive, acting), a
// member (mia) with an SSH key, an app "shop" with a script hello.js bound
// to GET /hello, a domain claim shop.example.com and a variable GREETING.
type fixture struct {
	st    *memStore
	inval *recordingInvalidator
	svc   *Service
	actor model.Actor
	now   time.Time

	owner, member, app, script, route, domain, sshKey, sshFingerprint string
	// spareKey is a public key nobody registered, as an authorized_keys line.
	spareKey  string
	setupDone int
}

// testDefaults and testCeilings are the daemon's limits in these tests.
var (
	testDefaults = model.ScriptLimits{WallTimeMS: 1000, ResponseBytes: 1 << 20, ConsoleBytes: 1 << 16,
		CallDepth: 512, Timers: 100, Subrequests: 10}
	testCeilings = model.ScriptLimits{WallTimeMS: 5000, ResponseBytes: 8 << 20, ConsoleBytes: 1 << 20,
		CallDepth: 2048, Timers: 1000, Subrequests: 50}
)

func testCredentials() *Credentials {
	return &Credentials{
		Hasher:   auth.NewHasher(auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}),
		Throttle: auth.NewThrottle(auth.ThrottleConfig{}),
	}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := newMemStore()
	f := &fixture{st: st, inval: &recordingInvalidator{st: st}, now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	st.now = func() time.Time { return f.now }
	f.svc = New(Config{
		SessionTTL: time.Hour, Secrets: fakeSealer{}, SetupDone: func() { f.setupDone++ },
		AdminHosts:    hosts.NewAdminHosts([]string{"admin.example.com"}, true),
		LimitDefaults: testDefaults, LimitCeilings: testCeilings,
	}, st, testCredentials(), f.inval, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.svc.now = func() time.Time { return f.now }

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed the store: %v", err)
		}
	}
	owner, err := st.CreateUser(ctx, "olive", "hash", model.RoleOwner)
	must(err)
	member, err := st.CreateUser(ctx, "mia", "hash", model.RoleMember)
	must(err)
	app, err := st.CreateApp(ctx, "shop", "")
	must(err)
	must(st.SetAppRole(ctx, member.ID, app.ID, model.RoleEditor))
	sc, err := st.CreateScript(ctx, app.ID, "hello.js", "js", model.NewVersion{Source: helloJS, Code: "code"})
	must(err)
	r, err := st.CreateRoute(ctx, model.Route{ScriptID: sc.ID, Method: "GET", Path: "/hello", Shape: "/hello"})
	must(err)
	d, err := st.CreateDomain(ctx, model.Domain{AppID: app.ID, Pattern: "shop.example.com", Shape: "shop.example.com"})
	must(err)
	_, _, err = st.PutVariable(ctx, model.Variable{AppID: app.ID, Name: "GREETING", Value: "hello"})
	must(err)
	key, err := ParseSSHKey(newAuthorizedKey(t))
	must(err)
	key.UserID = member.ID
	key, err = st.CreateSSHKey(ctx, key)
	must(err)
	must(st.CreateSession(ctx, model.Session{TokenHash: []byte("mia-session"), UserID: member.ID, ExpiresAt: f.now.Add(time.Hour)}))
	must(st.CreateSession(ctx, model.Session{TokenHash: []byte("olive-session"), UserID: owner.ID, ExpiresAt: f.now.Add(time.Hour)}))

	f.owner, f.member, f.app, f.script, f.route, f.domain = owner.ID, member.ID, app.ID, sc.ID, r.ID, d.ID
	f.sshKey, f.sshFingerprint, f.spareKey = key.ID, key.Fingerprint, newAuthorizedKey(t)
	f.actor = model.Actor{UserID: owner.ID, Username: "olive", TokenID: "tok-1", Channel: model.ChannelAPI, Remote: "192.0.2.7"}
	st.writes = nil
	return f
}

// newAuthorizedKey returns a fresh public key as an authorized_keys line.
func newAuthorizedKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) + " laptop"
}

// audit returns the audit records written since the fixture was made.
func (f *fixture) audit() []memAudit { return f.st.data.audit }

// sessions counts a user's sessions.
func (f *fixture) sessions(userID string) int {
	n := 0
	for _, s := range f.st.data.sessions {
		if s.UserID == userID {
			n++
		}
	}
	return n
}

// TestChangesAreAuditedInTheirTransaction checks, for every change the
// manager makes, that it writes exactly one audit record naming the actor,
// the action, the app and the target, inside the transaction of the change
// (so that when the record cannot be written, the change is not kept
// either), never a secret, and that a change the orchestrator serves from
// its snapshot calls Invalidate once, after the transaction.
func TestChangesAreAuditedInTheirTransaction(t *testing.T) {
	// result is what the audit record should name, and a secret the
	// change made (a token) that it must not hold.
	type result struct{ appID, target, secret string }
	changes := []struct {
		name        string
		do          func(f *fixture) (result, error)
		action      string
		invalidates bool
		secret      string // must not appear in the audit record
	}{
		{"create app", func(f *fixture) (result, error) {
			a, err := f.svc.CreateApp(ctx, f.actor, AppInput{Name: ptr("blog"), Description: ptr("posts")})
			return result{a.ID, a.ID, ""}, err
		}, "app.create", false, ""},
		{"update app", func(f *fixture) (result, error) {
			_, err := f.svc.UpdateApp(ctx, f.actor, f.app, AppInput{Name: ptr("store")})
			return result{f.app, f.app, ""}, err
		}, "app.update", false, ""},
		{"delete app", func(f *fixture) (result, error) {
			return result{f.app, f.app, ""}, f.svc.DeleteApp(ctx, f.actor, f.app)
		}, "app.delete", true, ""},
		{"claim domain", func(f *fixture) (result, error) {
			d, err := f.svc.ClaimDomain(ctx, f.actor, f.app, "{tenant}.shop.example.com")
			return result{f.app, d.ID, ""}, err
		}, "domain.claim", true, ""},
		{"release domain", func(f *fixture) (result, error) {
			return result{f.app, f.domain, ""}, f.svc.ReleaseDomain(ctx, f.actor, f.app, f.domain)
		}, "domain.release", true, ""},
		{"update settings", func(f *fixture) (result, error) {
			_, err := f.svc.UpdateSettings(ctx, f.actor, ptr(true))
			return result{}, err
		}, "settings.update", true, ""},
		{"create script", func(f *fixture) (result, error) {
			sc, err := f.svc.CreateScript(ctx, f.actor, ScriptInput{AppID: f.app, Name: "api.ts", Source: helloJS})
			return result{f.app, sc.ID, ""}, err
		}, "script.create", true, ""},
		{"update script", func(f *fixture) (result, error) {
			_, err := f.svc.UpdateScript(ctx, f.actor, f.script, ScriptInput{Source: helloJS + "\n"})
			return result{f.app, f.script, ""}, err
		}, "script.update", true, ""},
		{"roll back script", func(f *fixture) (result, error) {
			_, err := f.svc.Rollback(ctx, f.actor, f.script, 1)
			return result{f.app, f.script, ""}, err
		}, "script.rollback", true, ""},
		{"delete script", func(f *fixture) (result, error) {
			return result{f.app, f.script, ""}, f.svc.DeleteScript(ctx, f.actor, f.script)
		}, "script.delete", true, ""},
		{"set script limits", func(f *fixture) (result, error) {
			_, err := f.svc.SetScriptLimits(ctx, f.actor, f.script, model.ScriptLimits{WallTimeMS: 2000})
			return result{f.app, f.script, ""}, err
		}, "script.limits", true, ""},
		{"create route", func(f *fixture) (result, error) {
			r, err := f.svc.CreateRoute(ctx, f.actor, f.script, "POST", "/hello/:name")
			return result{f.app, r.ID, ""}, err
		}, "route.create", true, ""},
		{"delete route", func(f *fixture) (result, error) {
			return result{f.app, f.route, ""}, f.svc.DeleteRoute(ctx, f.actor, f.route)
		}, "route.delete", true, ""},
		{"set variable", func(f *fixture) (result, error) {
			_, _, err := f.svc.SetVariable(ctx, f.actor, f.app, "COLOR", "blue", false)
			return result{f.app, "COLOR", ""}, err
		}, "variable.set", true, ""},
		{"set secret", func(f *fixture) (result, error) {
			_, _, err := f.svc.SetVariable(ctx, f.actor, f.app, "API_KEY", "s3cr3t-value", true)
			return result{f.app, "API_KEY", ""}, err
		}, "variable.set", true, "s3cr3t-value"},
		{"delete variable", func(f *fixture) (result, error) {
			return result{f.app, "GREETING", ""}, f.svc.DeleteVariable(ctx, f.actor, f.app, "GREETING")
		}, "variable.delete", true, ""},
		{"add user", func(f *fixture) (result, error) {
			u, err := f.svc.AddUser(ctx, f.actor, "noah", "correct horse", model.RoleAdmin)
			return result{"", u.ID, ""}, err
		}, "user.create", false, "correct horse"},
		{"grant app role", func(f *fixture) (result, error) {
			return result{f.app, f.member, ""}, f.svc.GrantAppRole(ctx, f.actor, f.member, f.app, model.RoleViewer)
		}, "user.grant_role", false, ""},
		{"revoke app role", func(f *fixture) (result, error) {
			return result{f.app, f.member, ""}, f.svc.RevokeAppRole(ctx, f.actor, f.member, f.app)
		}, "user.revoke_role", false, ""},
		{"disable user", func(f *fixture) (result, error) {
			_, err := f.svc.UpdateUser(ctx, f.actor, f.member, UserChange{Disabled: ptr(true)})
			return result{"", f.member, ""}, err
		}, "user.disable", false, ""},
		{"reset password", func(f *fixture) (result, error) {
			return result{"", f.member, ""}, f.svc.ResetPassword(ctx, f.actor, f.member, "new password 1")
		}, "user.reset_password", false, "new password 1"},
		{"create token", func(f *fixture) (result, error) {
			tok, secret, err := f.svc.CreateToken(ctx, f.actor, TokenInput{Name: "ci", Apps: []string{f.app}, Capabilities: []string{"app.write"}})
			return result{"", tok.ID, secret}, err
		}, "token.create", false, ""},
		{"add SSH key", func(f *fixture) (result, error) {
			k, err := f.svc.AddSSHKey(ctx, f.actor, f.owner, f.spareKey)
			return result{"", k.ID, ""}, err
		}, "sshkey.add", false, ""},
		{"delete SSH key", func(f *fixture) (result, error) {
			return result{"", f.sshKey, ""}, f.svc.DeleteSSHKey(ctx, f.actor, f.member, f.sshKey)
		}, "sshkey.delete", false, ""},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			want, err := c.do(f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			recs := f.audit()
			if len(recs) != 1 {
				t.Fatalf("%d audit records, want 1: %+v", len(recs), recs)
			}
			rec := recs[0]
			got := model.AuditRecord{UserID: rec.UserID, Username: rec.Username, TokenID: rec.TokenID, Channel: rec.Channel,
				Remote: rec.Remote, Action: rec.Action, AppID: rec.AppID, Target: rec.Target}
			wantRec := model.AuditRecord{UserID: f.actor.UserID, Username: f.actor.Username, TokenID: f.actor.TokenID,
				Channel: f.actor.Channel, Remote: f.actor.Remote, Action: c.action, AppID: want.appID, Target: want.target}
			if !reflect.DeepEqual(got, wantRec) {
				t.Errorf("audit record\n got %+v\nwant %+v", got, wantRec)
			}
			if !rec.inTx {
				t.Error("the audit record was written outside the change's transaction")
			}
			for _, w := range f.st.writes {
				if !w.inTx {
					t.Errorf("%s ran outside the transaction", w.method)
				}
			}
			for _, s := range []string{c.secret, want.secret} {
				if s != "" && strings.Contains(fmt.Sprintf("%+v", rec.AuditRecord), s) {
					t.Errorf("the audit record holds a secret: %+v", rec.AuditRecord)
				}
			}
			wantInval := 0
			if c.invalidates {
				wantInval = 1
			}
			if f.inval.calls != wantInval || f.inval.inTxn != 0 {
				t.Errorf("Invalidate called %d times (%d inside the transaction), want %d, after it", f.inval.calls, f.inval.inTxn, wantInval)
			}
		})
		t.Run(c.name+" without its audit record", func(t *testing.T) {
			f := newFixture(t)
			before := f.st.data.clone()
			f.st.hooks["InsertAudit"] = func() error { return errors.New("disk full") }
			if _, err := c.do(f); err == nil {
				t.Fatal("the change succeeded though its audit record could not be written")
			}
			if !reflect.DeepEqual(f.st.data, before) {
				t.Error("the change was kept though its audit record could not be written")
			}
			if f.inval.calls != 0 {
				t.Errorf("Invalidate called %d times after a failed change", f.inval.calls)
			}
		})
	}
}

// TestRefusedInput checks that input the manager refuses is refused with
// the right kind of error before anything is written or invalidated.
func TestRefusedInput(t *testing.T) {
	long := strings.Repeat("x", 1001)
	cases := []struct {
		name string
		do   func(f *fixture) error
		want error // nil: any error
	}{
		{"app without a name", func(f *fixture) error {
			_, err := f.svc.CreateApp(ctx, f.actor, AppInput{})
			return err
		}, model.ErrInvalid},
		{"app name with capitals", func(f *fixture) error {
			_, err := f.svc.CreateApp(ctx, f.actor, AppInput{Name: ptr("Blog")})
			return err
		}, model.ErrInvalid},
		{"app description too long", func(f *fixture) error {
			_, err := f.svc.CreateApp(ctx, f.actor, AppInput{Name: ptr("blog"), Description: &long})
			return err
		}, model.ErrInvalid},
		{"app renamed with a space", func(f *fixture) error {
			_, err := f.svc.UpdateApp(ctx, f.actor, f.app, AppInput{Name: ptr("my shop")})
			return err
		}, model.ErrInvalid},
		{"default app deleted", func(f *fixture) error { return f.svc.DeleteApp(ctx, f.actor, model.DefaultAppID) }, model.ErrInvalid},
		{"domain with a scheme", func(f *fixture) error {
			_, err := f.svc.ClaimDomain(ctx, f.actor, f.app, "https://blog.example.com")
			return err
		}, model.ErrInvalid},
		{"domain of the admin API", func(f *fixture) error {
			_, err := f.svc.ClaimDomain(ctx, f.actor, f.app, "admin.example.com")
			return err
		}, model.ErrConflict},
		{"domain pattern over the admin API", func(f *fixture) error {
			_, err := f.svc.ClaimDomain(ctx, f.actor, f.app, "{sub}.example.com")
			return err
		}, model.ErrConflict},
		{"domain of an unknown app", func(f *fixture) error {
			_, err := f.svc.ClaimDomain(ctx, f.actor, "no-such-app", "blog.example.com")
			return err
		}, model.ErrNotFound},
		{"script name with a slash", func(f *fixture) error {
			_, err := f.svc.CreateScript(ctx, f.actor, ScriptInput{AppID: f.app, Name: "a/b.js", Source: helloJS})
			return err
		}, model.ErrInvalid},
		{"script language unknown", func(f *fixture) error {
			_, err := f.svc.CreateScript(ctx, f.actor, ScriptInput{AppID: f.app, Name: "a.py", Language: "python", Source: helloJS})
			return err
		}, model.ErrInvalid},
		{"script source empty", func(f *fixture) error {
			_, err := f.svc.CreateScript(ctx, f.actor, ScriptInput{AppID: f.app, Name: "a.js", Source: " \n"})
			return err
		}, model.ErrInvalid},
		{"script source too large", func(f *fixture) error {
			_, err := f.svc.CreateScript(ctx, f.actor, ScriptInput{AppID: f.app, Name: "a.js", Source: "//" + strings.Repeat("x", engine.MaxSourceBytes)})
			return err
		}, model.ErrInvalid},
		{"script that does not compile", func(f *fixture) error {
			_, err := f.svc.CreateScript(ctx, f.actor, ScriptInput{AppID: f.app, Name: "a.js", Source: "export default {"})
			var ce *CompileError
			if err != nil && !errors.As(err, &ce) {
				return fmt.Errorf("not a *CompileError: %w", err)
			}
			return err
		}, nil},
		{"new version that does not compile", func(f *fixture) error {
			_, err := f.svc.UpdateScript(ctx, f.actor, f.script, ScriptInput{Source: "export default {"})
			var ce *CompileError
			if err != nil && !errors.As(err, &ce) {
				return fmt.Errorf("not a *CompileError: %w", err)
			}
			return err
		}, nil},
		{"script renamed badly", func(f *fixture) error {
			_, err := f.svc.UpdateScript(ctx, f.actor, f.script, ScriptInput{Name: ".hidden", Source: helloJS})
			return err
		}, model.ErrInvalid},
		{"roll back to version 0", func(f *fixture) error {
			_, err := f.svc.Rollback(ctx, f.actor, f.script, 0)
			return err
		}, model.ErrInvalid},
		{"negative limit", func(f *fixture) error {
			_, err := f.svc.SetScriptLimits(ctx, f.actor, f.script, model.ScriptLimits{Timers: -1})
			return err
		}, model.ErrInvalid},
		{"limit above the ceiling", func(f *fixture) error {
			_, err := f.svc.SetScriptLimits(ctx, f.actor, f.script, model.ScriptLimits{WallTimeMS: testCeilings.WallTimeMS + 1})
			return err
		}, model.ErrInvalid},
		{"route method unknown", func(f *fixture) error {
			_, err := f.svc.CreateRoute(ctx, f.actor, f.script, "FETCH", "/x")
			return err
		}, model.ErrInvalid},
		{"route path without a slash", func(f *fixture) error {
			_, err := f.svc.CreateRoute(ctx, f.actor, f.script, "GET", "x")
			return err
		}, model.ErrInvalid},
		{"route path reserved", func(f *fixture) error {
			_, err := f.svc.CreateRoute(ctx, f.actor, f.script, "GET", "/api/x")
			return err
		}, ErrReserved},
		{"route of an unknown script", func(f *fixture) error {
			_, err := f.svc.CreateRoute(ctx, f.actor, "no-such-script", "GET", "/x")
			return err
		}, model.ErrNotFound},
		{"variable name with a dash", func(f *fixture) error {
			_, _, err := f.svc.SetVariable(ctx, f.actor, f.app, "MY-VAR", "v", false)
			return err
		}, model.ErrInvalid},
		{"variable value too large", func(f *fixture) error {
			_, _, err := f.svc.SetVariable(ctx, f.actor, f.app, "BIG", strings.Repeat("v", MaxVariableBytes+1), false)
			return err
		}, model.ErrInvalid},
		{"secret without a secrets key", func(f *fixture) error {
			f.svc.cfg.Secrets = nil
			_, _, err := f.svc.SetVariable(ctx, f.actor, f.app, "KEY", "v", true)
			return err
		}, nil},
		{"app role owner", func(f *fixture) error {
			return f.svc.GrantAppRole(ctx, f.actor, f.member, f.app, model.RoleOwner)
		}, model.ErrInvalid},
		{"user change without a change", func(f *fixture) error {
			_, err := f.svc.UpdateUser(ctx, f.actor, f.member, UserChange{})
			return err
		}, model.ErrInvalid},
		{"user role unknown", func(f *fixture) error {
			_, err := f.svc.UpdateUser(ctx, f.actor, f.member, UserChange{Role: ptr("root")})
			return err
		}, model.ErrInvalid},
		{"user name with capitals", func(f *fixture) error {
			_, err := f.svc.AddUser(ctx, f.actor, "Noah", "correct horse", model.RoleMember)
			return err
		}, model.ErrInvalid},
		{"user role editor", func(f *fixture) error {
			_, err := f.svc.AddUser(ctx, f.actor, "noah", "correct horse", model.RoleEditor)
			return err
		}, model.ErrInvalid},
		{"password too short", func(f *fixture) error {
			_, err := f.svc.AddUser(ctx, f.actor, "noah", "short", model.RoleMember)
			return err
		}, model.ErrInvalid},
		{"reset to a short password", func(f *fixture) error {
			return f.svc.ResetPassword(ctx, f.actor, f.member, "short")
		}, model.ErrInvalid},
		{"token without a name", func(f *fixture) error {
			_, _, err := f.svc.CreateToken(ctx, f.actor, TokenInput{Name: " ", Capabilities: []string{"audit.read"}})
			return err
		}, model.ErrInvalid},
		{"token without capabilities", func(f *fixture) error {
			_, _, err := f.svc.CreateToken(ctx, f.actor, TokenInput{Name: "ci"})
			return err
		}, model.ErrInvalid},
		{"token capability unknown", func(f *fixture) error {
			_, _, err := f.svc.CreateToken(ctx, f.actor, TokenInput{Name: "ci", Capabilities: []string{"root"}})
			return err
		}, model.ErrInvalid},
		{"token app not an id", func(f *fixture) error {
			_, _, err := f.svc.CreateToken(ctx, f.actor, TokenInput{Name: "ci", Apps: []string{"shop"}, Capabilities: []string{"app.read"}})
			return err
		}, model.ErrInvalid},
		{"app token without apps", func(f *fixture) error {
			_, _, err := f.svc.CreateToken(ctx, f.actor, TokenInput{Name: "ci", Capabilities: []string{"app.read"}})
			return err
		}, model.ErrInvalid},
		{"token expired at birth", func(f *fixture) error {
			_, _, err := f.svc.CreateToken(ctx, f.actor, TokenInput{Name: "ci", Capabilities: []string{"audit.read"}, ExpiresAt: ptr(f.now)})
			return err
		}, model.ErrInvalid},
		{"token for an unknown app", func(f *fixture) error {
			_, _, err := f.svc.CreateToken(ctx, f.actor, TokenInput{Name: "ci", Apps: []string{"00000000-0000-0000-0000-0000000000ff"}, Capabilities: []string{"app.read"}})
			return err
		}, model.ErrInvalid},
		{"SSH key that is not one", func(f *fixture) error {
			_, err := f.svc.AddSSHKey(ctx, f.actor, f.member, "ssh-ed25519 not-base64")
			return err
		}, model.ErrInvalid},
		{"SSH key with options", func(f *fixture) error {
			_, err := f.svc.AddSSHKey(ctx, f.actor, f.member, `command="ls" `+f.spareKey)
			return err
		}, model.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.st.data.clone()
			err := c.do(f)
			switch {
			case err == nil:
				t.Fatal("accepted")
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if !reflect.DeepEqual(f.st.data, before) {
				t.Error("refused input changed the store")
			}
			if len(f.audit()) != 0 || f.inval.calls != 0 {
				t.Errorf("refused input: %d audit records, %d invalidations", len(f.audit()), f.inval.calls)
			}
		})
	}
}

// TestSaveFromAStaleBase refuses a save whose base is no longer the
// script's latest version, saving nothing and telling both versions; a save
// without a base, or from the latest, goes through.
func TestSaveFromAStaleBase(t *testing.T) {
	f := newFixture(t)
	base, err := f.svc.Script(ctx, f.script)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := f.svc.UpdateScript(ctx, f.actor, f.script, ScriptInput{Source: helloJS + "// theirs\n", BaseVersion: base.LatestVersion})
	if err != nil {
		t.Fatalf("save from the latest version: %v", err)
	}
	calls := f.inval.calls
	_, err = f.svc.UpdateScript(ctx, f.actor, f.script, ScriptInput{Source: helloJS + "// mine\n", BaseVersion: base.LatestVersion})
	var stale *model.VersionConflictError
	if !errors.As(err, &stale) || !errors.Is(err, model.ErrConflict) {
		t.Fatalf("save from a stale base: %v, want a *model.VersionConflictError", err)
	}
	if stale.BaseVersion != base.LatestVersion || stale.LatestVersion != saved.LatestVersion {
		t.Fatalf("conflict %+v, want base %d and latest %d", stale, base.LatestVersion, saved.LatestVersion)
	}
	now, _ := f.svc.Script(ctx, f.script)
	if now.LatestVersion != saved.LatestVersion || now.Source != saved.Source || f.inval.calls != calls {
		t.Fatalf("the refused save changed the script: %+v (invalidations %d, were %d)", now, f.inval.calls, calls)
	}
	if _, err := f.svc.UpdateScript(ctx, f.actor, f.script, ScriptInput{Source: helloJS, BaseVersion: -1}); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("negative base: %v, want ErrInvalid", err)
	}
	if _, err := f.svc.UpdateScript(ctx, f.actor, f.script, ScriptInput{Source: helloJS + "// mine\n"}); err != nil {
		t.Fatalf("save without a base: %v", err)
	}
}

// TestConflicts checks what a change that collides with existing data
// answers: model.ErrConflict with a sentence for a person, or a
// *ConflictError listing what is in the way, also when a concurrent
// change wins the race after the manager's own check.
func TestConflicts(t *testing.T) {
	cases := []struct {
		name          string
		do            func(f *fixture) error
		message       string               // in the error
		conflicts     func(f *fixture) any // what *ConflictError lists; nil: not one
		raceOn        string               // the insert that a concurrent commit beats
		committedRace func(f *fixture)     // that commit
	}{
		{name: "app name taken", message: `an app named "shop" already exists`, do: func(f *fixture) error {
			_, err := f.svc.CreateApp(ctx, f.actor, AppInput{Name: ptr("shop")})
			return err
		}},
		{name: "app renamed to a taken name", message: `an app named "default" already exists`, do: func(f *fixture) error {
			_, err := f.svc.UpdateApp(ctx, f.actor, f.app, AppInput{Name: ptr("default")})
			return err
		}},
		{name: "script name taken", message: `a script named "hello.js" already exists in this app`, do: func(f *fixture) error {
			_, err := f.svc.CreateScript(ctx, f.actor, ScriptInput{AppID: f.app, Name: "hello.js", Source: helloJS})
			return err
		}},
		{name: "script renamed to a taken name", message: `a script named "other.js" already exists`, do: func(f *fixture) error {
			if _, err := f.st.CreateScript(ctx, f.app, "other.js", "js", model.NewVersion{Source: helloJS}); err != nil {
				return err
			}
			_, err := f.svc.UpdateScript(ctx, f.actor, f.script, ScriptInput{Name: "other.js", Source: helloJS})
			return err
		}},
		{name: "route of the same shape", message: "route conflicts with GET /hello",
			conflicts: func(f *fixture) any { return []model.Route{f.st.data.routes[f.route]} },
			do: func(f *fixture) error {
				_, err := f.svc.CreateRoute(ctx, f.actor, f.script, "get", "/hello/")
				return err
			}},
		{name: "route inserted concurrently", message: "route conflicts with GET /race/:id", raceOn: "CreateRoute",
			conflicts: func(f *fixture) any {
				return f.st.routesWhere(func(r model.Route) bool { return r.Path == "/race/:id" })
			},
			committedRace: func(f *fixture) {
				f.st.committedElsewhere = append(f.st.committedElsewhere, func(d *memData) {
					d.routes["r2"] = model.Route{ID: "r2", AppID: f.app, ScriptID: f.script, Method: "GET", Path: "/race/:id", Shape: "/race/:"}
				})
			},
			do: func(f *fixture) error {
				_, err := f.svc.CreateRoute(ctx, f.actor, f.script, "GET", "/race/:name")
				return err
			}},
		{name: "domain claimed by another app", message: "domain overlaps shop.example.com",
			conflicts: func(f *fixture) any { return []model.Domain{f.st.data.domains[f.domain]} },
			do: func(f *fixture) error {
				_, err := f.svc.ClaimDomain(ctx, f.actor, model.DefaultAppID, "Shop.Example.com.")
				return err
			}},
		{name: "domain claimed concurrently", message: "domain overlaps {a}.race.example.com", raceOn: "CreateDomain",
			conflicts: func(f *fixture) any {
				return []model.Domain{{ID: "d2", AppID: model.DefaultAppID, Pattern: "{a}.race.example.com", Shape: "{}.race.example.com"}}
			},
			committedRace: func(f *fixture) {
				f.st.committedElsewhere = append(f.st.committedElsewhere, func(d *memData) {
					d.domains["d2"] = model.Domain{ID: "d2", AppID: model.DefaultAppID, Pattern: "{a}.race.example.com", Shape: "{}.race.example.com"}
				})
			},
			do: func(f *fixture) error {
				_, err := f.svc.ClaimDomain(ctx, f.actor, f.app, "{b}.race.example.com")
				return err
			}},
		{name: "user name taken", message: `user "mia" already exists`, do: func(f *fixture) error {
			_, err := f.svc.AddUser(ctx, f.actor, "mia", "correct horse", model.RoleMember)
			return err
		}},
		{name: "SSH key registered to someone", message: "this key (SHA256:", do: func(f *fixture) error {
			line := fmt.Sprintf("%s %s", f.st.data.sshKeys[f.sshKey].PublicKey, "copy")
			_, err := f.svc.AddSSHKey(ctx, f.actor, f.owner, line)
			return err
		}},
		{name: "last owner disabled", message: "olive is the last enabled owner", do: func(f *fixture) error {
			_, err := f.svc.UpdateUser(ctx, f.actor, f.owner, UserChange{Disabled: ptr(true)})
			return err
		}},
		{name: "last owner demoted", message: "olive is the last enabled owner", do: func(f *fixture) error {
			_, err := f.svc.UpdateUser(ctx, f.actor, f.owner, UserChange{Role: ptr(model.RoleAdmin)})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			if c.raceOn != "" {
				f.st.hooks[c.raceOn] = func() error {
					c.committedRace(f)
					return conflict("insert")
				}
			}
			err := c.do(f)
			if !errors.Is(err, model.ErrConflict) {
				t.Fatalf("error %v, want model.ErrConflict", err)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q does not say %q", err, c.message)
			}
			var ce *ConflictError
			switch {
			case c.conflicts == nil && errors.As(err, &ce):
				t.Errorf("a *ConflictError: %v", ce.Conflicts)
			case c.conflicts != nil && !errors.As(err, &ce):
				t.Errorf("not a *ConflictError: %T", err)
			case c.conflicts != nil && !reflect.DeepEqual(ce.Conflicts, c.conflicts(f)):
				t.Errorf("conflicts\n got %+v\nwant %+v", ce.Conflicts, c.conflicts(f))
			}
			if len(f.audit()) != 0 || f.inval.calls != 0 {
				t.Errorf("conflict: %d audit records, %d invalidations", len(f.audit()), f.inval.calls)
			}
		})
	}
}

// TestUpdateUser checks the changes of a user: which audit action each is,
// that a disabled user's sessions end, and that the last enabled owner can
// be neither disabled nor demoted while another owner or a disabled one
// can.
func TestUpdateUser(t *testing.T) {
	cases := []struct {
		name          string
		secondOwner   bool
		who           func(f *fixture) string
		change        UserChange
		action        string
		sessionsEnded bool
	}{
		{"disable a member", false, func(f *fixture) string { return f.member }, UserChange{Disabled: ptr(true)}, "user.disable", true},
		{"enable a member", false, func(f *fixture) string { return f.member }, UserChange{Disabled: ptr(false)}, "user.enable", false},
		{"make a member admin", false, func(f *fixture) string { return f.member }, UserChange{Role: ptr(model.RoleAdmin)}, "user.set_role", false},
		{"both at once", false, func(f *fixture) string { return f.member }, UserChange{Role: ptr(model.RoleOwner), Disabled: ptr(false)}, "user.update", false},
		{"disable one of two owners", true, func(f *fixture) string { return f.owner }, UserChange{Disabled: ptr(true)}, "user.disable", true},
		{"demote one of two owners", true, func(f *fixture) string { return f.owner }, UserChange{Role: ptr(model.RoleMember)}, "user.set_role", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			if c.secondOwner {
				if _, err := f.st.CreateUser(ctx, "otto", "hash", model.RoleOwner); err != nil {
					t.Fatal(err)
				}
			}
			id := c.who(f)
			u, err := f.svc.UpdateUser(ctx, f.actor, id, c.change)
			if err != nil {
				t.Fatal(err)
			}
			if c.change.Role != nil && u.Role != *c.change.Role || c.change.Disabled != nil && u.Disabled != *c.change.Disabled {
				t.Errorf("user after %+v: %+v", c.change, u)
			}
			if recs := f.audit(); len(recs) != 1 || recs[0].Action != c.action {
				t.Errorf("audit %+v, want one %s", recs, c.action)
			}
			if ended := f.sessions(id) == 0; ended != c.sessionsEnded {
				t.Errorf("sessions ended: %v, want %v", ended, c.sessionsEnded)
			}
		})
	}

	t.Run("a disabled owner may be demoted", func(t *testing.T) {
		f := newFixture(t)
		u, err := f.st.CreateUser(ctx, "otto", "hash", model.RoleOwner)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.UpdateUser(ctx, u.ID, nil, ptr(true)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateUser(ctx, f.actor, u.ID, UserChange{Role: ptr(model.RoleMember)}); err != nil {
			t.Fatalf("demote a disabled owner beside the last enabled one: %v", err)
		}
	})
}

// TestSetup checks the first-start setup token: made only while no user
// exists and stored as its hash, spent by the one Setup that creates the
// first owner with a session, refused when wrong, expired or moot.
func TestSetup(t *testing.T) {
	t.Run("prepare", func(t *testing.T) {
		f := newFixture(t)
		tok, _, err := f.svc.PrepareSetup(ctx, SetupTTL)
		if err != nil || tok != "" {
			t.Fatalf("with users: token %q, err %v; want none", tok, err)
		}
		f.st.data.setup = &memSetup{hash: []byte("left over")}
		if _, _, err := f.svc.PrepareSetup(ctx, SetupTTL); err != nil || f.st.data.setup != nil {
			t.Fatalf("with users, a token left over stays: %v", err)
		}

		f.st.data.users = map[string]model.User{}
		first, expires, err := f.svc.PrepareSetup(ctx, SetupTTL)
		if err != nil || first == "" || !expires.Equal(f.now.Add(SetupTTL)) {
			t.Fatalf("without users: token %q, expires %v, err %v", first, expires, err)
		}
		if s := f.st.data.setup; s == nil || string(s.hash) != string(auth.HashToken(first)) || strings.Contains(string(s.hash), first) {
			t.Fatalf("stored %+v, want the token's hash only", s)
		}
		second, _, err := f.svc.PrepareSetup(ctx, SetupTTL)
		if err != nil || second == first || string(f.st.data.setup.hash) != string(auth.HashToken(second)) {
			t.Fatalf("a new token replaces the earlier one: %q after %q, %v", second, first, err)
		}
		needed, exp, err := f.svc.SetupStatus(ctx)
		if !needed || !exp.Equal(f.now.Add(SetupTTL)) || err != nil {
			t.Fatalf("status: %v %v %v", needed, exp, err)
		}
	})

	cases := []struct {
		name    string
		users   bool
		ttl     time.Duration
		token   func(good string) string
		want    error
		message string
	}{
		{"right token", false, time.Hour, func(good string) string { return good }, nil, ""},
		{"wrong token", false, time.Hour, func(string) string { return "pcs_wrong" }, model.ErrUnauthorized, "not the setup token"},
		{"expired token", false, -time.Second, func(good string) string { return good }, model.ErrUnauthorized, "expired"},
		{"users made meanwhile", true, time.Hour, func(good string) string { return good }, model.ErrConflict, "already done"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			users := f.st.data.users
			f.st.data.users = map[string]model.User{}
			good, _, err := f.svc.PrepareSetup(ctx, c.ttl)
			if err != nil {
				t.Fatal(err)
			}
			if c.users {
				f.st.data.users = users
			}
			before := f.st.data.clone()
			a := model.Actor{Channel: model.ChannelDashboard, Remote: "192.0.2.9"}
			u, session, expires, err := f.svc.Setup(ctx, a, c.token(good), "olga", "correct horse")
			if c.want != nil {
				if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.message) {
					t.Fatalf("error %v, want %v saying %q", err, c.want, c.message)
				}
				if !reflect.DeepEqual(f.st.data, before) || f.setupDone != 0 {
					t.Fatalf("a refused setup changed the store or called SetupDone (%d)", f.setupDone)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Role != model.RoleOwner || u.Username != "olga" || f.st.data.users[u.ID].PasswordHash == "correct horse" {
				t.Errorf("first user %+v", u)
			}
			s, ok := f.st.data.sessions[string(auth.HashToken(session))]
			if !ok || s.UserID != u.ID || !expires.Equal(f.now.Add(time.Hour)) || !s.ExpiresAt.Equal(expires) {
				t.Errorf("session %+v (found %v), expires %v", s, ok, expires)
			}
			if f.st.data.setup != nil {
				t.Error("the setup token is still there")
			}
			recs := f.audit()
			if len(recs) != 1 || recs[0].Action != "setup.complete" || recs[0].UserID != u.ID || recs[0].Username != "olga" || !recs[0].inTx {
				t.Errorf("audit %+v", recs)
			}
			if f.setupDone != 1 {
				t.Errorf("SetupDone called %d times", f.setupDone)
			}
			if _, _, _, err := f.svc.Setup(ctx, a, good, "oscar", "correct horse"); !errors.Is(err, model.ErrConflict) {
				t.Errorf("second setup with the same token: %v, want model.ErrConflict", err)
			}
		})
	}
}

// TestVariables checks the limit on an app's variables and that a secret
// is stored sealed and never returned.
func TestVariables(t *testing.T) {
	f := newFixture(t)
	for i := 1; i < MaxVariables; i++ { // GREETING is the first
		if _, _, err := f.st.PutVariable(ctx, model.Variable{AppID: f.app, Name: fmt.Sprintf("V%d", i), Value: "v"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := f.svc.SetVariable(ctx, f.actor, f.app, "ONE_TOO_MANY", "v", false); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("variable %d: %v, want model.ErrInvalid", MaxVariables+1, err)
	}
	if _, ok := f.st.data.vars[[2]string{f.app, "ONE_TOO_MANY"}]; ok {
		t.Fatal("the refused variable was stored")
	}
	v, created, err := f.svc.SetVariable(ctx, f.actor, f.app, "GREETING", "s3cr3t-value", true)
	if err != nil || created {
		t.Fatalf("replace a variable at the limit: created %v, %v", created, err)
	}
	stored := f.st.data.vars[[2]string{f.app, "GREETING"}]
	want, _ := fakeSealer{}.Seal(f.app, "GREETING", "s3cr3t-value")
	if !stored.Secret || stored.Value != "" || string(stored.Sealed) != string(want) {
		t.Errorf("stored %+v, want the sealed value only", stored)
	}
	if v.Value != "" || v.Sealed != nil {
		t.Errorf("returned %+v, want no value", v)
	}
	list, err := f.svc.Variables(ctx, f.app)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range list {
		if v.Sealed != nil {
			t.Errorf("listed %s with its sealed value", v.Name)
		}
	}
	if one, err := f.svc.Variable(ctx, f.app, "GREETING"); err != nil || one.Sealed != nil || one.Value != "" {
		t.Errorf("one variable: %+v %v", one, err)
	}
}

// TestScriptLimits checks the limits view of a script: its own, the
// defaults and ceilings of the last SetLimits, and what holds.
func TestScriptLimits(t *testing.T) {
	cases := []struct {
		name      string
		own       model.ScriptLimits
		effective model.ScriptLimits
	}{
		{"defaults", model.ScriptLimits{}, testDefaults},
		{"own under the ceiling", model.ScriptLimits{WallTimeMS: 4000, Subrequests: 1},
			model.ScriptLimits{WallTimeMS: 4000, ResponseBytes: 1 << 20, ConsoleBytes: 1 << 16, CallDepth: 512, Timers: 100, Subrequests: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			view, err := f.svc.SetScriptLimits(ctx, f.actor, f.script, c.own)
			if err != nil {
				t.Fatal(err)
			}
			want := LimitsView{Own: c.own, Defaults: testDefaults, Ceilings: testCeilings, Effective: c.effective}
			if view != want {
				t.Errorf("view\n got %+v\nwant %+v", view, want)
			}
			if got := f.st.data.scripts[f.script].script.Limits; got != c.own {
				t.Errorf("stored %+v, want %+v", got, c.own)
			}
		})
	}

	t.Run("a lower ceiling holds at once", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.svc.SetScriptLimits(ctx, f.actor, f.script, model.ScriptLimits{WallTimeMS: 4000}); err != nil {
			t.Fatal(err)
		}
		ceil := testCeilings
		ceil.WallTimeMS = 3000
		f.svc.SetLimits(testDefaults, ceil)
		view, err := f.svc.ScriptLimits(ctx, f.script)
		if err != nil || view.Ceilings != ceil || view.Effective.WallTimeMS != 3000 || view.Own.WallTimeMS != 4000 {
			t.Errorf("after SetLimits: %+v %v", view, err)
		}
		if _, err := f.svc.SetScriptLimits(ctx, f.actor, f.script, model.ScriptLimits{WallTimeMS: 4000}); !errors.Is(err, model.ErrInvalid) {
			t.Errorf("4000 ms over the new ceiling: %v, want model.ErrInvalid", err)
		}
	})
}

// TestLogQueryLimits checks the page size of the audit and execution logs:
// 100 unless 1 to 1000 is asked for.
func TestLogQueryLimits(t *testing.T) {
	for _, c := range []struct{ asked, used int }{{0, 100}, {-1, 100}, {1, 1}, {1000, 1000}, {1001, 100}} {
		t.Run(fmt.Sprint(c.asked), func(t *testing.T) {
			f := newFixture(t)
			if _, err := f.svc.Audit(ctx, model.AuditQuery{Limit: c.asked}); err != nil || f.st.auditQuery.Limit != c.used {
				t.Errorf("audit: limit %d used for %d (%v), want %d", f.st.auditQuery.Limit, c.asked, err, c.used)
			}
			if _, err := f.svc.Executions(ctx, model.LogQuery{Limit: c.asked}); err != nil || f.st.logQuery.Limit != c.used {
				t.Errorf("executions: limit %d used for %d (%v), want %d", f.st.logQuery.Limit, c.asked, err, c.used)
			}
		})
	}
}

// TestLocalOwner checks who the local admin socket acts as: the enabled
// owner created first.
func TestLocalOwner(t *testing.T) {
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		users []model.User
		want  string // user name; "" for none
	}{
		{"no users", nil, ""},
		{"only members", []model.User{{ID: "1", Username: "mia", Role: model.RoleMember}}, ""},
		{"a disabled owner", []model.User{{ID: "1", Username: "olive", Role: model.RoleOwner, Disabled: true}}, ""},
		{"the first enabled owner", []model.User{
			{ID: "1", Username: "ada", Role: model.RoleOwner, Disabled: true, CreatedAt: base},
			{ID: "2", Username: "bob", Role: model.RoleOwner, CreatedAt: base.Add(2 * time.Hour)},
			{ID: "3", Username: "cy", Role: model.RoleOwner, CreatedAt: base.Add(time.Hour)},
			{ID: "4", Username: "dee", Role: model.RoleAdmin, CreatedAt: base.Add(-time.Hour)},
		}, "cy"},
		{"same time: the lower id", []model.User{
			{ID: "b", Username: "bob", Role: model.RoleOwner, CreatedAt: base},
			{ID: "a", Username: "ann", Role: model.RoleOwner, CreatedAt: base},
		}, "ann"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.st.data.users = map[string]model.User{}
			for _, u := range c.users {
				f.st.data.users[u.ID] = u
			}
			p, err := f.svc.LocalOwner(ctx)
			if c.want == "" {
				if !errors.Is(err, model.ErrUnauthorized) {
					t.Fatalf("%+v, %v; want model.ErrUnauthorized", p, err)
				}
				return
			}
			if err != nil || p.User.Username != c.want {
				t.Fatalf("%q, %v; want %s", p.User.Username, err, c.want)
			}
		})
	}
}

// TestSSHSignIn checks that signing in with a key records its use and a
// session.ssh record as the key's user, and is refused for a key nobody
// registered or a disabled user's.
func TestSSHSignIn(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(f *fixture) string // returns the fingerprint offered
		want    error
	}{
		{"registered key", func(f *fixture) string { return f.sshFingerprint }, nil},
		{"unknown key", func(f *fixture) string { return "SHA256:unknown" }, model.ErrUnauthorized},
		{"disabled user", func(f *fixture) string {
			_, _ = f.st.UpdateUser(ctx, f.member, nil, ptr(true))
			return f.sshFingerprint
		}, model.ErrUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			fp := c.prepare(f)
			a := model.Actor{Channel: model.ChannelTerminal, Remote: "192.0.2.3:5000"}
			u, err := f.svc.SSHSignIn(ctx, a, fp)
			if c.want != nil {
				if !errors.Is(err, c.want) || len(f.audit()) != 0 {
					t.Fatalf("%v with %d audit records; want %v and none", err, len(f.audit()), c.want)
				}
				return
			}
			if err != nil || u.ID != f.member {
				t.Fatalf("signed in %+v, %v", u, err)
			}
			if k := f.st.data.sshKeys[f.sshKey]; k.LastUsedAt == nil || !k.LastUsedAt.Equal(f.now) {
				t.Errorf("last use %v, want %v", k.LastUsedAt, f.now)
			}
			recs := f.audit()
			if len(recs) != 1 || recs[0].Action != "session.ssh" || recs[0].UserID != f.member || recs[0].Target != f.sshKey || !recs[0].inTx {
				t.Errorf("audit %+v", recs)
			}
		})
	}
}
