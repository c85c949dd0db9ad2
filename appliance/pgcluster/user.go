package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// runAs is the system user PostgreSQL runs as.
type runAs struct {
	name   string
	uid    int
	gid    int
	groups []int
	// cred is set when the daemon is root and must switch user for the child.
	cred *syscall.Credential
}

// defaultUsers are tried in order when the daemon is root and no RunAsUser is
// configured: PiCloud's own system user, Debian's postgres user, nobody.
var defaultUsers = []string{"picloud", "postgres", "nobody"}

// resolveUser decides who runs initdb and postgres.
func resolveUser(requested string) (runAs, error) {
	if os.Geteuid() != 0 {
		return currentUser(requested)
	}
	if requested == "root" {
		return runAs{}, errors.New("PostgreSQL refuses to run as root: set RunAsUser to an unprivileged system user")
	}
	names := defaultUsers
	if requested != "" {
		names = []string{requested}
	}
	for _, name := range names {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		r, err := fromUser(u)
		if err != nil {
			return runAs{}, err
		}
		if r.uid == 0 {
			return runAs{}, fmt.Errorf("user %q has uid 0; PostgreSQL refuses to run as root", name)
		}
		r.cred = &syscall.Credential{Uid: uint32(r.uid), Gid: uint32(r.gid)}
		for _, g := range r.groups {
			r.cred.Groups = append(r.cred.Groups, uint32(g))
		}
		return r, nil
	}
	if requested != "" {
		return runAs{}, fmt.Errorf("user %q (RunAsUser) does not exist: create it (adduser --system %s) or pick another", requested, requested)
	}
	return runAs{}, fmt.Errorf("running as root and none of the users %v exists to run PostgreSQL: create one (adduser --system picloud)", defaultUsers)
}

// currentUser is used when not root: PostgreSQL runs as we do.
func currentUser(requested string) (runAs, error) {
	r := runAs{uid: os.Getuid(), gid: os.Getgid(), name: strconv.Itoa(os.Getuid())}
	if u, err := user.Current(); err == nil {
		r.name = u.Username
	}
	if requested != "" && requested != r.name {
		return runAs{}, fmt.Errorf("RunAsUser %q needs the daemon to run as root (it runs as %s); leave RunAsUser empty", requested, r.name)
	}
	gids, _ := os.Getgroups()
	r.groups = gids
	return r, nil
}

func fromUser(u *user.User) (runAs, error) {
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return runAs{}, fmt.Errorf("user %q: %w", u.Username, err)
	}
	r := runAs{name: u.Username, uid: uid, gid: gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil && g != gid {
				r.groups = append(r.groups, g)
			}
		}
	}
	return r, nil
}

// checkReachable makes sure the user can traverse every parent of dir: a
// root-owned parent with mode 0700 (e.g. /root, or a test's temp dir) stops
// PostgreSQL with a confusing "Permission denied".
func (r runAs) checkReachable(dir string) error {
	if r.cred == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("check access to %s: %w", p, err)
		}
		if !r.canSearch(fi) {
			return fmt.Errorf("PostgreSQL runs as user %q, which cannot reach %s: %s has mode %04o; put the data directory elsewhere or allow traversal (chmod o+x %s)",
				r.name, dir, p, fi.Mode().Perm(), p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func (r runAs) canSearch(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case int(st.Uid) == r.uid:
		return perm&0o100 != 0
	case int(st.Gid) == r.gid || slices.Contains(r.groups, int(st.Gid)):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// chownTree gives dir and everything in it to the user, when root. It walks
// the tree only if dir itself has another owner (first start, or RunAsUser
// changed), so a normal start costs one stat.
func (r runAs) chownTree(dir string) error {
	if r.cred == nil {
		return nil
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == r.uid && int(st.Gid) == r.gid {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, r.uid, r.gid)
	})
}
