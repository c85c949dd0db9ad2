package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// UsersStore is the storage of app users (the SDK's users module);
// appliance/store's Store satisfies it. Every method names the app.
type UsersStore interface {
	CreateAppUser(ctx context.Context, appID, email, passwordHash string, data json.RawMessage) (model.AppUser, error)
	AppUser(ctx context.Context, appID, id string) (model.AppUser, error)
	AppUserByEmail(ctx context.Context, appID, email string) (model.AppUser, error)
	UpdateAppUser(ctx context.Context, appID, id string, p model.AppUserPatch) (model.AppUser, error)
	DeleteAppUser(ctx context.Context, appID, id string) (bool, error)
	CreateAppUserToken(ctx context.Context, t model.AppUserToken) error
	AppUserBySession(ctx context.Context, appID string, hash []byte, now time.Time) (model.AppUser, error)
	UseAppUserToken(ctx context.Context, appID, kind string, hash []byte, now time.Time) (string, error)
	DeleteAppUserTokens(ctx context.Context, appID, userID, kind string) (int64, error)
	DeleteAppUserSession(ctx context.Context, appID string, hash []byte) (bool, error)
}

// PasswordHasher hashes and checks app users' passwords; *auth.Hasher
// satisfies it.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, password, encoded string) (bool, error)
	VerifyDummy(ctx context.Context, password string) error
	NeedsRehash(encoded string) bool
}

// users is the users module's part of the service.
type users struct {
	st       UsersStore
	hasher   PasswordHasher
	throttle *auth.Throttle
}

// WithUsers gives the service the users module: app users in st, their
// passwords hashed by h and their log-ins (users.verify) throttled by t,
// per account and client address as the admin log-in is.
func (s *Service) WithUsers(st UsersStore, h PasswordHasher, t *auth.Throttle) *Service {
	s.users = &users{st: st, hasher: h, throttle: t}
	return s
}

// UsersHasher is the hasher of app users' passwords, nil without the
// users module: the daemon shares it with the admin log-in, so that one
// bound holds for every argon2 run on the board.
func (s *Service) UsersHasher() PasswordHasher {
	if s.users == nil {
		return nil
	}
	return s.users.hasher
}

// Codes of the users module's errors, besides the data codes.
const (
	// CodeUsersThrottled: too many failed users.verify on the account
	// (from the client's address); nothing was checked.
	CodeUsersThrottled = "users.throttled"
	// CodeUsersExists: another user of the app has the email.
	CodeUsersExists = "users.email_taken"
	// CodeUsersDisabled: an administrator disabled the user.
	CodeUsersDisabled = "users.disabled"
)

// Lifetimes of app user tokens, in seconds, when the script gives none,
// and the longest it may ask for.
const (
	DefaultSessionTTL = 7 * 24 * 3600
	DefaultVerifyTTL  = 24 * 3600
	DefaultResetTTL   = 3600
	MaxTokenTTL       = 365 * 24 * 3600
	MaxUserDataBytes  = 64 << 10
	// DefaultSessionMaxTTL is how long after its issue a sliding session
	// may be renewed when the script gives no maxTtl; MaxTokenTTL bounds
	// the maxTtl it may give.
	DefaultSessionMaxTTL = 30 * 24 * 3600
)

// userArgs are the arguments of every users operation, as the SDK sends
// them.
type userArgs struct {
	ID       string          `json:"id"`
	Email    *string         `json:"email"`
	Password *string         `json:"password"`
	Data     json.RawMessage `json:"data"`
	Token    string          `json:"token"`
	Purpose  string          `json:"purpose"`
	TTL      *float64        `json:"ttl"`
	Sliding  *bool           `json:"sliding"`
	MaxTTL   *float64        `json:"maxTtl"`
}

// userView is a user as a script sees it: never its password hash.
type userView struct {
	ID        string          `json:"id"`
	Email     string          `json:"email"`
	Data      json.RawMessage `json:"data"`
	Verified  bool            `json:"verified"`
	Disabled  bool            `json:"disabled"`
	CreatedAt int64           `json:"createdAt"` // ms since the epoch
	UpdatedAt int64           `json:"updatedAt"`
}

func viewOf(u model.AppUser) *userView {
	return &userView{ID: u.ID, Email: u.Email, Data: u.Data, Verified: u.Verified, Disabled: u.Disabled,
		CreatedAt: u.CreatedAt.UnixMilli(), UpdatedAt: u.UpdatedAt.UnixMilli()}
}

// issued is a token handed to the script, with when it expires and, for
// a sliding session, the limit it is never renewed past.
type issued struct {
	Token        string `json:"token"`
	ExpiresAt    int64  `json:"expiresAt"`              // ms since the epoch
	MaxExpiresAt int64  `json:"maxExpiresAt,omitempty"` // ms since the epoch; sliding sessions only
}

