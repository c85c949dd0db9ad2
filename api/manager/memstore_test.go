package manager

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/picloud/picloud/api/model"
)

// memStore is an in-memory Store for the manager's unit tests: each role
// interface over maps, with the unique keys that the database enforces
// reported as model.ErrConflict and missing rows as model.ErrNotFound.
// Atomically is all or nothing: the data is copied when it begins and put
// back when fn fails. It is not safe for concurrent use.
type memStore struct {
	data memData
	// writes lists the changing calls, with whether each ran inside an
	// Atomically.
	writes []memWrite
	// hooks run at the start of the call of that name; an error they
	// return is the call's.
	hooks map[string]func() error
	// committedElsewhere holds changes that a concurrent transaction
	// committed while an Atomically ran: they are applied when it ends,
	// whether it commits or not.
	committedElsewhere []func(*memData)
	// open counts the Atomically calls running.
	open int
	// auditQuery and logQuery are the last queries of the logs.
	auditQuery model.AuditQuery
	logQuery   model.LogQuery
	now        func() time.Time
}

// memWrite is one changing call.
type memWrite struct {
	method string
	inTx   bool
}

// memAudit is an audit record with whether it was written in an Atomically.
type memAudit struct {
	model.AuditRecord
	inTx bool
}

type memScript struct {
	script   model.Script // without Source and Code
	versions []model.ScriptVersion
}

type memToken struct {
	token model.APIToken
	hash  []byte
}

type memSetup struct {
	hash    []byte
	expires time.Time
}

// memData is what the database would hold.
type memData struct {
	users    map[string]model.User
	appRoles map[string]map[string]string // by user id, then app id
	sessions map[string]model.Session     // by token hash
	tokens   map[string]memToken
	setup    *memSetup
	apps     map[string]model.App
	domains  map[string]model.Domain
	settings model.Settings
	scripts  map[string]memScript
	routes   map[string]model.Route
	sshKeys  map[string]model.SSHKey
	vars     map[[2]string]model.Variable // by app id and name
	quotas   map[string]int64             // apps' own storage quotas
	audit    []memAudit
}

var _ Store = (*memStore)(nil)

// newMemStore returns a store holding the default app, as a fresh
// database does.
func newMemStore() *memStore {
	m := &memStore{hooks: map[string]func() error{}, now: time.Now}
	m.data = memData{
		users: map[string]model.User{}, appRoles: map[string]map[string]string{}, sessions: map[string]model.Session{},
		tokens: map[string]memToken{}, apps: map[string]model.App{}, domains: map[string]model.Domain{},
		scripts: map[string]memScript{}, routes: map[string]model.Route{}, sshKeys: map[string]model.SSHKey{},
		vars: map[[2]string]model.Variable{},
	}
	m.data.apps[model.DefaultAppID] = model.App{ID: model.DefaultAppID, Name: "default"}
	return m
}

func (d memData) clone() memData {
	c := d
	c.users = maps.Clone(d.users)
	c.appRoles = make(map[string]map[string]string, len(d.appRoles))
	for u, roles := range d.appRoles {
		c.appRoles[u] = maps.Clone(roles)
	}
	c.quotas = maps.Clone(d.quotas)
	c.sessions = maps.Clone(d.sessions)
	c.tokens = maps.Clone(d.tokens)
	if d.setup != nil {
		s := *d.setup
		c.setup = &s
	}
	c.apps = maps.Clone(d.apps)
	c.domains = maps.Clone(d.domains)
	c.scripts = make(map[string]memScript, len(d.scripts))
	for id, s := range d.scripts {
		s.versions = slices.Clone(s.versions)
		c.scripts[id] = s
	}
	c.routes = maps.Clone(d.routes)
	c.sshKeys = maps.Clone(d.sshKeys)
	c.vars = maps.Clone(d.vars)
	c.audit = slices.Clone(d.audit)
	return c
}

type memTxKey struct{}

func inTx(ctx context.Context) bool { return ctx.Value(memTxKey{}) != nil }

