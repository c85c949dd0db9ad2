package main

import "testing"

// TestDebianVersion checks how git describe outputs become Debian versions:
// what -print-version prints and the package file names carry.
func TestDebianVersion(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-4-gabc1234", "1.2.3+git4.abc1234"},
		{"v1.2.3-4-gabc1234-dirty", "1.2.3+git4.abc1234+dirty"},
		{"abc1234", "0~gitabc1234"},
		{"abc1234-dirty", "0~gitabc1234+dirty"},
		{"0.0~systest1", "0.0~systest1"},
		{"v1.0-rc1", "0~git1.0.rc1"},
	} {
		if got := debianVersion(c.in); got != c.want {
			t.Errorf("debianVersion(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