// userOps are the users module's operations.
var userOps = map[string]func(*Service, context.Context, string, userArgs) (any, error){
	"users.create":         (*Service).userCreate,
	"users.get":            (*Service).userGet,
	"users.findByEmail":    (*Service).userFindByEmail,
	"users.update":         (*Service).userUpdate,
	"users.delete":         (*Service).userDelete,
	"users.setPassword":    (*Service).userSetPassword,
	"users.verify":         (*Service).userVerify,
	"users.issueSession":   (*Service).userIssueSession,
	"users.fromToken":      (*Service).userFromToken,
	"users.revokeSession":  (*Service).userRevokeSession,
	"users.revokeSessions": (*Service).userRevokeSessions,
	"users.issueToken":     (*Service).userIssueToken,
	"users.confirmEmail":   (*Service).userConfirmEmail,
	"users.resetPassword":  (*Service).userResetPassword,
}

// userOp answers the users module's calls; ok is false for an operation
// that is not one of them.
func (s *Service) userOp(ctx context.Context, app string, call engine.DataCall) (v any, ok bool, err error) {
	fn, ok := userOps[call.Op]
	if !ok {
		return nil, false, nil
	}
	if s.users == nil {
		return nil, true, &engine.DataError{Code: engine.CodeDataUnavailable, Message: call.Op + ": this data service has no users module"}
	}
	if call.Tx != 0 {
		return nil, true, invalid("%s: the users module does not run in a transaction", call.Op)
	}
	var a userArgs
	if err := decodeArgs(call, &a); err != nil {
		return nil, true, err
	}
	v, err = fn(s, ctx, app, a)
	return v, true, err
}

// found turns a store's answer into the script's: null for not found.
func found(u model.AppUser, err error) (any, error) {
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return viewOf(u), nil
}

func (s *Service) userCreate(ctx context.Context, app string, a userArgs) (any, error) {
	if a.Email == nil {
		return nil, invalid("users.create: give an email")
	}
	email, err := NormalizeEmail(*a.Email)
	if err != nil {
		return nil, err
	}
	data, err := checkUserData("users.create", a.Data)
	if err != nil {
		return nil, err
	}
	hash := ""
	if a.Password != nil {
		if hash, err = s.hashPassword(ctx, "users.create", *a.Password); err != nil {
			return nil, err
		}
	}
	if err := s.reserve(ctx, app, "users.create", int64(len(email)+len(hash)+len(data))); err != nil {
		return nil, err
	}
	u, err := s.users.st.CreateAppUser(ctx, app, email, hash, data)
	if errors.Is(err, model.ErrConflict) {
		return nil, &engine.DataError{Code: CodeUsersExists, Message: fmt.Sprintf("users.create: a user with the email %q exists", email)}
	}
	if err != nil {
		return nil, err
	}
	return viewOf(u), nil
}

func (s *Service) userGet(ctx context.Context, app string, a userArgs) (any, error) {
	if err := checkUserID("users.get", a.ID); err != nil {
		return nil, err
	}
	return found(s.users.st.AppUser(ctx, app, a.ID))
}

func (s *Service) userFindByEmail(ctx context.Context, app string, a userArgs) (any, error) {
	if a.Email == nil {
		return nil, invalid("users.findByEmail: give an email")
	}
	email, err := NormalizeEmail(*a.Email)
	if err != nil {
		return nil, err
	}
	return found(s.users.st.AppUserByEmail(ctx, app, email))
}

func (s *Service) userUpdate(ctx context.Context, app string, a userArgs) (any, error) {
	if err := checkUserID("users.update", a.ID); err != nil {
		return nil, err
	}
	var p model.AppUserPatch
	if a.Email != nil {
		email, err := NormalizeEmail(*a.Email)
		if err != nil {
			return nil, err
		}
		p.Email = &email
		// A new address is not verified until the user proves it.
		p.Verified = new(bool)
	}
	if a.Data != nil {
		data, err := checkUserData("users.update", a.Data)
		if err != nil {
			return nil, err
		}
		p.Data = data
	}
	// The new email and data count as new bytes, as an overwrite of a key
	// does, until the next count.
	if size := int64(len(p.Data)); p.Email != nil || size > 0 {
		if p.Email != nil {
			size += int64(len(*p.Email))
		}
		if err := s.reserve(ctx, app, "users.update", size); err != nil {
			return nil, err
		}
	}
	u, err := s.users.st.UpdateAppUser(ctx, app, a.ID, p)
	if errors.Is(err, model.ErrConflict) {
		return nil, &engine.DataError{Code: CodeUsersExists, Message: fmt.Sprintf("users.update: a user with the email %q exists", *p.Email)}
	}
	return found(u, err)
}