// call runs the hook of method, if any.
func (m *memStore) call(method string) error {
	if h := m.hooks[method]; h != nil {
		return h()
	}
	return nil
}

// write records a changing call and runs its hook.
func (m *memStore) write(ctx context.Context, method string) error {
	m.writes = append(m.writes, memWrite{method: method, inTx: inTx(ctx)})
	return m.call(method)
}

func notFound(what, id string) error { return fmt.Errorf("%s %s: %w", what, id, model.ErrNotFound) }

func conflict(what string) error { return fmt.Errorf("%s: %w", what, model.ErrConflict) }

// Transactor

func (m *memStore) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	if inTx(ctx) {
		return fn(ctx)
	}
	saved := m.data.clone()
	m.open++
	err := fn(context.WithValue(ctx, memTxKey{}, true))
	m.open--
	if err != nil {
		m.data = saved
	}
	for _, c := range m.committedElsewhere {
		c(&m.data)
	}
	m.committedElsewhere = nil
	return err
}

// AuditStore

func (m *memStore) InsertAudit(ctx context.Context, r model.AuditRecord) error {
	if err := m.write(ctx, "InsertAudit"); err != nil {
		return err
	}
	r.ID = int64(len(m.data.audit) + 1)
	r.At = m.now()
	m.data.audit = append(m.data.audit, memAudit{AuditRecord: r, inTx: inTx(ctx)})
	return nil
}

func (m *memStore) ListAudit(_ context.Context, q model.AuditQuery) ([]model.AuditRecord, error) {
	if err := m.call("ListAudit"); err != nil {
		return nil, err
	}
	m.auditQuery = q
	out := []model.AuditRecord{}
	for i := len(m.data.audit) - 1; i >= 0 && len(out) < q.Limit; i-- {
		out = append(out, m.data.audit[i].AuditRecord)
	}
	return out, nil
}

// UserStore

func (m *memStore) CreateUser(ctx context.Context, username, passwordHash, role string) (model.User, error) {
	if err := m.write(ctx, "CreateUser"); err != nil {
		return model.User{}, err
	}
	for _, u := range m.data.users {
		if u.Username == username {
			return model.User{}, conflict("create user " + username)
		}
	}
	u := model.User{ID: uuid.NewString(), Username: username, PasswordHash: passwordHash, Role: role, CreatedAt: m.now()}
	m.data.users[u.ID] = u
	return u, nil
}

func (m *memStore) UserByName(_ context.Context, username string) (model.User, error) {
	if err := m.call("UserByName"); err != nil {
		return model.User{}, err
	}
	for _, u := range m.data.users {
		if u.Username == username {
			return u, nil
		}
	}
	return model.User{}, notFound("user", username)
}

func (m *memStore) UserByID(_ context.Context, id string) (model.User, error) {
	if err := m.call("UserByID"); err != nil {
		return model.User{}, err
	}
	u, ok := m.data.users[id]
	if !ok {
		return model.User{}, notFound("user", id)
	}
	return u, nil
}

func (m *memStore) ListUsers(context.Context) ([]model.User, error) {
	if err := m.call("ListUsers"); err != nil {
		return nil, err
	}
	out := slices.Collect(maps.Values(m.data.users))
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out, nil
}

func (m *memStore) CountUsers(context.Context) (int, error) {
	if err := m.call("CountUsers"); err != nil {
		return 0, err
	}
	return len(m.data.users), nil
}

func (m *memStore) UpdateUser(ctx context.Context, id string, role *string, disabled *bool) (model.User, error) {
	if err := m.write(ctx, "UpdateUser"); err != nil {
		return model.User{}, err
	}
	u, ok := m.data.users[id]
	if !ok {
		return model.User{}, notFound("user", id)
	}
	if role != nil {
		u.Role = *role
	}
	if disabled != nil {
		u.Disabled = *disabled
	}
	m.data.users[id] = u
	return u, nil
}

func (m *memStore) SetPasswordByID(ctx context.Context, id, passwordHash string) error {
	if err := m.write(ctx, "SetPasswordByID"); err != nil {
		return err
	}
	u, ok := m.data.users[id]
	if !ok {
		return notFound("user", id)
	}
	u.PasswordHash = passwordHash
	m.data.users[id] = u
	return nil
}

