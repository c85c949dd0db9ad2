package appliance

import (
	"fmt"
	"net"
	"syscall"
)

// peerName names the process at the other end of a Unix socket connection
// by its user id, for the audit log: "local uid 1000".
func peerName(c net.Conn) string {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return "local"
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return "local"
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return "local"
	}
	return fmt.Sprintf("local uid %d", cred.Uid)
}
