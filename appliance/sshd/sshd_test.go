package sshd

import (
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestParsePty(t *testing.T) {
	for _, tc := range []struct {
		term       string
		w, h       uint32
		wantW, wnH int
	}{
		{"xterm-256color", 120, 40, 120, 40},
		{"xterm", 0, 0, 80, 24},
		{"xterm", 1 << 30, 1 << 30, maxWidth, maxHeight},
	} {
		p := ssh.Marshal(struct {
			Term          string
			Width, Height uint32
			PxW, PxH      uint32
			Modes         string
		}{tc.term, tc.w, tc.h, 0, 0, ""})
		term, w, h := parsePty(p)
		if term != tc.term || w != tc.wantW || h != tc.wnH {
			t.Errorf("pty %q %dx%d: got %q %dx%d", tc.term, tc.w, tc.h, term, w, h)
		}
	}
	if term, w, h := parsePty([]byte{1, 2}); term != "xterm" || w != 80 || h != 24 {
		t.Errorf("a broken pty-req: %q %dx%d", term, w, h)
	}
}