func (m *memStore) LockEnabledOwners(context.Context) ([]string, error) {
	if err := m.call("LockEnabledOwners"); err != nil {
		return nil, err
	}
	var out []string
	for _, u := range m.data.users {
		if u.Role == model.RoleOwner && !u.Disabled {
			out = append(out, u.ID)
		}
	}
	return out, nil
}

// AppRoleStore

func (m *memStore) AppRoles(_ context.Context, userID string) (map[string]string, error) {
	if err := m.call("AppRoles"); err != nil {
		return nil, err
	}
	return maps.Clone(m.data.appRoles[userID]), nil
}

func (m *memStore) SetAppRole(ctx context.Context, userID, appID, role string) error {
	if err := m.write(ctx, "SetAppRole"); err != nil {
		return err
	}
	if m.data.appRoles[userID] == nil {
		m.data.appRoles[userID] = map[string]string{}
	}
	m.data.appRoles[userID][appID] = role
	return nil
}

func (m *memStore) DeleteAppRole(ctx context.Context, userID, appID string) error {
	if err := m.write(ctx, "DeleteAppRole"); err != nil {
		return err
	}
	if _, ok := m.data.appRoles[userID][appID]; !ok {
		return notFound("app role of", userID)
	}
	delete(m.data.appRoles[userID], appID)
	return nil
}

// SessionStore

func (m *memStore) CreateSession(ctx context.Context, s model.Session) error {
	if err := m.write(ctx, "CreateSession"); err != nil {
		return err
	}
	m.data.sessions[string(s.TokenHash)] = s
	return nil
}

func (m *memStore) TouchSession(_ context.Context, tokenHash []byte, now time.Time, ttl time.Duration) (model.User, time.Time, error) {
	if err := m.call("TouchSession"); err != nil {
		return model.User{}, time.Time{}, err
	}
	s, ok := m.data.sessions[string(tokenHash)]
	if !ok || !s.ExpiresAt.After(now) {
		return model.User{}, time.Time{}, notFound("session", "")
	}
	s.ExpiresAt = now.Add(ttl)
	m.data.sessions[string(tokenHash)] = s
	return m.data.users[s.UserID], s.ExpiresAt, nil
}

func (m *memStore) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if err := m.write(ctx, "DeleteSession"); err != nil {
		return err
	}
	delete(m.data.sessions, string(tokenHash))
	return nil
}

func (m *memStore) DeleteSessions(ctx context.Context, userID string, except []byte) (int64, error) {
	if err := m.write(ctx, "DeleteSessions"); err != nil {
		return 0, err
	}
	var n int64
	for k, s := range m.data.sessions {
		if s.UserID == userID && (except == nil || !bytes.Equal(s.TokenHash, except)) {
			delete(m.data.sessions, k)
			n++
		}
	}
	return n, nil
}

// TokenStore

func (m *memStore) CreateAPIToken(ctx context.Context, t model.APIToken) (model.APIToken, error) {
	if err := m.write(ctx, "CreateAPIToken"); err != nil {
		return model.APIToken{}, err
	}
	hash := t.TokenHash
	t.ID, t.TokenHash, t.CreatedAt = uuid.NewString(), nil, m.now()
	m.data.tokens[t.ID] = memToken{token: t, hash: hash}
	return t, nil
}

func (m *memStore) ListAPITokens(_ context.Context, userID string) ([]model.APIToken, error) {
	if err := m.call("ListAPITokens"); err != nil {
		return nil, err
	}
	out := []model.APIToken{}
	for _, t := range m.data.tokens {
		if userID == "" || t.token.UserID == userID {
			out = append(out, t.token)
		}
	}
	return out, nil
}

func (m *memStore) APITokenByID(_ context.Context, id string) (model.APIToken, error) {
	if err := m.call("APITokenByID"); err != nil {
		return model.APIToken{}, err
	}
	t, ok := m.data.tokens[id]
	if !ok {
		return model.APIToken{}, notFound("API token", id)
	}
	return t.token, nil
}