func (s *Service) userDelete(ctx context.Context, app string, a userArgs) (any, error) {
	if err := checkUserID("users.delete", a.ID); err != nil {
		return nil, err
	}
	ok, err := s.users.st.DeleteAppUser(ctx, app, a.ID)
	if err != nil {
		return nil, err
	}
	if ok {
		s.freed(app)
	}
	return map[string]bool{"deleted": ok}, nil
}

func (s *Service) userSetPassword(ctx context.Context, app string, a userArgs) (any, error) {
	if err := checkUserID("users.setPassword", a.ID); err != nil {
		return nil, err
	}
	if a.Password == nil {
		return nil, invalid("users.setPassword: give a password")
	}
	hash, err := s.hashPassword(ctx, "users.setPassword", *a.Password)
	if err != nil {
		return nil, err
	}
	_, err = s.users.st.UpdateAppUser(ctx, app, a.ID, model.AppUserPatch{PasswordHash: &hash})
	if errors.Is(err, model.ErrNotFound) {
		return map[string]bool{"updated": false}, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]bool{"updated": true}, nil
}

// hashPassword checks a new password against the policy and hashes it.
func (s *Service) hashPassword(ctx context.Context, op, password string) (string, error) {
	if err := auth.ValidatePassword(password); err != nil {
		return "", invalid("%s: %v", op, err)
	}
	hash, err := s.users.hasher.Hash(ctx, password)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	return hash, nil
}

// checkUserID refuses an id that cannot be a user's before a lookup.
func checkUserID(op, id string) error {
	if !isUUID(id) {
		return invalid("%s: %q is not a user id", op, id)
	}
	return nil
}

// checkUserData checks a user's data: a JSON object of at most
// MaxUserDataBytes; none is an empty object.
func checkUserData(op string, data json.RawMessage) (json.RawMessage, error) {
	if data == nil || string(data) == "null" {
		return json.RawMessage(`{}`), nil
	}
	if len(data) > MaxUserDataBytes {
		return nil, tooLarge("%s: data is %d bytes of JSON, over the %d allowed", op, len(data), MaxUserDataBytes)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, invalid("%s: data must be a JSON object", op)
	}
	return data, nil
}

// sessionLifetimes are the lifetimes users.issueSession was asked for:
// ttl, and for a sliding session its limit maxTtl after the issue
// (DefaultSessionMaxTTL if none); limit is 0 for a fixed session.
func sessionLifetimes(a userArgs) (ttl, limit time.Duration, err error) {
	const op = "users.issueSession"
	if ttl, err = tokenTTL(op, a.TTL, DefaultSessionTTL); err != nil {
		return 0, 0, err
	}
	if a.Sliding == nil || !*a.Sliding {
		if a.MaxTTL != nil {
			return 0, 0, invalid("%s: maxTtl is the limit of a sliding session: add sliding: true, or leave maxTtl out", op)
		}
		return ttl, 0, nil
	}
	if a.MaxTTL == nil {
		limit = DefaultSessionMaxTTL * time.Second
		if ttl > limit {
			return 0, 0, invalid("%s: a sliding session's ttl of %s seconds is longer than the default maxTtl of %d seconds: give a maxTtl of at least the ttl",
				op, seconds(ttl), DefaultSessionMaxTTL)
		}
		return ttl, limit, nil
	}
	if m := *a.MaxTTL; !(m >= 1) || m > MaxTokenTTL {
		return 0, 0, invalid("%s: maxTtl must be from 1 to %d seconds", op, MaxTokenTTL)
	}
	if limit = time.Duration(*a.MaxTTL * float64(time.Second)); limit < ttl {
		return 0, 0, invalid("%s: maxTtl (%s seconds) is shorter than ttl (%s seconds): a sliding session is never renewed past maxTtl after its issue",
			op, seconds(limit), seconds(ttl))
	}
	return ttl, limit, nil
}

// seconds is d in seconds as a script wrote them: 2592000, 1.5.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// tokenTTL is the lifetime a script asked for, def if none.
func tokenTTL(op string, ttl *float64, def int) (time.Duration, error) {
	if ttl == nil {
		return time.Duration(def) * time.Second, nil
	}
	if !(*ttl >= 1) || *ttl > MaxTokenTTL {
		return 0, invalid("%s: ttl must be from 1 to %d seconds", op, MaxTokenTTL)
	}
	return time.Duration(*ttl * float64(time.Second)), nil
}
