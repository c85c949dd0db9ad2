package workers

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
)

// Identity is the user and group the executor workers run as.
type Identity struct {
	Name     string
	UID, GID uint32
}

func (id *Identity) String() string {
	return fmt.Sprintf("%s (uid %d, gid %d)", id.Name, id.UID, id.GID)
}

// DefaultUsers are the users tried, in order, for the workers of a daemon
// that runs as root: PiCloud's own system user (the package makes it),
// else nobody.
var DefaultUsers = []string{"picloud", "nobody"}

// WorkerIdentity decides who runs the executor workers of a daemon whose
// effective user id is euid. A daemon that is not root cannot switch
// users: its workers run as it does (nil), and requested must be empty or
// name that same user. A root daemon's workers run as requested, or the
// first of DefaultUsers that exists, with that user's primary group and
// no other; never as root.
func WorkerIdentity(requested string, euid int) (*Identity, error) {
	if euid != 0 {
		if requested == "" {
			return nil, nil
		}
		u, err := user.LookupId(strconv.Itoa(euid))
		if err == nil && u.Username == requested {
			return nil, nil
		}
		return nil, fmt.Errorf("running the executor workers as %q needs the daemon to run as root (it runs as uid %d): leave the setting empty, and the workers run as the daemon's user", requested, euid)
	}
	names := DefaultUsers
	if requested != "" {
		names = []string{requested}
	}
	for _, name := range names {
		u, err := user.Lookup(name)
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("look up user %q for the executor workers: %w", name, err)
		}
		id, err := identityOf(u)
		if err != nil {
			return nil, err
		}
		if id.UID == 0 || id.GID == 0 {
			return nil, fmt.Errorf("user %q has uid or gid 0: the executor workers must not run as root", name)
		}
		return id, nil
	}
	if requested != "" {
		return nil, fmt.Errorf("user %q for the executor workers does not exist: create it (adduser --system %s) or name another", requested, requested)
	}
	return nil, fmt.Errorf("running as root and none of the users %v exists to run the executor workers: create one (adduser --system picloud)", DefaultUsers)
}

func identityOf(u *user.User) (*Identity, error) {
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user %q: %w", u.Username, err)
	}
	return &Identity{Name: u.Username, UID: uint32(uid), GID: uint32(gid)}, nil
}