func (m *memStore) DeleteAPIToken(ctx context.Context, id string) error {
	if err := m.write(ctx, "DeleteAPIToken"); err != nil {
		return err
	}
	if _, ok := m.data.tokens[id]; !ok {
		return notFound("API token", id)
	}
	delete(m.data.tokens, id)
	return nil
}

func (m *memStore) TouchAPIToken(_ context.Context, tokenHash []byte, now time.Time) (model.APIToken, model.User, error) {
	if err := m.call("TouchAPIToken"); err != nil {
		return model.APIToken{}, model.User{}, err
	}
	for id, t := range m.data.tokens {
		if bytes.Equal(t.hash, tokenHash) && (t.token.ExpiresAt == nil || t.token.ExpiresAt.After(now)) {
			t.token.LastUsedAt = &now
			m.data.tokens[id] = t
			return t.token, m.data.users[t.token.UserID], nil
		}
	}
	return model.APIToken{}, model.User{}, notFound("API token", "")
}

// SetupStore

func (m *memStore) ReplaceSetupToken(ctx context.Context, tokenHash []byte, expires time.Time) error {
	if err := m.write(ctx, "ReplaceSetupToken"); err != nil {
		return err
	}
	m.data.setup = &memSetup{hash: tokenHash, expires: expires}
	return nil
}

func (m *memStore) TakeSetupToken(ctx context.Context, tokenHash []byte) (time.Time, error) {
	if err := m.write(ctx, "TakeSetupToken"); err != nil {
		return time.Time{}, err
	}
	s := m.data.setup
	if s == nil || !bytes.Equal(s.hash, tokenHash) {
		return time.Time{}, notFound("setup token", "")
	}
	m.data.setup = nil
	return s.expires, nil
}

func (m *memStore) SetupToken(context.Context) (time.Time, error) {
	if err := m.call("SetupToken"); err != nil {
		return time.Time{}, err
	}
	if m.data.setup == nil {
		return time.Time{}, notFound("setup token", "")
	}
	return m.data.setup.expires, nil
}

func (m *memStore) DeleteSetupToken(ctx context.Context) error {
	if err := m.write(ctx, "DeleteSetupToken"); err != nil {
		return err
	}
	m.data.setup = nil
	return nil
}

// AppStore

func (m *memStore) CreateApp(ctx context.Context, name, description string) (model.App, error) {
	if err := m.write(ctx, "CreateApp"); err != nil {
		return model.App{}, err
	}
	if m.appNamed(name) {
		return model.App{}, conflict("create app " + name)
	}
	a := model.App{ID: uuid.NewString(), Name: name, Description: description, CreatedAt: m.now(), UpdatedAt: m.now()}
	m.data.apps[a.ID] = a
	return a, nil
}

func (m *memStore) appNamed(name string) bool {
	for _, a := range m.data.apps {
		if a.Name == name {
			return true
		}
	}
	return false
}

func (m *memStore) ListApps(context.Context) ([]model.App, error) {
	if err := m.call("ListApps"); err != nil {
		return nil, err
	}
	return slices.Collect(maps.Values(m.data.apps)), nil
}

func (m *memStore) AppByID(_ context.Context, id string) (model.App, error) {
	if err := m.call("AppByID"); err != nil {
		return model.App{}, err
	}
	a, ok := m.data.apps[id]
	if !ok {
		return model.App{}, notFound("app", id)
	}
	return a, nil
}

func (m *memStore) UpdateApp(ctx context.Context, id string, name, description *string) (model.App, error) {
	if err := m.write(ctx, "UpdateApp"); err != nil {
		return model.App{}, err
	}
	a, ok := m.data.apps[id]
	if !ok {
		return model.App{}, notFound("app", id)
	}
	if name != nil && *name != a.Name {
		if m.appNamed(*name) {
			return model.App{}, conflict("rename app " + id)
		}
		a.Name = *name
	}
	if description != nil {
		a.Description = *description
	}
	m.data.apps[id] = a
	return a, nil
}

func (m *memStore) DeleteApp(ctx context.Context, id string) error {
	if err := m.write(ctx, "DeleteApp"); err != nil {
		return err
	}
	if _, ok := m.data.apps[id]; !ok {
		return notFound("app", id)
	}
	delete(m.data.apps, id)
	maps.DeleteFunc(m.data.domains, func(_ string, d model.Domain) bool { return d.AppID == id })
	maps.DeleteFunc(m.data.scripts, func(_ string, s memScript) bool { return s.script.AppID == id })
	maps.DeleteFunc(m.data.routes, func(_ string, r model.Route) bool { return r.AppID == id })
	maps.DeleteFunc(m.data.vars, func(k [2]string, _ model.Variable) bool { return k[0] == id })
	for _, roles := range m.data.appRoles {
		delete(roles, id)
	}
	return nil
}

// DomainStore

func (m *memStore) CreateDomain(ctx context.Context, d model.Domain) (model.Domain, error) {
	if err := m.write(ctx, "CreateDomain"); err != nil {
		return model.Domain{}, err
	}
	for _, o := range m.data.domains {
		if o.Shape == d.Shape {
			return model.Domain{}, conflict("claim " + d.Pattern)
		}
	}
	d.ID, d.CreatedAt = uuid.NewString(), m.now()
	m.data.domains[d.ID] = d
	return d, nil
}

func (m *memStore) ListDomains(_ context.Context, appID string) ([]model.Domain, error) {
	if err := m.call("ListDomains"); err != nil {
		return nil, err
	}
	out := []model.Domain{}
	for _, d := range m.data.domains {
		if appID == "" || d.AppID == appID {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
	return out, nil
}

func (m *memStore) DeleteDomain(ctx context.Context, appID, id string) error {
	if err := m.write(ctx, "DeleteDomain"); err != nil {
		return err
	}
	if d, ok := m.data.domains[id]; !ok || d.AppID != appID {
		return notFound("domain", id)
	}
	delete(m.data.domains, id)
	return nil
}

// SettingsStore

func (m *memStore) Settings(context.Context) (model.Settings, error) {
	if err := m.call("Settings"); err != nil {
		return model.Settings{}, err
	}
	return m.data.settings, nil
}

func (m *memStore) UpdateSettings(ctx context.Context, defaultAppFallback *bool) (model.Settings, error) {
	if err := m.write(ctx, "UpdateSettings"); err != nil {
		return model.Settings{}, err
	}
	if defaultAppFallback != nil {
		m.data.settings.DefaultAppFallback = *defaultAppFallback
	}
	m.data.settings.UpdatedAt = m.now()
	return m.data.settings, nil
}

// ScriptStore

// withActive is a script with its active version's source and code.
func (s memScript) withActive() model.Script {
	sc := s.script
	for _, v := range s.versions {
		if v.Version == sc.ActiveVersion {
			sc.Source, sc.Code = v.Source, v.Code
		}
	}
	return sc
}

func (m *memStore) scriptNamed(appID, name string) bool {
	for _, s := range m.data.scripts {
		if s.script.AppID == appID && s.script.Name == name {
			return true
		}
	}
	return false
}

func (m *memStore) CreateScript(ctx context.Context, appID, name, language string, v model.NewVersion) (model.Script, error) {
	if err := m.write(ctx, "CreateScript"); err != nil {
		return model.Script{}, err
	}
	if _, ok := m.data.apps[appID]; !ok {
		return model.Script{}, fmt.Errorf("create script %s: app %s: %w", name, appID, model.ErrInvalid)
	}
	if m.scriptNamed(appID, name) {
		return model.Script{}, conflict("create script " + name)
	}
	s := memScript{
		script: model.Script{ID: uuid.NewString(), AppID: appID, Name: name, Language: language,
			ActiveVersion: 1, LatestVersion: 1, CreatedAt: m.now(), UpdatedAt: m.now()},
		versions: []model.ScriptVersion{{Version: 1, Source: v.Source, Code: v.Code, CreatedBy: v.CreatedBy, CreatedAt: m.now()}},
	}
	s.versions[0].ScriptID = s.script.ID
	m.data.scripts[s.script.ID] = s
	return s.withActive(), nil
}

func (m *memStore) ScriptByID(_ context.Context, id string) (model.Script, error) {
	if err := m.call("ScriptByID"); err != nil {
		return model.Script{}, err
	}
	s, ok := m.data.scripts[id]
	if !ok {
		return model.Script{}, notFound("script", id)
	}
	return s.withActive(), nil
}

func (m *memStore) ListScripts(_ context.Context, appID string) ([]model.Script, error) {
	if err := m.call("ListScripts"); err != nil {
		return nil, err
	}
	out := []model.Script{}
	for _, s := range m.data.scripts {
		if s.script.AppID == appID {
			out = append(out, s.script)
		}
	}
	return out, nil
}

func (m *memStore) AddVersion(ctx context.Context, id, name string, v model.NewVersion) (model.Script, error) {
	if err := m.write(ctx, "AddVersion"); err != nil {
		return model.Script{}, err
	}
	s, ok := m.data.scripts[id]
	if !ok {
		return model.Script{}, notFound("script", id)
	}
	if v.Base != 0 && v.Base != s.script.LatestVersion {
		return model.Script{}, &model.VersionConflictError{BaseVersion: v.Base, LatestVersion: s.script.LatestVersion}
	}
	if name != "" && name != s.script.Name {
		if m.scriptNamed(s.script.AppID, name) {
			return model.Script{}, conflict("rename script " + id)
		}
		s.script.Name = name
	}
	s.script.LatestVersion++
	if !v.Draft {
		s.script.ActiveVersion = s.script.LatestVersion
	}
	s.versions = append(slices.Clone(s.versions), model.ScriptVersion{ScriptID: id, Version: s.script.LatestVersion,
		Source: v.Source, Code: v.Code, CreatedBy: v.CreatedBy, CreatedAt: m.now()})
	m.data.scripts[id] = s
	return s.withActive(), nil
}

func (m *memStore) ActivateVersion(ctx context.Context, id string, version int) (model.Script, error) {
	if err := m.write(ctx, "ActivateVersion"); err != nil {
		return model.Script{}, err
	}
	s, ok := m.data.scripts[id]
	if !ok || version < 1 || version > s.script.LatestVersion {
		return model.Script{}, notFound("version of script", id)
	}
	s.script.ActiveVersion = version
	m.data.scripts[id] = s
	return s.withActive(), nil
}

func (m *memStore) SetScriptLimits(ctx context.Context, id string, l model.ScriptLimits) (model.Script, error) {
	if err := m.write(ctx, "SetScriptLimits"); err != nil {
		return model.Script{}, err
	}
	s, ok := m.data.scripts[id]
	if !ok {
		return model.Script{}, notFound("script", id)
	}
	s.script.Limits = l
	m.data.scripts[id] = s
	return s.withActive(), nil
}

func (m *memStore) DeleteScript(ctx context.Context, id string) error {
	if err := m.write(ctx, "DeleteScript"); err != nil {
		return err
	}
	if _, ok := m.data.scripts[id]; !ok {
		return notFound("script", id)
	}
	delete(m.data.scripts, id)
	maps.DeleteFunc(m.data.routes, func(_ string, r model.Route) bool { return r.ScriptID == id })
	return nil
}

func (m *memStore) ListVersions(_ context.Context, id string) ([]model.ScriptVersion, error) {
	if err := m.call("ListVersions"); err != nil {
		return nil, err
	}
	s, ok := m.data.scripts[id]
	if !ok {
		return nil, notFound("script", id)
	}
	out := slices.Clone(s.versions)
	slices.Reverse(out)
	return out, nil
}

func (m *memStore) Version(_ context.Context, id string, version int) (model.ScriptVersion, error) {
	if err := m.call("Version"); err != nil {
		return model.ScriptVersion{}, err
	}
	for _, v := range m.data.scripts[id].versions {
		if v.Version == version {
			return v, nil
		}
	}
	return model.ScriptVersion{}, notFound("version of script", id)
}

// RouteStore

func (m *memStore) CreateRoute(ctx context.Context, r model.Route) (model.Route, error) {
	if err := m.write(ctx, "CreateRoute"); err != nil {
		return model.Route{}, err
	}
	s, ok := m.data.scripts[r.ScriptID]
	if !ok {
		return model.Route{}, notFound("script", r.ScriptID)
	}
	r.AppID = s.script.AppID
	for _, o := range m.data.routes {
		if o.AppID == r.AppID && o.Method == r.Method && o.Shape == r.Shape {
			return model.Route{}, conflict("create route " + r.Path)
		}
	}
	r.ID, r.CreatedAt = uuid.NewString(), m.now()
	m.data.routes[r.ID] = r
	return r, nil
}

func (m *memStore) routesWhere(keep func(model.Route) bool) []model.Route {
	out := []model.Route{}
	for _, r := range m.data.routes {
		if keep(r) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path+out[i].Method < out[j].Path+out[j].Method })
	return out
}

func (m *memStore) ListRoutes(_ context.Context, scriptID string) ([]model.Route, error) {
	if err := m.call("ListRoutes"); err != nil {
		return nil, err
	}
	return m.routesWhere(func(r model.Route) bool { return r.ScriptID == scriptID }), nil
}

func (m *memStore) AppRoutes(_ context.Context, appID string) ([]model.Route, error) {
	if err := m.call("AppRoutes"); err != nil {
		return nil, err
	}
	return m.routesWhere(func(r model.Route) bool { return r.AppID == appID }), nil
}

func (m *memStore) RouteByID(_ context.Context, id string) (model.Route, error) {
	if err := m.call("RouteByID"); err != nil {
		return model.Route{}, err
	}
	r, ok := m.data.routes[id]
	if !ok {
		return model.Route{}, notFound("route", id)
	}
	return r, nil
}

func (m *memStore) DeleteRoute(ctx context.Context, id string) error {
	if err := m.write(ctx, "DeleteRoute"); err != nil {
		return err
	}
	if _, ok := m.data.routes[id]; !ok {
		return notFound("route", id)
	}
	delete(m.data.routes, id)
	return nil
}

// ExecutionStore

func (m *memStore) ListExecutions(_ context.Context, q model.LogQuery) ([]model.ExecutionRecord, error) {
	if err := m.call("ListExecutions"); err != nil {
		return nil, err
	}
	m.logQuery = q
	return []model.ExecutionRecord{}, nil
}

func (m *memStore) ListRollups(_ context.Context, q model.RollupQuery) ([]model.Rollup, error) {
	if err := m.call("ListRollups"); err != nil {
		return nil, err
	}
	return []model.Rollup{}, nil
}

// SSHKeyStore

func (m *memStore) CreateSSHKey(ctx context.Context, k model.SSHKey) (model.SSHKey, error) {
	if err := m.write(ctx, "CreateSSHKey"); err != nil {
		return model.SSHKey{}, err
	}
	for _, o := range m.data.sshKeys {
		if o.Fingerprint == k.Fingerprint {
			return model.SSHKey{}, conflict("add SSH key " + k.Fingerprint)
		}
	}
	k.ID, k.CreatedAt = uuid.NewString(), m.now()
	m.data.sshKeys[k.ID] = k
	return k, nil
}

func (m *memStore) ListSSHKeys(_ context.Context, userID string) ([]model.SSHKey, error) {
	if err := m.call("ListSSHKeys"); err != nil {
		return nil, err
	}
	out := []model.SSHKey{}
	for _, k := range m.data.sshKeys {
		if k.UserID == userID {
			out = append(out, k)
		}
	}
	return out, nil
}

func (m *memStore) DeleteSSHKey(ctx context.Context, userID, id string) (model.SSHKey, error) {
	if err := m.write(ctx, "DeleteSSHKey"); err != nil {
		return model.SSHKey{}, err
	}
	k, ok := m.data.sshKeys[id]
	if !ok || k.UserID != userID {
		return model.SSHKey{}, notFound("SSH key", id)
	}
	delete(m.data.sshKeys, id)
	return k, nil
}

func (m *memStore) SSHKeyByFingerprint(_ context.Context, fingerprint string) (model.SSHKey, model.User, error) {
	if err := m.call("SSHKeyByFingerprint"); err != nil {
		return model.SSHKey{}, model.User{}, err
	}
	for _, k := range m.data.sshKeys {
		if k.Fingerprint == fingerprint {
			return k, m.data.users[k.UserID], nil
		}
	}
	return model.SSHKey{}, model.User{}, notFound("SSH key", fingerprint)
}

func (m *memStore) TouchSSHKey(ctx context.Context, id string, now time.Time) error {
	if err := m.write(ctx, "TouchSSHKey"); err != nil {
		return err
	}
	k, ok := m.data.sshKeys[id]
	if !ok {
		return nil
	}
	k.LastUsedAt = &now
	m.data.sshKeys[id] = k
	return nil
}

// VariableStore

func (m *memStore) PutVariable(ctx context.Context, v model.Variable) (model.Variable, bool, error) {
	if err := m.write(ctx, "PutVariable"); err != nil {
		return model.Variable{}, false, err
	}
	if _, ok := m.data.apps[v.AppID]; !ok {
		return model.Variable{}, false, fmt.Errorf("set variable %s: app %s: %w", v.Name, v.AppID, model.ErrInvalid)
	}
	key := [2]string{v.AppID, v.Name}
	_, existed := m.data.vars[key]
	if v.Secret {
		v.Value = ""
	} else {
		v.Sealed = nil
	}
	v.UpdatedAt = m.now()
	m.data.vars[key] = v
	return v, !existed, nil
}

func (m *memStore) ListVariables(_ context.Context, appID string) ([]model.Variable, error) {
	if err := m.call("ListVariables"); err != nil {
		return nil, err
	}
	out := []model.Variable{}
	for k, v := range m.data.vars {
		if appID == "" || k[0] == appID {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AppID+out[i].Name < out[j].AppID+out[j].Name })
	return out, nil
}

func (m *memStore) VariableByName(_ context.Context, appID, name string) (model.Variable, error) {
	if err := m.call("VariableByName"); err != nil {
		return model.Variable{}, err
	}
	v, ok := m.data.vars[[2]string{appID, name}]
	if !ok {
		return model.Variable{}, notFound("variable", name)
	}
	return v, nil
}

func (m *memStore) CountVariables(_ context.Context, appID string) (int, error) {
	if err := m.call("CountVariables"); err != nil {
		return 0, err
	}
	n := 0
	for k := range m.data.vars {
		if k[0] == appID {
			n++
		}
	}
	return n, nil
}

func (m *memStore) DeleteVariable(ctx context.Context, appID, name string) error {
	if err := m.write(ctx, "DeleteVariable"); err != nil {
		return err
	}
	key := [2]string{appID, name}
	if _, ok := m.data.vars[key]; !ok {
		return notFound("variable", name)
	}
	delete(m.data.vars, key)
	return nil
}

// AppDataUsage reports no data: the fake holds none.
func (m *memStore) AppDataUsage(_ context.Context, appID string) ([]model.StoreUsage, error) {
	return []model.StoreUsage{{Kind: "kv"}}, nil
}

func (m *memStore) AppStorageQuota(_ context.Context, appID string) (*int64, error) {
	if q, ok := m.data.quotas[appID]; ok {
		return &q, nil
	}
	return nil, nil
}

func (m *memStore) SetAppStorageQuota(ctx context.Context, appID string, bytes *int64) error {
	if err := m.write(ctx, "SetAppStorageQuota"); err != nil {
		return err
	}
	if _, ok := m.data.apps[appID]; !ok {
		return notFound("app", appID)
	}
	if m.data.quotas == nil {
		m.data.quotas = map[string]int64{}
	}
	if bytes == nil {
		delete(m.data.quotas, appID)
	} else {
		m.data.quotas[appID] = *bytes
	}
	return nil
}
